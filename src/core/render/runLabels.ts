/**
 * What tells a run apart from the other runs of its notebook or script, in a few words: the
 * params that vary between them (short names, an estimator's autologged copy of a param shown
 * once, the user's own params before autologged ones) and its seed — `max_depth=12, seed=2`.
 * The Runs view shows it beside each run, and pickers beside the run's name, because runs
 * tracked before names said so are all called `churn.ipynb 2026-12-03 09:08`.
 */
import type { JsonValue } from '../envelope';
import type { RunSummary } from '../store/runIndex';
import { canonical, isSeedParam, seedDescription, shortParamNames } from '../stats/repeats';

const MAX_PARAMS = 3;

function text(value: JsonValue | undefined): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Per run id: `max_depth=12, seed=2` (params that vary among the runs of its source, then its seed), or ''. */
export function runDistinctions(runs: readonly RunSummary[]): Map<string, string> {
  const out = new Map<string, string>();
  const bySource = new Map<string, RunSummary[]>();
  for (const run of runs) bySource.set(run.sourcePath, [...(bySource.get(run.sourcePath) ?? []), run]);
  for (const list of bySource.values()) {
    const names = [...new Set(list.flatMap((r) => Object.keys(r.params)))].filter((n) => !isSeedParam(n));
    const vector = (name: string) => list.map((r) => canonical(r.params[name]));
    const varying = names.filter((name) => new Set(vector(name)).size > 1);
    const autolog = (name: string) => list.some((r) => r.paramSources[name] === 'autolog');
    const shown = shortParamNames(varying, vector).sort((a, b) => Number(autolog(a.name)) - Number(autolog(b.name))).slice(0, MAX_PARAMS);
    const seedsVary = new Set(list.map((r) => seedDescription(r.params, r.seeds))).size > 1;
    for (const run of list) {
      const parts = shown.filter(({ name }) => name in run.params).map(({ name, label }) => `${label}=${text(run.params[name])}`);
      const seed = seedsVary ? seedDescription(run.params, run.seeds) : '';
      if (seed) parts.push(seed);
      out.set(run.id, parts.join(', '));
    }
  }
  return out;
}

/** The run's own params (not autologged) as `name=value` lines, then how many the autolog added. */
export function paramLines(run: Pick<RunSummary, 'params' | 'paramSources'>): { own: string[]; autologged: number } {
  const own: string[] = [];
  let autologged = 0;
  for (const [name, value] of Object.entries(run.params)) {
    if (run.paramSources[name] === 'autolog') autologged++;
    else own.push(`${name}=${text(value)}`);
  }
  return { own, autologged };
}
