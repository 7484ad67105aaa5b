/**
 * Seeds and repetitions: which params name a repetition of a configuration rather than the
 * configuration itself, what makes two runs repeats of one configuration (same code and params,
 * seeds aside) and what makes them duplicates (same code, params, seeds and data: the second run
 * measured nothing new).
 *
 * Seeds come from three places and must all count as seeds: a param of the notebook or a `-p`
 * override (`seed`, `random_state`, `fold`, …), an estimator's autologged param
 * (`RandomForestClassifier.random_state`: the part after the last dot is the param's own name),
 * and the seeds the tracker recorded (`np.random.seed(42)`, `random_state=42` in a call), which
 * are not params at all. Comparison, readiness and the experiments table share these rules.
 */
import type { JsonValue, RunEnvelope } from '../envelope';

/** Params that name a repetition rather than a configuration: they may differ within a group. */
export const SEED_PARAM_NAMES: readonly string[] = ['seed', 'random_seed', 'random_state', 'rng_seed', 'fold', 'fold_index', 'cv_fold'];

/** `RandomForestClassifier.random_state` → `random_state`: autologged params are prefixed with their estimator. */
export function paramBaseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1) : name;
}

/**
 * A seed or fold: `seed`, `random_state`, … under any estimator prefix, and names that end in
 * one after an underscore (`split_seed`, `model_random_state`).
 */
export function isSeedParam(name: string): boolean {
  const base = paramBaseName(name).toLowerCase();
  if (SEED_PARAM_NAMES.includes(base)) return true;
  return /_(seed|random_seed|random_state|rng_seed)$/.test(base);
}

/** JSON with sorted object keys, so equal values give equal strings; an absent value has its own string. */
export function canonical(value: JsonValue | undefined): string {
  if (value === undefined) return '\u0000absent';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
    .join(',')}}`;
}

/** The run's params without the seed-like ones: its configuration. */
export function configurationParams(run: RunEnvelope): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(run.params).filter(([name]) => !isSeedParam(name)));
}

/** Runs with the same key repeat one configuration: the explicit group, else code + params without seeds. */
export function configurationKey(run: RunEnvelope): string {
  if (run.group !== null) return `group:${run.group}`;
  return `auto:${run.source.sha256}:${canonical(configurationParams(run))}`;
}

/**
 * What distinguishes one repetition from another: the seed-like params and the recorded seed
 * values (library and location ignored, as for pairing). Equal keys: the same seeds.
 */
export function repetitionKey(run: RunEnvelope): string {
  const params = Object.keys(run.params)
    .filter(isSeedParam)
    .sort()
    .map((name) => `${name}=${canonical(run.params[name])}`);
  const recorded = [...new Set(run.seeds.map((s) => canonical(s.value)))].sort();
  return `${params.join('&')}|${recorded.join(',')}`;
}

/**
 * Two runs with the same key computed the same thing: same code (and command line), params,
 * seeds and input data. Null for a run that drew randomness without a seed: its repeats differ
 * even with everything else equal, so it has no duplicate.
 */
export function duplicateKey(run: RunEnvelope): string | null {
  if (run.unseeded.length > 0) return null;
  const inputs = run.inputs.map((f) => `${f.path}\u0000${f.sha256}`).sort();
  return [run.source.sha256, canonical(run.source.command ?? null), canonical(run.params), repetitionKey(run), inputs.join('\u0001')].join('\u0002');
}

export interface DuplicateRun {
  /** The later run, left out of counts. */
  runId: string;
  /** The earliest run it repeats exactly, which is kept. */
  sameAs: string;
}

/**
 * Splits runs (in the order given, usually oldest first) into the distinct ones and the exact
 * repeats of an earlier one. Counting a duplicate would shrink the interval without a new
 * measurement of the noise.
 */
export function distinctRuns<T extends RunEnvelope>(runs: readonly T[]): { distinct: T[]; duplicates: DuplicateRun[] } {
  const first = new Map<string, T>();
  const distinct: T[] = [];
  const duplicates: DuplicateRun[] = [];
  for (const run of runs) {
    const key = duplicateKey(run);
    const earlier = key === null ? undefined : first.get(key);
    if (earlier) duplicates.push({ runId: run.id, sameAs: earlier.id });
    else {
      if (key !== null) first.set(key, run);
      distinct.push(run);
    }
  }
  return { distinct, duplicates };
}

/**
 * Display names for params that tell configurations apart: the estimator prefix dropped
 * (`RandomForestClassifier.max_depth` → `max_depth`) unless that makes two different params
 * look alike; params that carry the same values everywhere (`max_depth` from the notebook and
 * the estimator's autologged `max_depth`) shown once, under the shorter name.
 *
 * `values` maps each param name to its value per configuration (canonical strings, one per
 * configuration, in a fixed order). Returns the names to show, in order, each with the param
 * it reads.
 */
export function shortParamNames(names: readonly string[], values: (name: string) => readonly string[]): Array<{ name: string; label: string }> {
  // The same name (after the prefix) with the same values everywhere: one knob seen twice, the
  // notebook's and the estimator's. Keep the shortest name. Different names are never merged.
  const byVector = new Map<string, string[]>();
  for (const name of names) {
    const vector = `${paramBaseName(name)}\u0001${values(name).join('\u0000')}`;
    byVector.set(vector, [...(byVector.get(vector) ?? []), name]);
  }
  const kept = [...byVector.values()].map((same) => [...same].sort((a, b) => a.length - b.length || a.localeCompare(b))[0]!);
  const baseCount = new Map<string, number>();
  for (const name of kept) baseCount.set(paramBaseName(name), (baseCount.get(paramBaseName(name)) ?? 0) + 1);
  return kept
    .sort((a, b) => paramBaseName(a).localeCompare(paramBaseName(b)) || a.localeCompare(b))
    .map((name) => ({ name, label: baseCount.get(paramBaseName(name))! > 1 ? name : paramBaseName(name) }));
}

/**
 * `seed=2`: a run's seed-like params, one name per distinct value (the notebook's `seed` and the
 * estimator's autologged `random_state` holding the same value are one seed); else the values of
 * the seeds the tracker recorded; else ''. What tells a run from the other repeats of its group.
 */
export function seedDescription(params: Readonly<Record<string, JsonValue>>, recorded: readonly JsonValue[]): string {
  const byValue = new Map<string, string>();
  for (const name of Object.keys(params).filter(isSeedParam).sort((a, b) => a.length - b.length || a.localeCompare(b))) {
    const value = canonical(params[name]);
    if (!byValue.has(value)) byValue.set(value, `${paramBaseName(name)}=${value}`);
  }
  if (byValue.size) return [...byValue.values()].join(', ');
  const values = [...new Set(recorded.map((v) => canonical(v)))];
  return values.length ? `seed${values.length > 1 ? 's' : ''} ${values.join(', ')}` : '';
}
