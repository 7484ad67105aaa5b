/** The project's lock or requirements file, found from the source's folder up to the workspace root. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type HashCache } from './fileHash';

/** In order of preference: the most exact lock first. */
export const LOCK_FILE_NAMES = ['uv.lock', 'poetry.lock', 'Pipfile.lock', 'environment.yml', 'environment.yaml', 'requirements.lock', 'requirements.txt'] as const;

export async function findLockFile(
  sourceDir: string,
  workspaceRoot: string,
  hashes: HashCache,
): Promise<{ path: string; sha256: string } | null> {
  const root = path.resolve(workspaceRoot);
  for (let dir = path.resolve(sourceDir); ; dir = path.dirname(dir)) {
    for (const name of LOCK_FILE_NAMES) {
      const candidate = path.join(dir, name);
      try {
        if ((await fs.stat(candidate)).isFile()) {
          return { path: toPortable(path.relative(root, candidate)), sha256: (await hashes.hash(candidate)).sha256 };
        }
      } catch {
        // not there: try the next name
      }
    }
    if (dir === root || path.dirname(dir) === dir || !dir.startsWith(root)) return null;
  }
}

/** Forward slashes, as envelopes store paths on every OS. */
export function toPortable(p: string): string {
  return p.split(path.sep).join('/');
}
