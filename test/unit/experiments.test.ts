/**
 * The experiments table without a browser: the table the extension builds from run summaries
 * (short param labels, an autologged copy folded into the notebook's param, duplicates, data
 * versions, best values of series) and what the page does with it (columns, the filter language,
 * sorting with empty cells last, per-group rows with intervals). The page's query module is
 * DOM-free for this reason.
 */
import { describe, expect, it } from 'vitest';
import { RUN_STATUSES, type RunEnvelope } from '../../src/core/envelope';
import { buildExperimentTable, lowerIsBetter } from '../../src/core/experiments/table';
import { describeSample } from '../../src/core/stats/describe';
import { summarize } from '../../src/core/store/runIndex';
import { experimentsToPageSchema } from '../../src/protocol/experiments';
import { columnsOf, filterRows, groupRows, meanInterval, parseFilter, sortRows } from '../../webviews/experiments/query';
import { makeEnvelope } from '../fixtures/envelopes';

let clock = Date.parse('2026-12-03T09:00:00Z');
function run(maxDepth: number, seed: number, accuracy: number | null, extra: Partial<RunEnvelope> = {}, inputContent?: string): RunEnvelope {
  clock += 60_000;
  const params = { max_depth: maxDepth, seed, 'RandomForestClassifier.max_depth': maxDepth, 'RandomForestClassifier.random_state': seed, 'RandomForestClassifier.n_jobs': 1 };
  const envelope = makeEnvelope({ startedAt: new Date(clock), name: `churn.ipynb max_depth=${maxDepth}, seed=${seed}`, params, seed, metrics: accuracy === null ? {} : { accuracy }, ...(inputContent ? { inputContent } : {}) });
  return {
    ...envelope,
    paramSources: { max_depth: 'override', seed: 'override', 'RandomForestClassifier.max_depth': 'autolog', 'RandomForestClassifier.random_state': 'autolog', 'RandomForestClassifier.n_jobs': 'autolog' },
    ...extra,
  };
}

const runs = [
  run(8, 1, 0.772),
  run(8, 2, 0.781),
  run(8, 3, 0.776),
  run(12, 1, 0.761),
  run(12, 2, 0.768),
  run(12, 3, 0.765),
  run(12, 3, 0.765), // an exact repeat of the one before
  run(16, 1, null, { status: 'failed', tags: ['nightly'] }),
];
const table = buildExperimentTable(runs.map(summarize));
const columns = columnsOf(table);

describe('building the table from run summaries', () => {
  it('has one row per run, oldest first, and validates as the message the page receives', () => {
    expect(table.ids).toEqual(runs.map((r) => r.id));
    expect(experimentsToPageSchema.safeParse({ type: 'table', table, problems: 0 }).success).toBe(true);
    // The schema lists the statuses itself (to keep the envelope out of the page's bundle).
    for (const status of RUN_STATUSES) expect(table.status.includes(status) || status !== 'succeeded').toBe(true);
    const broken = { ...table, name: table.name.slice(1) };
    expect(experimentsToPageSchema.safeParse({ type: 'table', table: broken, problems: 0 }).success).toBe(false);
  });

  it('folds the autologged copy of a notebook param into it and drops the estimator prefix', () => {
    const labels = table.params.map((p) => p.label);
    expect(labels).toContain('max_depth');
    expect(table.params.find((p) => p.label === 'max_depth')!.key).toBe('max_depth');
    expect(table.params.filter((p) => p.label.endsWith('max_depth'))).toHaveLength(1);
    expect(table.params.find((p) => p.key === 'RandomForestClassifier.n_jobs')).toMatchObject({ label: 'n_jobs', varies: false, autolog: true });
    // Varying configuration params first, seeds next.
    expect(table.params[0]).toMatchObject({ label: 'max_depth', varies: true, seedLike: false });
    expect(table.params[1]).toMatchObject({ seedLike: true });
  });

  it('marks the exact repeat as a duplicate of the earlier run, and says what seed each run had', () => {
    expect(table.duplicateOf[6]).toBe(runs[5]!.id);
    expect(table.duplicateOf.filter(Boolean)).toHaveLength(1);
    expect(table.seeds[0]).toBe('seed=1');
  });

  it('gives the data version and the commit, and the best value of a logged series', () => {
    expect(table.data[0]).toBe(runs[0]!.inputs[0]!.sha256.slice(0, 7));
    expect(table.commit[0]).toBe('aaaaaaa');
    const withSeries = run(8, 4, 0.7);
    withSeries.metrics.loss = { value: 0.4, series: [{ step: 0, value: 0.9 }, { step: 1, value: 0.3 }, { step: 2, value: 0.4 }] };
    withSeries.metrics.accuracy = { value: 0.7, series: [{ step: 0, value: 0.6 }, { step: 1, value: 0.75 }, { step: 2, value: 0.7 }] };
    const t = buildExperimentTable([summarize(withSeries)]);
    expect(t.metrics.find((m) => m.key === 'loss')).toMatchObject({ lowerIsBetter: true, last: [0.4], best: [0.3], steps: [3] });
    expect(t.metrics.find((m) => m.key === 'accuracy')).toMatchObject({ lowerIsBetter: false, best: [0.75] });
    expect(lowerIsBetter('val_loss')).toBe(true);
    expect(lowerIsBetter('roc_auc')).toBe(false);
    expect(lowerIsBetter('rmse')).toBe(true);
  });

  it('sends t quantiles that match the core\'s intervals', () => {
    const values = [0.772, 0.781, 0.776];
    const ours = meanInterval(values, table.t975);
    const core = describeSample(values);
    expect(ours.low).toBeCloseTo(core.interval![0], 12);
    expect(ours.high).toBeCloseTo(core.interval![1], 12);
  });
});

describe('filtering', () => {
  const names = (rows: number[]) => rows.map((r) => table.name[r]);
  it('compares metrics and params with numbers', () => {
    const { terms, problems } = parseFilter('accuracy > 0.77', columns);
    expect(problems).toEqual([]);
    expect(names(filterRows(table, terms))).toEqual(['churn.ipynb max_depth=8, seed=1', 'churn.ipynb max_depth=8, seed=2', 'churn.ipynb max_depth=8, seed=3']);
    expect(filterRows(table, parseFilter('max_depth=12', columns).terms)).toEqual([3, 4, 5, 6]);
    expect(filterRows(table, parseFilter('max_depth>=12, accuracy<0.765', columns).terms)).toEqual([3]);
    expect(filterRows(table, parseFilter('RandomForestClassifier.max_depth = 16', columns).terms)).toEqual([7]);
  });

  it('matches statuses, tags and free words, quoted or not', () => {
    expect(filterRows(table, parseFilter('status=failed', columns).terms)).toEqual([7]);
    expect(filterRows(table, parseFilter('status!=succeeded', columns).terms)).toEqual([7]);
    expect(filterRows(table, parseFilter('tag=nightly', columns).terms)).toEqual([7]);
    expect(filterRows(table, parseFilter('nightly', columns).terms)).toEqual([7]);
    expect(filterRows(table, parseFilter('"max_depth=8, seed=2"', columns).terms)).toEqual([1]);
    expect(filterRows(table, parseFilter('seed=3', columns).terms)).toEqual([2, 5, 6]);
  });

  it('says what it did not understand and applies the rest', () => {
    const parsed = parseFilter('precision > 0.5 accuracy > abc max_depth=8', columns);
    expect(parsed.problems).toEqual(['no column "precision"', '"abc" is not a number (accuracy > …)']);
    expect(filterRows(table, parsed.terms)).toEqual([0, 1, 2]);
    // A run without the metric is not "greater" than anything.
    expect(filterRows(table, parseFilter('accuracy > 0', columns).terms)).not.toContain(7);
  });
});

describe('sorting', () => {
  it('sorts by a metric either way with empty cells last, ties in table order', () => {
    const accuracy = columns.find((c) => c.id === 'metric:accuracy')!;
    expect(accuracy.descendingFirst).toBe(true);
    const all = table.ids.map((_, r) => r);
    const down = sortRows(all, (r) => accuracy.value(r), true);
    expect(down[0]).toBe(1);
    expect(down.at(-1)).toBe(7);
    const up = sortRows(all, (r) => accuracy.value(r), false);
    expect(up[0]).toBe(3);
    expect(up.at(-1)).toBe(7);
    expect(up.slice(1, 3)).toEqual([5, 6]); // equal values keep their order
  });
});

describe('groups', () => {
  it('groups repeats by configuration, counts a duplicate once and gives intervals', () => {
    const groups = groupRows(table, table.ids.map((_, r) => r));
    expect(groups.map((g) => g.label)).toEqual(['max_depth=8', 'max_depth=12', 'max_depth=16']);
    expect(groups.map((g) => [g.rows.length, g.counted.length, g.duplicates])).toEqual([
      [3, 3, 0],
      [4, 3, 1],
      [1, 0, 0],
    ]);
    const deep = groups[1]!.metrics.get('accuracy')!;
    const core = describeSample([0.761, 0.768, 0.765]);
    expect(deep.n).toBe(3);
    expect(deep.mean).toBeCloseTo(core.mean!, 12);
    expect(deep.low).toBeCloseTo(core.interval![0], 12);
    expect(groups[2]!.metrics.get('accuracy')).toMatchObject({ n: 0, mean: null });
  });

  it('labels an explicit --group by its name', () => {
    const named = buildExperimentTable([run(8, 1, 0.7, { group: 'baseline' }), run(8, 2, 0.71, { group: 'baseline' })].map(summarize));
    expect(groupRows(named, [0, 1]).map((g) => g.label)).toEqual(['baseline']);
  });
});
