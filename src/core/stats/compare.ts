/**
 * Honest comparison of tracked runs: repeated runs of one configuration are summarised with
 * their noise (mean, SE, t-interval), candidates are compared with a baseline by a paired
 * t-test when the runs share seeds or folds and by Welch's t-test otherwise, p-values are
 * Holm-corrected over the candidates, and the usual leaderboard traps are named in words.
 *
 * Pure functions over envelopes; the result is plain JSON (finite numbers or null, no
 * undefined, no Infinity) so the webview can render it and the CLI print it as is.
 *
 * Pairing key (see `pairingKey`): a run's seed-like params (`seed`, `random_state`, `fold`, …)
 * when every run of both sides has the same such params; otherwise the seed values the tracker
 * recorded (library and location ignored: moving the seed call or switching numpy's legacy
 * seeding to a Generator keeps the seed). Two sides are paired only when the keys match one to
 * one; anything else falls back to Welch's test, and the result says why.
 */
import type { JsonValue, RunEnvelope } from '../envelope';
import { diffRuns } from '../diff';
import { UserError } from '../errors';
import { describeSample, mean, sampleVariance, tCritical, type SampleSummary } from './describe';
import { canonical, configurationKey, distinctRuns, type DuplicateRun, isSeedParam, shortParamNames } from './repeats';
import { logGamma, studentTTwoSided } from './special';

export { isSeedParam, SEED_PARAM_NAMES } from './repeats';

export interface RunGroup {
  label: string;
  runs: RunEnvelope[];
}

export interface CompareOptions {
  /** Index of the baseline group; 0 by default. */
  baseline?: number;
  /** Metrics to compare, in this order; by default every metric any run logged, sorted. */
  metrics?: readonly string[];
  /** Confidence level of the intervals; 0.95 by default. */
  confidence?: number;
}

export type TestKind = 'paired-t' | 'welch-t' | 'none';

export interface EffectSize {
  /** Cohen's d_z (mean difference / sd of the differences) for paired runs; Hedges' g (bias-corrected, pooled sd) otherwise. */
  name: 'cohen-dz' | 'hedges-g';
  value: number;
}

export interface TestResult {
  test: TestKind;
  /** Candidate − baseline: the mean of the paired differences, or the difference of the means. */
  estimate: number | null;
  se: number | null;
  df: number | null;
  /** Null when the spread is zero (the statistic would be infinite) or there is no test. */
  t: number | null;
  /** Two-sided. With zero spread: 1 when the estimate is 0, else 0. */
  p: number | null;
  interval: [number, number] | null;
  effectSize: EffectSize | null;
}

export interface GroupMetricSummary extends SampleSummary {
  group: string;
  /** One run: there is no estimate of the noise, so no interval. */
  singleRun: boolean;
  /** Runs of the group that did not log this metric. */
  missing: number;
}

export interface MetricDifference extends TestResult {
  group: string;
  baseline: string;
  /** Which test was used and why, in words. */
  reason: string;
  /** The pairing key used (e.g. `param seed`, `recorded seeds`), or null when unpaired. */
  pairedBy: string | null;
  /** Runs used on each side (for a paired test, the number of pairs on both). */
  nBaseline: number;
  nCandidate: number;
  /** Holm-adjusted over the candidates compared with the baseline on this metric. */
  pAdjusted: number | null;
  /** Sign of the estimate; whether higher is better depends on the metric and is left to the reader. */
  direction: 'higher' | 'lower' | 'equal' | null;
  /** The interval includes 0 or, with no interval, the difference is within one sd of the runs. */
  insideNoise: boolean | null;
  /** pAdjusted below 1 − confidence. */
  significant: boolean | null;
  /**
   * What a reader may conclude, in this order: no test was possible (never "not significant":
   * nothing was tested), the difference is inside the noise, it is significant, or it is not.
   */
  verdict: Verdict;
}

export type Verdict = 'no-test' | 'inside-noise' | 'significant' | 'not-significant';

export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  'no-test': 'no test',
  'inside-noise': 'inside the noise',
  significant: 'real difference',
  'not-significant': 'not significant',
};

export interface MetricComparison {
  metric: string;
  /** One per group, in group order. */
  summaries: GroupMetricSummary[];
  /** One per candidate (every group but the baseline), in group order. */
  differences: MetricDifference[];
}

export interface ParamRow {
  name: string;
  /** Distinct values per group, in group order (a run without the param adds nothing here). */
  values: JsonValue[][];
  /** Runs per group that do not set the param. */
  missing: number[];
  /** The sets of values (absence included) are not the same in every group. */
  differs: boolean;
  /** A seed or fold: expected to vary within a group. */
  seedLike: boolean;
}

export type FlagCode =
  | 'single-run'
  | 'inside-noise'
  | 'no-spread'
  | 'data-differs'
  | 'code-differs'
  | 'packages-differ'
  | 'params-differ-within-group'
  | 'metric-missing'
  | 'runs-excluded'
  | 'duplicate-runs';

export interface ComparisonFlag {
  code: FlagCode;
  /** `warning`: the numbers may mislead; `info`: worth knowing, not a trap. */
  severity: 'warning' | 'info';
  message: string;
  /** Labels of the groups concerned. */
  groups: string[];
  metric: string | null;
}

export interface ComparedGroup {
  label: string;
  /** Successful runs used, oldest first. */
  runIds: string[];
  /** Runs left out because they did not succeed. */
  excludedRunIds: string[];
  /** Succeeded runs left out because they repeat an earlier run of the group exactly (same code, params, seeds, data). */
  duplicates: DuplicateRun[];
}

export interface Comparison {
  confidence: number;
  baseline: string;
  baselineIndex: number;
  groups: ComparedGroup[];
  metrics: MetricComparison[];
  params: ParamRow[];
  flags: ComparisonFlag[];
}

// ---------------------------------------------------------------------------------------------
// Tests

function noTest(estimate: number | null): TestResult {
  return { test: 'none', estimate, se: null, df: null, t: null, p: null, interval: null, effectSize: null };
}

/** Zero spread: the t statistic is infinite (or 0/0); report the shift as exact and say so in a flag. */
function noSpread(test: TestKind, estimate: number, df: number): TestResult {
  return { test, estimate, se: 0, df, t: null, p: estimate === 0 ? 1 : 0, interval: [estimate, estimate], effectSize: null };
}

/** Paired t-test of candidate − baseline; the arrays are aligned pair by pair. */
export function pairedTTest(baseline: readonly number[], candidate: readonly number[], confidence = 0.95): TestResult {
  if (baseline.length !== candidate.length) throw new Error('pairedTTest: the two sides must have the same length');
  const n = baseline.length;
  const diffs = new Array<number>(n);
  for (let i = 0; i < n; i++) diffs[i] = candidate[i]! - baseline[i]!;
  if (n === 0) return noTest(null);
  const estimate = mean(diffs);
  if (n === 1) return noTest(estimate);
  const sd = Math.sqrt(sampleVariance(diffs, estimate));
  const df = n - 1;
  if (isRoundingNoise(sd, diffs)) return noSpread('paired-t', estimate, df);
  const se = sd / Math.sqrt(n);
  const t = estimate / se;
  const half = tCritical(confidence, df) * se;
  return {
    test: 'paired-t',
    estimate,
    se,
    df,
    t,
    p: studentTTwoSided(t, df),
    interval: [estimate - half, estimate + half],
    effectSize: { name: 'cohen-dz', value: estimate / sd },
  };
}

/**
 * A spread that is only floating-point rounding: 0.84 − 0.81 and 0.86 − 0.83 differ in the last
 * bits, which would otherwise give t ≈ 1e14 and an absurd effect size. Relative to the values'
 * magnitude, well above double rounding (1e-16) and far below any real run-to-run noise.
 */
function isRoundingNoise(sd: number, values: readonly number[]): boolean {
  let scale = 0;
  for (const value of values) scale = Math.max(scale, Math.abs(value));
  return sd <= 1e-12 * Math.max(scale, Number.MIN_VALUE);
}

/** Hedges' exact small-sample correction J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)). */
function hedgesCorrection(nu: number): number {
  return Math.exp(logGamma(nu / 2) - logGamma((nu - 1) / 2)) / Math.sqrt(nu / 2);
}

/** Welch's unequal-variance t-test of mean(candidate) − mean(baseline), Welch–Satterthwaite df. */
export function welchTTest(baseline: readonly number[], candidate: readonly number[], confidence = 0.95): TestResult {
  const n1 = baseline.length;
  const n2 = candidate.length;
  if (n1 === 0 || n2 === 0) return noTest(null);
  const m1 = mean(baseline);
  const m2 = mean(candidate);
  const estimate = m2 - m1;
  if (n1 < 2 || n2 < 2) return noTest(estimate);
  const s1 = sampleVariance(baseline, m1);
  const s2 = sampleVariance(candidate, m2);
  const v1 = s1 / n1;
  const v2 = s2 / n2;
  const se = Math.sqrt(v1 + v2);
  if (isRoundingNoise(Math.sqrt(s1), baseline) && isRoundingNoise(Math.sqrt(s2), candidate)) return noSpread('welch-t', estimate, n1 + n2 - 2);
  const df = ((v1 + v2) * (v1 + v2)) / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1));
  const t = estimate / se;
  const half = tCritical(confidence, df) * se;
  const pooled = Math.sqrt(((n1 - 1) * s1 + (n2 - 1) * s2) / (n1 + n2 - 2));
  return {
    test: 'welch-t',
    estimate,
    se,
    df,
    t,
    p: studentTTwoSided(t, df),
    interval: [estimate - half, estimate + half],
    effectSize: { name: 'hedges-g', value: (hedgesCorrection(n1 + n2 - 2) * estimate) / pooled },
  };
}

/**
 * Holm's step-down adjustment (as statsmodels' multipletests(method='holm')): sorted ascending,
 * p₍ᵢ₎·(m − i + 1), made monotone by a running maximum, capped at 1. Nulls are not tests: they
 * stay null and do not count in m.
 */
export function holmAdjust(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const order: number[] = [];
  for (let i = 0; i < pValues.length; i++) if (pValues[i] !== null) order.push(i);
  order.sort((a, b) => pValues[a]! - pValues[b]! || a - b);
  const adjusted: Array<number | null> = pValues.map(() => null);
  const m = order.length;
  let running = 0;
  for (let rank = 0; rank < m; rank++) {
    const i = order[rank]!;
    running = Math.max(running, Math.min(1, (m - rank) * pValues[i]!));
    adjusted[i] = running;
  }
  return adjusted;
}

// ---------------------------------------------------------------------------------------------
// Pairing and grouping

function seedParamNames(run: RunEnvelope): string[] {
  return Object.keys(run.params).filter(isSeedParam).sort();
}

export interface PairingKey {
  key: string;
  /** `param seed`, `params fold, seed` or `recorded seeds`. */
  by: string;
}

/**
 * What identifies a run's repetition: its seed-like params when `useParams` (the default when the
 * run has any), else the distinct recorded seed values. Null when the run records neither.
 */
export function pairingKey(run: RunEnvelope, useParams = seedParamNames(run).length > 0): PairingKey | null {
  if (useParams) {
    const names = seedParamNames(run);
    if (names.length === 0) return null;
    return {
      key: names.map((name) => `${name}=${canonical(run.params[name])}`).join('&'),
      by: `${names.length === 1 ? 'param' : 'params'} ${names.join(', ')}`,
    };
  }
  if (run.seeds.length === 0) return null;
  const values = [...new Set(run.seeds.map((s) => canonical(s.value)))].sort();
  return { key: values.join(','), by: 'recorded seeds' };
}

export type Pairing = { ok: true; by: string; pairs: Array<[RunEnvelope, RunEnvelope]> } | { ok: false; reason: string };

function listKeys(keys: string[]): string {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

/** Matches the runs of two sides one to one by pairing key, or says why they cannot be matched. */
export function pairRuns(baseline: RunGroup, candidate: RunGroup): Pairing {
  const all = [...baseline.runs, ...candidate.runs];
  // Params only when every run has the same seed-like params: a key must mean the same on both sides.
  const names = all.map((run) => seedParamNames(run).join(','));
  const useParams = names[0] !== undefined && names[0] !== '' && names.every((n) => n === names[0]);
  const keyed = (group: RunGroup): Map<string, RunEnvelope> | string => {
    const map = new Map<string, RunEnvelope>();
    const counts = new Map<string, number>();
    for (const run of group.runs) {
      const key = pairingKey(run, useParams);
      if (!key) return `some runs of "${group.label}" record no seed, so they cannot be matched to the other side`;
      counts.set(key.key, (counts.get(key.key) ?? 0) + 1);
      map.set(key.key, run);
    }
    for (const [key, count] of counts) {
      if (count > 1) return `seed ${key} appears in ${count} runs of "${group.label}", so runs cannot be matched one to one`;
    }
    return map;
  };
  const a = keyed(baseline);
  if (typeof a === 'string') return { ok: false, reason: a };
  const b = keyed(candidate);
  if (typeof b === 'string') return { ok: false, reason: b };
  const onlyA = [...a.keys()].filter((k) => !b.has(k));
  const onlyB = [...b.keys()].filter((k) => !a.has(k));
  if (onlyA.length || onlyB.length) {
    const what = useParams ? '' : 'seeds ';
    const sides = [
      onlyA.length ? `${what}${listKeys(onlyA)} only in "${baseline.label}"` : null,
      onlyB.length ? `${what}${listKeys(onlyB)} only in "${candidate.label}"` : null,
    ].filter((s): s is string => s !== null);
    return { ok: false, reason: `the two sides did not run on the same seeds (${sides.join('; ')})` };
  }
  const by = useParams ? pairingKey(all[0]!, true)!.by : 'recorded seeds';
  return { ok: true, by, pairs: [...a].map(([key, run]) => [run, b.get(key)!]) };
}

/**
 * Groups a flat list of runs: by the envelope's `group` when set, else by code hash plus params
 * without the seed-like ones (`seed`, an estimator's autologged `random_state`, …: see
 * repeats.ts). Groups are ordered by their oldest run, runs oldest first. Labels are the group
 * name, or the params (and code) that tell the automatic groups apart, short: only the params
 * that differ, without the estimator prefix unless two params would look alike, a param that the
 * estimator's autolog repeats shown once.
 */
export function groupRuns(runs: readonly RunEnvelope[]): RunGroup[] {
  const byKey = new Map<string, RunEnvelope[]>();
  for (const run of runs) {
    const key = configurationKey(run);
    const list = byKey.get(key);
    if (list) list.push(run);
    else byKey.set(key, [run]);
  }
  const groups = [...byKey.values()].map((list) => list.sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.id.localeCompare(y.id)));
  groups.sort((x, y) => x[0]!.startedAt.localeCompare(y[0]!.startedAt) || x[0]!.id.localeCompare(y[0]!.id));

  // Params and code that vary between the automatic groups make their labels.
  const auto = groups.filter((g) => g[0]!.group === null);
  const paramNames = [...new Set(auto.flatMap((g) => Object.keys(g[0]!.params)))].filter((k) => !isSeedParam(k)).sort();
  const valuesOf = (k: string) => auto.map((g) => canonical(g[0]!.params[k]));
  const varying = shortParamNames(paramNames.filter((k) => new Set(valuesOf(k)).size > 1), valuesOf);
  const codeVaries = new Set(auto.map((g) => g[0]!.source.sha256)).size > 1;
  const used = new Set<string>();
  return groups.map((list) => {
    const first = list[0]!;
    let label: string;
    if (first.group !== null) label = first.group;
    else {
      const parts = varying.filter(({ name }) => name in first.params).map(({ name, label }) => `${label}=${formatJson(first.params[name]!)}`);
      if (codeVaries) parts.push(`code ${first.source.sha256.slice(0, 7)}`);
      label = parts.length ? parts.join(', ') : first.name;
    }
    let unique = label;
    for (let i = 2; used.has(unique); i++) unique = `${label} (${i})`;
    used.add(unique);
    return { label: unique, runs: list };
  });
}

// ---------------------------------------------------------------------------------------------
// Formatting for messages

function formatNumber(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e6) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

function formatSigned(x: number): string {
  return x > 0 ? `+${formatNumber(x)}` : formatNumber(x);
}

function formatJson(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function quoteList(labels: string[]): string {
  return labels.map((l) => `"${l}"`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Flags

/** Distinct values per key over the runs of one group, e.g. package → versions. */
function valuesByKey(runs: readonly RunEnvelope[], entries: (run: RunEnvelope) => Array<[string, string]>): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const [key, value] of entries(run)) {
      const set = map.get(key);
      if (set) set.add(value);
      else map.set(key, new Set([value]));
    }
  }
  return map;
}

const inputEntries = (run: RunEnvelope): Array<[string, string]> => run.inputs.map((f) => [f.path, f.sha256]);
const packageEntries = (run: RunEnvelope): Array<[string, string]> => Object.entries(run.environment.packages);

const EVALUATION_PATH = /(^|[^a-z])(test|eval|evaluation|valid|validation|val|holdout|dev)([^a-z]|$)/i;

function sameSet(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.size !== b.size) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

function shortHashes(set: Set<string>): string {
  return [...set].map((h) => h.slice(0, 7)).join('/');
}

function withinGroupFlags(group: RunGroup, flags: ComparisonFlag[]): void {
  const { label, runs } = group;
  if (runs.length < 2) return;
  const push = (code: FlagCode, message: string) => flags.push({ code, severity: 'warning', message, groups: [label], metric: null });

  const codes = new Set(runs.map((r) => r.source.sha256));
  if (codes.size > 1) {
    push('code-differs', `The runs of "${label}" are meant to repeat one configuration but ran ${codes.size} different versions of the code: their spread mixes seed noise with code changes.`);
  }

  const params = new Set<string>();
  for (const run of runs) for (const k of Object.keys(run.params)) if (!isSeedParam(k)) params.add(k);
  const differing: string[] = [];
  for (const name of [...params].sort()) {
    const values = new Set(runs.map((r) => canonical(r.params[name])));
    if (values.size > 1) {
      const shown = [...values].map((v) => (v === '\u0000absent' ? 'unset' : v));
      differing.push(`${name} (${shown.slice(0, 4).join(', ')}${shown.length > 4 ? ', …' : ''})`);
    }
  }
  if (differing.length) {
    push('params-differ-within-group', `The runs of "${label}" do not share their params: ${differing.join('; ')}. A group should only vary the seed; split it, or its spread is not noise.`);
  }

  const inputs = valuesByKey(runs, inputEntries);
  const changed = [...inputs].filter(([path, hashes]) => hashes.size > 1 || runs.some((r) => !r.inputs.some((f) => f.path === path)));
  for (const [path, hashes] of changed) {
    push('data-differs', `The runs of "${label}" did not all read the same ${path} (${hashes.size > 1 ? `${hashes.size} versions: ${shortHashes(hashes)}` : 'some runs did not read it'}): their spread mixes seed noise with a change of data.`);
  }

  const packages = valuesByKey(runs, packageEntries);
  const versions = [...packages].filter(([, v]) => v.size > 1).map(([name, v]) => `${name} ${[...v].sort().join(' / ')}`);
  if (versions.length) push('packages-differ', `The runs of "${label}" used different package versions: ${versions.join(', ')}.`);
}

function betweenSidesFlags(base: RunGroup, cand: RunGroup, flags: ComparisonFlag[]): void {
  if (!base.runs.length || !cand.runs.length) return;
  const groups = [base.label, cand.label];
  const pair = `"${cand.label}" vs "${base.label}"`;

  // Data: a file whose content differs, or read on one side only (unless it was only renamed).
  const a = valuesByKey(base.runs, inputEntries);
  const b = valuesByKey(cand.runs, inputEntries);
  const hashesA = new Set([...a.values()].flatMap((s) => [...s]));
  const hashesB = new Set([...b.values()].flatMap((s) => [...s]));
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const ha = a.get(path);
    const hb = b.get(path);
    if (sameSet(ha, hb)) continue;
    const evaluation = EVALUATION_PATH.test(path)
      ? ' It looks like evaluation data: the scores were not measured on the same examples, so they are not comparable.'
      : ' The comparison mixes the change you made with a change of data.';
    let message: string;
    if (ha && hb) message = `${pair}: ${path} differs between the sides (sha256 ${shortHashes(ha)} vs ${shortHashes(hb)}).${evaluation}`;
    else {
      const [only, hashes, other] = ha ? [base.label, ha, hashesB] : [cand.label, hb!, hashesA];
      if ([...hashes].every((h) => other.has(h))) continue; // same content under another name
      message = `${pair}: ${path} is read only by "${only}".${evaluation}`;
    }
    flags.push({ code: 'data-differs', severity: 'warning', message, groups, metric: null });
  }

  // Packages imported on both sides with different versions.
  const pa = valuesByKey(base.runs, packageEntries);
  const pb = valuesByKey(cand.runs, packageEntries);
  const changed: string[] = [];
  for (const [name, va] of [...pa].sort(([x], [y]) => x.localeCompare(y))) {
    const vb = pb.get(name);
    if (vb && !sameSet(va, vb)) changed.push(`${name} ${[...va].sort().join('/')} ("${base.label}") vs ${[...vb].sort().join('/')} ("${cand.label}")`);
  }
  if (changed.length) {
    flags.push({
      code: 'packages-differ',
      severity: 'warning',
      message: `${pair} ran with different package versions: ${changed.join(', ')}. A difference may come from the upgrade rather than from your change.`,
      groups,
      metric: null,
    });
  }

  // Code: expected when the code is what is compared; a trap when params changed too, unless the
  // only edited cell is the parameters cell (params from the notebook, exactly one cell changed).
  const codeA = new Set(base.runs.map((r) => r.source.sha256));
  const codeB = new Set(cand.runs.map((r) => r.source.sha256));
  if (sameSet(codeA, codeB)) return;
  const repA = base.runs[0]!;
  const repB = cand.runs[0]!;
  const changedCells = diffRuns(repA, repB).cells.length;
  const cellText = changedCells === 1 ? '1 cell differs' : `${changedCells} cells differ`;
  const paramNames = [...new Set([...Object.keys(repA.params), ...Object.keys(repB.params)])].filter((k) => !isSeedParam(k));
  const changedParams = paramNames.filter((k) => canonical(repA.params[k]) !== canonical(repB.params[k]));
  const fromParametersCell = changedParams.every((k) => repA.paramSources?.[k] === 'notebook' && repB.paramSources?.[k] === 'notebook');
  if (changedParams.length === 0) {
    flags.push({ code: 'code-differs', severity: 'info', message: `${pair} ran different code (${cellText}) with the same params: the comparison measures that code change.`, groups, metric: null });
  } else if (changedCells === 1 && fromParametersCell) {
    flags.push({ code: 'code-differs', severity: 'info', message: `${pair}: only the parameters cell differs (${changedParams.join(', ')}).`, groups, metric: null });
  } else {
    flags.push({
      code: 'code-differs',
      severity: 'warning',
      message: `${pair} changed both the code (${cellText}) and the params (${changedParams.join(', ')}): a difference cannot be attributed to either. Change one thing at a time.`,
      groups,
      metric: null,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The comparison

function metricValues(runs: readonly RunEnvelope[], metric: string): number[] {
  const out: number[] = [];
  for (const run of runs) {
    const value = run.metrics[metric]?.value;
    if (value !== undefined && Number.isFinite(value)) out.push(value);
  }
  return out;
}

function confidenceText(confidence: number): string {
  return `${formatNumber(confidence * 100)}%`;
}

function compareMetric(
  metric: string,
  base: RunGroup,
  cand: RunGroup,
  pairing: Pairing,
  confidence: number,
  baseSummary: GroupMetricSummary,
  candSummary: GroupMetricSummary,
): MetricDifference {
  let result: TestResult;
  let reason: string;
  let pairedBy: string | null = null;
  let nBaseline: number;
  let nCandidate: number;
  if (pairing.ok && pairing.pairs.length >= 2) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [ra, rb] of pairing.pairs) {
      const va = ra.metrics[metric]?.value;
      const vb = rb.metrics[metric]?.value;
      if (va !== undefined && vb !== undefined && Number.isFinite(va) && Number.isFinite(vb)) {
        xs.push(va);
        ys.push(vb);
      }
    }
    result = pairedTTest(xs, ys, confidence);
    nBaseline = nCandidate = xs.length;
    pairedBy = pairing.by;
    reason =
      result.test === 'none'
        ? `No test: fewer than 2 matched pairs logged ${metric}.`
        : `Paired t-test: the runs are matched one to one by ${pairing.by}, so seed-to-seed luck cancels out.`;
  } else {
    const xs = metricValues(base.runs, metric);
    const ys = metricValues(cand.runs, metric);
    result = welchTTest(xs, ys, confidence);
    nBaseline = xs.length;
    nCandidate = ys.length;
    const single = [xs.length < 2 ? base.label : null, ys.length < 2 ? cand.label : null].filter((l): l is string => l !== null);
    if (result.test === 'none') reason = `No test: ${quoteList(single)} ${single.length > 1 ? 'have' : 'has'} fewer than 2 runs with ${metric}, so the noise is unknown.`;
    else reason = `Welch's t-test (unpaired, unequal variances): ${pairing.ok ? 'fewer than 2 matched pairs' : pairing.reason}.`;
  }

  const estimate = result.estimate;
  let insideNoise: boolean | null = null;
  if (result.interval) insideNoise = result.interval[0] <= 0 && result.interval[1] >= 0;
  else if (estimate !== null) {
    // No interval (a single run on one side): compare with the other side's run-to-run sd.
    const sd = Math.max(baseSummary.sd ?? -1, candSummary.sd ?? -1);
    if (sd >= 0) insideNoise = Math.abs(estimate) <= sd;
  }
  return {
    group: cand.label,
    baseline: base.label,
    reason,
    pairedBy,
    nBaseline,
    nCandidate,
    ...result,
    pAdjusted: null,
    direction: estimate === null ? null : estimate > 0 ? 'higher' : estimate < 0 ? 'lower' : 'equal',
    insideNoise,
    significant: null,
    verdict: 'no-test',
  };
}

/** Duplicates in one group: which runs, and whether their metrics disagree (then something random went unseeded). */
function duplicateFlag(group: RunGroup, duplicates: readonly DuplicateRun[]): ComparisonFlag {
  const byId = new Map(group.runs.map((r) => [r.id, r]));
  const pairs = duplicates.map((d) => `${d.runId} = ${d.sameAs}`);
  const shown = pairs.length > 3 ? `${pairs.slice(0, 3).join(', ')} and ${pairs.length - 3} more` : pairs.join(', ');
  const disagree: string[] = [];
  for (const d of duplicates) {
    const run = byId.get(d.runId)!;
    const original = byId.get(d.sameAs)!;
    for (const [metric, value] of Object.entries(run.metrics)) {
      const other = original.metrics[metric]?.value;
      if (other !== undefined && other !== value.value && disagree.length < 2) disagree.push(`${metric} ${formatNumber(other)} vs ${formatNumber(value.value)}`);
    }
  }
  const n = duplicates.length;
  const note = disagree.length
    ? ` Yet their metrics differ (${disagree.join('; ')}): something random in the run is not seeded (threads, a GPU, a source nb2prod did not see).`
    : '';
  return {
    code: 'duplicate-runs',
    severity: 'warning',
    message: `${n} run${n > 1 ? 's' : ''} of "${group.label}" repeat${n > 1 ? '' : 's'} an earlier run exactly (same code, params, seeds and data), so ${n > 1 ? 'they count' : 'it counts'} once: ${shown}. Repeats measure run-to-run noise only when the seed changes.${note}`,
    groups: [group.label],
    metric: null,
  };
}

function paramTable(groups: readonly RunGroup[]): ParamRow[] {
  const names = new Set<string>();
  for (const g of groups) for (const run of g.runs) for (const k of Object.keys(run.params)) names.add(k);
  return [...names].sort().map((name) => {
    const values: JsonValue[][] = [];
    const missing: number[] = [];
    const keySets: Array<Set<string>> = [];
    for (const g of groups) {
      const seen = new Map<string, JsonValue>();
      let absent = 0;
      for (const run of g.runs) {
        const v = run.params[name];
        if (v === undefined) absent++;
        else if (!seen.has(canonical(v))) seen.set(canonical(v), v);
      }
      values.push([...seen.values()]);
      missing.push(absent);
      const keys = new Set(seen.keys());
      if (absent) keys.add('\u0000absent');
      keySets.push(keys);
    }
    const differs = keySets.some((s) => !sameSet(s, keySets[0]));
    return { name, values, missing, differs, seedLike: isSeedParam(name) };
  });
}

/**
 * Compares groups of runs metric by metric: summaries per group, every candidate against the
 * baseline (paired t-test or Welch), Holm-adjusted p-values over the candidates, the params
 * table and the trap flags. Runs that did not succeed are left out (and flagged).
 */
export function compareRuns(groups: readonly RunGroup[], options: CompareOptions = {}): Comparison {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new UserError('usage', `The confidence level must be between 0 and 1 (e.g. 0.95), not ${confidence}.`);
  if (groups.length === 0) throw new UserError('usage', 'Choose at least one group of runs to compare.');
  const baselineIndex = options.baseline ?? 0;
  if (!Number.isInteger(baselineIndex) || baselineIndex < 0 || baselineIndex >= groups.length) {
    throw new UserError('usage', `The baseline must be one of the ${groups.length} groups (0 to ${groups.length - 1}), not ${baselineIndex}.`);
  }
  const labels = new Set<string>();
  for (const g of groups) {
    if (g.runs.length === 0) throw new UserError('usage', `The group "${g.label}" has no runs.`);
    if (labels.has(g.label)) throw new UserError('usage', `Two groups are called "${g.label}": give each group its own label.`);
    labels.add(g.label);
  }

  const flags: ComparisonFlag[] = [];
  // Succeeded runs, each counted once: an exact repeat (same code, params, seeds and data) adds
  // no measurement of the noise, only a narrower interval.
  const distinct = groups.map((g) => distinctRuns(g.runs.filter((r) => r.status === 'succeeded')));
  const used: RunGroup[] = groups.map((g, i) => ({ label: g.label, runs: distinct[i]!.distinct }));
  const compared: ComparedGroup[] = groups.map((g, i) => ({
    label: g.label,
    runIds: used[i]!.runs.map((r) => r.id),
    excludedRunIds: g.runs.filter((r) => r.status !== 'succeeded').map((r) => r.id),
    duplicates: distinct[i]!.duplicates,
  }));

  const allMetrics = new Set<string>();
  for (const g of used) for (const run of g.runs) for (const m of Object.keys(run.metrics)) allMetrics.add(m);
  let metrics: string[];
  if (options.metrics) {
    const unknown = options.metrics.filter((m) => !allMetrics.has(m));
    if (unknown.length) {
      const known = [...allMetrics].sort();
      throw new UserError('usage', `No successful run logged ${unknown.join(', ')}. Logged metrics: ${known.length ? known.join(', ') : 'none'}.`);
    }
    metrics = [...new Set(options.metrics)];
  } else metrics = [...allMetrics].sort();

  // Group-level flags.
  used.forEach((g, i) => {
    const excluded = compared[i]!.excludedRunIds.length;
    if (excluded) {
      const left = g.runs.length ? `${g.runs.length} successful run${g.runs.length > 1 ? 's' : ''} remain` : 'none succeeded, so it cannot be compared';
      flags.push({ code: 'runs-excluded', severity: g.runs.length ? 'info' : 'warning', message: `${excluded} run${excluded > 1 ? 's' : ''} of "${g.label}" did not succeed and ${excluded > 1 ? 'are' : 'is'} left out; ${left}.`, groups: [g.label], metric: null });
    }
    const duplicates = compared[i]!.duplicates;
    if (duplicates.length) flags.push(duplicateFlag(groups[i]!, duplicates));
    if (g.runs.length === 1) {
      flags.push({ code: 'single-run', severity: 'warning', message: `"${g.label}" has a single run: there is no estimate of run-to-run noise, so no difference with it can be called real. Repeat it with a few seeds (5 or more).`, groups: [g.label], metric: null });
    }
    withinGroupFlags(g, flags);
  });
  const base = used[baselineIndex]!;
  const candidates = used.map((g, i) => ({ g, i })).filter(({ i }) => i !== baselineIndex);
  for (const { g } of candidates) betweenSidesFlags(base, g, flags);
  const pairings = candidates.map(({ g }) => pairRuns(base, g));

  const alpha = 1 - confidence;
  const rows: MetricComparison[] = metrics.map((metric) => {
    const summaries: GroupMetricSummary[] = used.map((g) => {
      const values = metricValues(g.runs, metric);
      const missing = g.runs.length - values.length;
      if (missing > 0 && g.runs.length > 0) {
        flags.push({ code: 'metric-missing', severity: 'warning', message: `${metric} is missing in ${missing} of ${g.runs.length} runs of "${g.label}": its summary uses the other ${values.length}.`, groups: [g.label], metric });
      }
      return { group: g.label, ...describeSample(values, confidence), singleRun: values.length === 1, missing };
    });
    const baseSummary = summaries[baselineIndex]!;
    const differences = candidates.map(({ g, i }, k) => compareMetric(metric, base, g, pairings[k]!, confidence, baseSummary, summaries[i]!));
    const adjusted = holmAdjust(differences.map((d) => d.p));
    differences.forEach((d, k) => {
      d.pAdjusted = adjusted[k]!;
      d.significant = d.pAdjusted === null ? null : d.pAdjusted < alpha;
      d.verdict = d.test === 'none' || d.pAdjusted === null ? 'no-test' : d.insideNoise ? 'inside-noise' : d.significant ? 'significant' : 'not-significant';
      const groupsConcerned = [d.baseline, d.group];
      if (d.se === 0) {
        flags.push({ code: 'no-spread', severity: 'warning', message: `${metric}: every ${d.test === 'paired-t' ? 'paired difference' : 'run'} of "${d.group}" vs "${d.baseline}" gives the same value, so the seeds do not move it and there is no noise to test against; the difference ${formatSigned(d.estimate!)} is exact for these seeds only.`, groups: groupsConcerned, metric });
      } else if (d.insideNoise && d.estimate !== null) {
        const detail = d.interval
          ? `its ${confidenceText(confidence)} interval (${formatSigned(d.interval[0])} to ${formatSigned(d.interval[1])}) includes 0`
          : 'it is smaller than the run-to-run spread';
        flags.push({ code: 'inside-noise', severity: 'warning', message: `${metric}: "${d.group}" differs from "${d.baseline}" by ${formatSigned(d.estimate)}, but ${detail}: the difference is within the noise of the runs.`, groups: groupsConcerned, metric });
      }
    });
    return { metric, summaries, differences };
  });

  return { confidence, baseline: base.label, baselineIndex, groups: compared, metrics: rows, params: paramTable(used), flags };
}
