/**
 * The registry file, `registry.jsonl` in the store folder: append-only, one event per line.
 *
 * Writing: each event is one `write` of the whole line (plus a leading "\n" when the file does
 * not end with one, after a crash mid-write) to a file opened with O_APPEND, then fsync. On
 * local file systems an O_APPEND write is placed at the end atomically, so any number of
 * processes may append at once without a lock and no line is lost or interleaved.
 *
 * Reading: line by line. A line that is not JSON or not a valid event is reported
 * (`{line, message}`) and skipped; a last line without its "\n" (a write cut short) is
 * reported and ignored. Nothing else is lost.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { parseRegistryEvent, REGISTRY_FILE, type RegistryEvent, type RegistryProblem } from './events';

export interface RegistryRead {
  events: RegistryEvent[];
  problems: RegistryProblem[];
}

export function registryFilePath(storeRoot: string): string {
  return path.join(storeRoot, REGISTRY_FILE);
}

/** Parses the text of a registry file (pure; `readRegistryFile` reads it from disk). */
export function parseRegistryText(text: string): RegistryRead {
  const events: RegistryEvent[] = [];
  const problems: RegistryProblem[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  // After the last "\n" comes either nothing (a complete file) or a line cut short.
  const last = lines.pop() ?? '';
  lines.forEach((line, i) => {
    const number = i + 1;
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push({ line: number, message: `not valid JSON (${(error as Error).message}); skipped` });
      return;
    }
    const parsed = parseRegistryEvent(value);
    if (!parsed.ok) {
      problems.push({ line: number, message: `not a valid registry event (${parsed.message}); skipped` });
      return;
    }
    if (seen.has(parsed.event.id)) {
      problems.push({ line: number, message: `event ${parsed.event.id} appears twice; the repeat is skipped` });
      return;
    }
    seen.add(parsed.event.id);
    events.push(parsed.event);
  });
  if (last.trim()) {
    problems.push({ line: lines.length + 1, message: 'the last line is incomplete (no line end: a write was cut short); ignored' });
  }
  return { events, problems };
}

/** Reads the registry of a store; a missing file is an empty registry. */
export async function readRegistryFile(file: string): Promise<RegistryRead> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], problems: [] };
    throw error;
  }
  return parseRegistryText(text);
}

/** Appends events, one `write` per line (see the top of the file), and flushes them to disk. */
export async function appendRegistryEvents(file: string, events: readonly RegistryEvent[]): Promise<void> {
  if (!events.length) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  // The "does the file end mid-line?" check and the append must not interleave with another
  // writer's append, or a stale last byte adds a blank line: hold the lock across both.
  const release = await acquireLock(`${file}.lock`);
  try {
    await appendLocked(file, events);
  } finally {
    await release();
  }
}

/** How long a lock may be held before it is taken as left behind by a crashed writer. */
const STALE_LOCK_MS = 30_000;
const LOCK_TIMEOUT_MS = 20_000;

/**
 * An exclusive lock file (created with O_EXCL), retried with a short backoff. A lock older than
 * STALE_LOCK_MS belongs to a writer that died: it is removed. Appends take milliseconds.
 */
async function acquireLock(lock: string): Promise<() => Promise<void>> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => fs.rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = await fs.stat(lock).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > STALE_LOCK_MS) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() - started > LOCK_TIMEOUT_MS) {
      throw new UserError('store-unwritable', `${lock} has been held for over ${LOCK_TIMEOUT_MS / 1000} s by another nb2prod process; if none is running, delete the file.`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 + attempt * 2)));
  }
}

async function appendLocked(file: string, events: readonly RegistryEvent[]): Promise<void> {
  let handle;
  try {
    // 'a+': O_APPEND | O_CREAT, readable so the last byte can be checked.
    handle = await fs.open(file, 'a+');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw new UserError('store-unwritable', `Cannot write ${file}: ${code}.`);
    throw error;
  }
  try {
    for (const [i, event] of events.entries()) {
      let prefix = '';
      if (i === 0) {
        const { size } = await handle.stat();
        if (size > 0) {
          const byte = Buffer.alloc(1);
          await handle.read(byte, 0, 1, size - 1);
          // A line cut short by a crash: start on a fresh line so this event stays readable.
          if (byte[0] !== 0x0a) prefix = '\n';
        }
      }
      const data = Buffer.from(`${prefix}${JSON.stringify(event)}\n`, 'utf8');
      const { bytesWritten } = await handle.write(data, 0, data.length);
      if (bytesWritten !== data.length) throw new Error(`short write to ${file}: ${bytesWritten} of ${data.length} bytes`);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
