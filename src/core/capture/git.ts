/** The git state of a run's workspace: commit, branch, uncommitted changes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RunEnvelope } from '../envelope';
import { sha256Hex } from '../hash';

const exec = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  return stdout;
}

/** Null outside a git work tree, when git is not installed, or before the first commit. */
export async function readGitState(cwd: string): Promise<RunEnvelope['git']> {
  let commit: string;
  try {
    commit = (await git(cwd, ['rev-parse', 'HEAD'])).trim();
  } catch {
    return null;
  }
  const [branch, status] = await Promise.all([
    git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']).then((s) => s.trim() || null, () => null),
    git(cwd, ['status', '--porcelain', '--untracked-files=no']),
  ]);
  const dirty = status.trim().length > 0;
  // The diff identifies *which* uncommitted state a run saw: two dirty runs can differ.
  const diffSha256 = dirty ? sha256Hex(await git(cwd, ['diff', 'HEAD', '--binary'])) : null;
  return { commit, branch, dirty, diffSha256 };
}
