/**
 * The Track Run and Replay Run commands: a few lines of editor glue over the core's
 * trackNotebook/trackScript/replayRun, which the CLI calls too. Running code needs a trusted
 * workspace; long work shows progress in a notification and can be cancelled.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { HashCache } from '../core/capture/fileHash';
import { type ReplayReport, replayRun, secretsNeededForReplay } from '../core/capture/replay';
import { type Redactor, runSecrets } from '../core/capture/secrets';
import { overridesText, progressText, splitArguments, type TrackProgress, trackNotebook, trackScript } from '../core/capture/tracker';
import type { JsonValue, RunEnvelope } from '../core/envelope';
import { parseNotebook } from '../core/notebook/ipynb';
import { changedOverrides, parametersOf, parametersText, parseOverrides } from '../core/notebook/parameters';
import { isUserError, UserError } from '../core/errors';
import { formatDuration, formatNumber, runErrorText } from '../core/render/format';
import type { RunStore } from '../core/store/runStore';
import { reportError } from './errors';
import { resolveInterpreter } from './interpreter';
import type { RunPanels } from './runPanel';
import { pickRuns, runIdOf } from './runPicker';
import type { RunsTreeProvider } from './runsView';
import type { WorkspaceStore } from './workspaceStore';

export const UNTRUSTED_MESSAGE =
  "nb2prod does not run code in an untrusted workspace: tracking runs the notebook's code. Trust this folder to track runs.";

/** What Track Run runs: a notebook (in a fresh kernel) or a Python script. */
export interface TrackTarget {
  uri: vscode.Uri;
  kind: 'notebook' | 'script';
}

/**
 * The file a Track Run invocation means. Menus pass different things: the explorer and the
 * editor title a Uri, the notebook toolbar the notebook (or its editor context); the palette
 * nothing, and then the active notebook, else the active Python editor, is tracked.
 */
export function trackTarget(arg: unknown): TrackTarget {
  const uri = uriOf(arg) ?? vscode.window.activeNotebookEditor?.notebook.uri ?? activePythonEditor()?.document.uri;
  if (!uri) throw new UserError('usage', 'Open a notebook (.ipynb) or a Python file to track a run of it.');
  if (uri.scheme === 'untitled') throw new UserError('source-not-found', 'Save the file first: tracking runs the saved file.');
  if (uri.scheme !== 'file') throw new UserError('source-not-found', `nb2prod tracks files on disk; ${uri.toString()} is not one.`);
  const ext = path.extname(uri.fsPath).toLowerCase();
  if (ext === '.ipynb') return { uri, kind: 'notebook' };
  if (ext === '.py') return { uri, kind: 'script' };
  throw new UserError('usage', `${path.basename(uri.fsPath)} is neither a notebook (.ipynb) nor a Python script (.py).`);
}

function uriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (!arg || typeof arg !== 'object') return undefined;
  const value = arg as { uri?: unknown; notebookEditor?: { notebookUri?: unknown }; notebook?: { uri?: unknown } };
  for (const candidate of [value.uri, value.notebookEditor?.notebookUri, value.notebook?.uri]) {
    if (candidate instanceof vscode.Uri) return candidate;
    // Arguments that crossed the renderer boundary may arrive as plain UriComponents.
    if (candidate && typeof candidate === 'object' && 'scheme' in candidate && 'path' in candidate) {
      return vscode.Uri.from(candidate as { scheme: string; path: string });
    }
  }
  return undefined;
}

function activePythonEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor?.document.languageId === 'python' && editor.document.uri.scheme !== 'vscode-notebook-cell' ? editor : undefined;
}

/** True in a trusted workspace; otherwise says why nothing runs, with a way to trust it. */
export function ensureTrusted(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showErrorMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** Tracking saves the file first, because the runner reads the saved file, not the editor. */
async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  const key = uri.toString();
  const document = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === key) ?? vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
  if (!document?.isDirty) return;
  if (!(await document.save())) {
    throw new UserError('source-not-found', `Could not save ${path.basename(uri.fsPath)}; tracking runs the saved file, so save it and try again.`);
  }
}

/**
 * The environment a tracked run sees: the extension host's, without what VS Code adds for its
 * own processes. ELECTRON_RUN_AS_NODE would change how any Electron program the run starts
 * behaves, and VSCODE_* names would make editor runs differ from CLI runs in every diff.
 */
function runEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VSCODE_') && name !== 'ELECTRON_RUN_AS_NODE'));
}

/**
 * Sends runner output to the log line by line (a chunk may end mid-line). The log is kept on disk
 * by VS Code, so the run's secrets (its environment's, see core/capture/secrets.ts) become `***`.
 */
class OutputLines {
  private readonly pending = { stdout: '', stderr: '' };
  private readonly redactor: Redactor;
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly label: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.redactor = runSecrets({ env }).redactor;
  }

  write = (text: string, stream: 'stdout' | 'stderr'): void => {
    const lines = (this.pending[stream] + text).split(/\r?\n/);
    this.pending[stream] = lines.pop() ?? '';
    for (const line of lines) this.emit(line, stream);
  };

  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream]) this.emit(this.pending[stream], stream);
      this.pending[stream] = '';
    }
  }

  private emit(line: string, stream: 'stdout' | 'stderr'): void {
    this.log.info(`[${this.label}${stream === 'stderr' ? ' stderr' : ''}] ${this.redactor.text(line)}`);
  }
}

function metricsText(run: RunEnvelope): string {
  return Object.entries(run.metrics)
    .map(([name, metric]) => `${name}=${formatNumber(metric.value)}`)
    .join(' ');
}

export class RunTracker {
  /** Files being tracked right now: a second click on the same file would only compete for the kernel. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly store: WorkspaceStore,
    private readonly runs: RunsTreeProvider,
    private readonly panels: RunPanels,
    private readonly log: vscode.LogOutputChannel,
    /** Folder of the Python companion (sitecustomize.py, the nb2prod package, the runner). */
    private readonly pythonDir: string,
    /** Remembers the arguments last given to each script. */
    private readonly state?: vscode.Memento,
  ) {}

  /**
   * Track Run with Parameters…: asks for the overrides of a notebook (prefilled from its
   * `parameters` cell; only values that differ from the cell are passed, as `-p`) or the
   * arguments of a script (prefilled with the last ones used), then tracks the run.
   */
  async trackWithParameters(arg?: unknown): Promise<void> {
    if (!ensureTrusted()) return;
    const target = trackTarget(arg);
    const label = path.basename(target.uri.fsPath);
    if (target.kind === 'notebook') {
      await saveIfDirty(target.uri);
      const notebook = parseNotebook(Buffer.from(await vscode.workspace.fs.readFile(target.uri)).toString('utf8'), label);
      const defaults = parametersOf(notebook.cells);
      const text = await vscode.window.showInputBox({
        title: `Track ${label} with parameters`,
        prompt: defaults
          ? 'Change the values to try, e.g. max_depth=12, seed=2. Values equal to the parameters cell are left to it; the others are injected after it, as papermill does.'
          : 'No cell is tagged "parameters": the overrides are injected at the top of the notebook, e.g. max_depth=12, seed=2.',
        value: defaults ? parametersText(defaults) : '',
        ignoreFocusOut: true,
        validateInput: (value) => {
          const { problems } = parseOverrides(value);
          return problems.length ? `Not understood: ${problems.join('; ')}. Write name=value pairs separated by commas.` : undefined;
        },
      });
      if (text === undefined) return;
      const params = changedOverrides(parseOverrides(text).params, defaults);
      this.log.info(`Track ${label} with ${Object.keys(params).length ? overridesText(params) : 'the parameters cell as it is'}`);
      await this.track(target.uri, { params });
      return;
    }
    const key = `nb2prod.scriptArguments:${target.uri.fsPath}`;
    const text = await vscode.window.showInputBox({
      title: `Run ${label} with arguments`,
      prompt: `The command-line arguments, e.g. --max-depth 12 --seed 2 (the run is python ${label} ARGUMENTS).`,
      value: this.state?.get<string>(key) ?? '',
      ignoreFocusOut: true,
    });
    if (text === undefined) return;
    await this.state?.update(key, text);
    await this.track(target.uri, { args: splitArguments(text) });
  }

  /** Track Run: runs the target in a fresh process and records the run. */
  async track(arg?: unknown, overrides: { params?: Record<string, JsonValue>; args?: string[] } = {}): Promise<void> {
    if (!ensureTrusted()) return;
    const target = trackTarget(arg);
    const { store, workspaceRoot } = this.openStore();
    const file = target.uri.fsPath;
    const label = path.basename(file);
    if (this.inFlight.has(file)) {
      void vscode.window.showInformationMessage(`${label} is already being tracked.`);
      return;
    }
    this.inFlight.add(file);
    try {
      await saveIfDirty(target.uri);
      const python = await resolveInterpreter(target.uri, this.log);
      this.log.info(`Tracking ${file} with ${python.path} (${python.source})`);
      const env = runEnvironment();
      const output = new OutputLines(this.log, label, env);
      const run = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `nb2prod: Tracking ${label}`, cancellable: true },
        async (progress, token) => {
          const controller = new AbortController();
          const cancel = token.onCancellationRequested(() => controller.abort());
          const common = { store, workspaceRoot, pythonDir: this.pythonDir, hashes: hashCacheOf(store), env, signal: controller.signal, onOutput: output.write };
          try {
            if (target.kind === 'notebook') {
              progress.report({ message: 'starting the kernel…' });
              return await trackNotebook({ ...common, notebook: file, python: python.path, onProgress: cellProgress(progress), ...(overrides.params ? { params: overrides.params } : {}) });
            }
            progress.report({ message: `running python ${label}…` });
            // Relative to its folder, as one would type it: the recorded command replays anywhere.
            return await trackScript({ ...common, command: [python.path, label, ...(overrides.args ?? [])], cwd: path.dirname(file) });
          } finally {
            cancel.dispose();
            output.flush();
          }
        },
      );
      this.log.info(`Run ${run.id} ${run.status} in ${formatDuration(run.durationMs)}`);
      this.announce(run);
      await this.reveal(run.id);
    } catch (error) {
      if (!isUserError(error) || error.code !== 'python-not-usable') throw error;
      this.offerInterpreterSetting(error.message);
    } finally {
      this.inFlight.delete(file);
    }
  }

  /** Replay Run: re-runs a recorded run's code snapshot and says whether it reproduced. */
  async replay(arg?: unknown): Promise<void> {
    if (!ensureTrusted()) return;
    const { store, workspaceRoot } = this.openStore();
    const id = runIdOf(arg) ?? (await pickRuns(this.store, 1, 'Replay which run?'))?.[0];
    if (!id) return;
    const original = await store.getRun(id);
    const secrets = await this.askForSecrets(original);
    if (!secrets) return;
    const python = await resolveInterpreter(vscode.Uri.file(path.resolve(workspaceRoot, original.source.path)), this.log);
    this.log.info(`Replaying run ${id} (${original.source.path}) with ${python.path} (${python.source})`);
    const env = runEnvironment();
    const output = new OutputLines(this.log, `replay ${path.basename(original.source.path)}`, env);
    let cancelled = false;
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `nb2prod: Replaying ${original.name}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => {
          cancelled = true;
          controller.abort();
        });
        progress.report({ message: original.kind === 'notebook' ? 'starting the kernel…' : 'running…' });
        try {
          return await replayRun(id, {
            store,
            workspaceRoot,
            pythonDir: this.pythonDir,
            python: python.path,
            hashes: hashCacheOf(store),
            env,
            secrets,
            signal: controller.signal,
            onProgress: cellProgress(progress),
            onOutput: output.write,
          });
        } catch (error) {
          if (isUserError(error) && error.code === 'python-not-usable') {
            this.offerInterpreterSetting(error.message);
            return undefined;
          }
          throw error;
        } finally {
          cancel.dispose();
          output.flush();
        }
      },
    );
    if (!report) return;
    this.logReport(original, report);
    // The user stopped it: the cancelled replay is in the Runs view; a verdict would be noise.
    if (!cancelled) this.announceReplay(original, report);
    await this.reveal(report.replayId);
  }

  /**
   * The secrets the run was given and nb2prod did not record (its `***` params and arguments),
   * asked for again as the CLI's `replay -p name=value` takes them; undefined when the user cancels.
   */
  private async askForSecrets(run: RunEnvelope): Promise<Record<string, string> | undefined> {
    const secrets: Record<string, string> = {};
    for (const name of secretsNeededForReplay(run)) {
      const value = await vscode.window.showInputBox({
        title: `Replay ${run.name}`,
        prompt: `The run was given ${name} as a secret, which nb2prod did not record. Its value for the replay:`,
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) return undefined;
      secrets[name] = value;
    }
    return secrets;
  }

  /** The interpreter cannot run notebooks: the core's message says why; offer the setting that fixes it. */
  private offerInterpreterSetting(message: string): void {
    this.log.warn(message);
    void vscode.window.showErrorMessage(message, 'Set Interpreter', 'Show Log').then((choice) => {
      if (choice === 'Set Interpreter') void vscode.commands.executeCommand('workbench.action.openSettings', 'nb2prod.pythonPath');
      if (choice === 'Show Log') this.log.show();
    });
  }

  private openStore(): { store: RunStore; workspaceRoot: string } {
    const workspaceRoot = this.store.workspaceFolder();
    if (!workspaceRoot) throw new UserError('no-workspace', 'Open a folder to track runs: nb2prod keeps them in the folder’s .nb2prod store.');
    return { store: this.store.get(), workspaceRoot };
  }

  /** Shows the new run selected in the Runs view. A failure here must not hide the run's result. */
  private async reveal(runId: string): Promise<void> {
    try {
      if (!(await this.runs.revealRun(runId))) this.log.warn(`Run ${runId} could not be selected in the Runs view`);
    } catch (error) {
      this.log.warn(`Could not reveal run ${runId} in the Runs view: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private announce(run: RunEnvelope): void {
    const metrics = metricsText(run);
    const message =
      run.status === 'succeeded'
        ? `Run ${run.name} succeeded in ${formatDuration(run.durationMs)}${metrics ? `: ${metrics}` : ''}`
        : run.status === 'cancelled'
          ? `Run ${run.name} was cancelled after ${formatDuration(run.durationMs)}; it is recorded as cancelled.`
          : `Run ${run.name} ${run.status}${run.error ? `: ${runErrorText(run)}` : ''}`;
    const shown = run.status === 'succeeded' ? vscode.window.showInformationMessage(message, 'Show Run') : vscode.window.showWarningMessage(message, 'Show Run');
    void shown.then((choice) => {
      if (choice) this.panels.showRun(run.id).catch((error: unknown) => reportError(error, this.log, 'Show Run'));
    });
  }

  private logReport(original: RunEnvelope, report: ReplayReport): void {
    this.log.info(`Replay of ${original.id} recorded as ${report.replayId}: ${report.reproduced ? 'reproduced' : 'did not reproduce'}`);
    for (const d of report.differences) {
      if (d.severity === 'error') this.log.warn(`  ✗ ${d.message}`);
      else this.log.info(`  note: ${d.message}`);
    }
  }

  private announceReplay(original: RunEnvelope, report: ReplayReport): void {
    const errors = report.differences.filter((d) => d.severity === 'error');
    const notes = report.differences.length - errors.length;
    const buttons = report.differences.length ? ['Show Replay', 'Show Differences'] : ['Show Replay'];
    const shown = report.reproduced
      ? vscode.window.showInformationMessage(`Run ${original.name} reproduced${notes ? ` (${notes} note${notes === 1 ? '' : 's'} in the log)` : ''}.`, ...buttons)
      : vscode.window.showWarningMessage(`Run ${original.name} did not reproduce: ${errors[0]!.message}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`, ...buttons);
    void shown.then(async (choice) => {
      try {
        if (choice === 'Show Replay') await this.panels.showRun(report.replayId);
        if (choice === 'Show Differences') {
          this.log.show(true);
          await this.panels.showDiff(report.originalId, report.replayId);
        }
      } catch (error) {
        reportError(error, this.log, choice ?? 'Replay');
      }
    });
  }
}

function hashCacheOf(store: RunStore): HashCache {
  return new HashCache(store.hashCacheFile);
}

/** "cell 12, 3 of 6 code cells", and a bar that fills as cells finish. */
function cellProgress(progress: vscode.Progress<{ message?: string; increment?: number }>): (p: TrackProgress) => void {
  let done = 0;
  return (p) => {
    const percent = ((p.position - 1) / Math.max(p.total, 1)) * 100;
    progress.report({ message: progressText(p), increment: Math.max(percent - done, 0) });
    done = Math.max(done, percent);
  };
}
