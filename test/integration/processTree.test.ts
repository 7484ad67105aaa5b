/**
 * Nothing a run started outlives the tracker: after `kill -9` of `nb2prod track` or `nb2prod run`
 * no process of the run — the runner, the Jupyter kernel, a script, what they started in their
 * process group or in a session of their own — survives 5 s, and the run is listed as interrupted
 * at once, in a new store too. For real, with each interpreter of test/fixtures/pythons.ts; the
 * long work is a C loop that holds the GIL (`sum(range(...))`), so no Python thread of the run can
 * be what stops it.
 */
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PYTHONS, requirePython } from '../fixtures/pythons';
import { cliWith, notebookJson, requireBuild, tempWorkspace, waitFor } from './helpers';

const workspaces: string[] = [];
const started: number[] = [];

async function workspaceWith(files: Record<string, string>): Promise<string> {
  const dir = await tempWorkspace('tree');
  workspaces.push(dir);
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  return dir;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose environment mentions `text` (every process of a run has NB2PROD_EVENTS under the workspace). */
function processesMentioning(text: string): number[] {
  const needle = Buffer.from(text);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`).includes(needle) && alive(pid);
      } catch {
        return false;
      }
    });
}

async function pidsOf(file: string, count: number): Promise<number[]> {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').trim().split(/\s+/).length >= count, 60_000, `${count} pids in ${file}`);
  const pids = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  started.push(...pids);
  return pids;
}

/** Waits until none of `pids` nor any process of the workspace's run is alive; returns how long it took. */
async function timeUntilGone(pids: number[], workspace: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(() => pids.every((p) => !alive(p)) && processesMentioning(workspace).length === 0, 10_000, `the run's processes to die (left: ${pids.filter(alive).join(' ')})`).catch(() => undefined);
  const left = [...pids.filter(alive), ...processesMentioning(workspace)];
  expect(left, 'processes of the run still alive').toEqual([]);
  return Date.now() - t0;
}

// Started by each run: a shell child in the process's own group, and a Python child in a session
// of its own (as jupyter_client starts kernels, or start_new_session=True in user code).
const CHILDREN = `import os, subprocess, sys
pids = [os.getpid(), os.getppid()]
pids.append(subprocess.Popen(['sleep', '300']).pid)
pids.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True).pid)
open('pids.txt', 'w').write(' '.join(map(str, pids)) + '\\n')`;
const HOLD_THE_GIL = 'sum(range(10**13))';

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

afterAll(async () => {
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  const { nb2prod, spawnCli } = cliWith(python.path);

  beforeAll(() => {
    requirePython(python, ['nbclient', 'ipykernel']);
    requireBuild();
  });

  it('kill -9 of nb2prod track: the runner, the kernel and what the cells started die within 5 s; the run is interrupted', async () => {
    const workspace = await workspaceWith({ 'long.ipynb': notebookJson([CHILDREN, HOLD_THE_GIL, 'print("never")']) });
    const cli = spawnCli(['track', 'long.ipynb'], workspace);
    const [kernel, runner, shellChild, sessionChild] = await pidsOf(path.join(workspace, 'pids.txt'), 4);
    await waitFor(() => cli.stderr().includes('2 of 3 code cells'), 30_000, 'the long cell to start');
    expect([kernel, runner, shellChild, sessionChild].every((p) => alive(p!))).toBe(true);
    cli.child.kill('SIGKILL');
    await cli.exit;
    expect(await timeUntilGone([kernel!, runner!, shellChild!, sessionChild!], workspace)).toBeLessThan(5000);

    const list = await nb2prod(['runs', '--json'], workspace);
    const { runs } = JSON.parse(list.stdout) as { runs: Array<{ status: string }> };
    expect(runs.map((r) => r.status)).toEqual(['interrupted']);
  }, 90_000);

  it('kill -9 of nb2prod run -- python script.py: the script and its children die within 5 s; the run is interrupted', async () => {
    const workspace = await workspaceWith({ 'train.py': `${CHILDREN}\n${HOLD_THE_GIL}\n` });
    const cli = spawnCli(['run', '--', python.path, 'train.py', '--epochs', '3'], workspace);
    const [script, , shellChild, sessionChild] = await pidsOf(path.join(workspace, 'pids.txt'), 4);
    cli.child.kill('SIGKILL');
    await cli.exit;
    expect(await timeUntilGone([script!, shellChild!, sessionChild!], workspace)).toBeLessThan(5000);

    const { runs } = JSON.parse((await nb2prod(['runs', '--json'], workspace)).stdout) as { runs: Array<{ status: string; sourcePath: string }> };
    expect(runs.map((r) => [r.status, r.sourcePath])).toEqual([['interrupted', 'train.py']]);
  }, 90_000);

  it('Ctrl-C of nb2prod run: the script gets its KeyboardInterrupt, its children stop, the run is cancelled', async () => {
    const script = `${CHILDREN}
try:
    import time; time.sleep(300)
except KeyboardInterrupt:
    open('interrupted.txt', 'w').write('yes')
    raise
`;
    const workspace = await workspaceWith({ 'slow.py': script });
    const cli = spawnCli(['run', '--', python.path, 'slow.py'], workspace);
    const [pid, , shellChild] = await pidsOf(path.join(workspace, 'pids.txt'), 4);
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(1);
    expect(await fs.readFile(path.join(workspace, 'interrupted.txt'), 'utf8')).toBe('yes');
    expect([pid, shellChild].filter((p) => alive(p!))).toEqual([]);
    const { runs } = JSON.parse((await nb2prod(['runs', '--json'], workspace)).stdout) as { runs: Array<{ status: string }> };
    expect(runs.map((r) => r.status)).toEqual(['cancelled']);
  }, 60_000);
});

describe('a command that is not Python', () => {
  beforeAll(() => requireBuild());

  it('dies with the tracker too, and its interrupted run is listed at once in a store it created', async () => {
    const { nb2prod, spawnCli } = cliWith('/usr/bin/python3');
    const workspace = await workspaceWith({});
    const cli = spawnCli(['run', '--', 'sh', '-c', 'echo $$ > pids.txt; exec sleep 300'], workspace);
    const [sleeper] = await pidsOf(path.join(workspace, 'pids.txt'), 1);
    cli.child.kill('SIGKILL');
    await cli.exit;
    expect(await timeUntilGone([sleeper!], workspace)).toBeLessThan(5000);

    const { runs } = JSON.parse((await nb2prod(['runs', '--json'], workspace)).stdout) as { runs: Array<{ status: string }> };
    expect(runs.map((r) => r.status)).toEqual(['interrupted']);
  }, 60_000);

  it('a program that does not exist is a one-line error (exit 2) and no run', async () => {
    const { nb2prod } = cliWith('/usr/bin/python3');
    const workspace = await workspaceWith({});
    const result = await nb2prod(['run', '--', 'no-such-program-here', '--flag'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['nb2prod run: Cannot start "no-such-program-here": spawn no-such-program-here ENOENT.']);
    const { runs } = JSON.parse((await nb2prod(['runs', '--json'], workspace)).stdout) as { runs: unknown[] };
    expect(runs).toEqual([]);
  });
});
