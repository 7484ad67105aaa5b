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
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
  const dataRel = path.posix.normalize(path.posix.join(notebookDir, plan.data!.path));

  const modelRecord = run.artifacts.find((a) => a.path === modelRel) ?? run.outputs.find((o) => o.path === modelRel);
  if (!modelRecord) {
    throw new UserError('cannot-scaffold', `Run ${run.id} did not write ${modelRel} (the notebook saves its model there): track the notebook again so the run records the model.`);
  }
  const input = run.inputs.find((i) => i.path === dataRel);
  if (!input?.profile) {
    throw new UserError('cannot-scaffold', `Run ${run.id} has no profile of ${dataRel}, which the notebook trains from: track the notebook again with nb2prod (it profiles every table pandas reads).`);
  }
  if (!input.profile.columns.some((c) => c.name === plan.target)) {
    throw new UserError('cannot-scaffold', `The target column "${plan.target}" is not in ${dataRel} as run ${run.id} read it (columns: ${input.profile.columns.map((c) => c.name).join(', ')}).`);
  }

  const registry = new Registry(store, workspaceRoot);
  const { state } = await registry.read();
  const versions = Object.values(state.models).flatMap((m) => m.versions).filter((v) => v.file.sha256 === modelRecord.sha256);
  const registered = versions.at(-1) ?? null;
  const modelFile = await modelBytes(workspaceRoot, store, modelRel, modelRecord.sha256, run.id);
  const name = registered?.model ?? identifier(path.posix.basename(notebookRel, '.ipynb')).replace(/_/g, '-');

  const outRel = toPosix(path.relative(workspaceRoot, request.outDir)) || '.';
  const drift = parseMonitoringConfig(loadProjectConfig(path.dirname(request.notebook), workspaceRoot))?.drift ?? DEFAULT_THRESHOLDS;
  const files = await generateProject({
    plan,
    run,
    notebook: notebookRel,
    outDir: outRel,
    profile: { source: dataRel, sha256: input.sha256, rows: input.profile.rows, columns: input.profile.columns },
    model: { name, version: registered?.version ?? null, sha256: modelRecord.sha256, registered: !!registered, file: modelFile, fileName: path.posix.basename(modelRel) },
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
    model: { name, version: registered?.version ?? null, registered: !!registered, sha256: modelRecord.sha256 },
  };
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

/** The run's model file: the store's copy when the registry kept one, else the file if unchanged. */
async function modelBytes(workspaceRoot: string, store: RunStore, modelRel: string, sha256: string, runId: string): Promise<Buffer> {
  const stored = path.join(store.objectsDir, sha256);
  if (existsSync(stored)) {
    const bytes = await readFile(stored);
    if (sha256Hex(bytes) === sha256) return bytes;
  }
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
  return bytes;
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
