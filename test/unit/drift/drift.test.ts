import { describe, expect, it } from 'vitest';
import { inferColumnKind } from '../../../src/core/drift/columnKinds';
import { computeDrift, severityOf } from '../../../src/core/drift/drift';
import { profileReference, profileReferenceFromRun } from '../../../src/core/drift/profileReference';
import { isUserError } from '../../../src/core/errors';
import { seededRandom } from '../../fixtures/random';
import { col, countsCol, dataset, numericCol } from './helpers';

const rng = seededRandom;
const uniform = (n: number, seed: number, shift = 0) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() + shift);
};
const jsonRoundTrip = (x: unknown) => JSON.parse(JSON.stringify(x));

function expectUserError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(isUserError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a UserError');
}

describe('column kinds', () => {
  it('an integer column with 3 values is categorical; override makes it numeric', () => {
    const values = Array.from({ length: 300 }, (_, i) => i % 3);
    expect(inferColumnKind(col('k', values))).toBe('categorical');
    const ref = dataset('ref', [col('k', values)]);
    const cur = dataset('cur', [col('k', values.map((v) => (v === 2 ? 1 : v)))]);
    const inferred = computeDrift(ref, cur).columns[0]!;
    expect(inferred).toMatchObject({ kind: 'categorical', inferredKind: 'categorical', test: { name: 'chi-square', df: 2 } });
    const forced = computeDrift(ref, cur, { kinds: { k: 'numeric' } }).columns[0]!;
    expect(forced).toMatchObject({ kind: 'numeric', inferredKind: 'categorical', test: { name: 'ks' } });
  });

  it('integers with 11–20 distinct values are categorical only when that is under 1% of the values', () => {
    const many = Array.from({ length: 5000 }, (_, i) => i % 15);
    const few = many.slice(0, 1000);
    expect(inferColumnKind(col('a', many))).toBe('categorical');
    expect(inferColumnKind(col('a', few))).toBe('numeric');
    expect(inferColumnKind(col('a', [0.5, 1.5, 0.5]))).toBe('numeric');
    expect(inferColumnKind(col('a', ['x', 'y']))).toBe('categorical');
    expect(inferColumnKind(col('a', [true, false, true]))).toBe('categorical');
  });

  it('a numeric reference with text in the current data is compared as categories', () => {
    const report = computeDrift(dataset('r', [col('a', [1.5, 2.5, 3.5])]), dataset('c', [col('a', [1.5, 'oops', 3.5])]));
    expect(report.columns[0]!.kind).toBe('categorical');
    expect(report.problems.join('\n')).toMatch(/not every value in the current is a number/);
  });

  it('a text column forced to numeric stays categorical, with a reason', () => {
    const report = computeDrift(dataset('r', [col('a', ['x', 'y'])]), dataset('c', [col('a', ['x', 'x'])]), { kinds: { a: 'numeric', nope: 'numeric' } });
    expect(report.columns[0]!.kind).toBe('categorical');
    expect(report.problems.join('\n')).toMatch(/set to numeric, but some values are not numbers/);
    expect(report.problems.join('\n')).toMatch(/no column has that name/);
  });
});

describe('severity and dataset drift', () => {
  it('maps PSI to severity with configurable thresholds', () => {
    const t = { monitor: 0.1, retrain: 0.2 };
    expect(severityOf(0.05, t)).toBe('stable');
    expect(severityOf(0.1, t)).toBe('monitor');
    expect(severityOf(0.2, t)).toBe('monitor');
    expect(severityOf(0.21, t)).toBe('retrain');
  });

  it('sorts columns by severity then PSI, and counts drifted columns', () => {
    const ref = dataset('ref', [numericCol('same', uniform(2000, 1)), numericCol('far', uniform(2000, 2)), numericCol('near', uniform(2000, 3)), countsCol('cat', { a: 500, b: 500 })]);
    const cur = dataset('cur', [numericCol('same', uniform(2000, 4)), numericCol('far', uniform(2000, 5, 0.5)), numericCol('near', uniform(2000, 6, 0.08)), countsCol('cat', { a: 900, b: 100 })]);
    const report = computeDrift(ref, cur);
    const names = report.columns.map((c) => c.name);
    expect(names.at(-1)).toBe('same');
    expect(report.columns[0]!.severity).toBe('retrain');
    for (let i = 1; i < report.columns.length; i++) {
      const [a, b] = [report.columns[i - 1]!, report.columns[i]!];
      if (a.severity === b.severity) expect(a.psi!).toBeGreaterThanOrEqual(b.psi!);
    }
    const drifted = report.columns.filter((c) => c.severity !== 'stable').length;
    expect(report.datasetDrift).toEqual({ drifted, total: 4, share: drifted / 4 });
    expect(jsonRoundTrip(report)).toEqual(report);

    const strict = computeDrift(ref, cur, { thresholds: { monitor: 0.001, retrain: 0.002 } });
    expect(strict.thresholds).toEqual({ monitor: 0.001, retrain: 0.002 });
    expect(strict.datasetDrift.drifted).toBeGreaterThanOrEqual(drifted);
  });

  it('rejects thresholds that are out of order', () => {
    const d = dataset('d', [numericCol('x', [1, 2, 3])]);
    expectUserError(() => computeDrift(d, d, { thresholds: { monitor: 0.3, retrain: 0.2 } }), 'usage', /monitor ≤ retrain/);
  });
});

describe('edge cases', () => {
  it('an empty dataset is a UserError', () => {
    const d = dataset('ref.csv', [numericCol('x', [1, 2, 3])]);
    const empty = { ...dataset('cur.csv', []), rows: 0 };
    expectUserError(() => computeDrift(d, empty), 'empty-dataset', /current data \(cur\.csv\) has no rows/);
    expectUserError(() => computeDrift({ ...d, columns: [] }, d), 'empty-dataset', /reference \(ref\.csv\) has no columns/);
    expectUserError(() => computeDrift(profileReference({ rows: 0, columns: [] }, 'run R'), d), 'empty-dataset', /run R/);
  });

  it('an all-missing column gets no statistics, and says so', () => {
    const ref = dataset('ref', [col('x', [1.5, 2.5, 3.5, 4.5]), col('t', ['a', 'b', 'a', 'b'])]);
    const cur = dataset('cur', [col('x', [null, null, null, null]), col('t', [null, null, null, null])]);
    const report = computeDrift(ref, cur);
    for (const c of report.columns) {
      expect(c).toMatchObject({ severity: 'unavailable', drifted: false, psi: null, test: null, effect: null });
      expect(c.notes.join(' ')).toMatch(/no values in the current data \(all missing\)/);
    }
    expect(report.datasetDrift).toEqual({ drifted: 0, total: 0, share: 0 });
    expect(report.problems.join('\n')).toMatch(/missing values went from 0\.0% of rows in the reference to 100% in the current data/);
    expect(jsonRoundTrip(report)).toEqual(report);
  });

  it('a single-row current dataset does not crash and is flagged', () => {
    const ref = dataset('ref', [numericCol('x', uniform(500, 7)), countsCol('c', { a: 300, b: 200 })]);
    const cur = dataset('cur', [numericCol('x', [0.5]), countsCol('c', { b: 1 })]);
    const report = computeDrift(ref, cur);
    expect(report.problems[0]).toMatch(/current data has a single row: drift statistics on one row are not meaningful/);
    const x = report.columns.find((c) => c.name === 'x')!;
    expect(x.test!.pValue).toBeGreaterThan(0);
    expect(x.notes.join(' ')).toMatch(/only 1 value on one side/);
    expect(jsonRoundTrip(report)).toEqual(report);
  });

  it('unseen categories are counted with examples', () => {
    const report = computeDrift(dataset('r', [countsCol('c', { a: 50, b: 50 })]), dataset('c', [countsCol('c', { a: 40, b: 30, z: 20, y: 10 })]));
    const c = report.columns[0]!;
    expect(c.unseenCategories).toEqual({ count: 2, examples: ['z', 'y'] });
    expect(c.histogram).toEqual({ type: 'categories', labels: ['a', 'b', 'z', 'y'], reference: [0.5, 0.5, 0, 0], current: [0.4, 0.3, 0.2, 0.1] });
    expect(report.problems.join('\n')).toMatch(/2 categories not in the reference \(e\.g\. "z", "y"\)/);
  });

  it('a constant column: PSI 0 when unchanged, and bins below/at/above when it moves', () => {
    const same = computeDrift(dataset('r', [numericCol('k', Array(100).fill(3.25))]), dataset('c', [numericCol('k', Array(80).fill(3.25))]));
    expect(same.columns[0]).toMatchObject({ psi: 0, severity: 'stable', test: { statistic: 0, pValue: 1 }, effect: { value: null, raw: 0 } });
    expect(same.problems.join('\n')).toMatch(/reference is constant/);
    const moved = computeDrift(dataset('r', [numericCol('k', Array(100).fill(3.25))]), dataset('c', [numericCol('k', Array(80).fill(4.25))]));
    expect(moved.columns[0]!.severity).toBe('retrain');
    expect(moved.columns[0]!.effect!.raw).toBeCloseTo(1, 12);
  });

  it('columns in one dataset only are listed, not compared', () => {
    const report = computeDrift(dataset('r', [numericCol('a', [1, 2]), numericCol('old', [1, 2])]), dataset('c', [numericCol('a', [1, 2]), numericCol('new', [1, 2])]));
    expect(report.columns.map((c) => c.name)).toEqual(['a']);
    expect(report.onlyInReference).toEqual(['old']);
    expect(report.onlyInCurrent).toEqual(['new']);
    expect(report.problems).toContain('Only in the reference (not compared): old.');
    expect(report.problems).toContain('Only in the current data (not compared): new.');
  });

  it('a high-cardinality text column (the reader gave up counting) gets no statistics', () => {
    const text = { name: 'id', count: 5, missing: 0, numbers: null, categories: null, integral: false, sampled: false };
    const report = computeDrift(dataset('r', [text]), dataset('c', [text]));
    expect(report.columns[0]).toMatchObject({ severity: 'unavailable' });
    expect(report.problems.join('\n')).toMatch(/too many distinct values/);
  });

  it('reader problems and sampling are passed on', () => {
    const big = { ...numericCol('x', uniform(1000, 9)), count: 5000, sampled: true };
    const cur = { ...dataset('cur.csv', [big]), problems: [{ line: 12, message: 'expected 3 fields, found 4' }] };
    const report = computeDrift(dataset('r', [numericCol('x', uniform(1000, 8))]), cur);
    expect(report.problems.join('\n')).toMatch(/cur\.csv: line 12: expected 3 fields, found 4/);
    expect(report.problems.join('\n')).toMatch(/uniform sample of 1000 of its 5000 values/);
  });
});

describe('profile references', () => {
  it('booleans written True/False by pandas match true/false in the current data', () => {
    const profile = { rows: 100, columns: [{ name: 'b', type: 'boolean' as const, count: 100, nulls: 0, top: [{ value: 'True', count: 60 }, { value: 'False', count: 40 }] }] };
    const report = computeDrift(profileReference(profile, 'run R'), dataset('c', [col('b', [...Array(60).fill(true), ...Array(40).fill(false)])]));
    expect(report.columns[0]).toMatchObject({ kind: 'categorical', psi: 0, unseenCategories: { count: 0 } });
  });

  it('a constant profile column, an all-null one and a datetime one', () => {
    const profile = {
      rows: 10,
      columns: [
        { name: 'k', type: 'numeric' as const, count: 10, nulls: 0, bins: { edges: [2, 2], counts: [10] }, min: 2, max: 2, mean: 2, std: 0 },
        { name: 'n', type: 'numeric' as const, count: 0, nulls: 10 },
        { name: 'd', type: 'datetime' as const, count: 10, nulls: 0 },
      ],
    };
    const cur = dataset('c', [numericCol('k', [2, 2, 2, 3]), numericCol('n', [1, 2, 3, 4]), col('d', ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'])]);
    const report = computeDrift(profileReference(profile, 'run R'), cur);
    const k = report.columns.find((c) => c.name === 'k')!;
    expect(k.test).toMatchObject({ statistic: 0.25, approximate: true });
    expect(k.effect).toMatchObject({ raw: 0.25, value: null, approximate: true });
    expect(report.columns.find((c) => c.name === 'n')!.notes.join(' ')).toMatch(/no values in the reference \(all missing\)/);
    expect(report.columns.find((c) => c.name === 'd')!.notes.join(' ')).toMatch(/date\/time columns are not compared/);
    expect(jsonRoundTrip(report)).toEqual(report);
  });

  it('picks the profiled input of a run', () => {
    const profile = { rows: 1, columns: [] };
    const run = { id: '01HZY3Q7K8M9N0P1R2S3T4V5W6', inputs: [{ path: 'data/train.csv', sha256: '0'.repeat(64), bytes: 1, profile }, { path: 'x.bin', sha256: '0'.repeat(64), bytes: 1 }] };
    expect(profileReferenceFromRun(run as never).source).toBe('run 01HZY3Q7K8M9N0P1R2S3T4V5W6 input data/train.csv');
    expect(profileReferenceFromRun(run as never, 'train.csv').profile).toBe(profile);
    expectUserError(() => profileReferenceFromRun(run as never, 'test.csv'), 'no-profile', /Profiled inputs: data\/train\.csv/);
  });
});
