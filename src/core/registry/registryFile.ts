/**
 * The registry file, `registry.jsonl` in the store folder: append-only, one event per line.
 *
 * Writing: each event is one `write` of the whole line (plus a leading "\n" when the file does
 * not end with one, after a crash mid-write) to a file opened with O_APPEND, then fsync, under
 * the registry's lock file (`registry.jsonl.lock`). Writers that decide something from the
 * state (a gate, a rollback's target, `previous`) read, decide and append under one lock
 * (`withRegistryLock`), so no decision is taken on a state another writer has moved on from.
 * A lock left by a writer that died is taken over (see `acquireLock`).
 *
 * Reading: line by line. A line that is not JSON or not a valid event is reported
 * (`{line, message}`) and skipped; a last line without its "\n" (a write cut short) is
 * reported and ignored. Nothing else is lost.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, withPath } from '../errors';
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
    // A pipe there would block the read (and every read after it) until someone writes to it.
    const stat = await fs.stat(file).catch(() => null);
    if (stat && !stat.isFile() && !stat.isDirectory()) throw new UserError('store-unwritable', `${file} is not a regular file (a pipe or a device), not the registry file: move it away.`);
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { events: [], problems: [] };
    if (code === 'EISDIR') throw new UserError('store-unwritable', `${file} is a folder, not the registry file: move it away.`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError('store-unwritable', `Cannot read ${file}: ${code}.`);
    throw withPath(error, file);
  }
  return parseRegistryText(text);
}

/** Appends events, one `write` per line (see the top of the file), and flushes them to disk. */
export async function appendRegistryEvents(file: string, events: readonly RegistryEvent[]): Promise<void> {
  if (!events.length) return;
  await withRegistryLock(file, (locked) => locked.append(events));
}

/** What a writer may do while it holds the registry's lock. */
export interface LockedRegistry {
  /** The file as it is now: no other writer can append until the lock is released. */
  read(): Promise<RegistryRead>;
  append(events: readonly RegistryEvent[]): Promise<void>;
}

/**
 * Runs `decide` holding the registry's lock, so that what it reads is still the state when it
 * appends: gates, approval checks, a rollback's target and the recorded `previous` are all
 * worked out on the state the event is appended after (read–decide–append). Other writers wait.
 */
export async function withRegistryLock<T>(file: string, decide: (locked: LockedRegistry) => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const lock = await acquireLock(`${file}.lock`);
  try {
    return await decide({
      read: () => readRegistryFile(file),
      append: async (events) => {
        if (events.length) await appendLocked(file, events);
      },
    });
  } finally {
    await lock.release();
  }
}

/**
 * When a lock is taken as left behind: at once when its holder (a process on this host) is dead;
 * otherwise when it has not been touched for this long (a holder refreshes it every
 * HEARTBEAT_MS, so only a holder on another host that died, or one frozen, gets there).
 */
const STALE_LOCK_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** A lock file still empty after this long belongs to a writer that died between creating and filling it. */
const EMPTY_LOCK_MS = 5_000;
const LOCK_TIMEOUT_MS = 60_000;

interface LockOwner {
  pid: number;
  host: string;
  /** Unique per acquisition: tells this holder's lock from a later one at the same path. */
  nonce: string;
}

interface HeldLock {
  release(): Promise<void>;
}

/**
 * An exclusive lock file, created with O_EXCL and holding `{pid, host, nonce}`, retried with a
 * short backoff. A lock left by a dead writer is taken over: see `isStale`, and `breakStale` for
 * how two waiters breaking the same stale lock cannot remove each other's fresh one.
 */
async function acquireLock(lock: string): Promise<HeldLock> {
  const started = Date.now();
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lock, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(owner)}\n`);
      } finally {
        await handle.close();
      }
      return holding(lock, owner);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw new UserError('store-unwritable', `Cannot write ${lock}: ${code}.`);
      if (code !== 'EEXIST') throw error;
    }
    const kind = await fs.lstat(lock).catch(() => null);
    if (kind && !kind.isFile()) throw new UserError('store-unwritable', `${lock} is not a lock file (a ${kind.isDirectory() ? 'folder' : 'special file'}): remove it.`);
    const seen = await readLock(lock);
    if (seen && isStale(seen)) {
      await breakStale(lock, seen.text);
      continue;
    }
    if (Date.now() - started > LOCK_TIMEOUT_MS) {
      const holder = seen?.owner ? ` (process ${seen.owner.pid} on ${seen.owner.host})` : '';
      throw new UserError('store-unwritable', `${lock} has been held for over ${LOCK_TIMEOUT_MS / 1000} s by another nb2prod process${holder}; if none is running, delete the file.`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 + attempt * 2)));
  }
}

/** Keeps the lock fresh while held; releasing removes it only if it is still this holder's. */
function holding(lock: string, owner: LockOwner): HeldLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    void fs.utimes(lock, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      const seen = await readLock(lock);
      // Taken over meanwhile (this process was frozen past STALE_LOCK_MS): the lock is someone else's now.
      if (seen?.owner && seen.owner.nonce !== owner.nonce) return;
      await fs.rm(lock, { force: true });
    },
  };
}

interface SeenLock {
  text: string;
  owner: LockOwner | null;
  mtimeMs: number;
}

async function readLock(lock: string): Promise<SeenLock | null> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lock, 'utf8'), fs.stat(lock)]);
    let owner: LockOwner | null = null;
    try {
      const value = JSON.parse(text) as Partial<LockOwner>;
      if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.nonce === 'string') owner = { pid: value.pid, host: value.host, nonce: value.nonce };
    } catch {
      // empty (being written, or its writer died before writing) or foreign
    }
    return { text, owner, mtimeMs: stat.mtimeMs };
  } catch {
    return null; // released meanwhile
  }
}

function isStale(seen: SeenLock): boolean {
  const age = Date.now() - seen.mtimeMs;
  if (!seen.owner) return age > (seen.text.trim() ? STALE_LOCK_MS : EMPTY_LOCK_MS);
  if (seen.owner.host === os.hostname() && !processAlive(seen.owner.pid)) return true;
  return age > STALE_LOCK_MS;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock whose content was `staleText`. Breakers take a second lock (`.break`,
 * O_EXCL, held for a few milliseconds) and re-read the lock under it: only a lock that still has
 * the stale content is removed. So when two waiters see the same dead holder, the second cannot
 * remove the fresh lock the first has taken meanwhile.
 */
async function breakStale(lock: string, staleText: string): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await (await fs.open(breaker, 'wx')).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another waiter is breaking it (a breaker dead for seconds left its file: clear it).
    const stat = await fs.stat(breaker).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > EMPTY_LOCK_MS) await fs.rm(breaker, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    return;
  }
  try {
    const now = await fs.readFile(lock, 'utf8').catch(() => null);
    if (now === staleText) await fs.rm(lock, { force: true });
  } finally {
    await fs.rm(breaker, { force: true });
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
