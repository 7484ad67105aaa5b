/**
 * Is the process that wrote an in-flight record still running? `kill(pid, 0)` alone says yes for
 * a zombie (a killed tracker its parent has not reaped yet) and for an unrelated process that got
 * the pid later (after a reboot, say), and either would hide an interrupted run for good. On Linux
 * the record also holds the process's start time from /proc, which tells them apart; elsewhere
 * the pid check is all there is.
 */
import { readFileSync } from 'node:fs';

/** `[state, start time in clock ticks]` from /proc/PID/stat; null off Linux or when gone. */
function procStat(pid: number): [string, string] | null {
  if (process.platform !== 'linux') return null;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may contain spaces or ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return [fields[0] ?? '', fields[19] ?? ''];
  } catch {
    return null;
  }
}

/** An identity of a running process to store beside its pid (Linux: its start time), or null. */
export function processStartTime(pid: number): string | null {
  return procStat(pid)?.[1] || null;
}

/**
 * True while `pid` runs: it exists, is not a zombie, and — when `startTime` (from
 * processStartTime) was recorded and can be read again — is the same process.
 */
export function processAlive(pid: number, startTime?: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (!stat) return true;
  const [state, start] = stat;
  if (state === 'Z' || state === 'X') return false;
  return !startTime || start === startTime;
}
