/**
 * `nb2prod scaffold` and "Generate production service": from a notebook and its tracked run to
 * a planned file tree (prepareScaffold), written only when the caller says so (writeScaffold),
 * then finished in Python (the golden sample, which needs the notebook's model).
 *
 * Nothing a user changed is overwritten without asking: nb2prod-scaffold.json records the hash
 * of every file as generated, so a file that still has that hash is ours to update and a file
 * that differs is the user's.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { sha256Hex } from '../hash';
import { parseNotebook } from '../notebook/ipynb';
import { containedPath } from '../safePath';
import { loadProjectConfig } from '../project/config';
import { parseMonitoringConfig } from '../readiness/config';
import { queryInstalledDistributions } from '../project/installedPackages';
import { DEFAULT_THRESHOLDS } from '../drift/drift';
import { Registry } from '../registry/registry';
import type { RunStore } from '../store/runStore';
import { type GeneratedFile, generateProject, SCAFFOLD_MANIFEST } from './generate';
import { cellNumber } from '../notebook/cellLabel';
import { identifier, planScaffold, type ScaffoldNote, type ScaffoldPlan } from './plan';

export interface ScaffoldRequest {
  workspaceRoot: string;
  /** Absolute path of the notebook. */
  notebook: string;
  /** A run id (or prefix); default the notebook's latest succeeded run. */
  run?: string;
  /** Absolute path of the project to generate. */
  outDir: string;
  store: RunStore;
  templatesDir: string;
  /** The interpreter for the versions of the service's dependencies and the golden sample. */
  python: string;
  nb2prodVersion: string;
}

export type WriteAction = 'create' | 'update' | 'unchanged' | 'conflict';

export interface PlannedWrite {
  file: GeneratedFile;
  action: WriteAction;
}

export interface PreparedScaffold {
  plan: ScaffoldPlan;
  run: RunEnvelope;
  outDir: string;
  writes: PlannedWrite[];
  notes: ScaffoldNote[];
  model: { name: string; version: number | null; registered: boolean; sha256: string };
}

/** Reads, plans and renders; writes nothing. Throws a UserError saying what to add when it cannot. */
export async function prepareScaffold(request: ScaffoldRequest): Promise<PreparedScaffold> {
  const { workspaceRoot, store } = request;
  const notebookRel = toPosix(path.relative(workspaceRoot, request.notebook));
  if (notebookRel.startsWith('..')) throw new UserError('usage', `${request.notebook} is outside the workspace ${workspaceRoot}.`);
  let text: string;
  try {
    text = await readFile(request.notebook, 'utf8');
  } catch (error) {
    throw new UserError('source-not-found', `Cannot read ${notebookRel}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  const notebook = parseNotebook(text, notebookRel);
  const plan = planScaffold(notebook.cells);
  if (plan.problems.length) {
    throw new UserError('cannot-scaffold', `${notebookRel} cannot be turned into a service yet:\n${plan.problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
  const run = await findRun(store, notebookRel, request.run);
  const notebookDir = path.posix.dirname(notebookRel);
  const modelRel = path.posix.normalize(path.posix.join(notebookDir, plan.model!.path));

  const modelRecord = run.artifacts.find((a) => a.path === modelRel) ?? run.outputs.find((o) => o.path === modelRel);
  if (!modelRecord) {
    throw new UserError('cannot-scaffold', `Run ${run.id} did not write ${modelRel} (the notebook saves its model there): track the notebook again so the run records the model.`);
  }
  const input = trainingInput(plan, run, notebookDir);
  const dataRel = input.path;
  if (!input.profile.columns.some((c) => c.name === plan.target)) {
    throw new UserError('cannot-scaffold', `The target column "${plan.target}" is not in ${dataRel} as run ${run.id} read it (columns: ${input.profile.columns.map((c) => c.name).join(', ')}).`);
  }

  const components = fittedComponents(plan, run);
  const profileColumns = input.profile.columns.map((c) => c.name);
  const composed = await composeBundle({
    python: request.python,
    templatesDir: request.templatesDir,
    objectsDir: store.objectsDir,
    steps: components,
    model: { path: await modelFilePath(workspaceRoot, store, modelRel, modelRecord.sha256, run.id), sha256: modelRecord.sha256, format: plan.model!.saver },
    format: plan.model!.saver,
    data: { path: path.join(workspaceRoot, ...dataRel.split('/')), sha256: input.sha256, reader: plan.data!.reader, args: plan.data!.readerArgs },
    columns: profileColumns,
  });

  const registry = new Registry(store, workspaceRoot);
  const { state } = await registry.read();
  const versions = Object.values(state.models).flatMap((m) => m.versions).filter((v) => v.file.sha256 === modelRecord.sha256);
  const registered = versions.at(-1) ?? null;
  const name = registered?.model ?? identifier(path.posix.basename(notebookRel, '.ipynb')).replace(/_/g, '-');

  const outRel = toPosix(path.relative(workspaceRoot, request.outDir)) || '.';
  const drift = parseMonitoringConfig(loadProjectConfig(path.dirname(request.notebook), workspaceRoot))?.drift ?? DEFAULT_THRESHOLDS;
  const files = await generateProject({
    plan,
    run,
    notebook: notebookRel,
    outDir: outRel,
    profile: { source: dataRel, sha256: input.sha256, rows: input.profile.rows, columns: input.profile.columns },
    model: {
      name,
      version: registered?.version ?? null,
      sha256: composed.sha256,
      registered: !!registered,
      file: composed.file,
      fileName: path.posix.basename(modelRel),
      runModel: { path: modelRel, sha256: modelRecord.sha256 },
      components: composed.components,
      classes: composed.classes,
      task: composed.task,
    },
    example: composed.example,
    drift,
    serviceVersions: await packageVersions(request.python, ['fastapi', 'uvicorn', 'pydantic', 'httpx', 'pytest']),
    templatesDir: request.templatesDir,
    nb2prodVersion: request.nb2prodVersion,
  });
  files.push(manifestFile(files, notebookRel, run.id));
  return {
    plan,
    run,
    outDir: request.outDir,
    writes: await planWrites(request.outDir, files),
    notes: plan.notes,
    model: { name, version: registered?.version ?? null, registered: !!registered, sha256: composed.sha256 },
  };
}

/** The table the notebook trains from, as the run read it (with its profile): the plan's path, or the one input that matches its hint. */
function trainingInput(plan: ScaffoldPlan, run: RunEnvelope, notebookDir: string): RunEnvelope['inputs'][number] & { profile: NonNullable<RunEnvelope['inputs'][number]['profile']> } {
  const data = plan.data!;
  const profiled = run.inputs.filter((i): i is typeof i & { profile: NonNullable<typeof i.profile> } => !!i.profile);
  if (data.path) {
    const dataRel = path.posix.normalize(path.posix.join(notebookDir, data.path));
    const input = profiled.find((i) => i.path === dataRel);
    if (!input) throw new UserError('cannot-scaffold', `Run ${run.id} has no profile of ${dataRel}, which the notebook trains from: track the notebook again with nb2prod (it profiles every table pandas reads).`);
    return input;
  }
  // Read through a function of the notebook: the path is confirmed by what the run read.
  const hint = data.pathHint ? path.posix.basename(data.pathHint.replace(/\{\}/g, '')) : null;
  const candidates = hint ? profiled.filter((i) => path.posix.basename(i.path) === hint) : profiled;
  const via = data.helper ? ` through \`${data.helper}\`` : '';
  if (candidates.length === 1) return candidates[0]!;
  if (!candidates.length) {
    throw new UserError('cannot-scaffold', `The notebook reads its training data${via}${hint ? ` from a file named ${hint}` : ''}, but run ${run.id} read no such table with pandas (it read ${profiled.map((i) => i.path).join(', ') || 'none'}): track the notebook again, or read the file with a path written in the notebook.`);
  }
  throw new UserError('cannot-scaffold', `The notebook reads its training data${via}, and run ${run.id} read several tables that could be it (${candidates.map((i) => i.path).join(', ')}): write the file's path in the call that reads it.`);
}

/** The run's kept fitted object of each step of the serving chain. */
function fittedComponents(plan: ScaffoldPlan, run: RunEnvelope): Array<{ name: string; type: string; sha256: string; format: 'joblib' | 'pickle' }> {
  return plan.chain.map((step) => {
    const fitted = (run.fitted ?? []).filter((f) =>
      step.variable ? f.name === step.variable : f.name === null && !!f.location && (() => {
        const m = /^cell (\d+), line (\d+)$/.exec(f.location!);
        return !!m && Number(m[1]) === step.cell && Number(m[2]) >= step.line && Number(m[2]) <= step.lastLine;
      })(),
    );
    const found = fitted.at(-1);
    if (found) return { name: step.name, type: found.type, sha256: found.sha256, format: found.format };
    const what = step.variable ? `\`${step.variable}\`` : `the ${step.estimator?.split('.').at(-1) ?? 'transformer'} fitted in cell ${cellNumber(step.cell)}, line ${step.line}`;
    const skipped = (run.fittedSkipped ?? []).find((f) => (step.variable ? f.name === step.variable : f.name === null));
    const why = skipped
      ? `it was not kept: ${skipped.reason}; raise the limit in the [track] section of nb2prod.toml`
      : run.fitted
        ? 'the run held no such fitted object at its end'
        : `the run was tracked before nb2prod kept fitted objects, or with [track] keep_fitted = false`;
    throw new UserError('cannot-scaffold', `The service applies ${what} before the model, as the notebook does, but run ${run.id} did not keep it (${why}): track the notebook again, then scaffold.`);
  });
}

interface Composed {
  file: Buffer;
  sha256: string;
  components: Array<{ name: string; type: string; sha256: string }>;
  classes: unknown[] | null;
  task: 'classification' | 'regression' | null;
  example: Record<string, unknown> | null;
}

/**
 * The served model, composed in Python (templates/common/bundle.py) from the run's kept fitted
 * steps and its model file: byte for byte the model file when there are no steps. Deterministic
 * (PYTHONHASHSEED=0), so scaffolding twice writes the same file.
 */
async function composeBundle(spec: {
  python: string;
  templatesDir: string;
  objectsDir: string;
  steps: Array<{ name: string; type: string; sha256: string; format: 'joblib' | 'pickle' }>;
  model: { path: string; sha256: string; format: 'joblib' | 'pickle' };
  format: 'joblib' | 'pickle';
  data: { path: string; sha256: string; reader: string; args: Record<string, string> };
  columns: string[];
}): Promise<Composed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-bundle-'));
  try {
    const specFile = path.join(dir, 'spec.json');
    const out = path.join(dir, 'bundle');
    await writeFile(specFile, JSON.stringify({ objects: spec.objectsDir, steps: spec.steps, model: spec.model, format: spec.format, data: spec.data, columns: spec.columns }));
    const env = { ...process.env, PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: spec.templatesDir };
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(spec.python, ['-m', 'common.bundle', 'compose', specFile, out], { cwd: spec.templatesDir, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const why = (stderr.trim() || error.message).split('\n').slice(-6).join('\n');
        reject(new UserError('cannot-scaffold', `The served model could not be composed from the run's fitted objects with ${spec.python}:\n${why}`));
      });
    });
    const info = JSON.parse(stdout) as { sha256: string; components: Composed['components']; classes: unknown[] | null; task: Composed['task']; example: Composed['example'] };
    const file = await readFile(out);
    if (sha256Hex(file) !== info.sha256) throw new Error('the composed model changed while it was read');
    return { file, sha256: info.sha256, components: info.components, classes: info.classes, task: info.task, example: info.example };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function findRun(store: RunStore, notebookRel: string, reference: string | undefined): Promise<RunEnvelope> {
  if (reference) {
    const run = await store.getRun(await store.resolveRunId(reference));
    if (run.source.path !== notebookRel) throw new UserError('usage', `Run ${run.id} is of ${run.source.path}, not of ${notebookRel}.`);
    if (run.status !== 'succeeded') throw new UserError('cannot-scaffold', `Run ${run.id} ${run.status}: scaffold from a run that succeeded.`);
    return run;
  }
  const { runs } = await store.list();
  const latest = runs.filter((r) => r.sourcePath === notebookRel && r.status === 'succeeded').sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  if (!latest) {
    throw new UserError('cannot-scaffold', `${notebookRel} has no successful tracked run: track it first (nb2prod track ${notebookRel}, or Track Run in the notebook toolbar). The run records the model, the data profile and the library versions the service is built from.`);
  }
  return store.getRun(latest.id);
}

/**
 * Where the run's model file is: the store's copy (the registry's, or the run's kept fitted
 * model, which is the same bytes) when there is one, else the workspace file if unchanged.
 */
async function modelFilePath(workspaceRoot: string, store: RunStore, modelRel: string, sha256: string, runId: string): Promise<string> {
  const stored = path.join(store.objectsDir, sha256);
  if (existsSync(stored) && sha256Hex(await readFile(stored)) === sha256) return stored;
  // The path is the run's record of what it wrote: kept inside the workspace (links resolved), out of the store.
  const file = await containedPath(modelRel, { base: workspaceRoot, roots: [workspaceRoot], exclude: [store.root], what: `to read the model of run ${runId}`, from: `runs/${runId}.json` });
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new UserError('cannot-scaffold', `${modelRel} is gone and the store has no copy of the model of run ${runId}: track the notebook again.`);
  }
  if (sha256Hex(bytes) !== sha256) {
    throw new UserError('cannot-scaffold', `${modelRel} changed since run ${runId} wrote it (it is not the model that run measured): track the notebook again, or pass --run with the run that wrote the current file.`);
  }
  return file;
}

/** Installed versions of `names` in the interpreter; missing ones (or no usable interpreter) are left out. */
async function packageVersions(python: string, names: readonly string[]): Promise<Record<string, string>> {
  let installed: Map<string, string>;
  try {
    installed = await queryInstalledDistributions(python);
  } catch {
    // requirements.txt then gets version floors instead of pins (see generate.ts).
    return {};
  }
  const byName = new Map([...installed].map(([name, version]) => [name.toLowerCase(), version]));
  return Object.fromEntries(names.flatMap((name) => (byName.has(name) ? [[name, byName.get(name)!]] : [])));
}

function manifestFile(files: readonly GeneratedFile[], notebook: string, runId: string): GeneratedFile {
  const manifest = {
    schema: 'nb2prod.scaffold/1',
    notebook,
    run: runId,
    note: 'The hash of every file as nb2prod generated it: regenerating updates files that still have it and asks before touching the others.',
    files: Object.fromEntries(files.map((f) => [f.path, sha256Hex(f.content)])),
  };
  return { path: SCAFFOLD_MANIFEST, content: JSON.stringify(manifest, null, 2) + '\n', origin: 'generated' };
}

async function planWrites(outDir: string, files: readonly GeneratedFile[]): Promise<PlannedWrite[]> {
  let previous: Record<string, string> = {};
  try {
    previous = (JSON.parse(await readFile(path.join(outDir, SCAFFOLD_MANIFEST), 'utf8')) as { files?: Record<string, string> }).files ?? {};
  } catch {
    // First generation, or an unreadable manifest: every existing file counts as the user's.
  }
  const writes: PlannedWrite[] = [];
  for (const file of files) {
    let existing: Buffer | null = null;
    try {
      existing = await readFile(path.join(outDir, file.path));
    } catch {
      existing = null;
    }
    if (!existing) writes.push({ file, action: 'create' });
    else if (sha256Hex(existing) === sha256Hex(file.content)) writes.push({ file, action: 'unchanged' });
    else if (file.path === SCAFFOLD_MANIFEST || previous[file.path] === sha256Hex(existing)) writes.push({ file, action: 'update' });
    else writes.push({ file, action: 'conflict' });
  }
  return writes;
}

export interface WriteResult {
  written: string[];
  /** Conflicting files left as they were. */
  kept: string[];
}

/**
 * Writes the planned files. Conflicts (files the user changed) are overwritten only with
 * `overwrite: true`; otherwise they are kept and listed. Each file is written to a temporary
 * name and renamed, so a crash never leaves half a file.
 */
export async function writeScaffold(prepared: PreparedScaffold, options: { overwrite: boolean }): Promise<WriteResult> {
  const written: string[] = [];
  const kept: string[] = [];
  for (const { file, action } of prepared.writes) {
    if (action === 'unchanged') continue;
    if (action === 'conflict' && !options.overwrite) {
      kept.push(file.path);
      continue;
    }
    const target = path.join(prepared.outDir, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.nb2prod-${process.pid}.tmp`;
    await writeFile(temporary, file.content);
    await rename(temporary, target);
    written.push(file.path);
  }
  if (kept.length) {
    // The manifest must not claim the kept files have the generated content.
    const manifestPath = path.join(prepared.outDir, SCAFFOLD_MANIFEST);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { files: Record<string, string> };
    for (const file of kept) {
      const existing = await readFile(path.join(prepared.outDir, file)).catch(() => null);
      if (existing) manifest.files[file] = `user:${sha256Hex(existing)}`;
    }
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  }
  return { written, kept };
}

/**
 * Runs `python -m pipeline.golden` in the generated project: the notebook's own feature code on
 * the training data and the notebook's model give the golden predictions the tests hold the
 * service to. Returns its output; throws a UserError with Python's message when it fails.
 */
export function writeGoldenSample(python: string, outDir: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
    execFile(python, ['-m', 'pipeline.golden'], { cwd: outDir, env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024, signal }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout.trim());
      const why = (stderr.trim() || stdout.trim() || error.message).split('\n').slice(-8).join('\n');
      reject(new UserError('golden-failed', `The golden sample could not be computed (${python} -m pipeline.golden in ${outDir}):\n${why}`));
    });
  });
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
