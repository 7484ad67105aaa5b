/**
 * The Compare panel's view of a comparison: plain rows for its tables and points for its
 * charts, formatted where the page would otherwise need the core's types. Pure, so the shape
 * the page draws is unit-tested without a webview.
 */
import { diffRuns } from '../diff';
import type { RunEnvelope } from '../envelope';
import type { CompareView } from '../../protocol/compare';
import type { Comparison, MetricDifference } from '../stats/compare';
import { seedDescription } from '../stats/repeats';
import { formatNumber } from './format';
import { renderDiffHtml } from './runHtml';

/**
 * `diff`: the two runs "What changed" shows (ids of runs of the comparison); by default the first
 * run of the baseline and the first run of the first candidate.
 */
export function compareView(comparison: Comparison, runs: readonly RunEnvelope[], options: { diff?: readonly [string, string] } = {}): CompareView {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const groupOf = new Map<string, string>();
  for (const group of comparison.groups) for (const id of group.runIds) groupOf.set(id, group.label);
  const used = comparison.groups.flatMap((g) => g.runIds.map((id) => byId.get(id)).filter((r): r is RunEnvelope => !!r));
  const metricNames = new Set(comparison.metrics.map((m) => m.metric));

  const points: CompareView['points'] = [];
  const series: CompareView['series'] = [];
  for (const run of used) {
    for (const [metric, value] of Object.entries(run.metrics)) {
      if (!metricNames.has(metric)) continue;
      points.push({ metric, group: groupOf.get(run.id)!, run: run.name, runId: run.id, value: value.value });
      for (const point of value.series ?? []) series.push({ metric, run: run.name, group: groupOf.get(run.id)!, step: point.step, value: point.value });
    }
  }

  const chosen = options.diff && options.diff[0] !== options.diff[1] && options.diff.every((id) => byId.has(id)) ? options.diff : null;
  const candidateGroup = comparison.groups.find((_, i) => i !== comparison.baselineIndex);
  const baselineRun = byId.get(chosen?.[0] ?? comparison.groups[comparison.baselineIndex]?.runIds[0] ?? '');
  const candidateRun = byId.get(chosen?.[1] ?? candidateGroup?.runIds[0] ?? '');
  const diff = baselineRun && candidateRun ? diffRuns(baselineRun, candidateRun) : null;

  return {
    confidence: comparison.confidence,
    baseline: comparison.baseline,
    groups: comparison.groups.map((g, i) => ({ label: g.label, runIds: g.runIds, isBaseline: i === comparison.baselineIndex, duplicates: g.duplicates.length })),
    params: comparison.params.map((p) => ({
      name: p.name,
      values: p.values.map((values, i) => {
        const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
        return p.missing[i] ? `${shown}${shown ? ', ' : ''}(unset in ${p.missing[i]})` : shown;
      }),
      differs: p.differs,
      seedLike: p.seedLike,
    })),
    metrics: comparison.metrics.map((metric) => ({
      name: metric.metric,
      rows: metric.summaries.map((summary) => {
        const difference = metric.differences.find((d) => d.group === summary.group);
        return {
          group: summary.group,
          n: summary.n,
          mean: summary.mean,
          low: summary.interval?.[0] ?? null,
          high: summary.interval?.[1] ?? null,
          delta: difference?.estimate ?? null,
          deltaLow: difference?.interval?.[0] ?? null,
          deltaHigh: difference?.interval?.[1] ?? null,
          p: difference ? (difference.pAdjusted ?? difference.p) : null,
          effect: difference?.effectSize ? `${difference.effectSize.name === 'cohen-dz' ? 'd_z' : 'g'} = ${formatNumber(difference.effectSize.value)}` : null,
          test: difference ? testLabel(difference) : '',
          insideNoise: difference?.insideNoise ?? null,
          significant: difference?.significant ?? null,
          verdict: difference ? difference.verdict : 'baseline',
          reason: difference?.reason ?? null,
        };
      }),
    })),
    flags: comparison.flags.map((f) => ({ severity: f.severity, message: f.message })),
    points,
    series,
    runs: used.map((run) => ({ id: run.id, name: run.name, group: groupOf.get(run.id)!, seeds: seedDescription(run.params, run.seeds.map((seed) => seed.value)), startedAt: run.startedAt })),
    diffHtml: diff ? renderDiffHtml(diff) : null,
    diffTitle: baselineRun && candidateRun ? `${baselineRun.name} → ${candidateRun.name}` : null,
    diffRunIds: baselineRun && candidateRun ? [baselineRun.id, candidateRun.id] : null,
  };
}

function testLabel(difference: MetricDifference): string {
  if (difference.test === 'paired-t') return `paired t-test (${difference.pairedBy ?? 'paired'})`;
  if (difference.test === 'welch-t') return "Welch's t-test";
  return 'no test';
}
