/** Who is acting, for the registry's `by`: `--by`, else `git config user.email`, else the login name. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function resolveActor(explicit: string | undefined, cwd: string, env: Record<string, string | undefined>): Promise<string> {
  if (explicit !== undefined) {
    const trimmed = explicit.trim();
    if (trimmed) return trimmed;
  }
  try {
    const { stdout } = await exec('git', ['config', 'user.email'], { cwd, timeout: 5000 });
    if (stdout.trim()) return stdout.trim();
  } catch {
    // not a git user, or git is not installed
  }
  // Only the user name is ever read from the environment.
  const fromEnv = env.USER ?? env.USERNAME;
  if (fromEnv?.trim()) return fromEnv.trim();
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
