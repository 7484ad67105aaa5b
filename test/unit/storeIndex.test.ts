/**
 * The index answers every query as a plain filter-and-sort over the run files would, whether it
 * reads the sorted part lazily from disk (a fresh process), folds appended records over it, or
 * holds everything in memory (the editor). A reference implementation is compared with all three
 * on a store larger than the first read window.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunEnvelope } from '../../src/core/envelope';
import type { RunQuery } from '../../src/core/store/runIndex';
import { RACY_MS, RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { seededRandom } from '../fixtures/random';

let dir: string;
let root: string;
const envelopes = new Map<string, RunEnvelope>();
const random = seededRandom(611);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const SOURCES = ['a.ipynb', 'b.ipynb', 'train.py'];
const TAGS = ['nightly', 'baseline', 'x'];
const GROUPS = [null, 'g1', 'g2'];

function randomEnvelope(i: number): RunEnvelope {
  const metrics: Record<string, number> = {};
  if (random() < 0.8) metrics.accuracy = Math.round(random() * 100) / 100; // ties on purpose
  if (random() < 0.5) metrics.loss = random();
  const envelope = makeEnvelope({
    name: `run ${i}`,
    // Some runs share a start time: the id breaks the tie.
    startedAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 400) * 1000),
    status: pick(['succeeded', 'failed', 'cancelled', 'interrupted'] as const),
    sourcePath: pick(SOURCES),
    tags: TAGS.filter(() => random() < 0.3),
    group: pick(GROUPS),
    metrics,
  });
  if (random() < 0.2) envelope.kind = 'script';
  return envelope;
}

/** What a query must return, computed from the envelopes themselves. */
function expected(query: RunQuery): string[] {
  const order = query.order === 'asc' ? 1 : -1;
  let runs = [...envelopes.values()].filter(
    (e) =>
      (query.source === undefined || e.source.path === query.source) &&
      (query.group === undefined || e.group === query.group) &&
      (query.status === undefined || e.status === query.status) &&
      (query.kind === undefined || e.kind === query.kind) &&
      (query.tag === undefined || e.tags.includes(query.tag)),
  );
  const byId = (a: RunEnvelope, b: RunEnvelope) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (query.sortBy && query.sortBy !== 'time') {
    const metric = query.sortBy.metric;
    const value = (e: RunEnvelope) => e.metrics[metric]?.value ?? null;
    runs = runs.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === null || vb === null) return va === vb ? -byId(a, b) : va === null ? 1 : -1;
      return va === vb ? -byId(a, b) : order * (va - vb);
    });
  } else {
    runs = runs.sort((a, b) => order * (Date.parse(a.startedAt) - Date.parse(b.startedAt) || byId(a, b)));
  }
  return runs.slice(0, query.limit ?? Infinity).map((e) => e.id);
}

function randomQuery(): RunQuery {
  const query: RunQuery = {};
  if (random() < 0.2) query.source = pick(SOURCES);
  if (random() < 0.2) query.tag = pick(TAGS);
  if (random() < 0.2) query.group = pick(['g1', 'g2']);
  if (random() < 0.2) query.status = pick(['succeeded', 'failed', 'cancelled', 'interrupted'] as const);
  if (random() < 0.2) query.kind = pick(['notebook', 'script'] as const);
  if (random() < 0.4) query.sortBy = { metric: pick(['accuracy', 'loss', 'missing']) };
  if (random() < 0.5) query.order = 'asc';
  if (random() < 0.7) query.limit = pick([1, 5, 20, 100, 1000, 5000]);
  return query;
}

async function writeDirect(envelope: RunEnvelope): Promise<void> {
  envelopes.set(envelope.id, envelope);
  await fs.writeFile(path.join(root, 'runs', `${envelope.id}.json`), JSON.stringify(envelope));
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-index-'));
  root = path.join(dir, '.nb2prod');
  await fs.mkdir(path.join(root, 'runs'), { recursive: true });
  for (let i = 0; i < 1500; i++) await writeDirect(randomEnvelope(i));
});
afterAll(async () => {
  vi.useRealTimers();
  await fs.rm(dir, { recursive: true, force: true });
});

async function compareQueries(make: () => RunStore, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const query = randomQuery();
    const store = make();
    const { runs } = await store.list(query);
    expect(runs.map((r) => r.id), JSON.stringify(query)).toEqual(expected(query));
  }
}

describe('index queries', () => {
  it('match a plain filter-and-sort: rebuilt, then read lazily from the file, then with appended records', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + RACY_MS + 1000);
    const first = new RunStore(root);
    expect((await first.list()).runs).toHaveLength(1500);
    expect(first.lastIndexRebuild).toBe('index file missing');
    const size = (await fs.stat(first.indexFile)).size;
    expect(size).toBeGreaterThan(4 * 64 * 1024); // larger than the first read window
    // Fresh stores, trusted index: lazy reads of the sorted part.
    await compareQueries(() => new RunStore(root), 60);

    // New runs after the index was written: they come as appended records.
    for (let i = 1500; i < 1540; i++) await writeDirect(randomEnvelope(i));
    vi.setSystemTime(Date.now() + RACY_MS + 1000);
    expect((await new RunStore(root).list()).runs).toHaveLength(1540);
    const text = await fs.readFile(first.indexFile, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('{"run":')).length).toBe(40);
    await compareQueries(() => new RunStore(root), 60);

    // And held in memory, as the editor does.
    const watched = new RunStore(root, { watched: true });
    await compareQueries(() => watched, 40);
  });

  it('rewrites the index sorted once many records were appended', async () => {
    vi.setSystemTime(Date.now() + RACY_MS + 1000);
    for (let i = 1540; i < 1840; i++) await writeDirect(randomEnvelope(i));
    vi.setSystemTime(Date.now() + RACY_MS + 1000);
    const store = new RunStore(root);
    expect((await store.list({ limit: 3 })).runs).toHaveLength(3);
    const text = await fs.readFile(store.indexFile, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('{"run":'))).toEqual([]);
    expect(JSON.parse(text.slice(0, text.indexOf('\n'))).rows).toBe(1840);
    await compareQueries(() => new RunStore(root), 40);
  });

  it('rebuilds from the run files when a line of the index is damaged', async () => {
    vi.setSystemTime(Date.now() + RACY_MS + 1000);
    const store = new RunStore(root);
    const text = await fs.readFile(store.indexFile, 'utf8');
    const lines = text.split('\n');
    // Same length, so only parsing the line finds it out.
    let damaged = lines.length - 1;
    while (damaged > 0 && !lines[damaged]!.includes('"tags":[]')) damaged--;
    expect(damaged).toBeGreaterThan(lines.length - 40);
    lines[damaged] = lines[damaged]!.replace('"tags":[]', '"tags":99');
    await fs.writeFile(store.indexFile, lines.join('\n'));
    // Keep the folder stamp trusted: only the damaged line can give the problem away.
    const query = { limit: lines.length - damaged + 2 };
    const { runs } = await store.list(query);
    expect(runs.map((r) => r.id)).toEqual(expected(query));
    expect(store.lastIndexRebuild).toMatch(/index unusable \(bad run summary\)/);
    await compareQueries(() => new RunStore(root), 10);
  });
});
