/**
 * Notebook cells are IPython, not Python: `!pip install x`, `%matplotlib inline`, `x = !ls`,
 * `df.head?` and whole-cell magics such as `%%bash`. The Python parser would call those syntax
 * errors, so they are blanked out first — replaced by spaces of the same length, so every offset
 * in the masked code is the offset in the cell — and reported separately as magics.
 */

export interface Magic {
  /** `shell` for `!cmd`, `line` for `%cmd`, `cell` for a `%%cmd` first line. */
  kind: 'shell' | 'line' | 'cell';
  /** The command without its `!`, `%` or `%%`: `pip install pandas`. */
  command: string;
  /** Offsets in the cell of the whole magic, prefix included. */
  from: number;
  to: number;
  /** Offset in the cell where `command` starts. */
  commandFrom: number;
}

export interface MaskedCell {
  /** The cell with magics replaced by spaces (same length as the source). */
  code: string;
  magics: Magic[];
  /** False for cell magics whose body is not Python (`%%bash`, `%%writefile`, ...). */
  isPython: boolean;
}

/** Cell magics whose body is still Python: the linter reads the body. */
const PYTHON_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3']);

export function maskIPython(source: string): MaskedCell {
  const magics: Magic[] = [];
  let code = '';
  let isPython = true;
  let offset = 0;
  let continuesPrevious = false;
  let bracketDepth = 0;
  const lines = source.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!;
    const lineEnd = offset + line.length;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trimStart();
    let masked = line;
    if (!continuesPrevious && bracketDepth === 0) {
      const assigned = /^([A-Za-z_][\w.,\s]*?=\s*)([!%])/.exec(trimmed);
      if (lineNo === 0 && trimmed.startsWith('%%')) {
        const command = trimmed.slice(2).trim();
        magics.push({ kind: 'cell', command, from: offset + indent, to: lineEnd, commandFrom: offset + indent + 2 });
        const name = command.split(/\s+/)[0] ?? '';
        isPython = PYTHON_CELL_MAGICS.has(name);
        masked = ' '.repeat(line.length);
      } else if (trimmed.startsWith('!') || trimmed.startsWith('%')) {
        const prefix = trimmed.startsWith('%%') ? 2 : 1;
        magics.push({
          kind: trimmed.startsWith('!') ? 'shell' : 'line',
          command: trimmed.slice(prefix).trim(),
          from: offset + indent,
          to: lineEnd,
          commandFrom: offset + indent + prefix,
        });
        // Keep a statement where the magic was, so an indented block stays valid: `pass`.
        masked = line.slice(0, indent) + (line.length - indent >= 4 ? 'pass' + ' '.repeat(line.length - indent - 4) : ' '.repeat(line.length - indent));
      } else if (assigned) {
        // `files = !ls` and `t = %timeit -o f()`: the value becomes the literal 0.
        const valueAt = indent + assigned[1]!.length;
        const bang = assigned[2]!;
        magics.push({
          kind: bang === '!' ? 'shell' : 'line',
          command: line.slice(valueAt + 1).trim(),
          from: offset + valueAt,
          to: lineEnd,
          commandFrom: offset + valueAt + 1,
        });
        masked = line.slice(0, valueAt) + '0' + ' '.repeat(line.length - valueAt - 1);
      } else if (/^[\w.[\]()'"]+\?{1,2}\s*$/.test(trimmed) || /^\?{1,2}[\w.]+\s*$/.test(trimmed)) {
        // `df.head?` and `??func`: help requests.
        magics.push({ kind: 'line', command: trimmed, from: offset + indent, to: lineEnd, commandFrom: offset + indent });
        masked = line.slice(0, indent) + ' '.repeat(line.length - indent);
      }
    }
    if (!isPython) masked = ' '.repeat(line.length);
    code += masked + (lineNo < lines.length - 1 ? '\n' : '');
    continuesPrevious = line.endsWith('\\');
    bracketDepth = Math.max(0, bracketDepth + bracketBalance(line));
    offset = lineEnd + 1;
  }
  return { code, magics, isPython };
}

/**
 * Net count of opening brackets on a line, ignoring those in comments and simple strings, so a
 * `%` at the start of a line inside a bracketed expression (`x = (a\n% b)`) is not a magic.
 * Triple-quoted strings spanning lines are rare in cells that also hold magics; they are not
 * tracked.
 */
function bracketBalance(line: string): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '#') break;
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
  }
  return depth;
}
