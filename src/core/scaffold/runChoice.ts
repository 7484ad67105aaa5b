/**
 * Which run a service is generated from, when the user does not say: the run behind the
 * registry's champion (when it is a run of this notebook), else the best run by the primary
 * metric — the registry gate's metric (in its direction) when one is configured, else a metric
 * every run logged, higher is better unless its name says loss or error. The latest run is not a
 * good default: it is often a weaker experiment. The reason is shown beside the run in the picker.
 */
import { lowerIsBetter } from '../experiments/table';
import type { RegistryState } from '../registry/fold';
import type { RunSummary } from '../store/runIndex';

export interface RunChoice {
  run: RunSummary;
  /** Why it is first ("champion churn v3", "best accuracy 0.789"); null for the others. */
  why: string | null;
}

export interface ScaffoldRunChoices {
  /** The succeeded runs of the notebook, the default first, then best to worst (newest first without a metric). */
  runs: RunChoice[];
  metric: string | null;
}

export function scaffoldRunChoices(
  summaries: readonly RunSummary[],
  notebookRel: string,
  registry: RegistryState | null,
  gate: { metric: string | null; direction: 'higher' | 'lower' } | null,
): ScaffoldRunChoices {
  const runs = summaries.filter((r) => r.sourcePath === notebookRel && r.status === 'succeeded').sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  if (!runs.length) return { runs: [], metric: null };
  const metric = gate?.metric && runs.some((r) => r.metrics[gate.metric!] !== undefined) ? gate.metric : (Object.keys(runs[0]!.metrics).sort().find((m) => runs.every((r) => Number.isFinite(r.metrics[m]))) ?? null);
  const lower = gate?.metric && metric === gate.metric ? gate.direction === 'lower' : metric ? lowerIsBetter(metric) : false;
  const value = (r: RunSummary) => (metric && Number.isFinite(r.metrics[metric]) ? r.metrics[metric]! : null);
  const ordered = metric
    ? [...runs].sort((a, b) => {
        const x = value(a);
        const y = value(b);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        return lower ? x - y : y - x;
      })
    : runs;

  // The champion's run, when it is one of this notebook's.
  let champion: { run: RunSummary; label: string } | null = null;
  for (const model of Object.values(registry?.models ?? {})) {
    const holding = model.aliases.champion;
    if (!holding) continue;
    const version = model.versions[holding.version - 1];
    const run = version && runs.find((r) => r.id === version.run);
    if (run) champion = { run, label: `champion ${model.name} v${version.version}` };
  }
  const best = ordered[0]!;
  const first = champion?.run ?? best;
  const why = champion ? champion.label : metric && value(best) !== null ? `best ${metric} ${formatValue(value(best)!)}` : 'latest run';
  return {
    metric,
    runs: [{ run: first, why }, ...ordered.filter((r) => r !== first).map((run) => ({ run, why: null }))],
  };
}

function formatValue(v: number): string {
  return String(Number(v.toPrecision(4)));
}
