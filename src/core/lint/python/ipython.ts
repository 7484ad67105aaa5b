/**
 * Notebook cells are IPython, not Python: `!pip install x`, `%matplotlib inline`, `x = !ls`,
 * `df.head?` and whole-cell magics such as `%%bash`. The Python parser would call those syntax
 * errors, so they are blanked out first — replaced by spaces of the same length, so every offset
 * in the masked code is the offset in the cell — and reported separately as magics.
 *
 * As in IPython's own input transformers: a magic or shell line ending in a backslash goes on
 * over the next lines; `%time x = f()`, `%timeit`, `%prun` run a Python statement, which is kept
 * (behind `if 1:`, same length) so its reads and bindings are seen; `%%time`-like cell magics
 * keep their Python body.
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
  /**
   * The Python code the magic runs, left in the masked code: the statement of `%time x = f()`,
   * the body of a `%%time` cell. `bindsNames` is false where the names it binds do not outlive
   * it (`%timeit` runs its statement inside a function; `%%python` in another process).
   */
  python?: { from: number; to: number; bindsNames: boolean };
}

export interface MaskedCell {
  /** The cell with magics replaced by spaces (same length as the source). */
  code: string;
  magics: Magic[];
  /** False for cell magics whose body is not Python (`%%bash`, `%%writefile`, ...). */
  isPython: boolean;
}

/** Cell magics whose body is still Python: the linter reads the body. */
export const PYTHON_CELL_MAGICS: ReadonlySet<string> = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3']);
/** Python cell magics whose body's names do not stay in the notebook's namespace. */
const CELL_MAGICS_NOT_BINDING = new Set(['timeit', 'python', 'python3']);

/**
 * Line magics that run the Python statement after their options, and the options that take an
 * argument (`%timeit -n 10 f()`). `persists`: the statement's bindings stay defined.
 */
const STATEMENT_MAGICS: ReadonlyMap<string, { argumentOptions: string; persists: boolean }> = new Map([
  ['time', { argumentOptions: '', persists: true }],
  ['timeit', { argumentOptions: 'nrp', persists: false }],
  ['prun', { argumentOptions: 'DlsT', persists: true }],
  ['memit', { argumentOptions: 'rt', persists: true }],
]);
/** Statements that cannot follow `if 1:` on the same line: such a magic is masked whole. */
const COMPOUND_STATEMENT = /^(?:if|for|while|with|def|class|try|async|match|@)\b/;

export function maskIPython(source: string): MaskedCell {
  const magics: Magic[] = [];
  let code = '';
  let isPython = true;
  let offset = 0;
  let continuesPrevious = false;
  /** The magic whose last line ended in a backslash: the next line is part of it. */
  let continuedMagic: Magic | null = null;
  let bracketDepth = 0;
  const lines = source.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!;
    const lineEnd = offset + line.length;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trimStart();
    let masked = line;
    if (continuedMagic) {
      continuedMagic.to = lineEnd;
      masked = ' '.repeat(line.length);
      if (!line.endsWith('\\')) continuedMagic = null;
    } else if (!continuesPrevious && bracketDepth === 0) {
      const assigned = /^([A-Za-z_][\w.,\s]*?=\s*)([!%])/.exec(trimmed);
      if (lineNo === 0 && trimmed.startsWith('%%')) {
        const command = trimmed.slice(2).trim();
        const magic: Magic = { kind: 'cell', command, from: offset + indent, to: lineEnd, commandFrom: offset + indent + 2 };
        const name = command.split(/\s+/)[0] ?? '';
        isPython = PYTHON_CELL_MAGICS.has(name);
        if (isPython && lines.length > 1) magic.python = { from: lineEnd + 1, to: source.length, bindsNames: !CELL_MAGICS_NOT_BINDING.has(name) };
        magics.push(magic);
        masked = ' '.repeat(line.length);
      } else if (trimmed.startsWith('!') || trimmed.startsWith('%')) {
        const prefix = trimmed.startsWith('%%') ? 2 : 1;
        const magic: Magic = {
          kind: trimmed.startsWith('!') ? 'shell' : 'line',
          command: trimmed.slice(prefix).trim(),
          from: offset + indent,
          to: lineEnd,
          commandFrom: offset + indent + prefix,
        };
        magics.push(magic);
        const statement = magic.kind === 'line' && prefix === 1 ? statementOf(line, indent + prefix) : null;
        if (statement) {
          // `%time x = f()` → `if 1: x = f()`: the statement stays, at its own offsets.
          magic.python = { from: offset + statement.at, to: lineEnd, bindsNames: statement.persists };
          masked = line.slice(0, indent) + 'if 1:' + ' '.repeat(statement.at - indent - 5) + line.slice(statement.at);
        } else {
          // Keep a statement where the magic was, so an indented block stays valid: `pass`.
          masked = line.slice(0, indent) + (line.length - indent >= 4 ? 'pass' + ' '.repeat(line.length - indent - 4) : ' '.repeat(line.length - indent));
        }
        if (line.endsWith('\\')) continuedMagic = magic;
      } else if (assigned) {
        // `files = !ls` and `t = %timeit -o f()`: the value becomes the literal 0.
        const valueAt = indent + assigned[1]!.length;
        const bang = assigned[2]!;
        const magic: Magic = {
          kind: bang === '!' ? 'shell' : 'line',
          command: line.slice(valueAt + 1).trim(),
          from: offset + valueAt,
          to: lineEnd,
          commandFrom: offset + valueAt + 1,
        };
        magics.push(magic);
        masked = line.slice(0, valueAt) + '0' + ' '.repeat(line.length - valueAt - 1);
        if (line.endsWith('\\')) continuedMagic = magic;
      } else if (/^[\w.[\]()'"]+\?{1,2}\s*$/.test(trimmed) || /^\?{1,2}[\w.]+\s*$/.test(trimmed)) {
        // `df.head?` and `??func`: help requests.
        magics.push({ kind: 'line', command: trimmed, from: offset + indent, to: lineEnd, commandFrom: offset + indent });
        masked = line.slice(0, indent) + ' '.repeat(line.length - indent);
      }
    }
    if (!isPython) masked = ' '.repeat(line.length);
    code += masked + (lineNo < lines.length - 1 ? '\n' : '');
    continuesPrevious = line.endsWith('\\');
    if (masked === line) bracketDepth = Math.max(0, bracketDepth + bracketBalance(line));
    offset = lineEnd + 1;
  }
  return { code, magics, isPython };
}

/**
 * Where the Python statement of `%time stmt`, `%timeit -n 3 stmt`, `%prun -s cumulative stmt`
 * starts in the line (`commandAt` is just after the `%`), or null for other magics and for a
 * statement that cannot be kept on one line behind `if 1:`.
 */
function statementOf(line: string, commandAt: number): { at: number; persists: boolean } | null {
  const name = /^\w+/.exec(line.slice(commandAt))?.[0] ?? '';
  const spec = STATEMENT_MAGICS.get(name);
  if (!spec) return null;
  let at = commandAt + name.length;
  if (!/^\s/.test(line.slice(at))) return null;
  const skipSpaces = (): void => {
    while (at < line.length && /\s/.test(line[at]!)) at++;
  };
  skipSpaces();
  // Options: `-n 10`, `-n10`, `-q`.
  while (line[at] === '-' && /[A-Za-z]/.test(line[at + 1] ?? '')) {
    const option = line[at + 1]!;
    const token = /^\S+/.exec(line.slice(at))![0];
    at += token.length;
    skipSpaces();
    if (token.length === 2 && spec.argumentOptions.includes(option)) {
      at += /^\S*/.exec(line.slice(at))![0].length;
      skipSpaces();
    }
  }
  const statement = line.slice(at);
  if (!statement.trim() || COMPOUND_STATEMENT.test(statement) || line.endsWith('\\')) return null;
  return { at, persists: spec.persists };
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
