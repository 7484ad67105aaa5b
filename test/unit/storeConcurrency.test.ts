import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';

const run = promisify(execFile);
const repo = path.join(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function tempStore(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-concurrent-'));
  dirs.push(dir);
  return path.join(dir, '.nb2prod');
}

const spawnWriter = (root: string, count: number, label: string) =>
  run(process.execPath, ['--import', 'tsx', path.join(fixtures, 'storeWriter.ts'), root, String(count), label], { cwd: repo });

describe('two writer processes', () => {
  it('write 500 runs each into one store: all 1,000 are there and the index agrees', async () => {
    const root = await tempStore();
    const results = await Promise.all([spawnWriter(root, 500, 'alpha'), spawnWriter(root, 500, 'beta')]);
    expect(results.map((r) => r.stdout.trim())).toEqual(['wrote 500', 'wrote 500']);

    const files = (await fs.readdir(path.join(root, 'runs'))).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1000);
    expect((await fs.readdir(path.join(root, 'runs'))).filter((f) => f.startsWith('.'))).toEqual([]);

    const store = new RunStore(root);
    const { runs, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(runs).toHaveLength(1000);
    expect(new Set(runs.map((r) => `${r.id}.json`))).toEqual(new Set(files));
    expect((await store.list({ tag: 'alpha' })).runs).toHaveLength(500);
    expect((await store.list({ tag: 'beta' })).runs).toHaveLength(500);
    store.close();
  }, 120_000);

  it('readers racing the writers never lose a run they saw, and end agreeing with the files', async () => {
    const root = await tempStore();
    const stop = path.join(path.dirname(root), 'stop');
    const readers = [0, 1].map(() => run(process.execPath, ['--import', 'tsx', path.join(fixtures, 'storeReader.ts'), root, stop], { cwd: repo }));
    // This process reads too, with one long-lived watched store (as the editor does, minus the watcher).
    const watched = new RunStore(root, { watched: true });
    let watchedPrevious = 0;
    let watchedDecreased = 0;
    const writers = Promise.all([spawnWriter(root, 300, 'alpha'), spawnWriter(root, 300, 'beta')]);
    let writing = true;
    void writers.finally(() => (writing = false));
    while (writing) {
      const { runs } = await watched.list();
      if (runs.length < watchedPrevious) watchedDecreased++;
      watchedPrevious = runs.length;
      await new Promise((r) => setTimeout(r, 20));
    }
    await writers;
    await fs.writeFile(stop, '');
    const seen = (await Promise.all(readers)).map((r) => JSON.parse(r.stdout) as { lists: number; last: number; decreased: number; problems: string[] });
    for (const reader of seen) {
      expect(reader.lists).toBeGreaterThan(2);
      expect(reader.decreased).toBe(0);
      expect(reader.problems).toEqual([]);
      expect(reader.last).toBe(600);
    }
    expect(watchedDecreased).toBe(0);
    expect((await watched.list()).runs).toHaveLength(600);
    // A fresh reader trusts what the racing readers left in the index, and it is complete.
    const fresh = new RunStore(root);
    const files = (await fs.readdir(path.join(root, 'runs'))).filter((f) => f.endsWith('.json'));
    const { runs, problems } = await fresh.list();
    expect(problems).toEqual([]);
    expect(new Set(runs.map((r) => `${r.id}.json`))).toEqual(new Set(files));
    expect((await fresh.list({ tag: 'beta', limit: 1000 })).runs).toHaveLength(300);
  }, 180_000);
});
