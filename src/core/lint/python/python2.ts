/**
 * Python 2 code in a Python 3 notebook: which construct a syntax error is, when it is one of
 * Python 2's. A notebook written for Python 2 fails on nearly every cell, and one finding that
 * says "port it" helps more than one per line, so the `syntax-error` rule groups them.
 *
 * Recognised from the parser's tree (analyze.ts: Lezer has a node for the print statement and
 * accepts `except X, e`, `<>`, `0777`, `raise E, "m"`) and from what CPython says about a cell
 * (`Missing parentheses in call to 'print'`, `multiple exception types must be
 * parenthesized`, `leading zeros in decimal integer literals`, or "invalid syntax" at a
 * backtick, `<>`, `ur"…"`, `10L`).
 */

export const PRINT_STATEMENT = 'print statement';
export const EXEC_STATEMENT = 'exec statement';
export const EXCEPT_COMMA = '`except X, e`';
export const NOT_EQUAL = '`<>`';
export const OLD_OCTAL = 'octal literal `0777`';
export const RAISE_COMMA = '`raise E, "message"`';
export const BACKTICKS = 'backtick repr';
export const UR_PREFIX = '`ur""` string';
export const LONG_LITERAL = 'long literal `10L`';

/**
 * The Python 2 construct a syntax error at `column` (0-based) of `line` is, given the
 * interpreter's message when there is one; null when it is not a Python 2 construct.
 */
export function python2Construct(line: string, column: number, message = ''): string | null {
  if (/^Missing parentheses in call to 'print'/.test(message)) return PRINT_STATEMENT;
  if (/^Missing parentheses in call to 'exec'/.test(message)) return EXEC_STATEMENT;
  if (/multiple exception types must be parenthesized/.test(message)) return EXCEPT_COMMA;
  if (/leading zeros in decimal integer literals/.test(message)) return OLD_OCTAL;
  const at = line.slice(column);
  const before = line.slice(0, column);
  if (at.startsWith('`')) return BACKTICKS;
  if (at.startsWith('<>') || (at.startsWith('>') && before.endsWith('<'))) return NOT_EQUAL;
  if (/(?:^|[^\w])[uU][rR]$/.test(before) && /^["']/.test(at)) return UR_PREFIX;
  if (/^[uU][rR]["']/.test(at)) return UR_PREFIX;
  // The word around the column: `10L` (CPython points into it, Lezer just after the digits).
  const word = (/[\w]*$/.exec(before)?.[0] ?? '') + (/^[\w]*/.exec(at)?.[0] ?? '');
  if (/^\d+[lL]$/.test(word)) return LONG_LITERAL;
  const statement = line.trimStart();
  if (/^print\s+(?:[^\s(=.,)[\]:;+\-*/%<>!&|^]|>>)/.test(statement) && !/^print\s*(?:=|\()/.test(statement)) return PRINT_STATEMENT;
  if (/^exec\s+["'\w]/.test(statement) && !/^exec\s*(?:=|\()/.test(statement)) return EXEC_STATEMENT;
  if (/^raise\s+[\w.]+(?:\([^)]*\))?\s*,/.test(statement)) return RAISE_COMMA;
  if (/^except\s+[^:(]*,\s*\w+\s*:/.test(statement)) return EXCEPT_COMMA;
  return null;
}

/** `cells 3, 7 and 12`, `cell 3`, `lines 4 and 9`. */
export function listPlaces(word: string, numbers: readonly number[]): string {
  if (numbers.length === 1) return `${word} ${numbers[0]}`;
  const shown = numbers.length > 8 ? [...numbers.slice(0, 7).map(String), `${numbers.length - 7} more`] : numbers.map(String);
  return `${word}s ${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}
