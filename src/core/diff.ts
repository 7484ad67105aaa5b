/**
 * The envelope diff of two runs: what changed between A and B in code cells, params, seeds,
 * data (inputs and outputs by content hash), packages, environment, hardware and metrics.
 * Pure data in, data out; renderers for text and HTML sit elsewhere.
 */
import type { JsonValue, RunEnvelope } from './envelope';
import { locationLabel } from './notebook/cellLabel';

export type Change<T> =
  | { kind: 'added'; key: string; b: T }
  | { kind: 'removed'; key: string; a: T }
  | { kind: 'changed'; key: string; a: T; b: T };

export interface CellChange {
  kind: 'added' | 'removed' | 'changed';
  /** How the cell was matched: its nbformat id, or its position when ids are missing. */
  key: string;
  /** The cell's nbformat id (B's, else A's); null when the notebooks have none. */
  id: string | null;
  /** 0-based positions in each notebook (shown with `cellLabel`). */
  indexA: number | null;
  indexB: number | null;
}

export interface MetricChange {
  name: string;
  a: number | null;
  b: number | null;
  /** b − a, when both exist. */
  delta: number | null;
  /** (b − a) / |a|, when both exist and a ≠ 0. */
  relative: number | null;
}

export interface RunDiff {
  a: { id: string; name: string };
  b: { id: string; name: string };
  /** True when the code (outputs stripped) is byte-identical. */
  sameCode: boolean;
  sourcePath: Change<string> | null;
  cells: CellChange[];
  git: Array<Change<string | boolean | null>>;
  params: Array<Change<JsonValue>>;
  seeds: Array<Change<string>>;
  unseeded: Array<Change<string>>;
  inputs: Array<Change<string>>;
  outputs: Array<Change<string>>;
  packages: Array<Change<string>>;
  environment: Array<Change<string | null>>;
  hardware: Array<Change<string | number>>;
  metrics: MetricChange[];
}

function keyedChanges<T>(a: Map<string, T>, b: Map<string, T>, same: (x: T, y: T) => boolean): Array<Change<T>> {
  const out: Array<Change<T>> = [];
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const key of keys) {
    const inA = a.has(key);
    const inB = b.has(key);
    if (inA && !inB) out.push({ kind: 'removed', key, a: a.get(key)! });
    else if (!inA && inB) out.push({ kind: 'added', key, b: b.get(key)! });
    else if (!same(a.get(key)!, b.get(key)!)) out.push({ kind: 'changed', key, a: a.get(key)!, b: b.get(key)! });
  }
  return out;
}

const strictEqual = <T>(x: T, y: T): boolean => x === y;
const jsonEqual = (x: JsonValue, y: JsonValue): boolean => JSON.stringify(x) === JSON.stringify(y);
const fromRecord = <T>(record: Record<string, T>): Map<string, T> => new Map(Object.entries(record));

function cellChanges(a: RunEnvelope, b: RunEnvelope): CellChange[] {
  const useIds = a.source.cells.every((c) => c.id) && b.source.cells.every((c) => c.id);
  // Without nbformat cell ids, cells are matched by their position among code cells.
  const keyed = (run: RunEnvelope) =>
    new Map(run.source.cells.map((cell, position) => [useIds ? cell.id! : `#${position + 1}`, cell]));
  const cellsA = keyed(a);
  const cellsB = keyed(b);
  const out: CellChange[] = [];
  for (const [key, cell] of cellsA) {
    const other = cellsB.get(key);
    if (!other) out.push({ kind: 'removed', key, id: cell.id, indexA: cell.index, indexB: null });
    else if (other.sha256 !== cell.sha256) out.push({ kind: 'changed', key, id: other.id ?? cell.id, indexA: cell.index, indexB: other.index });
  }
  for (const [key, cell] of cellsB) if (!cellsA.has(key)) out.push({ kind: 'added', key, id: cell.id, indexA: null, indexB: cell.index });
  return out.sort((x, y) => (x.indexB ?? x.indexA ?? 0) - (y.indexB ?? y.indexA ?? 0));
}

function seedMap(run: RunEnvelope): Map<string, string> {
  // Several seeds of one library are distinguished by where they were set (as recorded:
  // renderers show the location with `locationKey`).
  return new Map(run.seeds.map((s) => [`${s.library} @ ${s.location}`, JSON.stringify(s.value)]));
}

function gitMap(run: RunEnvelope): Map<string, string | boolean | null> {
  if (!run.git) return new Map();
  return new Map<string, string | boolean | null>([
    ['commit', run.git.commit],
    ['branch', run.git.branch],
    ['dirty', run.git.dirty],
    ['diff sha256', run.git.diffSha256],
  ]);
}

function environmentMap(run: RunEnvelope): Map<string, string | null> {
  const env = run.environment;
  return new Map<string, string | null>([
    ['python', env.python?.version ?? null],
    ['python executable', env.python?.executable ?? null],
    ['installed set sha256', env.installedSetSha256],
    ['lock file', env.lockFile ? `${env.lockFile.path} (${env.lockFile.sha256.slice(0, 12)})` : null],
    ['os', `${env.os.platform} ${env.os.release} ${env.os.arch}`],
  ]);
}

function hardwareMap(run: RunEnvelope): Map<string, string | number> {
  const hw = run.hardware;
  return new Map<string, string | number>([
    ['cpu', hw.cpuModel],
    ['cores', hw.cores],
    ['memory bytes', hw.memoryBytes],
    ['gpus', hw.gpus.map((g) => g.name).join(', ') || 'none'],
  ]);
}

function metricChanges(a: RunEnvelope, b: RunEnvelope): MetricChange[] {
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  return names.map((name) => {
    const va = a.metrics[name]?.value ?? null;
    const vb = b.metrics[name]?.value ?? null;
    const delta = va !== null && vb !== null ? vb - va : null;
    const relative = delta !== null && va !== null && va !== 0 ? delta / Math.abs(va) : null;
    return { name, a: va, b: vb, delta, relative };
  });
}

/** Compares two runs field by field. Metrics are always listed; everything else only when it differs. */
export function diffRuns(a: RunEnvelope, b: RunEnvelope): RunDiff {
  return {
    a: { id: a.id, name: a.name },
    b: { id: b.id, name: b.name },
    sameCode: a.source.sha256 === b.source.sha256,
    sourcePath: a.source.path === b.source.path ? null : { kind: 'changed', key: 'path', a: a.source.path, b: b.source.path },
    cells: cellChanges(a, b),
    git: keyedChanges(gitMap(a), gitMap(b), strictEqual),
    params: keyedChanges(fromRecord(a.params), fromRecord(b.params), jsonEqual),
    seeds: keyedChanges(seedMap(a), seedMap(b), strictEqual),
    unseeded: keyedChanges(
      new Map(a.unseeded.map((u) => [`${u.call} @ ${u.location}`, u.library])),
      new Map(b.unseeded.map((u) => [`${u.call} @ ${u.location}`, u.library])),
      strictEqual,
    ),
    inputs: keyedChanges(new Map(a.inputs.map((f) => [f.path, f.sha256])), new Map(b.inputs.map((f) => [f.path, f.sha256])), strictEqual),
    outputs: keyedChanges(new Map(a.outputs.map((f) => [f.path, f.sha256])), new Map(b.outputs.map((f) => [f.path, f.sha256])), strictEqual),
    packages: keyedChanges(fromRecord(a.environment.packages), fromRecord(b.environment.packages), strictEqual),
    environment: keyedChanges(environmentMap(a), environmentMap(b), strictEqual),
    hardware: keyedChanges(hardwareMap(a), hardwareMap(b), strictEqual),
    metrics: metricChanges(a, b),
  };
}

/** True when nothing but metrics and timing differ. */
export function onlyMetricsDiffer(diff: RunDiff): boolean {
  return (
    diff.sameCode &&
    !diff.sourcePath &&
    [diff.cells, diff.git, diff.params, diff.seeds, diff.unseeded, diff.inputs, diff.outputs, diff.packages, diff.environment, diff.hardware].every(
      (changes) => changes.length === 0,
    )
  );
}

/** A seed or unseeded-draw key of the diff (`numpy @ cell 4, line 1`, as recorded) as people read it (`numpy @ cell 5, line 1`). */
export function locationKey(key: string): string {
  const at = key.lastIndexOf(' @ ');
  return at === -1 ? key : `${key.slice(0, at + 3)}${locationLabel(key.slice(at + 3))}`;
}
