/**
 * "Generate Production Service": the core's scaffold with the editor's confirmations. It asks
 * which run to build from (the registry's champion, else the best run by the primary metric,
 * with the reason shown), shows the planned file tree and writes only after the user accepts; a
 * file row opens a preview diff of what would be written against what is on disk, and a plan
 * closed without a decision (focus moved away, Escape) stays one click away. A file the user
 * changed since it was generated is overwritten only after a second, explicit yes. The golden
 * sample runs the notebook's model in Python, so it needs a trusted workspace, and it can be
 * cancelled.
 */
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import * as vscode from 'vscode';
import { isUserError, UserError } from '../core/errors';
import { formatNumber } from '../core/render/format';
import { runDistinctions } from '../core/render/runLabels';
import { loadRegistryConfig } from '../core/registry/gates';
import { Registry } from '../core/registry/registry';
import { scaffoldRunChoices } from '../core/scaffold/runChoice';
import { type PlannedWrite, type PreparedScaffold, prepareScaffold, writeGoldenSample, writeScaffold } from '../core/scaffold/scaffold';
import { resolveInterpreter } from './interpreter';
import { ensureTrusted, trackTarget } from './tracking';
import type { WorkspaceStore } from './workspaceStore';

const ACTION_TEXT: Record<PlannedWrite['action'], string> = {
  create: 'new',
  update: 'update (unchanged since generated)',
  unchanged: 'same as generated',
  conflict: 'CHANGED BY YOU',
};

/** Scheme of the read-only documents showing what a plan would write (the right side of its preview diffs). */
export const PLAN_SCHEME = 'nb2prod-plan';

export class ScaffoldCommand implements vscode.TextDocumentContentProvider, vscode.Disposable {
  /** What the open plans would write, by the path of their `nb2prod-plan:` documents. */
  private readonly planned = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly templatesDir: string,
    private readonly version: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.planned.get(uri.path) ?? '';
  }

  dispose(): void {
    this.registration.dispose();
  }

  /** `preset.runId`: the run to build from (the run page's Scaffold button); otherwise the user picks. */
  async run(arg: unknown, preset: { runId?: string } = {}): Promise<void> {
    // The scaffold asks Python for versions and runs the notebook's model: trusted folders only.
    if (!ensureTrusted()) return;
    const target = trackTarget(arg);
    if (target.kind !== 'notebook') throw new UserError('usage', 'Generate Production Service works on a notebook (.ipynb).');
    const workspaceRoot = this.store.workspaceFolder();
    if (!workspaceRoot) throw new UserError('no-workspace', 'Open the folder that holds the notebook: the service is generated from its tracked runs.');
    const notebook = target.uri.fsPath;
    const outDir = await this.askOutDir(notebook, workspaceRoot);
    if (!outDir) return;
    const runId = preset.runId ?? (await this.pickRun(notebook, workspaceRoot));
    if (runId === null) return;
    const interpreter = await resolveInterpreter(target.uri, this.log);

    let prepared: PreparedScaffold;
    try {
      prepared = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `nb2prod: Planning the service for ${path.basename(notebook)}…` },
        () =>
          prepareScaffold({
            workspaceRoot,
            notebook,
            outDir,
            store: this.store.get(),
            templatesDir: this.templatesDir,
            python: interpreter.path,
            nb2prodVersion: this.version,
            ...(runId ? { run: runId } : {}),
          }),
      );
    } catch (error) {
      if (isUserError(error) && (error.code === 'cannot-scaffold' || error.code === 'invalid-notebook')) {
        // The message lists what to add: a modal shows all of it, a toast would cut it.
        const [first, ...rest] = error.message.split('\n');
        this.log.warn(error.message);
        await vscode.window.showErrorMessage(first!, { modal: true, detail: rest.join('\n').replace(/^ {2}/gm, '') });
        return;
      }
      throw error;
    }

    // A plan closed without a decision is kept: nothing is written, and it is one click away.
    while (!(await this.confirm(prepared, outDir))) {
      const again = await vscode.window.showInformationMessage(
        `nb2prod: nothing was written to ${path.relative(workspaceRoot, outDir) || '.'}. The plan from run ${prepared.run.name} is kept.`,
        'Show Plan Again',
      );
      if (again !== 'Show Plan Again') return;
    }
    const conflicts = prepared.writes.filter((w) => w.action === 'conflict');
    let overwrite = false;
    if (conflicts.length) {
      // Keep Mine first: the button Enter presses must not destroy the user's work.
      const choice = await vscode.window.showWarningMessage(
        `${conflicts.length} file${conflicts.length === 1 ? '' : 's'} changed since nb2prod generated ${conflicts.length === 1 ? 'it' : 'them'}.`,
        { modal: true, detail: `${conflicts.map((c) => c.file.path).join('\n')}\n\nKeep Mine writes the other files and leaves these alone; Overwrite replaces your changes.` },
        'Keep Mine',
        'Overwrite',
      );
      if (!choice) return;
      overwrite = choice === 'Overwrite';
    }
    const result = await writeScaffold(prepared, { overwrite });
    this.log.info(`Generated ${result.written.length} files in ${outDir} from run ${prepared.run.id}${result.kept.length ? `; kept ${result.kept.join(', ')}` : ''}`);
    const where = path.relative(workspaceRoot, outDir) || '.';
    if (!result.written.length) {
      // Nothing changed on disk: the golden sample there is still the one for this run.
      const kept = result.kept.length ? `; kept your changes to ${result.kept.join(', ')}` : '';
      void vscode.window.showInformationMessage(`nb2prod: ${where} is up to date with run ${prepared.run.id}${kept}.`);
      return;
    }

    const golden = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "nb2prod: Computing golden predictions with the notebook's model…", cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        const cancel = token.onCancellationRequested(() => abort.abort());
        try {
          return { ok: true as const, text: await writeGoldenSample(interpreter.path, outDir, abort.signal) };
        } catch (error) {
          return { ok: false as const, text: abort.signal.aborted ? 'cancelled' : error instanceof Error ? error.message : String(error) };
        } finally {
          cancel.dispose();
        }
      },
    );
    if (golden.ok) this.log.info(golden.text);
    else this.log.warn(`Golden sample: ${golden.text}`);
    const message = golden.ok
      ? `nb2prod: Generated ${result.written.length} files in ${where}. Run "make test" there, then "make serve".`
      : `nb2prod: Generated ${result.written.length} files in ${where}, but the golden sample ${golden.text === 'cancelled' ? 'was cancelled' : 'failed'}: run "make golden" there (see the log).`;
    const show = golden.ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    const readme = vscode.Uri.file(path.join(outDir, 'README.md'));
    void vscode.commands.executeCommand('revealInExplorer', readme);
    void show(message, 'Open README', 'Show Log').then((choice) => {
      if (choice === 'Open README') void vscode.commands.executeCommand('markdown.showPreview', readme);
      if (choice === 'Show Log') this.log.show();
    });
  }

  /**
   * The run to build from: the only one, or the user's pick with the default first (the
   * registry's champion, else the best by the primary metric, the reason shown). Undefined: let
   * the core say there is no run; null: the user cancelled.
   */
  private async pickRun(notebook: string, workspaceRoot: string): Promise<string | undefined | null> {
    const notebookRel = path.relative(workspaceRoot, notebook).split(path.sep).join('/');
    const store = this.store.get();
    const { runs } = await store.list();
    let registry = null;
    try {
      registry = (await new Registry(store, workspaceRoot).read()).state;
    } catch (error) {
      this.log.warn(`Generate Production Service: the registry could not be read (${error instanceof Error ? error.message : String(error)}); choosing by metric`);
    }
    let gate: { metric: string | null; direction: 'higher' | 'lower' } | null = null;
    try {
      gate = loadRegistryConfig(workspaceRoot).gates;
    } catch {
      gate = null;
    }
    const choices = scaffoldRunChoices(runs, notebookRel, registry, gate);
    if (choices.runs.length <= 1) return choices.runs[0]?.run.id;
    const distinctions = runDistinctions(choices.runs.map((c) => c.run));
    const items = choices.runs.map(({ run, why }) => ({
      label: `${why ? '$(star-full) ' : ''}${run.name}`,
      description: [why, distinctions.get(run.id), choices.metric && run.metrics[choices.metric] !== undefined ? `${choices.metric} ${formatNumber(run.metrics[choices.metric]!)}` : ''].filter(Boolean).join(' · '),
      detail: run.id,
      id: run.id,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Generate the service of ${path.basename(notebook)} from which run?`,
      placeHolder: `Enter takes the first: ${choices.runs[0]!.why}`,
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    return picked ? picked.id : null;
  }

  /** Opens what a plan would write beside what is on disk, as a preview that leaves the plan open. */
  private async previewDiff(write: PlannedWrite, outDir: string): Promise<string> {
    const name = path.posix.basename(write.file.path);
    const content = write.file.content;
    if (write.file.origin === 'model') return `${name} is the run's model file (binary): not shown`;
    if (Buffer.isBuffer(content) && !isUtf8(content)) return `${name} is binary: not shown`;
    const key = `/${path.basename(outDir)}/${write.file.path}`;
    this.planned.set(key, Buffer.isBuffer(content) ? content.toString('utf8') : content);
    const right = vscode.Uri.from({ scheme: PLAN_SCHEME, path: key });
    const onDisk = vscode.Uri.file(path.join(outDir, write.file.path));
    let left: vscode.Uri;
    try {
      await vscode.workspace.fs.stat(onDisk);
      left = onDisk;
    } catch {
      this.planned.set(`/empty${key}`, '');
      left = vscode.Uri.from({ scheme: PLAN_SCHEME, path: `/empty${key}` });
    }
    const what = left === onDisk ? `on disk ↔ planned` : 'new file';
    await vscode.commands.executeCommand('vscode.diff', left, right, `${write.file.path} (${what})`, { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
    return `${name} opened beside as a preview diff`;
  }

  private async askOutDir(notebook: string, workspaceRoot: string): Promise<string | undefined> {
    const suggested = path.relative(workspaceRoot, path.join(path.dirname(notebook), `${path.basename(notebook, '.ipynb')}-service`));
    const answer = await vscode.window.showInputBox({
      title: 'Generate Production Service',
      prompt: 'Folder for the service, pipeline, contracts and tests (relative to the workspace)',
      value: suggested,
      validateInput: (value) => {
        const trimmed = value.trim();
        if (!trimmed) return 'Name a folder.';
        const resolved = path.resolve(workspaceRoot, trimmed);
        if (!resolved.startsWith(workspaceRoot + path.sep)) return 'Choose a folder inside the workspace (not the workspace itself).';
        return undefined;
      },
    });
    return answer?.trim() ? path.resolve(workspaceRoot, answer.trim()) : undefined;
  }

  /**
   * The planned tree in a quick pick; only the first item writes it. Accepting a file row (Enter
   * after filtering) keeps the list open and says so, rather than silently cancelling.
   */
  private async confirm(prepared: PreparedScaffold, outDir: string): Promise<boolean> {
    const toWrite = prepared.writes.filter((w) => w.action !== 'unchanged').length;
    const accept: vscode.QuickPickItem = {
      label: `$(check) Generate ${toWrite} file${toWrite === 1 ? '' : 's'}`,
      detail: `From run ${prepared.run.id} · model ${prepared.model.name}${prepared.model.registered ? ` v${prepared.model.version}` : ' (not registered)'} · ${prepared.plan.steps.length} pipeline steps: ${prepared.plan.steps.map((s) => s.name).join(', ')}`,
      alwaysShow: true,
    };
    const items: vscode.QuickPickItem[] = [accept];
    // One group per folder, the project's top-level files first.
    const byFolder = [...prepared.writes].sort((a, b) => {
      const da = path.posix.dirname(a.file.path);
      const db = path.posix.dirname(b.file.path);
      return da === db ? a.file.path.localeCompare(b.file.path) : da === '.' ? -1 : db === '.' ? 1 : da.localeCompare(db);
    });
    let folder: string | null = null;
    const rows = new Map<vscode.QuickPickItem, PlannedWrite>();
    for (const write of byFolder) {
      const { file, action } = write;
      const dir = path.posix.dirname(file.path);
      if (dir !== folder) {
        items.push({ label: dir === '.' ? path.basename(outDir) : `${path.basename(outDir)}/${dir}`, kind: vscode.QuickPickItemKind.Separator });
        folder = dir;
      }
      const row: vscode.QuickPickItem = { label: `$(${action === 'conflict' ? 'warning' : 'file'}) ${path.posix.basename(file.path)}`, description: ACTION_TEXT[action] };
      rows.set(row, write);
      items.push(row);
    }
    if (prepared.notes.length) items.push({ label: 'left out of the production code', kind: vscode.QuickPickItemKind.Separator });
    for (const note of prepared.notes) items.push({ label: `$(info) ${note.message}` });

    const pick = vscode.window.createQuickPick();
    pick.title = `Generate Production Service into ${path.basename(outDir)}/ — review the files, then choose "Generate"`;
    const placeholder = 'Escape cancels; nothing is written until you choose Generate';
    pick.placeholder = placeholder;
    pick.items = items;
    pick.matchOnDescription = true;
    pick.ignoreFocusOut = true;
    return new Promise<boolean>((resolve) => {
      let accepted = false;
      pick.onDidAccept(() => {
        if (pick.selectedItems[0] === accept) {
          accepted = true;
          pick.hide();
          return;
        }
        // A file row: shown as a preview diff beside the list, which stays, pointing at the one row that acts.
        const write = pick.selectedItems[0] ? rows.get(pick.selectedItems[0]) : undefined;
        pick.value = '';
        pick.placeholder = `Choose "Generate ${toWrite} file${toWrite === 1 ? '' : 's'}" (the first row) to write the files — ${placeholder}`;
        pick.activeItems = [accept];
        if (write) {
          void this.previewDiff(write, outDir).then(
            (shown) => (pick.placeholder = `Choose "Generate ${toWrite} file${toWrite === 1 ? '' : 's'}" (the first row) to write the files — ${shown}`),
            (error: unknown) => this.log.warn(`Could not preview ${write.file.path}: ${error instanceof Error ? error.message : String(error)}`),
          );
        }
      });
      pick.onDidHide(() => {
        pick.dispose();
        resolve(accepted);
      });
      pick.show();
    });
  }
}
