/**
 * Replay: re-run a recorded run's code snapshot with the same params (seeds are in the code),
 * then say whether it reproduced or exactly what differs — data, packages, interpreter, seeds,
 * metrics (by how much), status, what each notebook cell showed (text and images, see
 * cellOutputs.ts) and the files the run wrote (by sha256). A changed cell or file names the
 * unseeded randomness the run recorded before it: the likeliest cause.
 *
 * Secrets were not recorded (secrets.ts): a param or command-line argument stored as `***` must
 * be given again (`-p name=value`), or the replay refuses (`secret-needed`) rather than run with
 * the mask as a value.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { JsonValue, RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { globToRegExp } from '../lint/config';
import { containedPath } from '../safePath';
import { cellIdsOf, cellLabel, locationLabel } from '../notebook/cellLabel';
import { invalidConfig, isTable, loadProjectConfig, sectionName } from '../project/config';
import { runErrorText } from '../render/format';
import type { RunStore } from '../store/runStore';
import { changedCells, type Facet, notebookFacets } from './cellOutputs';
import type { HashCache } from './fileHash';
import { isSecretParamName, MASK } from './secrets';
import { parseParamValue, trackNotebook, trackScript } from './tracker';

export interface ReplayDifference {
  kind: 'status' | 'data' | 'package' | 'python' | 'seed' | 'metric' | 'output' | 'cell';
  /** What differs: a file path, package or metric name, a cell ("cell 4"). */
  subject: string;
  expected: string | number | null;
  actual: string | number | null;
  /** One sentence a person can act on. */
  message: string;
  /** `note`: worth knowing, not a failure to reproduce (a file declared volatile, a file only the replay wrote). */
  severity: 'error' | 'note';
  /** For a changed cell: its index in the notebook (0-based). */
  cell?: number;
  /** The unseeded randomness recorded before the changed cell or file, as "call at location". */
  unseeded?: string;
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
  /** The environment the replay sees (default: this process's). Only its names are recorded. */
  env?: NodeJS.ProcessEnv;
  /** Metrics (and numbers in cell outputs) equal within this absolute tolerance count as reproduced (default 1e-9). */
  tolerance?: number;
  /** Values for the params and arguments the run was given as secrets (recorded as `***`), by param name. */
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: Parameters<typeof trackNotebook>[0]['onProgress'];
  onOutput?: Parameters<typeof trackNotebook>[0]['onOutput'];
}

/** The name a secret argument is given again under: `--api-key ***` → `api_key` (as argv params are named). */
function argumentName(option: string): string {
  return option.replace(/^-+/, '').replace(/-/g, '_');
}

/** Where the recorded command has `***`: the index, the param name, and how to put the value back. */
function maskedArguments(command: readonly string[]): Array<{ at: number; name: string; apply: (value: string) => string }> {
  const found: Array<{ at: number; name: string; apply: (value: string) => string }> = [];
  command.forEach((arg, at) => {
    if (!arg.includes(MASK)) return;
    const assigned = /^(--?[A-Za-z][\w.-]*|[A-Za-z_][\w.-]*)=(.*)$/s.exec(arg);
    if (assigned) found.push({ at, name: argumentName(assigned[1]!), apply: (value) => `${assigned[1]}=${value}` });
    else {
      const flag = at > 0 ? /^--?([A-Za-z][\w.-]*)$/.exec(command[at - 1]!) : null;
      found.push({ at, name: flag ? argumentName(flag[1]!) : `argument_${at}`, apply: (value) => value });
    }
  });
  return found;
}

/** Params recorded as `***` that the replay must be given again (a notebook param in the snapshot is not: it is in the code). */
function maskedParams(run: RunEnvelope): string[] {
  const sources = run.paramSources ?? {};
  return Object.entries(run.params)
    .filter(([name, value]) => value === MASK && sources[name] === 'override')
    .map(([name]) => name);
}

/**
 * The secrets a replay of `run` must be given (`-p name=value`, or the editor asks): the params
 * and command-line arguments that were recorded as `***`.
 */
export function secretsNeededForReplay(run: RunEnvelope): string[] {
  const names = run.kind === 'notebook' ? maskedParams(run) : maskedArguments(run.source.command ?? []).map((m) => m.name);
  return [...new Set(names)];
}

function checkSecrets(run: RunEnvelope, given: Record<string, string>): void {
  const needed = secretsNeededForReplay(run);
  const missing = needed.filter((name) => given[name] === undefined);
  if (missing.length) {
    const example = missing.map((name) => `-p ${name}=VALUE`).join(' ');
    throw new UserError('secret-needed', `Run ${run.id} was given ${missing.length === 1 ? 'a secret' : 'secrets'} that nb2prod did not record (${missing.join(', ')}): give ${missing.length === 1 ? 'it' : 'them'} again, e.g. nb2prod replay ${run.id} ${example}.`);
  }
  const unknown = Object.keys(given).filter((name) => !needed.includes(name));
  if (unknown.length) {
    throw new UserError('usage', `-p ${unknown[0]}: run ${run.id} recorded ${unknown[0]}${needed.length ? `; only its secrets (${needed.join(', ')}) are given again` : ' and has no secret to give again'}; a replay runs with the recorded values.`);
  }
}

function replayParams(run: RunEnvelope, secrets: Record<string, string>): Record<string, JsonValue> {
  const sources = run.paramSources ?? {};
  const params: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(run.params)) {
    if (sources[name] !== 'notebook' && sources[name] !== 'override') continue;
    if (value === MASK && isSecretParamName(name)) {
      // A secret: given again, or (from the notebook) in the snapshot's own parameters cell.
      if (secrets[name] !== undefined) params[name] = parseParamValue(secrets[name]);
      continue;
    }
    params[name] = value;
  }
  return params;
}

function commandWithSecrets(command: readonly string[], secrets: Record<string, string>): string[] {
  const out = [...command];
  for (const masked of maskedArguments(command)) out[masked.at] = masked.apply(secrets[masked.name]!);
  return out;
}

/** Where a recorded unseeded call is: [cell, line] in a notebook, null elsewhere. */
function cellPosition(location: string): [number, number] | null {
  const match = /^cell (\d+), line (\d+)$/.exec(location);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** The unseeded randomness recorded last before `cell` (a notebook), or the first recorded (a script); null when there is none. */
function unseededBefore(runs: RunEnvelope[], cell: number | null): string | null {
  const seen = new Map<string, RunEnvelope['unseeded'][number]>();
  for (const run of runs) for (const u of run.unseeded) seen.set(`${u.call}@${u.location}`, u);
  const all = [...seen.values()];
  const idOf = cellIdsOf(runs[0]!.source.cells);
  if (cell === null) {
    const first = all[0];
    return first ? `${first.call} at ${locationLabel(first.location, idOf)}${all.length > 1 ? ` (and ${all.length - 1} more)` : ''}` : null;
  }
  let best: { u: RunEnvelope['unseeded'][number]; at: [number, number] } | null = null;
  for (const u of all) {
    const at = cellPosition(u.location);
    if (!at || at[0] > cell) continue;
    if (!best || at[0] > best.at[0] || (at[0] === best.at[0] && at[1] > best.at[1])) best = { u, at };
  }
  return best ? `${best.u.call} at ${locationLabel(best.u.location, idOf)}` : null;
}

function withCause(message: string, unseeded: string | null): string {
  return unseeded ? `${message} It comes after unseeded randomness: ${unseeded}.` : message;
}

export interface CompareContext {
  /** Each run's cells as they showed (cellOutputs.ts); cells are not compared without both. */
  cells?: { original: Map<number, Facet[]>; replay: Map<number, Facet[]> } | null;
  /** Output files whose bytes may differ between identical runs (`[replay] volatile_outputs`): a note, not a failure. */
  volatile?: (file: string) => boolean;
}

export function compareRuns(original: RunEnvelope, replay: RunEnvelope, tolerance = 1e-9, context: CompareContext = {}): ReplayDifference[] {
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
  if (context.cells) {
    const idOf = cellIdsOf(original.source.cells);
    for (const change of changedCells(context.cells.original, context.cells.replay, tolerance)) {
      const label = cellLabel(change.index, idOf(change.index));
      const what = change.kinds.map((k) => (k === 'outputs' ? 'its outputs are not the same ones' : k === 'error' ? 'its error' : k === 'stdout' || k === 'stderr' ? `its ${k} text` : `its ${k} output`)).join(', ');
      const shown = change.before !== undefined ? `: "${change.before}" → "${change.after}"` : '';
      const unseeded = unseededBefore([original, replay], change.index);
      out.push({
        kind: 'cell',
        subject: label,
        expected: change.before ?? null,
        actual: change.after ?? null,
        message: withCause(`${label[0]!.toUpperCase()}${label.slice(1)} shows something else on replay (${what})${shown}.`, unseeded),
        severity: 'error',
        cell: change.index,
        ...(unseeded ? { unseeded } : {}),
      });
    }
  }
  const replayOutputs = new Map(replay.outputs.map((f) => [f.path, f]));
  const volatile = context.volatile ?? (() => false);
  for (const output of original.outputs) {
    const now = replayOutputs.get(output.path);
    const unseeded = unseededBefore([original, replay], null);
    if (!now) {
      out.push({ kind: 'output', subject: output.path, expected: output.sha256, actual: null, message: `${output.path} was written originally but not on replay.`, severity: 'error' });
    } else if (now.sha256 !== output.sha256) {
      const base = `${output.path} was written with different bytes (sha256 ${output.sha256.slice(0, 12)}… → ${now.sha256.slice(0, 12)}…)`;
      if (volatile(output.path)) out.push({ kind: 'output', subject: output.path, expected: output.sha256, actual: now.sha256, message: `${base}; it is declared volatile in [replay] volatile_outputs.`, severity: 'note' });
      else out.push({ kind: 'output', subject: output.path, expected: output.sha256, actual: now.sha256, message: withCause(`${base}.`, unseeded), severity: 'error', ...(unseeded ? { unseeded } : {}) });
    }
  }
  const originalOutputs = new Set(original.outputs.map((f) => f.path));
  for (const output of replay.outputs) {
    if (!originalOutputs.has(output.path)) out.push({ kind: 'output', subject: output.path, expected: null, actual: output.sha256, message: `${output.path} was written on replay but not originally.`, severity: 'note' });
  }
  return out;
}

/** `[replay] volatile_outputs`: globs (relative to the configuration's folder) of files whose bytes may change between identical runs. */
export function volatileOutputs(workspaceRoot: string): (file: string) => boolean {
  const config = loadProjectConfig(workspaceRoot);
  const section = config.sections.replay;
  if (section === undefined || !config.baseDir) return () => false;
  const origin = `${config.file} ${sectionName(config, 'replay')}`;
  if (!isTable(section)) throw invalidConfig(origin, 'must be a table');
  for (const key of Object.keys(section)) if (key !== 'volatile_outputs') throw invalidConfig(origin, `unknown key \`${key}\` (expected \`volatile_outputs\`)`);
  const globs = section.volatile_outputs ?? [];
  if (!Array.isArray(globs) || !globs.every((g) => typeof g === 'string')) throw invalidConfig(origin, '`volatile_outputs` must be a list of glob patterns');
  const patterns = globs.map((g) => globToRegExp(g));
  const baseDir = config.baseDir;
  return (file) => {
    const relative = path.relative(baseDir, path.resolve(workspaceRoot, file)).split(path.sep).join('/');
    return !relative.startsWith('..') && patterns.some((p) => p.test(relative));
  };
}

/** The executed notebook of a run, from the store (by the run's id, not a recorded path); null when there is none. */
async function executedNotebook(store: RunStore, run: RunEnvelope): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(path.join(store.root, 'artifacts', run.id, 'executed.ipynb'), 'utf8')) as unknown;
  } catch {
    return null;
  }
}

export async function replayRun(runId: string, options: ReplayOptions): Promise<ReplayReport> {
  const { store, workspaceRoot } = options;
  const original = await store.getRun(runId);
  const secrets = options.secrets ?? {};
  checkSecrets(original, secrets);
  // Read before anything runs: a configuration error must not cost the replay.
  const volatile = volatileOutputs(workspaceRoot);
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
    ...(options.env ? { env: options.env } : {}),
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
        params: replayParams(original, secrets),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } finally {
      await fs.rm(path.dirname(restored), { recursive: true, force: true });
    }
  } else {
    const command = original.source.command ? commandWithSecrets(original.source.command, secrets) : undefined;
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
  let cells: CompareContext['cells'] = null;
  const notes: ReplayDifference[] = [];
  if (original.kind === 'notebook') {
    const [before, after] = await Promise.all([executedNotebook(store, original), executedNotebook(store, replay)]);
    if (before && after) cells = { original: notebookFacets(before, original.source.cells, original), replay: notebookFacets(after, replay.source.cells, replay) };
    else notes.push({ kind: 'cell', subject: 'outputs', expected: null, actual: null, message: `The executed notebook of ${before ? 'the replay' : `run ${original.id}`} is missing from the store: cell outputs were not compared.`, severity: 'note' });
  }
  const differences = [...compareRuns(original, replay, options.tolerance, { cells, volatile }), ...notes];
  return { originalId: original.id, replayId: replay.id, reproduced: differences.every((d) => d.severity !== 'error'), differences };
}
