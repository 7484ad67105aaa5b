/**
 * Tracking a run: runs a notebook (through the Python companion's nbclient runner) or a script
 * in a fresh process with capture enabled, then assembles and stores its envelope.
 *
 * While a run is in flight, `.nb2prod/running/<id>.json` holds a provisional envelope with
 * status `interrupted`, updated as cells finish. If the tracking process dies (SIGKILL, power
 * loss), the next reader of the store publishes it (see RunStore.recoverInterrupted), so a
 * killed run is never silently lost — and what the run started dies with the tracker (guard.ts).
 * Nothing secret is stored: every envelope written goes through the run's redactor (secrets.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ENVELOPE_SCHEMA, type CellRecord, type JsonValue, type RunEnvelope, type RunStatus } from '../envelope';
import { UserError } from '../errors';
import { sha256Hex } from '../hash';
import { newRunId } from '../ids';
import { cellLabel } from '../notebook/cellLabel';
import { codeHash, type NotebookJson, parseNotebook, stripOutputs } from '../notebook/ipynb';
import { printable } from '../printable';
import { processStartTime } from '../processes';
import { writeFileAtomic } from '../store/atomicFile';
import type { RunStore } from '../store/runStore';
import { type CapturedRun, foldEvents, parseEventLines } from './events';
import type { HashCache } from './fileHash';
import { redactParams, type RunSecrets, runSecrets } from './secrets';
import { type GuardedProcess, signalRun, spawnGuarded } from './guard';
import { readGitState } from './git';
import { environmentVariableNames, readHardware, readOs } from './host';
import { findLockFile, toPortable } from './lockFile';
import { keepModelFiles, keepModelFilesLimit, MODEL_EXTENSIONS } from './modelFiles';
import { fittedEnvironment, trackConfigFor } from './trackConfig';
import { loadProjectConfig } from '../project/config';
import { priceTableFor, type PriceTable } from '../llm/prices';
import { buildLlmSection } from '../llm/section';

export interface TrackProgress {
  /** 1-based position among the code cells, and how many there are. */
  position: number;
  total: number;
  /** Index of the cell in the notebook (0-based; shown with `cellLabel`). */
  cellIndex: number;
  /** Its nbformat id, when the notebook has them. */
  cellId: string | null;
}

/** "cell 12, 3 of 6 code cells": which cell is running, as the editor numbers it, and how far the run is. */
export function progressText(p: TrackProgress): string {
  return `${cellLabel(p.cellIndex, p.cellId)}, ${p.position} of ${p.total} code cells`;
}

interface CommonOptions {
  store: RunStore;
  workspaceRoot: string;
  /** Folder holding sitecustomize.py, the nb2prod package and nb2prod_runner.py. */
  pythonDir: string;
  hashes: HashCache;
  name?: string;
  tags?: string[];
  group?: string | null;
  parent?: string | null;
  /** The environment the run sees (default: this process's). Only its names are recorded. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called with the text the run prints (script stdout/stderr, runner diagnostics). */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** Keep the messages and answers of LLM calls (`--capture-content`); `[track] capture_content` does too. */
  captureContent?: boolean;
}

export interface NotebookTrackOptions extends CommonOptions {
  notebook: string;
  python: string;
  /** `-p name=value` overrides, injected after the `parameters` cell as papermill does. */
  params?: Record<string, JsonValue>;
  onProgress?: (progress: TrackProgress) => void;
  /** Per-cell timeout in seconds (none by default). */
  cellTimeout?: number;
  /** Replay: the notebook file to run is a restored snapshot; record this path and run in its folder. */
  recordAs?: string;
}

export interface ScriptTrackOptions extends CommonOptions {
  /** The command, e.g. ['python', 'train.py', '--lr', '0.1']. */
  command: string[];
  cwd: string;
}

/** The in-flight record of a run; see the file comment. */
export interface RunningMarker {
  pid: number;
  /** Which process had `pid` (Linux: its start time), so a reused pid or a zombie is not taken for the tracker. */
  pidStartTime: string | null;
  host: string;
  envelope: RunEnvelope;
}

function relativeToWorkspace(workspaceRoot: string, file: string): string {
  const relative = path.relative(workspaceRoot, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? toPortable(file) : toPortable(relative);
}

/**
 * A run's default name: what set the run apart — the `-p` overrides (`max_depth=12, seed=2`) or
 * the script's arguments (`--max-depth 12`) — then the file and the time (UTC, as recorded).
 * Runs of one notebook were otherwise all called `churn.ipynb 2026-12-03 09:08`.
 */
export function defaultRunName(sourcePath: string, what: string, startedAt: Date): string {
  const time = startedAt.toISOString().slice(0, 16).replace('T', ' ');
  const base = path.basename(sourcePath);
  const shown = what.length > 80 ? `${what.slice(0, 79)}…` : what;
  // What differs first: it is what survives a narrow Runs view.
  return shown ? `${shown} · ${base} ${time}` : `${base} ${time}`;
}

/** `max_depth=12, seed=2`: overrides as a person reads them. */
export function overridesText(params: Record<string, JsonValue> | undefined): string {
  return Object.entries(params ?? {})
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** `--max-depth 12 --name "a b"` → ['--max-depth', '12', '--name', 'a b']: words, quotes grouping. */
export function splitArguments(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3]!));
  return out;
}

/** Values given as `-p name=value`: JSON when it parses (numbers, booleans, lists), else text. */
export function parseParamValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

const OWN_START_TIME = processStartTime(process.pid);
/** Envelope fields holding hashes and run ids: never redacted (a hex secret could match a part of one). */
const HASH_FIELDS: ReadonlySet<string> = new Set(['id', 'parent', 'sha256', 'snapshot', 'installedSetSha256']);

class RunRecorder {
  readonly id = newRunId();
  readonly startedAt = new Date();
  readonly workDir: string;
  readonly eventsFile: string;
  private readonly markerFile: string;
  /** Model files up to this size are kept in objects/ when the run ends (see modelFiles.ts). */
  private readonly keepModelBytes: number;
  /** The LLM price table ([llm.prices] applied): read before the run, like the limits. */
  private readonly prices: PriceTable;
  /** Whether LLM message contents are kept: `--capture-content` or `[track] capture_content`. */
  readonly captureContent: boolean;
  envelope!: RunEnvelope;

  constructor(
    private readonly options: CommonOptions,
    private readonly kind: RunEnvelope['kind'],
    /** What must not be stored (secrets.ts): every envelope written goes through it. */
    readonly secrets: RunSecrets,
  ) {
    // Read before anything runs: a configuration error must not cost the run.
    this.keepModelBytes = keepModelFilesLimit(options.workspaceRoot);
    this.prices = priceTableFor(loadProjectConfig(options.workspaceRoot, options.workspaceRoot));
    this.captureContent = options.captureContent === true || trackConfigFor(options.workspaceRoot, options.workspaceRoot).captureContent;
    this.workDir = path.join(options.store.root, 'tmp', this.id);
    this.eventsFile = path.join(this.workDir, 'events.jsonl');
    this.markerFile = path.join(options.store.root, 'running', `${this.id}.json`);
  }

  /**
   * Gathers what is known before the run starts and writes the in-flight marker. `what`: the
   * overrides or arguments that set this run apart, for its default name.
   */
  async begin(source: { path: string; sha256: string; snapshot: string | null; cells: CellRecord[]; command?: string[] }, sourceDir: string, what = ''): Promise<void> {
    const { workspaceRoot, hashes } = this.options;
    const env = this.options.env ?? process.env;
    const [git, hardware, lockFile] = await Promise.all([readGitState(workspaceRoot), readHardware(), findLockFile(sourceDir, workspaceRoot, hashes)]);
    await fs.mkdir(this.workDir, { recursive: true });
    await fs.mkdir(path.dirname(this.markerFile), { recursive: true });
    // runs/ makes the folder a store: a run killed now is then listed at once, even in a new store.
    await fs.mkdir(this.options.store.runsDir, { recursive: true });
    this.envelope = {
      schema: ENVELOPE_SCHEMA,
      id: this.id,
      name: this.options.name ?? defaultRunName(source.path, what, this.startedAt),
      kind: this.kind,
      status: 'interrupted',
      startedAt: this.startedAt.toISOString(),
      endedAt: this.startedAt.toISOString(),
      durationMs: 0,
      source,
      git,
      params: {},
      paramSources: {},
      seeds: [],
      unseeded: [],
      environment: { python: null, packages: {}, installedSetSha256: null, lockFile, os: readOs(), envVarNames: environmentVariableNames(env) },
      hardware,
      inputs: [],
      outputs: [],
      artifacts: [],
      metrics: {},
      tags: this.options.tags ?? [],
      group: this.options.group ?? null,
      parent: this.options.parent ?? null,
      error: { message: 'The tracking process stopped before the run finished.' },
    };
    await this.saveMarker();
  }

  async saveMarker(): Promise<void> {
    const now = new Date();
    this.envelope.endedAt = now.toISOString();
    this.envelope.durationMs = now.getTime() - this.startedAt.getTime();
    const marker: RunningMarker = { pid: process.pid, pidStartTime: OWN_START_TIME, host: os.hostname(), envelope: this.redacted(this.envelope) };
    // Rewritten after every cell: not flushed to disk each time (it is only a recovery aid).
    await writeFileAtomic(this.markerFile, JSON.stringify(marker), { durable: false });
  }

  /** The envelope as it may be stored: secret params by name, secret values wherever they are (hashes and ids kept). */
  redacted(envelope: RunEnvelope): RunEnvelope {
    const { redactor } = this.secrets;
    return { ...redactor.deep(envelope, (key) => HASH_FIELDS.has(key)), params: redactParams(envelope.params, redactor) };
  }

  /** Hashes what the run read and wrote, assembles the envelope and stores it. */
  async finish(status: RunStatus, error: RunEnvelope['error'], extraArtifacts: Array<{ file: string; kind: RunEnvelope['artifacts'][number]['kind'] }>): Promise<RunEnvelope> {
    const endedAt = new Date();
    let captured: CapturedRun;
    try {
      captured = foldEvents(parseEventLines(await fs.readFile(this.eventsFile, 'utf8')).events);
    } catch (readError) {
      if ((readError as NodeJS.ErrnoException).code !== 'ENOENT') throw readError;
      captured = foldEvents([]);
    }
    const { workspaceRoot, store, hashes, pythonDir } = this.options;
    const ignored = [path.resolve(store.root), path.resolve(pythonDir)];
    const sourceFile = path.resolve(workspaceRoot, this.envelope.source.path);
    const isIgnored = (file: string) => file === sourceFile || ignored.some((dir) => file === dir || file.startsWith(dir + path.sep));

    const hashed = async (file: string) => {
      try {
        const stat = await fs.stat(file);
        if (!stat.isFile()) return null;
        return { path: relativeToWorkspace(workspaceRoot, file), ...(await hashes.hash(file)) };
      } catch {
        return null; // deleted during the run (a temporary file): not an input or output
      }
    };

    const inputs: RunEnvelope['inputs'] = [];
    const outputs: RunEnvelope['outputs'] = [];
    for (const access of captured.files) {
      if (isIgnored(access.path)) continue;
      const record = await hashed(access.path);
      if (!record) continue;
      if (access.written) outputs.push(record);
      else if (access.readBeforeWrite) {
        const profile = captured.profiles.get(access.path);
        inputs.push(profile ? { ...record, profile } : record);
      }
    }

    const artifacts = new Map<string, RunEnvelope['artifacts'][number]>();
    for (const output of outputs) {
      if (MODEL_EXTENSIONS.has(path.extname(output.path).toLowerCase())) artifacts.set(output.path, { ...output, kind: 'model' });
    }
    for (const logged of captured.artifacts) {
      const record = await hashed(logged.path);
      if (record) artifacts.set(record.path, { ...record, kind: logged.kind });
    }
    for (const extra of extraArtifacts) {
      const record = await hashed(extra.file);
      if (record) artifacts.set(record.path, { ...record, kind: extra.kind });
    }

    // The run's model files are copied into objects/ now, before another run can overwrite them.
    const written = new Map<string, RunEnvelope['outputs'][number]>();
    for (const record of [...outputs, ...[...artifacts.values()].filter((a) => a.kind === 'model')]) written.set(record.path, record);
    const models = await keepModelFiles([...written.values()].map((r) => ({ ...r, absolute: path.resolve(workspaceRoot, r.path) })), store, this.keepModelBytes);
    for (const note of models.notes) this.options.onOutput?.(`nb2prod: ${note}\n`, 'stderr');
    for (const record of [...outputs, ...artifacts.values()]) {
      if (models.models.has(record.path)) record.kept = models.kept.has(record.path);
    }
    for (const output of outputs) {
      // Saved by joblib/pickle/torch or a model's own saver under another name: a model artifact too.
      if (models.models.has(output.path) && !artifacts.has(output.path)) artifacts.set(output.path, { ...output, kind: 'model' });
    }

    // LLM calls: costs from the price table, prompt texts (and many calls) kept in objects/.
    const llm = buildLlmSection(captured.llm, this.prices, this.captureContent, (text) => this.secrets.redactor.text(text));
    if (llm) for (const text of llm.objects.values()) await store.putObject(text);

    const envelope: RunEnvelope = this.redacted({
      ...this.envelope,
      status,
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - this.startedAt.getTime(),
      params: { ...this.envelope.params, ...captured.params },
      paramSources: { ...this.envelope.paramSources, ...captured.paramSources },
      seeds: captured.seeds,
      unseeded: captured.unseeded,
      environment: {
        ...this.envelope.environment,
        python: captured.python,
        packages: captured.packages,
        installedSetSha256: captured.installedSetSha256,
      },
      inputs: sortByPath(inputs),
      outputs: sortByPath(outputs),
      artifacts: sortByPath([...artifacts.values()]),
      metrics: captured.metrics,
      error,
      ...(captured.captureErrors.length ? { captureErrors: captured.captureErrors.slice(0, 50) } : {}),
      // Only a run that succeeded keeps what it fitted (a script that exited non-zero may still have written some).
      ...(status === 'succeeded' && captured.fitted.length ? { fitted: captured.fitted } : {}),
      ...(status === 'succeeded' && captured.fittedSkipped.length ? { fittedSkipped: captured.fittedSkipped } : {}),
      ...(llm ? { llm: llm.section } : {}),
    });
    await store.writeRun(envelope);
    await hashes.save().catch(() => undefined);
    await fs.rm(this.markerFile, { force: true });
    await fs.rm(this.workDir, { recursive: true, force: true });
    return envelope;
  }

  /** Forgets a run that never started (e.g. the interpreter cannot run notebooks). */
  async abandon(): Promise<void> {
    await fs.rm(this.markerFile, { force: true });
    await fs.rm(this.workDir, { recursive: true, force: true });
  }
}

function sortByPath<T extends { path: string }>(items: T[]): T[] {
  return items.sort((a, b) => a.path.localeCompare(b.path));
}

function captureEnv(options: CommonOptions, recorder: RunRecorder, sourceDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...(options.env ?? process.env) };
  delete env.NB2PROD_OBJECTS;
  delete env.NB2PROD_FITTED_LIMITS;
  Object.assign(env, fittedEnvironment(trackConfigFor(sourceDir, options.workspaceRoot), options.store.objectsDir));
  env.PYTHONPATH = [options.pythonDir, env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  env.NB2PROD_EVENTS = recorder.eventsFile;
  if (recorder.captureContent) env.NB2PROD_CAPTURE_CONTENT = '1';
  else delete env.NB2PROD_CAPTURE_CONTENT;
  env.NB2PROD_RUN_ID = recorder.id;
  env.PYDEVD_DISABLE_FILE_VALIDATION = '1';
  env.PYTHONUNBUFFERED = '1';
  // The secrets the Python side must keep out of what it writes (events, the executed notebook).
  if (recorder.secrets.redactor.values.length) env.NB2PROD_REDACT = JSON.stringify(recorder.secrets.redactor.values);
  else delete env.NB2PROD_REDACT;
  return { ...env, ...extra };
}

/**
 * Stops a run on abort: `first` to the run's process group (the runner shuts its kernel down; a
 * script gets the Ctrl-C it would get in a terminal), SIGKILL to the group if it lingers.
 */
function stopOnAbort(child: ChildProcess, signal: AbortSignal | undefined, first: NodeJS.Signals, onAbort: () => void): () => void {
  if (!signal) return () => undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const abort = () => {
    onAbort();
    signalRun(child, first);
    killTimer = setTimeout(() => signalRun(child, 'SIGKILL'), 15_000);
  };
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  return () => {
    clearTimeout(killTimer);
    signal.removeEventListener('abort', abort);
  };
}

/** How a guarded child ended; `spawnError` when the program (or the guard) could not start. */
async function exitOf(guarded: GuardedProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }> {
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    guarded.child.on('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    guarded.child.on('close', (code, signal) => resolve({ code, signal }));
  });
  if (exit.spawnError) return exit;
  const startError = await guarded.startError;
  return startError ? { ...exit, spawnError: new Error(startError) } : exit;
}

/** Keeps the last `limit` characters of a stream, for error messages. */
class Tail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

const runnerMessageTypes = ['params', 'started', 'cell_started', 'cell_finished', 'cell_failed', 'finished', 'error', 'warning'] as const;
type RunnerMessage = { type: (typeof runnerMessageTypes)[number] } & Record<string, unknown>;

function parseRunnerLine(line: string): RunnerMessage | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    return typeof value.type === 'string' && (runnerMessageTypes as readonly string[]).includes(value.type) ? (value as RunnerMessage) : null;
  } catch {
    return null;
  }
}

/** Kernel names of other languages, for notebooks whose kernelspec does not state its language. */
const OTHER_LANGUAGE_KERNELS = /^(?:i?julia|ir|bash|zsh|javascript|typescript|deno|tslab|scala|spylon|sas|matlab|octave|xcpp|xeus-cling|cling|rust|evcxr|go|gophernotes|java|ijava|kotlin|ruby|perl|powershell|pwsh|wolfram|sql|xsqlite|c|csharp|fsharp|\.net-)/i;

/**
 * nb2prod runs notebooks in a Python kernel (the interpreter's `python3`): a Julia or R notebook
 * would run its cells as Python and fail on the first line, so it is refused with a reason.
 * The language comes from the kernelspec (or language_info); a notebook that states none is Python.
 */
function refuseOtherLanguages(notebook: NotebookJson, file: string): void {
  const metadata = (notebook.metadata ?? {}) as { kernelspec?: { name?: unknown; language?: unknown; display_name?: unknown }; language_info?: { name?: unknown } };
  const spec = metadata.kernelspec ?? {};
  const stated = typeof spec.language === 'string' ? spec.language : typeof metadata.language_info?.name === 'string' ? metadata.language_info.name : null;
  const name = typeof spec.name === 'string' ? spec.name : '';
  const language = stated ?? (OTHER_LANGUAGE_KERNELS.test(name) ? name.replace(/[-_]?\d[\w.]*$/, '') : null);
  if (!language || /^(?:i?python\d*)$/i.test(language.trim())) return;
  const kernel = typeof spec.display_name === 'string' ? spec.display_name : name || language;
  const article = /^[aeiou]/i.test(language) || /^[FHLMNRSX]$/.test(language) ? 'an' : 'a';
  throw new UserError('unsupported-kernel', `${file} is ${article} ${printable(language, 40)} notebook (kernel "${printable(kernel, 60)}"): nb2prod runs notebooks in a Python kernel, where its cells would fail. Track Python notebooks (or scripts with nb2prod run).`);
}

/** Runs a notebook in a fresh kernel and records the run. */
export async function trackNotebook(options: NotebookTrackOptions): Promise<RunEnvelope> {
  const notebookFile = path.resolve(options.notebook);
  let text: string;
  try {
    text = await fs.readFile(notebookFile, 'utf8');
  } catch {
    throw new UserError('source-not-found', `Cannot read the notebook ${options.notebook}: no such file.`);
  }
  const notebook = parseNotebook(text, options.notebook);
  // An invalid [track] configuration is reported before anything runs.
  trackConfigFor(path.dirname(options.recordAs ? path.resolve(options.workspaceRoot, options.recordAs) : notebookFile), options.workspaceRoot);
  refuseOtherLanguages(notebook.json, relativeToWorkspace(options.workspaceRoot, notebookFile));
  const codeCells = notebook.cells.filter((c) => c.kind === 'code');
  const snapshot = await options.store.putObject(JSON.stringify(stripOutputs(notebook.json), null, 1));
  const recorder = new RunRecorder(options, 'notebook', runSecrets({ env: options.env ?? process.env, ...(options.params ? { params: options.params } : {}) }));
  const cells: CellRecord[] = codeCells.map((c) => ({ index: c.index, id: c.id, sha256: sha256Hex(c.source), durationMs: null, status: 'not-run' }));
  const recordedFile = options.recordAs ? path.resolve(options.workspaceRoot, options.recordAs) : notebookFile;
  const runDir = path.dirname(recordedFile);
  await fs.mkdir(recorder.workDir, { recursive: true });
  // Git state, hardware and the lock file are read while the kernel starts (it takes a second):
  // tracking must cost next to nothing over running the notebook. Everything that touches the
  // envelope waits for `ready`.
  const ready = recorder.begin({ path: relativeToWorkspace(options.workspaceRoot, recordedFile), sha256: codeHash(notebook.cells), snapshot, cells }, runDir, overridesText(options.params));

  const executed = path.join(recorder.workDir, 'executed.ipynb');
  const args = [path.join(options.pythonDir, 'nb2prod_runner.py'), '--notebook', notebookFile, '--output', executed, '--cwd', runDir];
  if (options.params && Object.keys(options.params).length) args.push('--params-json', JSON.stringify(options.params));
  if (options.cellTimeout) args.push('--cell-timeout', String(options.cellTimeout));
  const env = captureEnv(options, recorder, runDir, { NB2PROD_CELLS: path.join(recorder.workDir, 'cells.json') });

  let guarded: GuardedProcess;
  try {
    guarded = spawnGuarded(options.python, args, { env, cwd: runDir, pythonDir: options.pythonDir, stdin: 'ignore' });
  } catch (error) {
    await ready.catch(() => undefined);
    await recorder.abandon();
    throw new UserError('python-not-usable', `Cannot start Python (${options.python}): ${(error as Error).message}`);
  }
  const child = guarded.child;
  let cancelled = false;
  const release = stopOnAbort(child, options.signal, 'SIGTERM', () => (cancelled = true));
  const stderr = new Tail();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    options.onOutput?.(chunk, 'stderr');
  });

  let status: RunStatus | null = null;
  let error: RunEnvelope['error'] = null;
  let setupError: string | null = null;
  let kernelStarted = false;
  let markerWrite: Promise<void> = ready;
  const byIndex = new Map(cells.map((c) => [c.index, c]));
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const message = parseRunnerLine(line);
    if (!message) {
      options.onOutput?.(`${line}\n`, 'stdout');
      return;
    }
    switch (message.type) {
      case 'params': {
        const values = (message.values ?? {}) as Record<string, JsonValue>;
        const sources = (message.sources ?? {}) as Record<string, string>;
        markerWrite = markerWrite.then(() => {
          recorder.envelope.params = values;
          recorder.envelope.paramSources = Object.fromEntries(Object.keys(values).map((k) => [k, sources[k] === 'override' ? 'override' : 'notebook'] as const));
        });
        break;
      }
      case 'started':
        kernelStarted = true;
        break;
      case 'cell_started': {
        const index = Number(message.index);
        const progress = { position: Number(message.position), total: Number(message.total), cellIndex: index, cellId: byIndex.get(index)?.id ?? null };
        // Shown once the in-flight record has the cells before it: "cell N of M" on screen means
        // a tracker killed from now on leaves a record of how far it got.
        const show = () => options.onProgress?.(progress);
        void markerWrite.then(show, show);
        break;
      }
      case 'cell_finished': {
        const cell = byIndex.get(Number(message.index));
        if (cell) {
          cell.status = message.status === 'failed' ? 'failed' : 'succeeded';
          cell.durationMs = Number(message.durationMs) || 0;
        }
        // Keep the in-flight record current, so a killed run shows how far it got.
        markerWrite = markerWrite.then(() => recorder.saveMarker()).catch(() => undefined);
        break;
      }
      case 'cell_failed':
        // index is null when the injected parameters cell failed (it is not one of the user's cells).
        error = {
          message: `${String(message.ename ?? 'Error')}: ${String(message.evalue ?? '')}`.trim(),
          type: String(message.ename ?? 'Error'),
          ...(typeof message.index === 'number' ? { cell: message.index } : {}),
          traceback: String(message.traceback ?? ''),
        };
        if (message.injected) error.message = `The injected parameters failed: ${error.message}`;
        break;
      case 'finished':
        if (message.status === 'succeeded' || message.status === 'failed' || message.status === 'cancelled' || message.status === 'interrupted') status = message.status;
        break;
      case 'error':
        setupError = String(message.message ?? 'the notebook runner failed');
        break;
      case 'warning':
        options.onOutput?.(`warning: ${String(message.message ?? '')}\n`, 'stderr');
        break;
    }
  });

  const exit = await exitOf(guarded);
  release();
  await ready; // a failure to gather the run's context surfaces here, once the child is gone
  await markerWrite;

  if (exit.spawnError) {
    await recorder.abandon();
    throw new UserError('python-not-usable', `Cannot start Python "${options.python}": ${exit.spawnError.message}. Set nb2prod.pythonPath (or --python) to an interpreter with nbclient and ipykernel.`);
  }
  if (status === null && !kernelStarted && !cancelled) {
    // It never got as far as a kernel: nothing of the notebook ran, so there is no run to record.
    await recorder.abandon();
    const reason = setupError ?? (stderr.toString().trim().split('\n').at(-1) || `exit code ${exit.code}`);
    throw new UserError('python-not-usable', `The notebook runner could not start with ${options.python}: ${reason}. It needs nbclient and ipykernel; set nb2prod.pythonPath (or --python) to an interpreter that has them.`);
  }
  if (status === null) {
    // The runner died without a word (killed, crashed): the run is interrupted.
    status = cancelled ? 'cancelled' : 'interrupted';
    error ??= { message: `The notebook runner stopped (${exit.signal ?? `exit code ${exit.code}`}).`, traceback: stderr.toString() };
  }
  if (status === 'cancelled') error ??= { message: 'Cancelled by the user.' };
  if (status === 'interrupted') error ??= { message: 'The kernel died before the notebook finished.', traceback: stderr.toString() };
  const savedNotebook = await keepExecutedNotebook(options.store, recorder.id, executed);
  return recorder.finish(status, error, savedNotebook ? [{ file: savedNotebook, kind: 'notebook' }] : []);
}

/** Moves the executed notebook (with outputs) into the store's artifacts folder. */
async function keepExecutedNotebook(store: RunStore, runId: string, executed: string): Promise<string | null> {
  try {
    await fs.access(executed);
  } catch {
    return null;
  }
  const target = path.join(store.root, 'artifacts', runId, 'executed.ipynb');
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rename(executed, target);
  return target;
}

/** `--name value` and `--name=value` after the script become params (source `argv`). */
export function paramsFromArgv(args: string[]): Record<string, JsonValue> {
  const params: Record<string, JsonValue> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--?([A-Za-z][\w.-]*)(?:=(.*))?$/.exec(arg);
    if (!match) continue;
    const name = match[1]!.replace(/-/g, '_');
    if (match[2] !== undefined) params[name] = parseParamValue(match[2]);
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) params[name] = parseParamValue(args[++i]!);
    else params[name] = true;
  }
  return params;
}

/** Runs a command (typically `python train.py ...`) with capture on, and records the run. */
export async function trackScript(options: ScriptTrackOptions): Promise<RunEnvelope> {
  const [program, ...args] = options.command;
  if (!program) throw new UserError('usage', 'Give the command to run after --, e.g. nb2prod run -- python train.py');
  const scriptIndex = args.findIndex((a) => a.endsWith('.py'));
  const script = scriptIndex >= 0 ? path.resolve(options.cwd, args[scriptIndex]!) : null;
  // The command as recorded: secret arguments (`--api-key X`, `--password=Y`) are `***`.
  const secrets = runSecrets({ env: options.env ?? process.env, command: options.command });
  const recordedCommand = secrets.command ?? options.command;
  let source: { path: string; sha256: string; snapshot: string | null; cells: CellRecord[]; command: string[] };
  if (script) {
    let code: Buffer;
    try {
      code = await fs.readFile(script);
    } catch {
      throw new UserError('source-not-found', `Cannot read the script ${args[scriptIndex]}: no such file.`);
    }
    source = { path: relativeToWorkspace(options.workspaceRoot, script), sha256: sha256Hex(code), snapshot: await options.store.putObject(code), cells: [], command: recordedCommand };
  } else {
    const text = recordedCommand.join(' ');
    source = { path: text, sha256: sha256Hex(text), snapshot: null, cells: [], command: recordedCommand };
  }
  trackConfigFor(script ? path.dirname(script) : options.cwd, options.workspaceRoot); // an invalid [track] fails before the run
  const recorder = new RunRecorder(options, 'script', secrets);
  await recorder.begin(source, script ? path.dirname(script) : options.cwd, scriptIndex >= 0 ? recordedCommand.slice(scriptIndex + 2).join(' ') : '');
  if (scriptIndex >= 0) {
    const argvParams = paramsFromArgv(args.slice(scriptIndex + 1));
    recorder.envelope.params = argvParams;
    recorder.envelope.paramSources = Object.fromEntries(Object.keys(argvParams).map((k) => [k, 'argv' as const]));
  }
  await recorder.saveMarker();

  let guarded: GuardedProcess;
  try {
    guarded = spawnGuarded(program, args, { env: captureEnv(options, recorder, script ? path.dirname(script) : options.cwd), cwd: options.cwd, pythonDir: options.pythonDir, stdin: 'inherit' });
  } catch (error) {
    await recorder.abandon();
    throw new UserError('source-not-found', `Cannot start ${program}: ${(error as Error).message}`);
  }
  const child = guarded.child;
  let cancelled = false;
  const release = stopOnAbort(child, options.signal, 'SIGINT', () => (cancelled = true));
  const stderr = new Tail();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => options.onOutput?.(chunk, 'stdout'));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    options.onOutput?.(chunk, 'stderr');
  });
  const exit = await exitOf(guarded);
  release();
  if (exit.spawnError) {
    await recorder.abandon();
    throw new UserError('source-not-found', `Cannot start "${program}": ${exit.spawnError.message}.`);
  }
  let status: RunStatus;
  let error: RunEnvelope['error'] = null;
  if (cancelled) {
    status = 'cancelled';
    error = { message: 'Cancelled by the user.' };
  } else if (exit.code === 0) {
    status = 'succeeded';
  } else if (exit.signal) {
    status = 'interrupted';
    error = { message: `${program} was killed by ${exit.signal}.`, traceback: stderr.toString() };
  } else {
    status = 'failed';
    const lastLine = stderr.toString().trim().split('\n').at(-1) ?? '';
    error = { message: lastLine || `${program} exited with code ${exit.code}.`, traceback: stderr.toString() };
  }
  return recorder.finish(status, error, []);
}
