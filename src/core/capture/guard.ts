/**
 * Starting what a run runs (the notebook runner, or the user's command) so that it dies with the
 * tracker: through the guard (python/nb2prod_guard.mjs), which leads a process group of its own
 * and holds the read end of a pipe whose write end only this process holds. When this process
 * dies — even by SIGKILL, when no handler of ours can run — the pipe reaches end-of-file and the
 * guard kills the run's processes (its group, and on Linux every process carrying the run's id,
 * the Jupyter kernel's session included). The kernel also watches the runner itself
 * (nb2prod_lifeline.py), which covers systems without /proc.
 *
 * Cancelling signals the whole group, as a terminal's Ctrl-C would: the program gets the signal
 * directly and the guard stays to report how it ended.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const GUARD_SCRIPT = 'nb2prod_guard.mjs';

export interface GuardedProcess {
  child: ChildProcess;
  /** Resolves with the reason when the guard could not start the program (e.g. no such file), else null once the guard exits. */
  startError: Promise<string | null>;
}

const POSIX = process.platform !== 'win32';

/**
 * Starts `program args` under the guard. `env` is exactly what the program sees (the guard adds
 * only NB2PROD_WATCH_PID); `stdin` is 'ignore' or 'inherit'; stdout and stderr are pipes.
 */
export function spawnGuarded(program: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; pythonDir: string; stdin: 'ignore' | 'inherit' }): GuardedProcess {
  const guardEnv: NodeJS.ProcessEnv = { ...options.env };
  // In the editor, process.execPath is Electron: it runs the guard as Node only with
  // ELECTRON_RUN_AS_NODE, which the program must not inherit when the run's environment lacks it.
  if (process.versions.electron && guardEnv.ELECTRON_RUN_AS_NODE === undefined) {
    guardEnv.ELECTRON_RUN_AS_NODE = '1';
    guardEnv.NB2PROD_GUARD_UNSET = 'ELECTRON_RUN_AS_NODE';
  }
  const child = spawn(process.execPath, [path.join(options.pythonDir, GUARD_SCRIPT), program, ...args], {
    env: guardEnv,
    cwd: options.cwd,
    stdio: [options.stdin, 'pipe', 'pipe', 'pipe'],
    detached: POSIX, // a new session: the guard leads the run's process group
  });
  const startError = new Promise<string | null>((resolve) => {
    const lifeline = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
    if (!lifeline) {
      resolve(null);
      return;
    }
    let text = '';
    lifeline.setEncoding('utf8');
    lifeline.on('data', (chunk: string) => (text += chunk));
    lifeline.on('error', () => undefined);
    lifeline.on('close', () => {
      try {
        const message = JSON.parse(text.trim().split('\n')[0] ?? '') as { startError?: unknown };
        resolve(typeof message.startError === 'string' ? message.startError : null);
      } catch {
        resolve(null);
      }
    });
  });
  return { child, startError };
}

/** Sends `signal` to the run's whole process group (the guard ignores it and reports the program's end). */
export function signalRun(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (POSIX) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}
