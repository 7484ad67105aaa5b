/** Schema changes as drift findings (computeDrift's `schema`), against datasets and run profiles. */
import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../../src/core/drift/drift';
import { profileReference } from '../../../src/core/drift/profileReference';
import { seededRandom } from '../../fixtures/random';
import { col, countsCol, dataset, numericCol } from './helpers';

const normal = (n: number, seed: number, shift = 0) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => r() + r() + r() + shift);
};
const kinds = (report: ReturnType<typeof computeDrift>) => report.schema.map((c) => `${c.severity} ${c.kind} ${c.column}${c.to ? `->${c.to}` : ''}`);

describe('schema changes', () => {
  it('pairs a dropped and an added column into a rename only when their distributions agree', () => {
    const ref = dataset('r', [numericCol('income', normal(800, 1)), numericCol('age', normal(800, 2, 30)), countsCol('plan', { a: 500, b: 300 })]);
    const cur = dataset('c', [numericCol('annual_income', normal(700, 3)), numericCol('years', normal(700, 4, 60)), countsCol('plan', { a: 430, b: 270 })]);
    // income ~ annual_income (same distribution); age (around 31.5) is not years (around 61.5).
    expect(kinds(computeDrift(ref, cur))).toEqual(['retrain dropped age', 'retrain added years', 'retrain renamed income->annual_income']);
  });

  it('a column of text is not a rename of a numeric one, even with the same values as text', () => {
    const ref = dataset('r', [numericCol('x', [1, 2, 3, 4, 5, 6]), countsCol('k', { a: 3 })]);
    const cur = dataset('c', [col('y', ['1', '2', '3', '4', '5', 'six']), countsCol('k', { a: 3 })]);
    expect(kinds(computeDrift(ref, cur))).toEqual(['retrain dropped x', 'retrain added y']);
  });

  it('all missing and type changes among the shared columns; all missing on both sides is not a change', () => {
    const ref = dataset('r', [col('a', [1, 2, 3]), col('b', [1, 2, 3]), col('c', ['x', 'y', 'z']), col('d', [null, null, null]), col('e', ['1', '2', '3'])]);
    const cur = dataset('c', [col('a', [null, null, null]), col('b', ['1', 'two', '3']), col('c', [4, 5, 6]), col('d', [null, null, null]), col('e', [1, 2, 3])]);
    const report = computeDrift(ref, cur);
    expect(kinds(report)).toEqual(['retrain all-missing a', 'retrain type-changed b', 'retrain type-changed c']);
    expect(report.schema[1]!.message).toBe('"b" was numeric in the reference and is text in the current data (e.g. "two").');
    expect(report.schema[2]!.message).toBe('"c" was text in the reference and is numeric in the current data (e.g. "4").');
  });

  it('against a run profile: types from the profile, numeric strings and dates are not changes', () => {
    const profile = {
      rows: 3,
      columns: [
        { name: 'n', type: 'numeric' as const, count: 3, nulls: 0, bins: { edges: [1, 2, 3], counts: [1, 2] } },
        { name: 'codes', type: 'categorical' as const, count: 3, nulls: 0, top: [{ value: '10', count: 2 }, { value: '20', count: 1 }] },
        { name: 'when', type: 'datetime' as const, count: 3, nulls: 0 },
        { name: 'gone', type: 'categorical' as const, count: 3, nulls: 0, top: [{ value: 'q', count: 3 }] },
        { name: 'empty', type: 'numeric' as const, count: 3, nulls: 0, bins: { edges: [1, 2, 3], counts: [1, 2] } },
      ],
    };
    const cur = dataset('c', [col('n', ['1', 'n/a', '3']), col('codes', [10, 10, 20]), col('when', [1, 2, 3]), col('empty', [null, null, null])]);
    expect(kinds(computeDrift(profileReference(profile, 'run R'), cur))).toEqual(['retrain dropped gone', 'retrain all-missing empty', 'retrain type-changed n']);
  });

  it('severities per kind; off removes the finding', () => {
    const ref = dataset('r', [numericCol('a', [1, 2, 3]), numericCol('b', [1, 2, 3])]);
    const cur = dataset('c', [numericCol('a', [1, 2, 3]), numericCol('z', [7, 8, 9])]);
    expect(kinds(computeDrift(ref, cur, { schemaSeverity: { dropped: 'monitor' } }))).toEqual(['retrain added z', 'monitor dropped b']);
    expect(kinds(computeDrift(ref, cur, { schemaSeverity: { dropped: 'off', added: 'off' } }))).toEqual([]);
  });

  it('an undecodable file is a finding and nothing is compared', () => {
    const ref = dataset('r', [numericCol('a', [1, 2, 3])]);
    const report = computeDrift(ref, { ...dataset('c.csv', []), rows: 0, undecodable: 'it has NUL bytes, so it is not a text file' });
    expect(report.schema).toEqual([{ kind: 'undecodable', column: null, severity: 'retrain', message: 'c.csv cannot be decoded as text: it has NUL bytes, so it is not a text file.' }]);
    expect(report.columns).toEqual([]);
  });
});
