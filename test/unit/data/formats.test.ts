import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnData, formatFromPath, readDataset } from '../../../src/core/data/dataset';
import { JsonLinesParser } from '../../../src/core/data/jsonl';
import { UserError } from '../../../src/core/errors';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nb2prod-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const target = path.join(dir, name);
  await writeFile(target, content);
  return target;
}

function byName(columns: ColumnData[]): Record<string, ColumnData> {
  return Object.fromEntries(columns.map((c) => [c.name, c]));
}

describe('JSON Lines', () => {
  it('unions keys in first-seen order, counts absent and null as missing, reports bad lines', async () => {
    const lines = [
      '{"a": 1, "b": "x"}',
      '',
      '{"a": 2.5, "c": {"k": [1, 2]}, "b": null}',
      'not json',
      '[1, 2]',
      '{"a": null, "b": "y", "d": true}',
      '{"b": "x", "c": [1,2], "a": 4}',
    ];
    const data = await readDataset(await file('rows.jsonl', `\ufeff${lines.join('\r\n')}`));
    expect(data.format).toBe('jsonl');
    expect(data.rows).toBe(4);
    expect(data.columns.map((c) => c.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(data.problems.map((p) => p.line)).toEqual([4, 5]);
    expect(data.problems[0]!.message).toMatch(/not valid JSON/);
    expect(data.problems[1]!.message).toBe('an array, not a JSON object; the line is skipped.');
    const { a, b, c, d } = byName(data.columns);
    expect(a).toMatchObject({ count: 4, missing: 1, integral: false, sampled: false });
    expect([...a!.numbers!]).toEqual([1, 2.5, 4]);
    expect(a!.categories).toEqual(new Map([['1', 1], ['2.5', 1], ['4', 1]]));
    expect(b).toMatchObject({ count: 4, missing: 1, numbers: null });
    expect(b!.categories).toEqual(new Map([['x', 2], ['y', 1]]));
    // Nested values are text: their JSON.
    expect(c).toMatchObject({ count: 4, missing: 2, numbers: null });
    expect(c!.categories).toEqual(new Map([['{"k":[1,2]}', 1], ['[1,2]', 1]]));
    expect(d).toMatchObject({ count: 4, missing: 3, numbers: null });
    expect(d!.categories).toEqual(new Map([['true', 1]]));
  });

  it('gives the same result for any chunking, with the chunk buffer reused', () => {
    const text = Buffer.from('\ufeff{"a": 1, "b": "é"}\n{"a": 2}\n\n{"b": "line\\nbreak"}\n{"a": 3.5}');
    const parse = (size: number) => {
      const parser = new JsonLinesParser({ source: 't.jsonl', maxCategories: 100, maxValues: 100 });
      for (let at = 0; at < text.length; at += size) {
        const chunk = Buffer.from(text.subarray(at, at + size));
        parser.push(chunk);
        chunk.fill(0x7e);
      }
      const result = parser.finish();
      return { ...result, columns: result.columns.map((c) => ({ ...c, numbers: c.numbers && [...c.numbers] })) };
    };
    const whole = parse(text.length);
    expect(whole.rows).toBe(4);
    expect(whole.columns[1]!.categories).toEqual(new Map([['é', 1], ['line\nbreak', 1]]));
    for (const size of [1, 2, 3, 7]) expect(parse(size), `chunks of ${size}`).toEqual(whole);
  });

  it('keeps strings as text even when they look like numbers', async () => {
    const data = await readDataset(await file('s.ndjson', '{"x": "3"}\n{"x": 4}\n'));
    expect(data.columns[0]!.numbers).toBeNull();
  });

  it('skips a row nested thousands deep as a problem (its text would overflow the stack)', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const data = await readDataset(await file('deep.jsonl', `{"a": {"b": 1}}\n${deep}\n{"a": 2}\n`));
    expect(data.rows).toBe(2);
    expect(data.problems).toEqual([expect.objectContaining({ line: 2, message: expect.stringMatching(/nested more than 500 levels deep; the line is skipped/) })]);
  });

  it('rejects a file of blank lines', async () => {
    await expect(readDataset(await file('blank.jsonl', '\n \n'))).rejects.toThrow(/is empty/);
  });
});

describe('Parquet', () => {
  async function parquet(name: string, columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'], extra = {}) {
    return file(name, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 3, ...extra })));
  }

  it('reads numbers, strings, booleans, timestamps and nulls across row groups (snappy)', async () => {
    const when = [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2), null, Date.UTC(2024, 0, 1), Date.UTC(2024, 5, 30, 12), null, null];
    const target = await parquet('mixed.parquet', [
      { name: 'i', data: [1, 2, null, 4, 5, 6, 7], type: 'INT32' },
      { name: 'f', data: [0.5, null, 1.25, Number.NaN, -2, 3, 1e-9], type: 'DOUBLE' },
      { name: 'big', data: [1n, 2n, 3n, null, 5n, 9007199254740993n, -1n], type: 'INT64' },
      { name: 's', data: ['a', 'b', null, 'a', '', 'ü', 'a'], type: 'STRING' },
      { name: 'b', data: [true, false, true, null, true, true, false], type: 'BOOLEAN' },
      { name: 't', data: when.map((ms) => (ms === null ? null : new Date(ms))), type: 'TIMESTAMP' },
    ]);
    const data = await readDataset(target);
    expect(data.format).toBe('parquet');
    expect(data.rows).toBe(7);
    expect(data.problems).toEqual([]);
    const { i, f, big, s, b, t } = byName(data.columns);
    expect(i).toMatchObject({ count: 7, missing: 1, integral: true });
    expect([...i!.numbers!]).toEqual([1, 2, 4, 5, 6, 7]);
    expect(f).toMatchObject({ count: 7, missing: 2, integral: false });
    expect([...f!.numbers!]).toEqual([0.5, 1.25, -2, 3, 1e-9]);
    expect(big).toMatchObject({ count: 7, missing: 1, integral: true });
    expect([...big!.numbers!]).toEqual([1, 2, 3, 5, 9007199254740992, -1]);
    expect(big!.categories!.get('9007199254740993')).toBe(1);
    expect(s).toMatchObject({ count: 7, missing: 1, numbers: null });
    expect(s!.categories).toEqual(new Map([['a', 3], ['b', 1], ['', 1], ['ü', 1]]));
    expect(b).toMatchObject({ count: 7, missing: 1, numbers: null });
    expect(b!.categories).toEqual(new Map([['true', 4], ['false', 2]]));
    expect(t).toMatchObject({ count: 7, missing: 3, integral: true });
    expect([...t!.numbers!]).toEqual(when.filter((ms) => ms !== null));
    expect(t!.categories!.get('2024-01-01T00:00:00.000Z')).toBe(2);
  });

  it('reads uncompressed files and reports progress per row group', async () => {
    const n = 10;
    const target = await parquet('plain.parquet', [{ name: 'x', data: Array.from({ length: n }, (_, k) => k * 1.5), type: 'DOUBLE' }], {
      codec: 'UNCOMPRESSED',
    });
    const progress: number[] = [];
    const data = await readDataset(target, { onProgress: (read, total) => progress.push(read / total) });
    expect([...data.columns[0]!.numbers!]).toEqual(Array.from({ length: n }, (_, k) => k * 1.5));
    expect(progress.length).toBe(4);
    expect(progress.every((p, k) => p <= 1 && (k === 0 || p >= progress[k - 1]!))).toBe(true);
  });

  it('samples beyond maxValues and stops categories past maxCategories', async () => {
    const target = await parquet('many.parquet', [{ name: 'x', data: Array.from({ length: 100 }, (_, k) => k), type: 'INT32' }]);
    const data = await readDataset(target, { maxValues: 10, maxCategories: 50 });
    expect(data.columns[0]).toMatchObject({ count: 100, missing: 0, sampled: true, categories: null });
    expect(data.columns[0]!.numbers!.length).toBe(10);
  });

  it('says so when a file is not Parquet', async () => {
    await expect(readDataset(await file('fake.parquet', 'a,b\n1,2\n'))).rejects.toThrow(/not a readable Parquet file/);
  });
});

describe('readDataset', () => {
  it('tells formats from extensions', () => {
    expect(formatFromPath('a/b.CSV')).toEqual({ format: 'csv', gzip: false });
    expect(formatFromPath('b.tsv.gz')).toEqual({ format: 'tsv', gzip: true });
    expect(formatFromPath('b.ndjson')).toEqual({ format: 'jsonl', gzip: false });
    expect(formatFromPath('b.parquet')).toEqual({ format: 'parquet', gzip: false });
    expect(formatFromPath('b.parquet.gz')).toBeNull();
    expect(formatFromPath('b.txt')).toBeNull();
  });

  it('reads gzip-compressed text files', async () => {
    const data = await readDataset(await file('z.csv.gz', gzipSync('a,b\n1,x\n2,y\n')));
    expect(data.format).toBe('csv');
    expect(data.rows).toBe(2);
    const jsonl = await readDataset(await file('z.jsonl.gz', gzipSync('{"a":1}\n')));
    expect(jsonl.rows).toBe(1);
    await expect(readDataset(await file('bad.csv.gz', 'not gzip'))).rejects.toThrow(/not a readable gzip file/);
  });

  it('uses the given format over the extension', async () => {
    const data = await readDataset(await file('data.txt', 'a\tb\n1\t2\n'), { format: 'tsv' });
    expect(data.columns.map((c) => c.name)).toEqual(['a', 'b']);
    await expect(readDataset(await file('data2.txt', 'a\n'))).rejects.toThrow(/Cannot tell the format/);
  });

  it('fails with a UserError on a missing file', async () => {
    const error = await readDataset(path.join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('source-not-found');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(readDataset(await file('abort.csv', 'a\n1\n'), { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
