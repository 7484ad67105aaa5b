import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelimitedParser, parseNumberFast, parseNumberSlow } from '../../../src/core/data/csv';
import { type ColumnData, DEFAULT_MISSING_MARKERS, readDataset } from '../../../src/core/data/dataset';
import { UserError } from '../../../src/core/errors';

const fixtures = path.join(__dirname, '../../fixtures/data');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nb2prod-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const target = path.join(dir, name);
  await writeFile(target, content);
  return target;
}

function column(columns: ColumnData[], name: string): ColumnData {
  const found = columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

/** Parses bytes pushed in the given chunk sizes (cycled), as the file reader would. */
function parseInChunks(bytes: Buffer, sizes: number[], options: Partial<ConstructorParameters<typeof DelimitedParser>[0]> = {}) {
  const parser = new DelimitedParser({
    source: 'test.csv',
    delimiter: ',',
    maxCategories: 10_000,
    maxValues: 1_000_000,
    missingMarkers: DEFAULT_MISSING_MARKERS,
    ...options,
  });
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    // A reused buffer, like the file reader's: the parser must not keep references into it.
    const chunk = Buffer.from(bytes.subarray(at, at + size));
    parser.push(chunk);
    chunk.fill(0x7e);
    at += size;
  }
  return parser.finish();
}

function summary(columns: ColumnData[]) {
  return columns.map((c) => ({
    name: c.name,
    count: c.count,
    missing: c.missing,
    numbers: c.numbers ? [...c.numbers] : null,
    categories: c.categories ? [...c.categories] : null,
    integral: c.integral,
    sampled: c.sampled,
  }));
}

describe('CSV against pandas (test/fixtures/data/expected.py)', () => {
  it('reads tricky.csv (BOM, CRLF, quotes, doubled quotes, newlines in quotes, missing markers) as pandas does', async () => {
    const expected = JSON.parse(await readFile(path.join(fixtures, 'expected.json'), 'utf8'))['tricky.csv'];
    const data = await readDataset(path.join(fixtures, 'tricky.csv'));
    expect(data.format).toBe('csv');
    expect(data.rows).toBe(expected.rows);
    expect(data.problems).toEqual([]);
    expect(data.columns.map((c) => c.name)).toEqual(expected.columns.map((c: { name: string }) => c.name));
    for (const want of expected.columns) {
      const got = column(data.columns, want.name);
      expect(got.count, want.name).toBe(want.count);
      expect(got.missing, want.name).toBe(want.missing);
      if (want.numbers) {
        expect(got.numbers && [...got.numbers], want.name).toEqual(want.numbers);
      } else {
        expect(got.numbers, want.name).toBeNull();
        expect(Object.fromEntries(got.categories ?? []), want.name).toEqual(want.categories);
      }
    }
  });

  it('gives the same result for every way of cutting the file into chunks', async () => {
    const bytes = await readFile(path.join(fixtures, 'tricky.csv'));
    const whole = summary(parseInChunks(bytes, [bytes.length]).columns);
    for (const sizes of [[1], [2], [3], [5, 1, 7], [13], [64]]) {
      expect(summary(parseInChunks(bytes, sizes).columns), `chunks of ${sizes.join(',')}`).toEqual(whole);
    }
  });
});

describe('CSV dialect', () => {
  it('types columns: integers, floats, text; integral and category keys', async () => {
    const data = await readDataset(await file('types.csv', 'i,f,t,mixed\n1,1.5,a,1\n2,2,b,x\n2,1e2,a,3\n-3,-0.25,c,4\n'));
    const [i, f, t, mixed] = data.columns;
    expect(i!.numbers && [...i!.numbers]).toEqual([1, 2, 2, -3]);
    expect(i!.integral).toBe(true);
    expect(i!.categories).toEqual(new Map([['1', 1], ['2', 2], ['-3', 1]]));
    expect(f!.numbers && [...f!.numbers]).toEqual([1.5, 2, 100, -0.25]);
    expect(f!.integral).toBe(false);
    // Numeric category keys are canonical numbers: "1e2" is 100.
    expect([...f!.categories!.keys()]).toEqual(['1.5', '2', '100', '-0.25']);
    expect(t!.numbers).toBeNull();
    expect(t!.integral).toBe(false);
    expect(t!.categories).toEqual(new Map([['a', 2], ['b', 1], ['c', 1]]));
    expect(mixed!.numbers).toBeNull();
    expect(mixed!.categories).toEqual(new Map([['1', 1], ['x', 1], ['3', 1], ['4', 1]]));
  });

  it('merges number spellings into one category and keeps integral for 1.0', async () => {
    const data = await readDataset(await file('spell.csv', 'x\n1\n1.0\n 1 \n01\n2.50\n'));
    const x = data.columns[0]!;
    expect(x.numbers && [...x.numbers]).toEqual([1, 1, 1, 1, 2.5]);
    expect(x.categories).toEqual(new Map([['1', 4], ['2.5', 1]]));
    expect(x.integral).toBe(false);
  });

  it('treats non-finite and odd forms as text', async () => {
    for (const odd of ['inf', 'Infinity', '0x10', '1,5', '1e400', '1e', '-', '.', '1.2.3']) {
      const data = await readDataset(await file('odd.csv', `x\n1\n"${odd}"\n`));
      expect(data.columns[0]!.numbers, odd).toBeNull();
    }
  });

  it('counts every missing marker as missing, and accepts other markers', async () => {
    const body = DEFAULT_MISSING_MARKERS.map((m) => (m === '' ? '' : `${m}`)).join('\n');
    const data = await readDataset(await file('missing.csv', `x,y\n${DEFAULT_MISSING_MARKERS.map((m) => `${m},1`).join('\n')}\n""," 2"\n`));
    expect(body).toBeTruthy();
    const [x, y] = data.columns;
    expect(x!.count).toBe(DEFAULT_MISSING_MARKERS.length + 1);
    expect(x!.missing).toBe(DEFAULT_MISSING_MARKERS.length + 1);
    expect(x!.numbers && x!.numbers.length).toBe(0);
    expect(x!.categories!.size).toBe(0);
    expect(y!.missing).toBe(0);

    const custom = await readDataset(await file('custom.csv', 'x\n-999\n5\nNA\n'), { missingMarkers: ['-999'] });
    expect(custom.columns[0]!.missing).toBe(1);
    expect(custom.columns[0]!.numbers).toBeNull(); // "NA" is text once it is not a marker
  });

  it('reports ragged rows with their physical line numbers', async () => {
    const text = 'a,b,c\n1,2,3\n4,"two\nlines",6\n7,8\n\n9,10,11,12\n13,14,15';
    const data = await readDataset(await file('ragged.csv', text));
    expect(data.rows).toBe(5);
    expect(data.problems).toEqual([
      { line: 5, message: '2 fields, the header has 3; the absent cells count as missing.' },
      { line: 7, message: '4 fields, the header has 3; the extra cells are ignored.' },
    ]);
    const c = column(data.columns, 'c');
    expect(c.count).toBe(5);
    expect(c.missing).toBe(1);
    expect(c.numbers && [...c.numbers]).toEqual([3, 6, 11, 15]);
  });

  it('lists at most 20 problems plus a count line', async () => {
    const rows = Array.from({ length: 30 }, (_, k) => `${k}`).join('\n');
    const data = await readDataset(await file('many.csv', `a,b\n${rows}\n`));
    expect(data.problems).toHaveLength(21);
    expect(data.problems[0]!.line).toBe(2);
    expect(data.problems[20]).toEqual({ line: null, message: '30 problems in all; the first 20 are listed.' });
  });

  it('names the line where an unterminated quote starts', async () => {
    const target = await file('open.csv', 'a,b\n1,2\n3,"never\nclosed\n');
    await expect(readDataset(target)).rejects.toThrow(/quoted field that starts on line 3 is never closed/);
    await expect(readDataset(target)).rejects.toBeInstanceOf(UserError);
  });

  it('rejects an empty file and reads a header-only file as 0 rows', async () => {
    await expect(readDataset(await file('empty.csv', ''))).rejects.toThrow(/empty\.csv is empty/);
    await expect(readDataset(await file('blank.csv', '\n\r\n'))).rejects.toThrow(/is empty/);
    const data = await readDataset(await file('header.csv', 'a,b,"c"\r\n'));
    expect(data.rows).toBe(0);
    expect(data.columns.map((c) => [c.name, c.count, c.missing])).toEqual([
      ['a', 0, 0],
      ['b', 0, 0],
      ['c', 0, 0],
    ]);
  });

  it('keeps an all-missing column: count = missing, no numbers, no categories', async () => {
    const data = await readDataset(await file('allmissing.csv', 'a,b\n1,\n2,NA\n3,""\n'));
    const b = column(data.columns, 'b');
    expect(b).toMatchObject({ count: 3, missing: 3, sampled: false });
    expect(b.numbers && b.numbers.length).toBe(0);
    expect(b.categories!.size).toBe(0);
  });

  it('names header cells like pandas: Unnamed: N, duplicates .1', async () => {
    const data = await readDataset(await file('names.csv', ',a,a,,a.1\n1,2,3,4,5\n'));
    expect(data.columns.map((c) => c.name)).toEqual(['Unnamed: 0', 'a', 'a.2', 'Unnamed: 3', 'a.1']);
  });

  it('reads TSV (tab, quotes as in CSV) and lone-CR line ends', async () => {
    const tsv = await readDataset(await file('t.tsv', 'a\tb\r1\t"x\ty"\r2\tz\r'));
    expect(tsv.format).toBe('tsv');
    expect(tsv.rows).toBe(2);
    expect(tsv.columns[1]!.categories).toEqual(new Map([['x\ty', 1], ['z', 1]]));
    const tab = await readDataset(await file('t.tab', 'a\n1\n'));
    expect(tab.format).toBe('tsv');
  });

  it('stops counting categories past maxCategories', async () => {
    const rows = Array.from({ length: 50 }, (_, k) => `v${k % 11}`).join('\n');
    const target = await file('cats.csv', `x\n${rows}\n`);
    expect((await readDataset(target, { maxCategories: 11 })).columns[0]!.categories!.size).toBe(11);
    expect((await readDataset(target, { maxCategories: 10 })).columns[0]!.categories).toBeNull();
  });

  it('samples numbers beyond maxValues: uniform, deterministic, from the data', async () => {
    const n = 20_000;
    const values = Array.from({ length: n }, (_, k) => k);
    const target = await file('sample.csv', `x,t\n${values.map((v) => `${v},a`).join('\n')}\n`);
    const first = await readDataset(target, { maxValues: 1000 });
    const second = await readDataset(target, { maxValues: 1000 });
    const x = first.columns[0]!;
    expect(x.sampled).toBe(true);
    expect(x.count).toBe(n);
    expect(x.numbers!.length).toBe(1000);
    expect([...x.numbers!]).toEqual([...second.columns[0]!.numbers!]);
    expect(new Set(x.numbers).size).toBe(1000);
    for (const v of x.numbers!) expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
    // Uniform: the sample mean is within 4 standard errors of the population mean.
    const mean = x.numbers!.reduce((a, b) => a + b, 0) / 1000;
    const se = n / Math.sqrt(12) / Math.sqrt(1000);
    expect(Math.abs(mean - (n - 1) / 2)).toBeLessThan(4 * se);
    // Both halves of the file are represented.
    expect(x.numbers!.filter((v) => v >= n / 2).length).toBeGreaterThan(400);
    expect(first.columns[1]!.sampled).toBe(false);
    const all = await readDataset(target);
    expect(all.columns[0]!.sampled).toBe(false);
    expect(all.columns[0]!.numbers!.length).toBe(n);
  });
});

describe('number parsing', () => {
  it('matches Number() exactly on random decimals, fast path or not', () => {
    let state = 12345;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 4294967296;
    };
    const digits = (count: number) => Array.from({ length: count }, () => String(Math.floor(random() * 10))).join('');
    const texts: string[] = [];
    for (let k = 0; k < 20_000; k++) {
      const sign = random() < 0.3 ? '-' : random() < 0.05 ? '+' : '';
      const whole = digits(Math.floor(random() * 12));
      const fraction = random() < 0.7 ? `.${digits(Math.floor(random() * 12))}` : '';
      const exponent = random() < 0.2 ? `e${random() < 0.5 ? '-' : ''}${Math.floor(random() * 40)}` : '';
      const text = `${sign}${whole}${fraction}${exponent}`;
      if (/\d/.test(whole + fraction)) texts.push(text);
    }
    texts.push('0', '-0', '0.1', '0.3', '9007199254740993', '123456789012345', '1234567890123456', '5e-324', '1.7976931348623157e308');
    const csv = Buffer.from(`x\n${texts.join('\n')}\n`);
    const parsed = parseInChunks(csv, [4096]).columns[0]!;
    expect(parsed.numbers!.length).toBe(texts.length);
    texts.forEach((text, k) => {
      const bytes = Buffer.from(text);
      let value = parseNumberFast(bytes, 0, bytes.length);
      if (Number.isNaN(value)) value = parseNumberSlow(bytes, 0, bytes.length);
      expect(Object.is(value, Number(text)), text).toBe(true);
      expect(Object.is(parsed.numbers![k], Number(text)), `${text} via the scanner`).toBe(true);
    });
  });
});
