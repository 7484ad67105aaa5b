import { execFileSync } from 'node:child_process';
import fsSync, { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RACY_MS, RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

let dir: string;
const openStore = () => new RunStore(path.join(dir, '.nb2prod'));

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

describe('RunStore index freshness', () => {
  /** A run file rewritten in place (same name, same inode), as an editor or `truncate` does. */
  async function rewriteInPlace(file: string, text: string): Promise<void> {
    const handle = await fs.open(file, 'r+');
    await handle.truncate(0);
    await handle.write(text, 0);
    await handle.close();
  }
  const accuracy = async (store: RunStore, query: Parameters<RunStore['list']>[0] = {}) =>
    Object.fromEntries((await store.list(query)).runs.map((r) => [r.name, r.metrics.accuracy]));

  it('re-reads a run file edited in place after it was indexed (finding 6)', async () => {
    const store = openStore();
    const envelope = makeEnvelope({ name: 'edited', metrics: { accuracy: 0.5 } });
    const file = await store.writeRun(envelope);
    await store.writeRun(makeEnvelope({ name: 'other', metrics: { accuracy: 0.6 } }));
    expect(await accuracy(store)).toEqual({ edited: 0.5, other: 0.6 });
    await rewriteInPlace(file, JSON.stringify({ ...envelope, metrics: { accuracy: { value: 0.9 } } }, null, 2));
    expect(await accuracy(store)).toEqual({ edited: 0.9, other: 0.6 });
    expect((await store.getRun(envelope.id)).metrics.accuracy?.value).toBe(0.9);
  });

  it('re-reads an edited run file that a limited query shows', async () => {
    const store = openStore();
    const t0 = Date.UTC(2026, 0, 1);
    const newest = makeEnvelope({ name: 'newest', startedAt: new Date(t0 + 5000), metrics: { accuracy: 0.5 } });
    for (let i = 0; i < 5; i++) await store.writeRun(makeEnvelope({ name: `old ${i}`, startedAt: new Date(t0 + i) }));
    const file = await store.writeRun(newest);
    expect(await accuracy(store, { limit: 1 })).toEqual({ newest: 0.5 });
    await rewriteInPlace(file, JSON.stringify({ ...newest, metrics: { accuracy: { value: 0.75 } } }));
    expect(await accuracy(store, { limit: 1 })).toEqual({ newest: 0.75 });
  });

  it('sees an edit that keeps the size and the mtime (the ctime changes)', async () => {
    const store = openStore();
    const envelope = makeEnvelope({ name: 'same size', metrics: { accuracy: 0.51 } });
    const file = await store.writeRun(envelope);
    const reference = `${file}.times`;
    execFileSync('touch', ['-r', file, reference]);
    const before = await fs.stat(file);
    expect(await accuracy(store)).toEqual({ 'same size': 0.51 });
    const text = await fs.readFile(file, 'utf8');
    await rewriteInPlace(file, text.replace('0.51', '0.97'));
    execFileSync('touch', ['-m', '-r', reference, file]);
    const after = await fs.stat(file);
    expect(after.size).toBe(before.size);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await accuracy(store)).toEqual({ 'same size': 0.97 });
  });

  it('reports a run file truncated after it was indexed, and stops listing it', async () => {
    const store = openStore();
    const kept = makeEnvelope({ name: 'kept' });
    const cut = makeEnvelope({ name: 'cut' });
    await store.writeRun(kept);
    const file = await store.writeRun(cut);
    expect((await store.list()).runs).toHaveLength(2);
    await fs.truncate(file, 100);
    const { runs, problems } = await store.list();
    expect(runs.map((r) => r.name)).toEqual(['kept']);
    expect(problems).toEqual([{ file: `runs/${cut.id}.json`, field: '(json)', message: expect.any(String) }]);
  });

  it('catches an in-place edit of a run it does not show once the folder changes', async () => {
    const store = openStore();
    const t0 = Date.UTC(2026, 0, 1);
    const hidden = makeEnvelope({ name: 'hidden', startedAt: new Date(t0), metrics: { accuracy: 0.1 } });
    const file = await store.writeRun(hidden);
    await store.writeRun(makeEnvelope({ name: 'shown', startedAt: new Date(t0 + 1000) }));
    await store.list({ limit: 1 });
    await rewriteInPlace(file, JSON.stringify({ ...hidden, metrics: { accuracy: { value: 0.99 } } }));
    await store.writeRun(makeEnvelope({ name: 'new', startedAt: new Date(t0 + 2000) }));
    expect((await store.list({ sortBy: { metric: 'accuracy' }, limit: 1 })).runs.map((r) => r.name)).toEqual(['hidden']);
  });

  it('trusts an index whose folder stamp is unchanged and not racy, without reading run files', async () => {
    const store = openStore();
    for (let i = 0; i < 3; i++) await store.writeRun(makeEnvelope({ name: `run ${i}` }));
    // Stamps taken right after a change are racy (a second change could hide in the same clock
    // tick), so the index is checked again until they are old enough: let time pass.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + RACY_MS + 1000);
      expect((await store.list()).runs).toHaveLength(3);
      const indexBefore = await fs.readFile(store.indexFile, 'utf8');
      expect(indexBefore).toContain('"dir":{');
      // Later lists change nothing on disk: the index is trusted as it is.
      expect((await store.list({ limit: 2 })).runs).toHaveLength(2);
      expect((await store.list()).runs).toHaveLength(3);
      expect(await fs.readFile(store.indexFile, 'utf8')).toBe(indexBefore);
      expect(store.lastIndexRebuild).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads a racy run again: a change in the same clock tick as its stamp is not missed', async () => {
    const store = openStore();
    const envelope = makeEnvelope({ name: 'racy', metrics: { accuracy: 0.11 } });
    const file = await store.writeRun(envelope);
    const stamp = await fs.stat(file);
    expect(await accuracy(store)).toEqual({ racy: 0.11 });
    // A rewrite of the same size in the same clock tick leaves size, mtime and ctime as they
    // were: the file system's stat is made to say so.
    const text = await fs.readFile(file, 'utf8');
    await rewriteInPlace(file, text.replace('0.11', '0.88'));
    const frozen = <T extends fsSync.Stats>(s: T, p: unknown): T => (String(p) === file || p === undefined ? Object.assign(s, { mtimeMs: stamp.mtimeMs, ctimeMs: stamp.ctimeMs }) : s);
    const stat = fsSync.statSync;
    const fstat = fsSync.fstatSync;
    const statSpy = vi.spyOn(fsSync, 'statSync').mockImplementation(((p: fsSync.PathLike, o?: fsSync.StatSyncOptions) => frozen(stat(p, o) as fsSync.Stats, p)) as typeof fsSync.statSync);
    const fstatSpy = vi.spyOn(fsSync, 'fstatSync').mockImplementation(((fd: number) => {
      const s = fstat(fd);
      return s.size === stamp.size ? frozen(s, undefined) : s;
    }) as typeof fsSync.fstatSync);
    try {
      // The first read was racy (the file had just been written), so it is read again.
      expect(await accuracy(store)).toEqual({ racy: 0.88 });
      // A stamp taken long enough after the change is trusted: the same trick is not seen.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + RACY_MS + 1000);
      expect(await accuracy(store)).toEqual({ racy: 0.88 });
      await rewriteInPlace(file, text.replace('0.11', '0.33'));
      expect(await accuracy(store)).toEqual({ racy: 0.88 });
    } finally {
      vi.useRealTimers();
      statSpy.mockRestore();
      fstatSpy.mockRestore();
    }
    expect(await accuracy(store)).toEqual({ racy: 0.33 });
  });

  it('lists from run files when the index path is a folder, and says why', async () => {
    const store = openStore();
    await store.writeRun(makeEnvelope({ name: 'a' }));
    await fs.mkdir(store.indexFile);
    expect((await store.list()).runs.map((r) => r.name)).toEqual(['a']);
    expect(store.lastIndexRebuild).toMatch(/EISDIR/);
  });

  it('refuses a store whose runs folder is a file with a one-line user error', async () => {
    const store = openStore();
    await fs.mkdir(store.root, { recursive: true });
    await fs.writeFile(store.runsDir, 'not a folder');
    await expect(store.list()).rejects.toMatchObject({ code: 'store-unreadable', message: expect.stringContaining('is not a folder') });
    await expect(store.resolveRunId('latest')).rejects.toMatchObject({ code: 'store-unreadable' });
  });

  it('reports folders, FIFOs and symlink loops in runs/ as problems without hanging', async () => {
    const store = openStore();
    await store.writeRun(makeEnvelope({ name: 'fine' }));
    await fs.mkdir(path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAA.json'));
    execFileSync('mkfifo', [path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAB.json')]);
    await fs.symlink('01ARZ3NDEKTSV4RRFFQ69G5FAD.json', path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAC.json'));
    await fs.symlink('01ARZ3NDEKTSV4RRFFQ69G5FAC.json', path.join(store.runsDir, '01ARZ3NDEKTSV4RRFFQ69G5FAD.json'));
    const { runs, problems } = await store.list();
    expect(runs.map((r) => r.name)).toEqual(['fine']);
    expect(problems.map((p) => [p.file, p.message.split(':')[0]])).toEqual([
      ['runs/01ARZ3NDEKTSV4RRFFQ69G5FAA.json', 'a folder, not a run file'],
      ['runs/01ARZ3NDEKTSV4RRFFQ69G5FAB.json', 'not a regular file'],
      ['runs/01ARZ3NDEKTSV4RRFFQ69G5FAC.json', 'ELOOP'],
      ['runs/01ARZ3NDEKTSV4RRFFQ69G5FAD.json', 'ELOOP'],
    ]);
  });

  it('removes temporary files left by killed processes, and the old sql.js index', async () => {
    const store = openStore();
    await store.writeRun(makeEnvelope());
    const old = new Date(Date.now() - 3600_000);
    const stale = [
      path.join(store.root, '.index.sqlite.4242.deadbeef.tmp'),
      path.join(store.root, '.index.jsonl.4242.deadbeef.tmp'),
      path.join(store.runsDir, '.01ARZ3NDEKTSV4RRFFQ69G5FAV.json.4242.deadbeef.tmp'),
      path.join(store.root, 'running', '.01ARZ3NDEKTSV4RRFFQ69G5FAV.json.4242.deadbeef.tmp'),
    ];
    const fresh = path.join(store.runsDir, '.01ARZ3NDEKTSV4RRFFQ69G5FAW.json.4243.cafebabe.tmp');
    await fs.mkdir(path.join(store.root, 'running'));
    for (const f of [...stale, fresh]) await fs.writeFile(f, 'partial');
    for (const f of stale) await fs.utimes(f, old, old);
    await fs.writeFile(path.join(store.root, 'index.sqlite'), 'SQLite format 3');
    await store.list();
    for (const f of stale) await expect(fs.access(f)).rejects.toThrow();
    await expect(fs.access(path.join(store.root, 'index.sqlite'))).rejects.toThrow();
    await fs.access(fresh); // may belong to a writer at work
  });
});

describe('RunStore, watched (the editor)', () => {
  const openWatched = () => new RunStore(path.join(dir, '.nb2prod'), { watched: true });

  it('re-reads a file the watcher reports, and every file on an explicit refresh', async () => {
    const store = openWatched();
    const a = makeEnvelope({ name: 'a', metrics: { accuracy: 0.1 } });
    const b = makeEnvelope({ name: 'b', metrics: { accuracy: 0.2 } });
    const fileA = await store.writeRun(a);
    const fileB = await store.writeRun(b);
    expect((await store.list()).runs).toHaveLength(2);
    await fs.writeFile(fileA, JSON.stringify({ ...a, metrics: { accuracy: { value: 0.8 } } }));
    await fs.writeFile(fileB, JSON.stringify({ ...b, metrics: { accuracy: { value: 0.9 } } }));
    store.noteChanged([fileA]);
    const metrics = async () => Object.fromEntries((await store.list()).runs.map((r) => [r.name, r.metrics.accuracy]));
    // Only the reported file is re-read (b's edit is not reported yet).
    expect(await metrics()).toEqual({ a: 0.8, b: 0.2 });
    store.noteChanged();
    expect(await metrics()).toEqual({ a: 0.8, b: 0.9 });
  });

  it('picks up new and deleted run files from the folder stamp alone', async () => {
    const store = openWatched();
    await store.writeRun(makeEnvelope({ name: 'first' }));
    expect((await store.list()).runs).toHaveLength(1);
    const second = makeEnvelope({ name: 'second' });
    const file = await store.writeRun(second);
    expect((await store.list()).runs.map((r) => r.name).sort()).toEqual(['first', 'second']);
    await fs.rm(file);
    expect((await store.list()).runs.map((r) => r.name)).toEqual(['first']);
  });
});
