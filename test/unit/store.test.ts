import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { SQL_WASM_PATH } from '../fixtures/fixtureWorkspace';

let dir: string;
const openStore = () => new RunStore(path.join(dir, '.nb2prod'), { sqlWasmPath: SQL_WASM_PATH });

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-store-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('RunStore', () => {
  it('lists nothing and creates nothing when the store does not exist', async () => {
    const store = openStore();
    expect(await store.list()).toEqual({ runs: [], problems: [] });
    await expect(fs.access(store.root)).rejects.toThrow();
  });

  it('writes a run atomically and reads it back identical', async () => {
    const store = openStore();
    const envelope = makeEnvelope();
    await store.writeRun(envelope);
    expect(await store.getRun(envelope.id)).toEqual(envelope);
    const leftovers = (await fs.readdir(store.runsDir)).filter((f) => f.startsWith('.'));
    expect(leftovers).toEqual([]);
  });

  it('never overwrites a run', async () => {
    const store = openStore();
    const envelope = makeEnvelope();
    await store.writeRun(envelope);
    await expect(store.writeRun({ ...envelope, name: 'changed' })).rejects.toMatchObject({ code: 'run-exists' });
    expect((await store.getRun(envelope.id)).name).toBe(envelope.name);
  });

  it('refuses to write an invalid envelope', async () => {
    const store = openStore();
    const envelope = { ...makeEnvelope(), durationMs: -1 };
    await expect(store.writeRun(envelope)).rejects.toMatchObject({ code: 'invalid-envelope' });
  });

  it('filters by source, tag, group and status and sorts by time or metric', async () => {
    const store = openStore();
    const t0 = Date.UTC(2026, 0, 1);
    const a = makeEnvelope({ name: 'a', startedAt: new Date(t0), metrics: { auc: 0.7 }, tags: ['x'], group: 'g1' });
    const b = makeEnvelope({ name: 'b', startedAt: new Date(t0 + 1000), metrics: { auc: 0.9 }, group: 'g1', sourcePath: 'train.py' });
    const c = makeEnvelope({ name: 'c', startedAt: new Date(t0 + 2000), metrics: { auc: 0.8 }, tags: ['x'], status: 'failed' });
    const d = makeEnvelope({ name: 'd', startedAt: new Date(t0 + 3000), metrics: {} });
    for (const e of [c, a, d, b]) await store.writeRun(e);
    const names = async (q: Parameters<RunStore['list']>[0]) => (await store.list(q)).runs.map((r) => r.name);
    expect(await names({})).toEqual(['d', 'c', 'b', 'a']);
    expect(await names({ order: 'asc' })).toEqual(['a', 'b', 'c', 'd']);
    expect(await names({ tag: 'x' })).toEqual(['c', 'a']);
    expect(await names({ group: 'g1' })).toEqual(['b', 'a']);
    expect(await names({ status: 'failed' })).toEqual(['c']);
    expect(await names({ source: 'train.py' })).toEqual(['b']);
    expect(await names({ sortBy: { metric: 'auc' } })).toEqual(['b', 'c', 'a', 'd']);
    expect(await names({ sortBy: { metric: 'auc' }, order: 'asc' })).toEqual(['a', 'c', 'b', 'd']);
    expect(await names({ limit: 2 })).toEqual(['d', 'c']);
    const [summary] = (await store.list({ limit: 1 })).runs;
    expect(summary).toMatchObject({ name: 'd', status: 'succeeded', sourcePath: 'notebooks/churn.ipynb', metrics: {} });
  });

  it('reports an invalid envelope with its path and field, and still lists the others', async () => {
    const store = openStore();
    const good = makeEnvelope({ name: 'good' });
    await store.writeRun(good);
    const bad = makeEnvelope({ name: 'bad' }) as Record<string, unknown>;
    bad.status = 'exploded';
    await fs.writeFile(path.join(store.runsDir, `${bad.id as string}.json`), JSON.stringify(bad));
    await fs.writeFile(path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAV.json'), '{"truncated": ');
    const mismatched = makeEnvelope();
    await fs.writeFile(path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAW.json'), JSON.stringify(mismatched));
    const { runs, problems } = await store.list();
    expect(runs.map((r) => r.name)).toEqual(['good']);
    expect(problems).toEqual(
      expect.arrayContaining([
        { file: `runs/${bad.id as string}.json`, field: 'status', message: expect.any(String) },
        { file: 'runs/01ARZ3NDEKTSV4RRFFQ69G5FAV.json', field: '(json)', message: expect.any(String) },
        { file: 'runs/01ARZ3NDEKTSV4RRFFQ69G5FAW.json', field: 'id', message: expect.stringContaining('does not match') },
      ]),
    );
    await expect(store.getRun(bad.id as string)).rejects.toMatchObject({ code: 'invalid-envelope', message: expect.stringContaining('status') });
  });

  it('re-reads a broken run file once it is repaired', async () => {
    const store = openStore();
    const envelope = makeEnvelope({ name: 'repaired' });
    await fs.mkdir(store.runsDir, { recursive: true });
    const file = path.join(store.runsDir, `${envelope.id}.json`);
    await fs.writeFile(file, '{');
    expect((await store.list()).problems).toHaveLength(1);
    await fs.writeFile(file, JSON.stringify(envelope));
    await fs.utimes(file, new Date(), new Date(Date.now() + 5000));
    const { runs, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(runs.map((r) => r.name)).toEqual(['repaired']);
  });

  it('picks up runs written by another process and drops deleted ones', async () => {
    const reader = openStore();
    const writer = openStore();
    await writer.writeRun(makeEnvelope({ name: 'first' }));
    expect((await reader.list()).runs).toHaveLength(1);
    const second = makeEnvelope({ name: 'second' });
    await writer.writeRun(second);
    expect((await reader.list()).runs.map((r) => r.name)).toEqual(['second', 'first']);
    await fs.rm(path.join(writer.runsDir, `${second.id}.json`));
    expect((await reader.list()).runs.map((r) => r.name)).toEqual(['first']);
  });

  for (const damage of ['deleted', 'truncated', 'garbage', 'empty'] as const) {
    it(`rebuilds an index that was ${damage} without losing a run`, async () => {
      const store = openStore();
      for (let i = 0; i < 25; i++) await store.writeRun(makeEnvelope({ name: `run ${i}` }));
      expect((await store.list()).runs).toHaveLength(25);
      store.close();
      const index = store.indexFile;
      const bytes = await fs.readFile(index);
      if (damage === 'deleted') await fs.rm(index);
      if (damage === 'truncated') await fs.writeFile(index, bytes.subarray(0, Math.floor(bytes.length / 3)));
      if (damage === 'garbage') await fs.writeFile(index, Buffer.from('this is not sqlite'.repeat(100)));
      if (damage === 'empty') await fs.writeFile(index, '');
      const reopened = openStore();
      const { runs, problems } = await reopened.list();
      expect(runs).toHaveLength(25);
      expect(problems).toEqual([]);
      expect(reopened.lastIndexRebuild).not.toBeNull();
      reopened.close();
      // The repaired index is saved: the next open reuses it.
      const again = openStore();
      expect((await again.list()).runs).toHaveLength(25);
      expect(again.lastIndexRebuild).toBeNull();
      again.close();
    });
  }

  it('resolves full ids, unique prefixes and "latest"', async () => {
    const store = openStore();
    const a = makeEnvelope({ startedAt: new Date(Date.UTC(2025, 0, 1)) });
    const b = makeEnvelope({ startedAt: new Date(Date.UTC(2026, 0, 1)) });
    await store.writeRun(a);
    await store.writeRun(b);
    expect(await store.resolveRunId(a.id)).toBe(a.id);
    expect(await store.resolveRunId(a.id.slice(0, 8).toLowerCase())).toBe(a.id);
    expect(await store.resolveRunId('latest')).toBe(b.id);
    await expect(store.resolveRunId('ZZZZ')).rejects.toMatchObject({ code: 'run-not-found' });
    await expect(store.resolveRunId('0')).rejects.toMatchObject({ code: 'run-ambiguous' });
  });

  it('stores objects by content hash, once', async () => {
    const store = openStore();
    const hash = await store.putObject('print("hello")\n');
    expect(await store.putObject('print("hello")\n')).toBe(hash);
    expect((await store.getObject(hash)).toString()).toBe('print("hello")\n');
    expect(await fs.readdir(store.objectsDir)).toEqual([hash]);
  });
});
