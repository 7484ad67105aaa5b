/**
 * Replay: re-run a recorded run's code snapshot with the same params (seeds are in the code),
 * then say whether it reproduced or exactly what differs — data, packages, interpreter, seeds,
 * metrics (by how much), status.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { JsonValue, RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { containedPath } from '../safePath';
import { cellIdsOf, locationLabel } from '../notebook/cellLabel';
import { runErrorText } from '../render/format';
import type { RunStore } from '../store/runStore';
import type { HashCache } from './fileHash';
import { trackNotebook, trackScript } from './tracker';

export interface ReplayDifference {
  kind: 'status' | 'data' | 'package' | 'python' | 'seed' | 'metric' | 'output';
  /** What differs: a file path, package or metric name. */
  subject: string;
  expected: string | number | null;
  actual: string | number | null;
  /** One sentence a person can act on. */
  message: string;
  /** Output files (models) may differ byte-wise while the run reproduced: a note, not a failure. */
  severity: 'error' | 'note';
}

export interface ReplayReport {
  originalId: string;
  replayId: string;
  reproduced: boolean;
  differences: ReplayDifference[];
}

export interface ReplayOptions {
  store: RunStore;
  workspaceRoot: string;
  pythonDir: string;
  python: string;
  hashes: HashCache;
  /** Metrics equal within this absolute tolerance count as reproduced (default 1e-9). */
  tolerance?: number;
  signal?: AbortSignal;
  onProgress?: Parameters<typeof trackNotebook>[0]['onProgress'];
  onOutput?: Parameters<typeof trackNotebook>[0]['onOutput'];
}

function replayParams(run: RunEnvelope): Record<string, JsonValue> {
  const sources = run.paramSources ?? {};
  return Object.fromEntries(Object.entries(run.params).filter(([name]) => sources[name] === 'notebook' || sources[name] === 'override'));
}

export function compareRuns(original: RunEnvelope, replay: RunEnvelope, tolerance = 1e-9): ReplayDifference[] {
  const out: ReplayDifference[] = [];
  if (original.status !== replay.status) {
    out.push({ kind: 'status', subject: 'status', expected: original.status, actual: replay.status, message: `The run ${original.status} originally but ${replay.status} on replay${replay.error ? `: ${runErrorText(replay)}` : ''}.`, severity: 'error' });
  }
  const replayInputs = new Map(replay.inputs.map((f) => [f.path, f]));
  for (const input of original.inputs) {
    const now = replayInputs.get(input.path);
    if (!now) out.push({ kind: 'data', subject: input.path, expected: input.sha256, actual: null, message: `${input.path} was read originally but not on replay.`, severity: 'error' });
    else if (now.sha256 !== input.sha256) out.push({ kind: 'data', subject: input.path, expected: input.sha256, actual: now.sha256, message: `Data changed: ${input.path} has different content (${input.bytes} → ${now.bytes} bytes).`, severity: 'error' });
  }
  const originalInputs = new Set(original.inputs.map((f) => f.path));
  for (const input of replay.inputs) {
    if (!originalInputs.has(input.path)) out.push({ kind: 'data', subject: input.path, expected: null, actual: input.sha256, message: `${input.path} was read on replay but not originally.`, severity: 'error' });
  }
  const expectedPython = original.environment.python?.version ?? null;
  const actualPython = replay.environment.python?.version ?? null;
  if (expectedPython && actualPython && expectedPython !== actualPython) {
    out.push({ kind: 'python', subject: 'python', expected: expectedPython, actual: actualPython, message: `Python changed: ${expectedPython} → ${actualPython}.`, severity: 'error' });
  }
  for (const [name, version] of Object.entries(original.environment.packages)) {
    const now = replay.environment.packages[name];
    if (now !== undefined && now !== version) out.push({ kind: 'package', subject: name, expected: version, actual: now, message: `Package version changed: ${name} ${version} → ${now}.`, severity: 'error' });
  }
  const seedKey = (s: RunEnvelope['seeds'][number]) => `${s.library} @ ${s.location} = ${JSON.stringify(s.value)}`;
  const replaySeeds = new Set(replay.seeds.map(seedKey));
  for (const seed of original.seeds) {
    if (!replaySeeds.has(seedKey(seed))) out.push({ kind: 'seed', subject: seed.library, expected: JSON.stringify(seed.value), actual: null, message: `Seed ${seed.library}=${JSON.stringify(seed.value)} at ${locationLabel(seed.location, cellIdsOf(original.source.cells))} was not set the same way on replay.`, severity: 'error' });
  }
  for (const [name, metric] of Object.entries(original.metrics)) {
    const now = replay.metrics[name]?.value;
    if (now === undefined) {
      out.push({ kind: 'metric', subject: name, expected: metric.value, actual: null, message: `Metric ${name} was not logged on replay.`, severity: 'error' });
    } else if (Math.abs(now - metric.value) > tolerance) {
      const delta = now - metric.value;
      const relative = metric.value !== 0 ? ` (${((delta / Math.abs(metric.value)) * 100).toFixed(3)}%)` : '';
      out.push({ kind: 'metric', subject: name, expected: metric.value, actual: now, message: `Metric ${name} differs: ${metric.value} → ${now}, by ${delta > 0 ? '+' : ''}${delta.toPrecision(4)}${relative}.`, severity: 'error' });
    }
  }
  const replayOutputs = new Map(replay.outputs.map((f) => [f.path, f]));
  for (const output of original.outputs) {
    const now = replayOutputs.get(output.path);
    if (now && now.sha256 !== output.sha256) out.push({ kind: 'output', subject: output.path, expected: output.sha256, actual: now.sha256, message: `${output.path} was written with different bytes (serialisation can differ while the model is the same).`, severity: 'note' });
  }
  return out;
}

export async function replayRun(runId: string, options: ReplayOptions): Promise<ReplayReport> {
  const { store, workspaceRoot } = options;
  const original = await store.getRun(runId);
  if (!original.source.snapshot) throw new UserError('source-not-found', `Run ${runId} has no code snapshot to replay (it ran "${original.source.path}").`);
  let code: Buffer;
  try {
    code = await store.getObject(original.source.snapshot);
  } catch {
    throw new UserError('source-not-found', `The code snapshot of run ${runId} is missing from ${path.join(store.root, 'objects')}.`);
  }
  const common = {
    store,
    workspaceRoot,
    pythonDir: options.pythonDir,
    hashes: options.hashes,
    name: `replay of ${original.name}`,
    tags: [...new Set([...original.tags, 'replay'])],
    group: original.group,
    parent: original.id,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
  };
  // The run file is data: its source path decides where the replay runs and where a changed
  // script's snapshot is written, so it must stay inside the workspace.
  const originalFile = await containedPath(original.source.path, { base: workspaceRoot, roots: [workspaceRoot], exclude: [store.root], what: `to replay run ${runId}`, from: `runs/${runId}.json (source.path)` });
  let replay: RunEnvelope;
  if (original.kind === 'notebook') {
    const restored = path.join(store.root, 'tmp', `replay-${original.id}-${process.pid}`, path.basename(originalFile));
    await fs.mkdir(path.dirname(restored), { recursive: true });
    await fs.writeFile(restored, code);
    try {
      replay = await trackNotebook({
        ...common,
        notebook: restored,
        recordAs: original.source.path,
        python: options.python,
        params: replayParams(original),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } finally {
      await fs.rm(path.dirname(restored), { recursive: true, force: true });
    }
  } else {
    const command = original.source.command;
    if (!command?.length) throw new UserError('source-not-found', `Run ${runId} did not record its command.`);
    // Run the recorded script where it was, so paths relative to it still resolve; if it has
    // changed since, the snapshot goes beside it for the replay and is removed afterwards.
    let current: Buffer | null = null;
    try {
      current = await fs.readFile(originalFile);
    } catch {
      current = null;
    }
    let restored: string | null = null;
    let replayCommand = command;
    if (!current || !current.equals(code)) {
      restored = path.join(path.dirname(originalFile), `.nb2prod-replay-${original.id}.py`);
      await fs.writeFile(restored, code);
      replayCommand = command.map((arg) => (path.resolve(path.dirname(originalFile), arg) === originalFile || arg.endsWith(path.basename(originalFile)) ? restored! : arg));
    }
    try {
      replay = await trackScript({ ...common, command: replayCommand, cwd: path.dirname(originalFile) });
    } finally {
      if (restored) await fs.rm(restored, { force: true });
    }
  }
  const differences = compareRuns(original, replay, options.tolerance);
  return { originalId: original.id, replayId: replay.id, reproduced: differences.every((d) => d.severity !== 'error'), differences };
}
