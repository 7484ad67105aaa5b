/**
 * `--output FILE` of the commands that write a report (lint, drift): checked before the work
 * starts, so a report that cannot be written is said at once instead of after a long run, and
 * written atomically, so a reader never sees half a report. Missing parent folders are created.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors';

/** Resolves `value` against `cwd` and refuses what can never be a report file. */
export async function reportTarget(cwd: string, value: string, option = '--output'): Promise<string> {
  if (!value.trim()) throw new UserError('usage', `${option} needs a file name`);
  const target = path.resolve(cwd, value);
  const stat = await fs.stat(target).catch(() => null);
  if (stat?.isDirectory()) throw new UserError('usage', `${option} ${value} is a folder: give the name of a file to write`);
  if (stat && !stat.isFile()) throw new UserError('usage', `${option} ${value} is not a regular file`);
  // The nearest existing ancestor must be a folder (a file there means the path cannot exist).
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const parent = await fs.stat(dir).catch(() => null);
    if (parent) {
      if (!parent.isDirectory()) throw new UserError('usage', `${option} ${value}: ${dir} is a file, not a folder`);
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return target;
}

/** Whether process `pid` is alive on this machine (EPERM: alive, someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes the report: parent folders created, a temporary file renamed over the target.
 * Temporary files of the same report left by a killed process (its pid is in the name and no
 * longer runs) are removed first.
 */
export async function writeReport(target: string, text: string): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const prefix = `.${path.basename(target)}.`;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? Number(name.slice(prefix.length, -'.tmp'.length)) : NaN;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) await fs.rm(path.join(dir, name), { force: true });
  }
  const temp = path.join(dir, `${prefix}${process.pid}.tmp`);
  try {
    await fs.writeFile(temp, text);
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
