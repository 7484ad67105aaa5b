/**
 * Is the tracker that wrote an in-flight record still running? A zombie, a reused pid and a
 * vanished process all count as gone, so a killed run is published (RunStore.recoverInterrupted)
 * instead of staying hidden behind a pid that only looks alive.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive, processStartTime } from '../../src/core/processes';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

/** A child process that forks a child and never reaps it: that grandchild is a zombie. */
async function withZombie(use: (pid: number) => Promise<void> | void): Promise<void> {
  const parent = spawn('/usr/bin/python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: parent.stdout! }).once('line', resolve));
    const zombie = Number(line);
    // Give the child the moment it needs to exit.
    for (let i = 0; i < 50 && processAlive(zombie); i++) await new Promise((r) => setTimeout(r, 20));
    await use(zombie);
  } finally {
    parent.kill('SIGKILL');
  }
}

describe('processAlive', () => {
  it('is true for this process, with or without its start time', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processAlive(process.pid, processStartTime(process.pid))).toBe(true);
  });

  it('is false for a pid now held by another process (a different start time)', () => {
    expect(processAlive(process.pid, '1')).toBe(false);
  });

  it('is false for a zombie, which kill(pid, 0) still finds', async () => {
    await withZombie((pid) => {
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(processAlive(pid)).toBe(false);
    });
  });

  it('is false for a process that is gone', async () => {
    const child = spawn('true');
    await new Promise((r) => child.on('exit', r));
    expect(processAlive(child.pid!)).toBe(false);
  });
});

describe('RunStore.recoverInterrupted', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-recover-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function marker(store: RunStore, pid: number, pidStartTime: string | null) {
    const envelope = { ...makeEnvelope(), status: 'interrupted' as const };
    await fs.mkdir(path.join(store.root, 'running'), { recursive: true });
    await fs.writeFile(path.join(store.root, 'running', `${envelope.id}.json`), JSON.stringify({ pid, pidStartTime, host: os.hostname(), envelope }));
    return envelope.id;
  }

  it('publishes the run of a tracker whose pid was reused or is a zombie, and leaves a live one alone', async () => {
    const store = new RunStore(path.join(dir, '.nb2prod'));
    const live = await marker(store, process.pid, processStartTime(process.pid));
    const reused = await marker(store, process.pid, '1');
    await withZombie(async (zombie) => {
      const dead = await marker(store, zombie, null);
      expect((await store.recoverInterrupted()).sort()).toEqual([reused, dead].sort());
    });
    expect(await fs.readdir(path.join(store.root, 'running'))).toEqual([`${live}.json`]);
  });
});
