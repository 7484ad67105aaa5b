/**
 * Crash-safe file writes for the store. A reader never sees a half-written file: data goes to a
 * temporary file in the same directory (names starting with '.' are ignored by readers), is
 * flushed, then appears under its final name in one step.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function writeFlushed(file: string, data: string | Uint8Array, durable = true): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `target`, replacing any previous content atomically. `durable: false` skips
 * the flush to disk, for files rewritten often whose loss in a power cut is harmless.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: { durable?: boolean } = {}): Promise<void> {
  const temp = tempNameFor(target);
  try {
    await writeFlushed(temp, data, options.durable ?? true);
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Writes `data` to `target` only if `target` does not exist yet, atomically. Returns false when
 * it already exists (another writer got there first, or the caller reused a name).
 * A hard link is the no-clobber atomic publish on POSIX; where links are not supported
 * (some network and FUSE file systems) it falls back to check-then-rename.
 */
export async function writeFileExclusive(target: string, data: string | Uint8Array): Promise<boolean> {
  const temp = tempNameFor(target);
  try {
    await writeFlushed(temp, data);
    try {
      await fs.link(temp, target);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
      if (await exists(target)) return false;
      await fs.rename(temp, target);
      return true;
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
