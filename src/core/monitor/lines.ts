/**
 * JSON Lines read as a stream of parsed objects, in bounded memory: a file is read in 4 MiB
 * chunks, each line parsed on its own. A line that is not a JSON object is counted (with the
 * first few line numbers) and skipped; a last line without its newline is a torn write (a
 * process killed while writing, or a writer still at it) and is counted apart, not parsed.
 */
import { promises as fs } from 'node:fs';

export interface LineProblems {
  /** Lines that are not a JSON object. */
  invalid: number;
  /** `file:line` of the first ones. */
  examples: string[];
  /** Files whose last line had no newline (not read). */
  torn: number;
}

export function noProblems(): LineProblems {
  return { invalid: 0, examples: [], torn: 0 };
}

const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Calls `onEntry` with each JSON object of `file`, in order. `onBytes` reports progress; an
 * aborted `signal` stops the read between chunks (its reason is thrown, an AbortError by default).
 * Returns the number of lines read.
 */
export async function readJsonLines(
  file: string,
  onEntry: (entry: Record<string, unknown>) => void,
  problems: LineProblems,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  signal?.throwIfAborted();
  const handle = await fs.open(file, 'r');
  let lines = 0;
  try {
    let buffer = Buffer.allocUnsafe(CHUNK * 2);
    let carried = 0; // bytes of an unfinished line kept at the start of the buffer
    for (;;) {
      // between chunks: a cancelled read stops within 4 MiB
      signal?.throwIfAborted();
      if (buffer.length - carried < CHUNK) {
        // a line longer than a chunk: grow rather than split it
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, carried);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, carried, CHUNK, null);
      if (bytesRead === 0) break;
      onBytes?.(bytesRead);
      const filled = carried + bytesRead;
      let start = 0;
      for (;;) {
        const end = buffer.indexOf(NEWLINE, start);
        if (end < 0 || end >= filled) break;
        lines++;
        if (end > start) parseLine(buffer, start, end, file, lines, onEntry, problems);
        start = end + 1;
      }
      carried = filled - start;
      if (carried > 0 && start > 0) buffer.copy(buffer, 0, start, filled);
    }
    if (carried > 0 && buffer.subarray(0, carried).some((byte) => byte !== 0x20 && byte !== 0x0d && byte !== 0x09)) problems.torn++;
  } finally {
    await handle.close();
  }
  return lines;
}

function parseLine(chunk: Buffer, start: number, end: number, file: string, line: number, onEntry: (entry: Record<string, unknown>) => void, problems: LineProblems): void {
  const text = chunk.toString('utf8', start, end);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    onEntry(value as Record<string, unknown>);
    return;
  }
  if (!text.trim()) return;
  problems.invalid++;
  if (problems.examples.length < 5) problems.examples.push(`${file}:${line}`);
}
