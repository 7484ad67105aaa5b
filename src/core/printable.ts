/**
 * Text that came from a user or a file (run names, `--by`, reasons, notes, recorded paths) is
 * made printable before it reaches a terminal: control characters (escape sequences that move
 * the cursor, recolour or retitle the terminal, newlines that forge extra output lines),
 * DEL, C1 controls and bidirectional overrides are shown as visible escapes (`\x1b`, `\n`,
 * `\u202e`) instead of being interpreted. The stored values are left as they were written.
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates, BOM.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every unprintable character escaped; longer than `max` characters: cut with "…". */
export function printable(text: string, max?: number): string {
  const escaped = text.replace(UNPRINTABLE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return max !== undefined && escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/** True when `text` has nothing `printable` would escape. */
export function isPrintable(text: string): boolean {
  return !new RegExp(UNPRINTABLE.source).test(text);
}

// Everything printable escapes but the line structure (\n, \t) of what nb2prod itself writes.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE_IN_OUTPUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** The prefixes nb2prod's own progress lines start with (return, then erase the line). */
// eslint-disable-next-line no-control-regex
const PROGRESS_PREFIX = /^\r(?:\u001b\[2?K)?/;

/**
 * A whole piece of terminal output made safe: every control character that could move the
 * cursor, recolour or retitle the terminal is escaped wherever it came from (a data file's
 * column name, a traceback, a path), keeping newlines and tabs and the `\r`, erase-line prefix of
 * nb2prod's own progress lines. Newlines inside a single value are that value's business:
 * `printable` escapes them where one value is printed.
 */
export function terminalSafe(text: string): string {
  const prefix = PROGRESS_PREFIX.exec(text)?.[0] ?? '';
  const rest = text.slice(prefix.length);
  return prefix + rest.replace(UNPRINTABLE_IN_OUTPUT, (c) => printable(c));
}
