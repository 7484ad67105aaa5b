/**
 * The experiments table's data: every run of the store as one row, built from the index's run
 * summaries (no envelope is read, so 10,000 runs cost one query). Columnar — one array per
 * column — because that is what the page sorts, filters and virtualises over, and what a
 * message of 10,000 rows costs least to send and to validate.
 *
 * Params get short labels (`max_depth`, not `RandomForestClassifier.max_depth`, unless two
 * would look alike) and an estimator's autologged copy of a notebook param is folded into it;
 * params that never vary are kept but hidden by default. Duplicates (same code, params, seeds,
 * data) point at the earliest run they repeat.
 */
import { sha256Hex } from '../hash';
import { tCritical } from '../stats/describe';
import type { RunSummary } from '../store/runIndex';
import { canonical, isSeedParam, paramBaseName, seedDescription } from '../stats/repeats';
import type { ExperimentTable, ParamCell } from '../../protocol/experiments';

/** Metrics where lower is better, by name: losses, errors, costs, times. */
export function lowerIsBetter(metric: string): boolean {
  if (/(^|[^a-z])(acc|accuracy|auc|roc_auc|f1|precision|recall|r2|score|map|ndcg|iou|dice)([^a-z]|$)/i.test(metric)) return false;
  return /(loss|error|err|rmse|mse|mae|mape|perplexity|latency|time|duration|brier|cost|regret|fpr|fnr)/i.test(metric);
}

function cell(value: RunSummary['params'][string] | undefined): ParamCell {
  if (value === undefined) return null;
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function dataVersion(inputs: RunSummary['inputs']): string | null {
  if (!inputs.length) return null;
  if (inputs.length === 1) return inputs[0]!.sha256.slice(0, 7);
  const sorted = [...inputs].sort((a, b) => a.path.localeCompare(b.path));
  return sha256Hex(sorted.map((f) => `${f.path}\0${f.sha256}`).join('\n')).slice(0, 7);
}

/** Runs oldest first; the table sorts them as the user asks. */
export function buildExperimentTable(summaries: readonly RunSummary[]): ExperimentTable {
  const runs = [...summaries].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  const firstOfKey = new Map<string, string>();
  const duplicateOf = runs.map((run) => {
    if (run.status !== 'succeeded' || run.duplicateKey === null) return null;
    const earlier = firstOfKey.get(run.duplicateKey);
    if (earlier) return earlier;
    firstOfKey.set(run.duplicateKey, run.id);
    return null;
  });

  // Params: one column per distinct knob, short labels.
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.params)))];
  const vectors = new Map(names.map((name) => [name, runs.map((r) => canonical(r.params[name]))]));
  const clusters = new Map<string, string[]>();
  for (const name of names) {
    const key = `${paramBaseName(name)}\u0001${vectors.get(name)!.join('\u0000')}`;
    clusters.set(key, [...(clusters.get(key) ?? []), name]);
  }
  const folded = new Map<string, string[]>();
  const kept = [...clusters.values()].map((same) => {
    const [first, ...others] = [...same].sort((a, b) => a.length - b.length || a.localeCompare(b));
    folded.set(first!, others);
    return first!;
  });
  const byBase = new Map<string, number>();
  for (const name of kept) byBase.set(paramBaseName(name), (byBase.get(paramBaseName(name)) ?? 0) + 1);
  const autolog = (name: string) => runs.some((r) => r.paramSources[name] === 'autolog');
  const params = kept
    .map((name) => ({
      key: name,
      label: byBase.get(paramBaseName(name))! > 1 ? name : paramBaseName(name),
      also: folded.get(name) ?? [],
      seedLike: isSeedParam(name),
      varies: new Set(vectors.get(name)).size > 1,
      autolog: autolog(name),
      values: runs.map((r) => cell(r.params[name])),
    }))
    // Varying configuration params first, then seeds, then the rest; the user's own before autologged ones.
    .sort((a, b) => Number(b.varies && !b.seedLike) - Number(a.varies && !a.seedLike) || Number(b.seedLike) - Number(a.seedLike) || Number(a.autolog) - Number(b.autolog) || a.label.localeCompare(b.label));

  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const metrics = metricNames.map((name) => {
    const lower = lowerIsBetter(name);
    return {
      key: name,
      lowerIsBetter: lower,
      last: runs.map((r) => (Number.isFinite(r.metrics[name]) ? r.metrics[name]! : null)),
      best: runs.map((r) => {
        const series = r.series[name];
        if (series) return lower ? series.min : series.max;
        return Number.isFinite(r.metrics[name]) ? r.metrics[name]! : null;
      }),
      steps: runs.map((r) => r.series[name]?.steps ?? 0),
    };
  });

  return {
    ids: runs.map((r) => r.id),
    name: runs.map((r) => r.name),
    status: runs.map((r) => r.status),
    startedAt: runs.map((r) => r.startedAt),
    durationMs: runs.map((r) => r.durationMs),
    source: runs.map((r) => r.sourcePath),
    group: runs.map((r) => r.group),
    configKey: runs.map((r) => r.configKey),
    duplicateOf,
    commit: runs.map((r) => (r.git ? `${r.git.commit.slice(0, 7)}${r.git.dirty ? '*' : ''}` : null)),
    data: runs.map((r) => dataVersion(r.inputs)),
    dataFiles: runs.map((r) => r.inputs.map((f) => `${f.path} ${f.sha256.slice(0, 7)}`).join('\n')),
    seeds: runs.map((r) => seedDescription(r.params, r.seeds)),
    tags: runs.map((r) => r.tags),
    params,
    metrics,
    t975: T975,
  };
}

/** t(0.975, df) for df = 1…200; the page uses the normal quantile beyond. */
const T975 = Array.from({ length: 200 }, (_, i) => tCritical(0.95, i + 1));
