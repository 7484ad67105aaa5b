import { describe, expect, it } from 'vitest';
import type { RunEnvelope } from '../../../src/core/envelope';
import { UserError } from '../../../src/core/errors';
import {
  compareRuns,
  groupRuns,
  holmAdjust,
  pairedTTest,
  pairingKey,
  pairRuns,
  welchTTest,
  type Comparison,
  type FlagCode,
} from '../../../src/core/stats/compare';
import { describeSample } from '../../../src/core/stats/describe';
import { DEFAULT_CELLS, makeEnvelope, type EnvelopeOptions } from '../../fixtures/envelopes';
import reference from '../../fixtures/stats/compare_reference.json';

// Reference values: test/fixtures/stats/compare_reference.py (numpy 1.24, scipy 1.10).
// The t quantile and incomplete beta agree with scipy to ~1e-12 (special.test.ts), so 1e-9
// relative leaves room for summation order and nothing else.
const REL = 1e-9;

function close(actual: number | null | undefined, expected: number, rel = REL): void {
  expect(actual).not.toBeNull();
  expect(actual).toBeDefined();
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect(Math.abs(actual! - expected) / scale, `${actual} vs ${expected}`).toBeLessThan(rel);
}

/**
 * Interval ends are compared relative to the interval's width: an end near 0 is a difference of
 * two close numbers, and scipy 1.10's t.ppf (cephes stdtrit) is itself off by up to ~2e-9
 * relative (see special_reference.py), so 1e-8 of the width is what the reference supports.
 */
function closeInterval(actual: [number, number] | null, expected: number[]): void {
  expect(actual).not.toBeNull();
  const width = expected[1]! - expected[0]!;
  for (const i of [0, 1]) {
    expect(Math.abs(actual![i]! - expected[i]!) / width, `${actual![i]} vs ${expected[i]}`).toBeLessThan(1e-8);
  }
}

let clock = Date.parse('2024-06-01T10:00:00Z');
/** Envelopes with strictly increasing start times, so grouping order is deterministic. */
function run(options: EnvelopeOptions): RunEnvelope {
  clock += 60_000;
  return makeEnvelope({ startedAt: new Date(clock), ...options });
}

function repeats(seeds: number[], values: Record<string, number[]>, options: EnvelopeOptions = {}): RunEnvelope[] {
  return seeds.map((seed, i) => run({ ...options, seed, metrics: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v[i]!])) }));
}

function codes(result: Comparison): FlagCode[] {
  return result.flags.map((f) => f.code);
}

describe('describeSample (one group)', () => {
  it.each(reference.summaries.map((c) => [c.n, c.confidence, c] as const))('n=%i at %f matches numpy/scipy', (_n, _conf, c) => {
    const s = describeSample(c.values, c.confidence);
    expect(s.n).toBe(c.n);
    close(s.mean, c.mean);
    close(s.sd, c.sd);
    close(s.se, c.se);
    closeInterval(s.interval, c.interval);
  });

  it('gives no interval for a single run and nothing for none', () => {
    expect(describeSample([0.8])).toMatchObject({ n: 1, mean: 0.8, sd: null, se: null, interval: null, min: 0.8, max: 0.8 });
    expect(describeSample([])).toMatchObject({ n: 0, mean: null, interval: null });
  });
});

describe('pairedTTest', () => {
  it.each(reference.paired.map((c) => [c.baseline.length, c.confidence, c] as const))('n=%i at %f matches scipy ttest_rel', (_n, _conf, c) => {
    const r = pairedTTest(c.baseline, c.candidate, c.confidence);
    expect(r.test).toBe('paired-t');
    close(r.estimate, c.estimate);
    close(r.se, c.se);
    expect(r.df).toBe(c.df);
    close(r.t, c.t);
    close(r.p, c.p);
    closeInterval(r.interval, c.interval);
    expect(r.effectSize?.name).toBe('cohen-dz');
    close(r.effectSize?.value, c.cohenDz);
  });

  it('reports an exact shift without an infinite statistic when the differences do not vary', () => {
    expect(pairedTTest([1, 2, 3], [1.5, 2.5, 3.5])).toMatchObject({ test: 'paired-t', estimate: 0.5, se: 0, t: null, p: 0, interval: [0.5, 0.5] });
    expect(pairedTTest([1, 2], [1, 2])).toMatchObject({ estimate: 0, p: 1, t: null });
    expect(pairedTTest([1], [2])).toMatchObject({ test: 'none', estimate: 1, p: null, interval: null });
  });
});

describe('welchTTest', () => {
  it.each(reference.welch.map((c) => [c.baseline.length, c.candidate.length, c] as const))('%i vs %i matches scipy ttest_ind(equal_var=False)', (_a, _b, c) => {
    const r = welchTTest(c.baseline, c.candidate, c.confidence);
    expect(r.test).toBe('welch-t');
    close(r.estimate, c.estimate);
    close(r.se, c.se);
    close(r.df, c.df);
    close(r.t, c.t);
    close(r.p, c.p);
    closeInterval(r.interval, c.interval);
    expect(r.effectSize?.name).toBe('hedges-g');
    close(r.effectSize?.value, c.hedgesG);
  });

  it('does not test with fewer than two runs on a side', () => {
    expect(welchTTest([0.8], [0.82, 0.83])).toMatchObject({ test: 'none', p: null });
    expect(welchTTest([0.8], [0.82, 0.83]).estimate).toBeCloseTo(0.025, 12);
  });
});

describe('holmAdjust', () => {
  it.each(reference.holm.map((c) => [c.p.join(', '), c] as const))('[%s] matches the step-down procedure', (_label, c) => {
    const adjusted = holmAdjust(c.p);
    c.adjusted.forEach((expected, i) => close(adjusted[i], expected, 1e-12));
  });

  it('is monotone in the raw p-values, capped at 1, and skips comparisons without a test', () => {
    const p = [0.04, null, 0.01, 0.5, 0.03];
    const adjusted = holmAdjust(p);
    expect(adjusted[1]).toBeNull();
    // m = 4 tests: 0.01·4, then max(0.03·3, 0.04), max(0.04·2, 0.09), 0.5·1 capped by nothing.
    expect(adjusted[2]).toBeCloseTo(0.04, 12);
    expect(adjusted[4]).toBeCloseTo(0.09, 12);
    expect(adjusted[0]).toBeCloseTo(0.09, 12);
    expect(adjusted[3]).toBeCloseTo(0.5, 12);
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
  });
});

describe('compareRuns against scipy on tracked runs', () => {
  const scenario = reference.scenario;
  const groups = scenario.groups.map((g) => ({ label: g.label, runs: repeats(g.seeds, g.metrics, { params: g.params }) }));
  const result = compareRuns(groups);

  it('pairs "deeper" by recorded seeds and falls back to Welch for "wider", saying why', () => {
    const [deeper, wider] = result.metrics[0]!.differences;
    expect(deeper).toMatchObject({ group: 'deeper', baseline: 'baseline', test: 'paired-t', pairedBy: 'recorded seeds', nBaseline: 5, nCandidate: 5 });
    expect(deeper!.reason).toMatch(/Paired t-test: .*recorded seeds/);
    expect(wider).toMatchObject({ group: 'wider', test: 'welch-t', pairedBy: null });
    expect(wider!.reason).toMatch(/Welch.*not run on the same seeds.*seeds 1, 2, 3 and 2 more only in "baseline"/);
  });

  it.each(['accuracy', 'loss'] as const)('%s: summaries, tests and Holm-adjusted p-values match', (metric) => {
    const expected = scenario.expected[metric];
    const row = result.metrics.find((m) => m.metric === metric)!;
    row.summaries.forEach((s, i) => {
      const e = expected.summaries[i]!;
      close(s.mean, e.mean);
      close(s.sd, e.sd);
      closeInterval(s.interval, e.interval);
    });
    for (const [label, e] of [['deeper', expected.deeper], ['wider', expected.wider]] as const) {
      const d = row.differences.find((x) => x.group === label)!;
      close(d.estimate, e.estimate);
      close(d.p, e.p);
      close(d.pAdjusted, e.pAdjusted);
      closeInterval(d.interval, e.interval);
      close(d.effectSize?.value, 'cohenDz' in e ? e.cohenDz : e.hedgesG);
      expect(d.direction).toBe(e.estimate > 0 ? 'higher' : 'lower');
      expect(d.significant).toBe(e.pAdjusted < 0.05);
      expect(d.insideNoise).toBe(e.interval[0]! <= 0 && e.interval[1]! >= 0);
    }
  });

  it('lists the params per group and marks those that differ', () => {
    expect(result.params).toEqual([
      { name: 'max_depth', values: [[6], [8], [6]], missing: [0, 0, 0], differs: true, seedLike: false },
      { name: 'n_estimators', values: [[100], [100], [300]], missing: [0, 0, 0], differs: true, seedLike: false },
    ]);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('honours the baseline, metric and confidence options', () => {
    const r = compareRuns(groups, { baseline: 2, metrics: ['loss'], confidence: 0.9 });
    expect(r.baseline).toBe('wider');
    expect(r.metrics.map((m) => m.metric)).toEqual(['loss']);
    expect(r.metrics[0]!.differences.map((d) => d.group)).toEqual(['baseline', 'deeper']);
    const s = r.metrics[0]!.summaries[0]!;
    const narrower = describeSample(scenario.groups[0]!.metrics.loss, 0.9).interval!;
    expect(s.interval).toEqual(narrower);
  });
});

describe('pairing key', () => {
  it('prefers a seed-like param over the recorded seeds', () => {
    const e = run({ params: { max_depth: 6, random_state: 7 }, seed: 42 });
    expect(pairingKey(e)).toEqual({ key: 'random_state=7', by: 'param random_state' });
    expect(pairingKey(run({ seed: 3 }))).toEqual({ key: '3', by: 'recorded seeds' });
  });

  it('pairs by fold when every run has one, even with one recorded seed for all', () => {
    const base = { label: 'a', runs: [0, 1, 2].map((fold) => run({ params: { fold }, metrics: { auc: 0.7 + fold / 100 } })) };
    const cand = { label: 'b', runs: [2, 0, 1].map((fold) => run({ params: { fold }, metrics: { auc: 0.71 + fold / 100 } })) };
    const pairing = pairRuns(base, cand);
    expect(pairing).toMatchObject({ ok: true, by: 'param fold' });
    const r = compareRuns([base, cand]);
    // Matched by fold: every difference is exactly +0.01, whatever the order of the runs.
    expect(r.metrics[0]!.differences[0]).toMatchObject({ test: 'paired-t', se: 0, p: 0, t: null });
    expect(r.metrics[0]!.differences[0]!.estimate).toBeCloseTo(0.01, 12);
    expect(codes(r)).toContain('no-spread');
  });

  it('falls back to Welch when a seed repeats on one side', () => {
    // The second seed-1 run also drew unseeded randomness: a repeat, not a duplicate of the first.
    const base = { label: 'a', runs: repeats([1, 1, 2], { acc: [0.8, 0.81, 0.79] }) };
    base.runs[1] = { ...base.runs[1]!, unseeded: [{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 3, line 1' }] };
    const cand = { label: 'b', runs: repeats([1, 2, 3], { acc: [0.82, 0.83, 0.8] }) };
    const d = compareRuns([base, cand]).metrics[0]!.differences[0]!;
    expect(d.test).toBe('welch-t');
    expect(d.reason).toContain('seed 1 appears in 2 runs of "a"');
  });
});

describe('trap flags', () => {
  const acc = { acc: [0.8, 0.81, 0.79] };

  it('single-run: one run on a side gives no test and says so', () => {
    const r = compareRuns([
      { label: 'base', runs: repeats([1], { acc: [0.8] }) },
      { label: 'new', runs: repeats([1], { acc: [0.9] }) },
    ]);
    expect(codes(r).filter((c) => c === 'single-run')).toHaveLength(2);
    expect(r.flags[0]!.message).toContain('"base" has a single run: there is no estimate of run-to-run noise');
    const d = r.metrics[0]!.differences[0]!;
    expect(d).toMatchObject({ test: 'none', p: null, pAdjusted: null, interval: null, insideNoise: null, significant: null });
    expect(d.estimate).toBeCloseTo(0.1, 12);
    expect(r.metrics[0]!.summaries[0]).toMatchObject({ singleRun: true, interval: null });
  });

  it('inside-noise: a small difference inside the interval, or inside the spread when one side has one run', () => {
    const r = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'new', runs: repeats([1, 2, 3], { acc: [0.81, 0.8, 0.8] }) },
    ]);
    const flag = r.flags.find((f) => f.code === 'inside-noise')!;
    expect(flag).toMatchObject({ metric: 'acc', groups: ['base', 'new'] });
    expect(flag.message).toMatch(/^acc: "new" differs from "base" by \+0\.00333, but its 95% interval \(.* to .*\) includes 0/);

    const single = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'new', runs: repeats([4], { acc: [0.805] }) },
    ]);
    expect(single.metrics[0]!.differences[0]!.insideNoise).toBe(true);
    expect(single.flags.find((f) => f.code === 'inside-noise')!.message).toContain('smaller than the run-to-run spread');
  });

  it('data-differs: names the file that changed between the sides, and spots evaluation sets', () => {
    const withTest = (content: string) => (e: RunEnvelope): RunEnvelope => ({
      ...e,
      inputs: [...e.inputs, { path: 'data/test.csv', sha256: e.inputs[0]!.sha256.replace(/^./, content), bytes: 10 }],
    });
    const r = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc).map(withTest('a')) },
      { label: 'new', runs: repeats([1, 2, 3], acc, { inputContent: 'tenure,plan,churned\n2,basic,0\n' }).map(withTest('b')) },
    ]);
    const data = r.flags.filter((f) => f.code === 'data-differs');
    expect(data.map((f) => f.message.match(/: (\S+) differs/)?.[1])).toEqual(['data/churn.csv', 'data/test.csv']);
    expect(data[1]!.message).toContain('looks like evaluation data');
    expect(data[0]!.message).not.toContain('evaluation');
  });

  it('data-differs within a group, and not for a file that was only renamed', () => {
    const base = repeats([1, 2, 3], acc);
    base[2] = run({ seed: 3, metrics: { acc: 0.79 }, inputContent: 'other' });
    const renamed = repeats([1, 2, 3], acc).map((e) => ({ ...e, inputs: e.inputs.map((f) => ({ ...f, path: 'data/churn_v1.csv' })) }));
    const r = compareRuns([{ label: 'base', runs: base.slice(0, 2) }, { label: 'moved', runs: renamed }]);
    expect(codes(r)).not.toContain('data-differs');
    const within = compareRuns([{ label: 'base', runs: base }]);
    expect(within.flags.find((f) => f.code === 'data-differs')!.message).toMatch(/The runs of "base" did not all read the same data\/churn\.csv \(2 versions/);
  });

  it('packages-differ: names the packages and versions', () => {
    const upgraded = { pandas: '1.5.3', numpy: '1.24.2', 'scikit-learn': '1.3.0' };
    const r = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'new', runs: repeats([1, 2, 3], acc, { packages: upgraded }) },
    ]);
    const flag = r.flags.find((f) => f.code === 'packages-differ')!;
    expect(flag.message).toContain('scikit-learn 1.2.1 ("base") vs 1.3.0 ("new")');
    expect(flag.message).not.toContain('pandas');
  });

  it('code-differs: a warning within a group, information between sides that only changed code', () => {
    const edited = [...DEFAULT_CELLS.slice(0, 4), 'model.fit(X_train, y_train, sample_weight=w)'];
    const mixed = repeats([1, 2, 3], acc);
    mixed[1] = run({ seed: 2, cells: edited, metrics: { acc: 0.81 } });
    const within = compareRuns([{ label: 'base', runs: mixed }]);
    expect(within.flags.find((f) => f.code === 'code-differs')).toMatchObject({ severity: 'warning' });
    expect(within.flags.find((f) => f.code === 'code-differs')!.message).toContain('2 different versions of the code');

    const codeOnly = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'weighted', runs: repeats([1, 2, 3], acc, { cells: edited }) },
    ]);
    expect(codeOnly.flags.find((f) => f.code === 'code-differs')).toMatchObject({ severity: 'info' });
    expect(codeOnly.flags.find((f) => f.code === 'code-differs')!.message).toContain('1 cell differs) with the same params');
  });

  it('code-differs: a warning when code and params changed together, except for the parameters cell alone', () => {
    const deeperCells = [DEFAULT_CELLS[0]!, 'n_estimators = 100\nmax_depth = 8', ...DEFAULT_CELLS.slice(2)];
    const paramsCell = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'deeper', runs: repeats([1, 2, 3], acc, { cells: deeperCells, params: { n_estimators: 100, max_depth: 8 } }) },
    ]);
    expect(paramsCell.flags.find((f) => f.code === 'code-differs')).toMatchObject({ severity: 'info' });
    expect(paramsCell.flags.find((f) => f.code === 'code-differs')!.message).toContain('only the parameters cell differs (max_depth)');

    const both = [...deeperCells.slice(0, 4), 'model.fit(X_train, y_train, sample_weight=w)'];
    const r = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3], acc) },
      { label: 'deeper+weights', runs: repeats([1, 2, 3], acc, { cells: both, params: { n_estimators: 100, max_depth: 8 } }) },
    ]);
    const flag = r.flags.find((f) => f.code === 'code-differs')!;
    expect(flag.severity).toBe('warning');
    expect(flag.message).toContain('changed both the code (2 cells differ) and the params (max_depth)');
  });

  it('params-differ-within-group: names the params, ignores the seed', () => {
    const runs = [
      run({ seed: 1, params: { max_depth: 6, seed: 1 }, metrics: { acc: 0.8 } }),
      run({ seed: 2, params: { max_depth: 8, seed: 2 }, metrics: { acc: 0.82 } }),
    ];
    const r = compareRuns([{ label: 'mixed', runs }]);
    const flags = r.flags.filter((f) => f.code === 'params-differ-within-group');
    expect(flags).toHaveLength(1);
    expect(flags[0]!.message).toContain('max_depth (6, 8)');
    expect(flags[0]!.message).not.toContain('seed (');
  });

  it('runs-excluded and metric-missing: failed runs are left out, missing metrics counted', () => {
    const runs = repeats([1, 2, 3], acc);
    runs.push(run({ seed: 4, status: 'failed', metrics: { acc: 0.1 } }));
    const { metrics: _dropped, ...rest } = runs[0]!;
    runs[0] = { ...rest, metrics: { other: { value: 1 } } };
    const r = compareRuns([{ label: 'base', runs }], { metrics: ['acc'] });
    expect(r.groups[0]!.excludedRunIds).toEqual([runs[3]!.id]);
    expect(r.flags.find((f) => f.code === 'runs-excluded')!.message).toBe('1 run of "base" did not succeed and is left out; 3 successful runs remain.');
    expect(r.flags.find((f) => f.code === 'metric-missing')!.message).toBe('acc is missing in 1 of 3 runs of "base": its summary uses the other 2.');
    expect(r.metrics[0]!.summaries[0]).toMatchObject({ n: 2, missing: 1 });
  });

  it('raises no flag for a clean comparison', () => {
    const r = compareRuns([
      { label: 'base', runs: repeats([1, 2, 3, 4, 5], { acc: [0.8, 0.81, 0.79, 0.8, 0.805] }) },
      { label: 'new', runs: repeats([1, 2, 3, 4, 5], { acc: [0.85, 0.86, 0.845, 0.85, 0.857] }) },
    ]);
    expect(r.flags).toEqual([]);
    expect(r.metrics[0]!.differences[0]).toMatchObject({ test: 'paired-t', direction: 'higher', significant: true, insideNoise: false });
  });
});

describe('groupRuns', () => {
  it('groups by the envelope group, else by code and params without the seed', () => {
    const a = repeats([1, 2], acc2(), { params: { max_depth: 6, seed: 1 } });
    const b = repeats([1, 2], acc2(), { params: { max_depth: 8 } });
    const named = repeats([1, 2], acc2(), { group: 'sweep-1', params: { max_depth: 3 } });
    const edited = repeats([1], acc2(), { params: { max_depth: 6 }, cells: [...DEFAULT_CELLS, '# more'] });
    // Seeds as params differ per run but must not split the group.
    a[1] = { ...a[1]!, params: { max_depth: 6, seed: 2 } };
    const groups = groupRuns([b[1]!, named[0]!, a[0]!, edited[0]!, a[1]!, b[0]!, named[1]!]);
    expect(groups.map((g) => g.runs.length)).toEqual([2, 2, 2, 1]);
    expect(groups.map((g) => g.label)).toEqual([
      `max_depth=6, code ${a[0]!.source.sha256.slice(0, 7)}`,
      `max_depth=8, code ${a[0]!.source.sha256.slice(0, 7)}`,
      'sweep-1',
      `max_depth=6, code ${edited[0]!.source.sha256.slice(0, 7)}`,
    ]);
    expect(groups[0]!.runs.map((r) => r.id)).toEqual([a[0]!.id, a[1]!.id]);
  });

  function acc2(): Record<string, number[]> {
    return { acc: [0.8, 0.81] };
  }
});

describe('usage errors', () => {
  const runs = repeats([1, 2], { acc: [0.8, 0.81] });
  it.each([
    ['at least one group', [], {}],
    ['baseline must be one of the 1 groups', [{ label: 'a', runs }], { baseline: 1 }],
    ['Two groups are called "a"', [{ label: 'a', runs }, { label: 'a', runs }], {}],
    ['"a" has no runs', [{ label: 'a', runs: [] }], {}],
    ['No successful run logged f1. Logged metrics: acc.', [{ label: 'a', runs }], { metrics: ['f1'] }],
    ['between 0 and 1', [{ label: 'a', runs }], { confidence: 95 }],
  ] as const)('says "%s"', (message, groups, options) => {
    expect(() => compareRuns(groups as never, options)).toThrow(UserError);
    expect(() => compareRuns(groups as never, options)).toThrow(message);
  });
});

describe('speed', () => {
  it('compares 100 runs × 20 metrics in well under a second', () => {
    const metricNames = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const groups = Array.from({ length: 5 }, (_, g) => ({
      label: `g${g}`,
      runs: Array.from({ length: 20 }, (_, s) =>
        run({ seed: s, params: { depth: g }, metrics: Object.fromEntries(metricNames.map((m, k) => [m, 0.5 + 0.01 * g + 0.001 * Math.sin(s * 7 + k)])) }),
      ),
    }));
    compareRuns(groups); // warm-up
    const start = performance.now();
    const r = compareRuns(groups);
    const elapsed = performance.now() - start;
    expect(r.metrics).toHaveLength(20);
    expect(r.metrics[0]!.differences).toHaveLength(4);
    // Measured ~10 ms here; the bound only catches a quadratic or worse regression.
    expect(elapsed).toBeLessThan(500);
  });
});

describe('rounding noise', () => {
  it('treats differences that are equal up to floating-point rounding as zero spread', () => {
    const result = pairedTTest([0.81, 0.83, 0.82], [0.84, 0.86, 0.85]);
    expect(result.t).toBeNull();
    expect(result.effectSize).toBeNull();
    expect(result.interval![0]).toBeCloseTo(0.03, 12);
  });
});
