import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readDataset } from '../../../src/core/data/dataset';

// Spy on the whole-file reads: the reader must stream.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsp>();
  return { ...actual, readFile: vi.fn(actual.readFile) };
});
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  return { ...actual, readFileSync: vi.fn(actual.readFileSync) };
});

const ROWS = 330_000;
let dir: string;
let target: string;

/** ≈ 20 MB: a numeric column, an integer code, two text columns, a quoted one with commas. */
async function writeBigCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('x,code,city,tier,note\n');
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const cities = ['Amsterdam', 'Berlin', 'Copenhagen', 'Dublin', 'Edinburgh'];
  let chunk = '';
  for (let row = 0; row < ROWS; row++) {
    const x = (random() * 1000 - 500).toFixed(6);
    chunk += `${x},${Math.floor(random() * 7)},${cities[Math.floor(random() * 5)]},tier-${Math.floor(random() * 3)},"padding, padding, padding, ${row % 10}"\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(tmpdir(), 'nb2prod-data-big-'));
  target = path.join(dir, 'big.csv');
  await writeBigCsv(target);
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('streaming', () => {
  it('reads a 20 MB CSV in chunks with bounded buffer memory, never reading the whole file', async () => {
    const size = (await fsp.stat(target)).size;
    expect(size).toBeGreaterThan(19_000_000);
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const progress: number[] = [];
    const data = await readDataset(target, {
      maxValues: 1000,
      onProgress: (read, total) => {
        expect(total).toBe(size);
        progress.push(read);
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      },
    });
    expect(data.rows).toBe(ROWS);
    expect(data.problems).toEqual([]);
    expect(data.columns.map((c) => c.name)).toEqual(['x', 'code', 'city', 'tier', 'note']);
    expect(data.columns[0]).toMatchObject({ count: ROWS, missing: 0, sampled: true, categories: null });
    expect(data.columns[1]!.categories!.size).toBe(7);
    expect(data.columns[4]!.categories!.size).toBe(10);
    // Chunks of 1 MB, in order, ending at the file size.
    expect(progress.length).toBeGreaterThanOrEqual(19);
    expect(progress.at(-1)).toBe(size);
    // Two 1 MB read buffers and the parser's working copy, not the 20 MB file.
    expect(peak).toBeLessThan(8_000_000);
    expect(vi.mocked(fsp.readFile)).not.toHaveBeenCalled();
    expect(vi.mocked(fs.readFileSync)).not.toHaveBeenCalled();
  });
});
