/**
 * Reading JSON that came from a file nb2prod did not write itself (notebooks, data files, edited
 * run files): the two ways JSON.parse's success or failure still trips the code after it.
 * - A value nested thousands deep parses, but every recursive step after it (validation,
 *   JSON.stringify, zod) overflows the stack: `nestsDeeperThan` finds it first, without recursing.
 * - V8's syntax error quotes the text around the error, line breaks included: `jsonSyntaxMessage`
 *   puts it on one line, so an error about the file stays one line.
 */

/**
 * Deeper than any notebook, data row or run file has a reason to be (Python's json stops near
 * 1,000 levels, so Jupyter could not read it either), and shallow enough that nb2prod's own
 * recursive steps have stack to spare.
 */
export const MAX_JSON_DEPTH = 500;

/** Whether a parsed JSON value nests deeper than `limit` (iterative: the value may be very deep). */
export function nestsDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: Array<[object, number]> = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child as object, depth + 1]);
  }
  return false;
}

/** The message of a JSON.parse error on one line. */
export function jsonSyntaxMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

/** Text without the byte-order mark some editors put at the start of a UTF-8 file. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
