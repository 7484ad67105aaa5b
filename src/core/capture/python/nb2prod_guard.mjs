// nb2prod run guard: the process between the tracker (nb2prod track/run, or the editor) and
// what it runs (the notebook runner, or the user's command), so that nothing a run started
// outlives the tracker.
//
//     node nb2prod_guard.mjs PROGRAM [ARGS...]
//
// The tracker starts it as the leader of a new session (so of a new process group) with a pipe
// on fd 3 whose other end only the tracker holds. The guard starts PROGRAM in its group, with
// stdin/stdout/stderr passed through, and waits:
//   - PROGRAM exits: the guard exits the same way (same code, or killed by the same signal).
//   - fd 3 reaches end-of-file first: the tracker died (kill -9, crash, a closed terminal), as no
//     signal handler of it could run. The guard then kills, with SIGKILL, every process that
//     carries this run's NB2PROD_RUN_ID in its environment (on Linux, from /proc: this reaches
//     the Jupyter kernel and whatever started its own session), then its own process group,
//     itself included.
// SIGINT, SIGTERM and SIGHUP sent to the guard are not acted on: the tracker signals the whole
// group (PROGRAM gets them directly), and the guard stays to report PROGRAM's exit.
//
// Environment: NB2PROD_RUN_ID (the run's id), NB2PROD_GUARD_UNSET (names, comma-separated, to
// remove from PROGRAM's environment: what only the guard needed, such as ELECTRON_RUN_AS_NODE
// when the editor starts it). PROGRAM gets NB2PROD_WATCH_PID = the guard's pid: a tracked
// Python process leading another process group watches it (nb2prod/_lifeline.py).
//
// Plain JavaScript, no dependency: it is run as is by whatever Node the tracker runs in (the
// CLI's, or VS Code's Electron in Node mode), and shipped in dist/python with the companion.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

const [program, ...args] = process.argv.slice(2);
if (!program) {
  process.stderr.write('nb2prod_guard: usage: nb2prod_guard.mjs PROGRAM [ARGS...]\n');
  process.exit(2);
}

const runId = process.env.NB2PROD_RUN_ID ?? '';
const env = { ...process.env, NB2PROD_WATCH_PID: String(process.pid) };
for (const name of (process.env.NB2PROD_GUARD_UNSET ?? '').split(',')) if (name) delete env[name];
delete env.NB2PROD_GUARD_UNSET;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);

let lifeline = null;
try {
  lifeline = new net.Socket({ fd: 3, readable: true, writable: true });
} catch {
  lifeline = null; // started by hand, without a lifeline: a plain wrapper
}

/** PROGRAM could not be started: say why on the lifeline (the tracker reports it), exit 127. */
function cannotStart(error) {
  const message = error.message; // "spawn PROGRAM ENOENT", as Node says it
  if (!lifeline) {
    process.stderr.write(`nb2prod_guard: cannot start ${program}: ${message}\n`);
    process.exit(127);
  }
  lifeline.write(`${JSON.stringify({ startError: message })}\n`, () => process.exit(127));
  setTimeout(() => process.exit(127), 1000); // keeps the guard alive until the line is out
}

let child;
let exited = false;
try {
  child = spawn(program, args, { env, stdio: 'inherit' });
} catch (error) {
  exited = true;
  cannotStart(error);
}
child?.on('error', (error) => {
  exited = true; // ENOENT, EACCES: no process was started
  cannotStart(error);
});
child?.on('exit', (code, signal) => {
  exited = true;
  if (signal) {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(name);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});

/** Pids (other than this one) whose environment holds NB2PROD_RUN_ID=<this run>. Linux only. */
function runProcesses() {
  if (process.platform !== 'linux' || !runId) return [];
  const needle = Buffer.from(`\0NB2PROD_RUN_ID=${runId}\0`);
  const found = [];
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`), Buffer.from([0])]);
      if (environ.includes(needle)) found.push(Number(name));
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

function killRun() {
  // Processes fork while we look: sweep until a pass finds none (bounded).
  for (let pass = 0; pass < 20; pass++) {
    const pids = runProcesses();
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  try {
    process.kill(-process.pid, 'SIGKILL'); // our group: PROGRAM, its children, and this guard
  } catch {
    // not a group leader (started without a new session, or on Windows): at least PROGRAM
    child?.kill('SIGKILL');
    process.exit(137);
  }
}

if (lifeline) {
  const gone = () => {
    if (!exited) killRun();
  };
  lifeline.on('end', gone);
  lifeline.on('error', gone);
  lifeline.on('close', gone);
  lifeline.resume();
  // The lifeline must not keep the guard alive once PROGRAM has exited.
  lifeline.unref();
}
