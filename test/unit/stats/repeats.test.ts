/**
 * Seeds wherever they come from (a notebook param, a `-p` override, an estimator's autologged
 * random_state, recorded seeds) are set aside when grouping; exact duplicates are flagged and
 * counted once; a row without a test never reads "not significant". The runs are shaped like
 * real tracked runs of examples/churn (params and paramSources as the tracker writes them).
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue, RunEnvelope } from '../../../src/core/envelope';
import { renderComparison } from '../../../src/core/render/compareText';
import { compareView } from '../../../src/core/render/compareView';
import { compareRuns, groupRuns } from '../../../src/core/stats/compare';
import { distinctRuns, duplicateKey, isSeedParam, paramBaseName, repetitionKey, shortParamNames } from '../../../src/core/stats/repeats';
import { makeEnvelope } from '../../fixtures/envelopes';

let clock = Date.parse('2026-12-03T09:00:00Z');

/** A tracked run of churn.ipynb: notebook params, an override or two, and the forest's autologged params. */
function churnRun(options: { maxDepth: number; seed: number; accuracy: number; overrides?: string[]; inputContent?: string; unseeded?: boolean }): RunEnvelope {
  clock += 60_000;
  const params: Record<string, JsonValue> = {
    n_estimators: 200,
    max_depth: options.maxDepth,
    test_size: 0.25,
    seed: options.seed,
    'RandomForestClassifier.max_depth': options.maxDepth,
    'RandomForestClassifier.n_estimators': 200,
    'RandomForestClassifier.random_state': options.seed,
    'RandomForestClassifier.criterion': 'gini',
  };
  const base = makeEnvelope({ startedAt: new Date(clock), params, seed: options.seed, metrics: { accuracy: options.accuracy, f1: options.accuracy - 0.3 }, ...(options.inputContent ? { inputContent: options.inputContent } : {}) });
  const overrides = new Set(options.overrides ?? []);
  return {
    ...base,
    paramSources: Object.fromEntries(Object.keys(params).map((k) => [k, k.includes('.') ? 'autolog' : overrides.has(k) ? 'override' : 'notebook'])),
    seeds: [
      { library: 'numpy', value: options.seed, location: 'cell 7, line 1' },
      { library: 'sklearn', value: options.seed, location: 'cell 7, line 2' },
    ],
    unseeded: options.unseeded ? [{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 9, line 1' }] : [],
  };
}

describe('seed-like params', () => {
  it('recognises seeds under an estimator prefix and with a prefix of their own', () => {
    for (const name of ['seed', 'SEED', 'random_state', 'random_seed', 'fold', 'RandomForestClassifier.random_state', 'XGBClassifier.seed', 'pipeline.clf.random_state', 'split_seed', 'model_random_state']) {
      expect(isSeedParam(name), name).toBe(true);
    }
    for (const name of ['max_depth', 'n_seeds', 'seeded', 'RandomForestClassifier.max_depth', 'seed_words', 'random_state_size']) {
      expect(isSeedParam(name), name).toBe(false);
    }
    expect(paramBaseName('pipeline.clf.random_state')).toBe('random_state');
  });
});

describe('grouping runs that vary the seed (examples/churn: two params, three seeds)', () => {
  const runs = [
    churnRun({ maxDepth: 8, seed: 1, accuracy: 0.772, overrides: ['seed'] }),
    churnRun({ maxDepth: 8, seed: 2, accuracy: 0.781, overrides: ['seed'] }),
    churnRun({ maxDepth: 8, seed: 3, accuracy: 0.776, overrides: ['seed'] }),
    churnRun({ maxDepth: 12, seed: 1, accuracy: 0.761, overrides: ['seed', 'max_depth'] }),
    churnRun({ maxDepth: 12, seed: 2, accuracy: 0.768, overrides: ['seed', 'max_depth'] }),
    churnRun({ maxDepth: 12, seed: 3, accuracy: 0.765, overrides: ['seed', 'max_depth'] }),
  ];

  it('makes two groups of three, labelled by the one param that differs, without the estimator prefix', () => {
    const groups = groupRuns(runs);
    expect(groups.map((g) => g.label)).toEqual(['max_depth=8', 'max_depth=12']);
    expect(groups.map((g) => g.runs.length)).toEqual([3, 3]);
  });

  it('compares them with a paired test over the seeds, each side n=3 with an interval', () => {
    const comparison = compareRuns(groupRuns(runs), { metrics: ['accuracy'] });
    const [base, deep] = comparison.metrics[0]!.summaries;
    expect(base).toMatchObject({ n: 3 });
    expect(deep).toMatchObject({ n: 3 });
    expect(base!.interval).not.toBeNull();
    const d = comparison.metrics[0]!.differences[0]!;
    expect(d.test).toBe('paired-t');
    expect(d.pairedBy).toBe('params RandomForestClassifier.random_state, seed');
    expect(d.nBaseline).toBe(3);
    expect(comparison.flags.map((f) => f.code)).not.toContain('single-run');
  });

  it('lets a seed recorded only by the tracker (no seed param) vary within a group too', () => {
    const noParam = [1, 2, 3].map((seed) => {
      const r = churnRun({ maxDepth: 8, seed, accuracy: 0.77 + seed / 1000 });
      const params = Object.fromEntries(Object.entries(r.params).filter(([k]) => !isSeedParam(k)));
      return { ...r, params };
    });
    const groups = groupRuns(noParam);
    expect(groups).toHaveLength(1);
    expect(new Set(noParam.map(repetitionKey)).size).toBe(3);
    expect(compareRuns(groups).flags.map((f) => f.code)).not.toContain('duplicate-runs');
  });
});

describe('duplicates', () => {
  it('flags two identical seed-42 runs, counts them once and says "no test", not "not significant"', () => {
    const twins = [churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7787 }), churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7787 })];
    const other = [churnRun({ maxDepth: 12, seed: 42, accuracy: 0.75 })];
    expect(duplicateKey(twins[0]!)).toBe(duplicateKey(twins[1]!));
    const comparison = compareRuns(groupRuns([...twins, ...other]), { metrics: ['accuracy'] });
    expect(comparison.groups[0]).toMatchObject({ runIds: [twins[0]!.id], duplicates: [{ runId: twins[1]!.id, sameAs: twins[0]!.id }] });
    const summary = comparison.metrics[0]!.summaries[0]!;
    expect(summary).toMatchObject({ n: 1, interval: null }); // not n=2 with [0.7787, 0.7787]
    const flag = comparison.flags.find((f) => f.code === 'duplicate-runs')!;
    expect(flag.message).toContain('1 run of "max_depth=8" repeats an earlier run exactly (same code, params, seeds and data), so it counts once');
    expect(flag.message).not.toContain('Yet their metrics differ');

    const d = comparison.metrics[0]!.differences[0]!;
    expect(d.test).toBe('none');
    expect(d.verdict).toBe('no-test');
    const view = compareView(comparison, [...twins, ...other]);
    expect(view.metrics[0]!.rows.map((r) => r.verdict)).toEqual(['baseline', 'no-test']);
    const text = renderComparison(comparison);
    expect(text).toContain('max_depth=8 (baseline): 1 run (+1 duplicate counted once)');
    expect(text).toMatch(/max_depth=12 .*no test$/m);
    expect(text).not.toContain('not significant');
  });

  it('says when duplicates disagree on a metric: something random went unseeded', () => {
    const twins = [churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7787 }), churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7801 })];
    const flag = compareRuns(groupRuns(twins)).flags.find((f) => f.code === 'duplicate-runs')!;
    expect(flag.message).toContain('Yet their metrics differ (accuracy 0.779 vs 0.78');
  });

  it('is not fooled: other data, other seeds or unseeded randomness make a repeat, not a duplicate', () => {
    const a = churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7787 });
    const otherData = churnRun({ maxDepth: 8, seed: 42, accuracy: 0.7787, inputContent: 'tenure,plan,churned\n3,pro,1\n' });
    const otherSeed = churnRun({ maxDepth: 8, seed: 43, accuracy: 0.7787 });
    const unseeded = [churnRun({ maxDepth: 8, seed: 42, accuracy: 0.77, unseeded: true }), churnRun({ maxDepth: 8, seed: 42, accuracy: 0.78, unseeded: true })];
    expect(distinctRuns([a, otherData, otherSeed, ...unseeded]).duplicates).toEqual([]);
    const script = (args: string[]): RunEnvelope => ({ ...a, id: `${a.id.slice(0, 25)}${args.length}`, source: { ...a.source, command: ['python', 'train.py', ...args] } });
    expect(distinctRuns([script(['--fast']), script([])]).duplicates).toEqual([]);
  });

  it('keeps the earliest run of a set of duplicates', () => {
    const runs = [churnRun({ maxDepth: 8, seed: 1, accuracy: 0.7 }), churnRun({ maxDepth: 8, seed: 1, accuracy: 0.7 }), churnRun({ maxDepth: 8, seed: 1, accuracy: 0.7 })];
    const { distinct, duplicates } = distinctRuns(runs);
    expect(distinct.map((r) => r.id)).toEqual([runs[0]!.id]);
    expect(duplicates.map((d) => d.sameAs)).toEqual([runs[0]!.id, runs[0]!.id]);
  });
});

describe('short labels', () => {
  it('drops the estimator prefix unless two params would look alike, and shows a repeated knob once', () => {
    const vectors: Record<string, string[]> = {
      max_depth: ['8', '12'],
      'RandomForestClassifier.max_depth': ['8', '12'],
      'GradientBoostingClassifier.learning_rate': ['0.1', '0.3'],
      'XGBClassifier.learning_rate': ['0.05', '0.2'],
    };
    const shown = shortParamNames(Object.keys(vectors), (name) => vectors[name]!);
    expect(shown).toEqual([
      { name: 'GradientBoostingClassifier.learning_rate', label: 'GradientBoostingClassifier.learning_rate' },
      { name: 'XGBClassifier.learning_rate', label: 'XGBClassifier.learning_rate' },
      { name: 'max_depth', label: 'max_depth' },
    ]);
    expect(shortParamNames(['RandomForestClassifier.min_samples_leaf'], () => ['1', '5'])).toEqual([{ name: 'RandomForestClassifier.min_samples_leaf', label: 'min_samples_leaf' }]);
  });
});
