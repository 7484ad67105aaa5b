/**
 * Makes sure the e2e tests run against the current code: (re)packages the VSIX when it is missing
 * or older than any source it is built from. `npm run test:e2e` packages first, so this is usually
 * a no-op; it matters when vitest is run directly after an edit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_VSIX, REPO_ROOT } from './harness';

const SOURCES = ['src', 'webviews', 'media', 'package.json', '.vscodeignore', 'esbuild.mjs'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

export function setup(): void {
  // An explicit NB2PROD_VSIX is the caller's VSIX: test it as it is.
  if (process.env.NB2PROD_VSIX) return;
  const vsixTime = existsSync(DEFAULT_VSIX) ? statSync(DEFAULT_VSIX).mtimeMs : 0;
  const sourceTime = Math.max(...SOURCES.map((s) => newestMtime(path.join(REPO_ROOT, s))));
  if (vsixTime >= sourceTime) return;
  console.log(`e2e: ${vsixTime ? 'VSIX older than its sources' : 'no VSIX yet'}: running scripts/package-vsix.mjs`);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package-vsix.mjs'), '--json'], {
    cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    throw new Error(`could not package the VSIX for the e2e tests (node scripts/package-vsix.mjs):\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  }
  console.log(`e2e: packaged ${r.stdout.trim()}`);
}
