/**
 * sha256 of files, fast and cached. Hashing reads with large positioned reads into one reused
 * buffer (Node's crypto is OpenSSL's, so throughput matches `openssl dgst`), and a stat cache
 * keyed by path, size, mtime, ctime and inode skips files that have not changed since they were
 * last hashed — re-hashing an unchanged 1 GiB file costs one stat.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../store/atomicFile';

const CHUNK = 4 * 1024 * 1024;

/** sha256 and size of one file, read sequentially. */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const handle = await fs.open(file, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      hash.update(bytesRead === CHUNK ? buffer : buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await handle.close();
  }
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

/**
 * A persistent stat cache of file hashes (a JSON file; losing it only costs re-hashing).
 * A file whose stat changed in any way is hashed again.
 */
export class HashCache {
  private entries = new Map<string, CacheEntry>();
  private loaded = false;
  private dirty = false;

  constructor(private readonly cacheFile: string | null) {}

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.cacheFile) return;
    try {
      const parsed = JSON.parse(await fs.readFile(this.cacheFile, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [file, entry] of Object.entries(parsed as Record<string, unknown>)) {
          if (isCacheEntry(entry)) this.entries.set(file, entry);
        }
      }
    } catch {
      // Missing or unreadable cache: start empty.
    }
  }

  /** sha256 and size of `file` (absolute), from the cache when the file is unchanged. */
  async hash(file: string): Promise<{ sha256: string; bytes: number }> {
    await this.load();
    const absolute = path.resolve(file);
    const stat = await fs.stat(absolute);
    const cached = this.entries.get(absolute);
    if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs && cached.ctimeMs === stat.ctimeMs && cached.ino === stat.ino) {
      return { sha256: cached.sha256, bytes: cached.size };
    }
    const result = await hashFile(absolute);
    // A file modified while it was hashed gets no cache entry: its hash may mix two versions.
    const after = await fs.stat(absolute);
    if (after.mtimeMs === stat.mtimeMs && after.size === stat.size) {
      this.entries.set(absolute, { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, sha256: result.sha256 });
      this.dirty = true;
    }
    return result;
  }

  async save(): Promise<void> {
    if (!this.dirty || !this.cacheFile) return;
    await fs.mkdir(path.dirname(this.cacheFile), { recursive: true });
    await writeFileAtomic(this.cacheFile, JSON.stringify(Object.fromEntries(this.entries)));
    this.dirty = false;
  }
}

function isCacheEntry(value: unknown): value is CacheEntry {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.size === 'number' && typeof v.mtimeMs === 'number' && typeof v.ctimeMs === 'number' && typeof v.ino === 'number' && typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256);
}
