/**
 * The composition root: builds every piece of the extension, passes dependencies through
 * constructors and owns every disposable (no service locator, no globals).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { COMMANDS, VIEWS } from './commandIds';
import { ComparePanels } from './comparePanel';
import { DriftPanels } from './driftPanel';
import { ReadinessPanel } from './readinessPanel';
import { RegistryActions } from './registryActions';
import { type RegistryNode, RegistryTreeProvider } from './registryView';
import { registerCommand } from './errors';
import { ExecutionObserver } from './executionObserver';
import { ExperimentsPanel } from './experimentsPanel';
import { findServices, MonitorPanels } from './monitorPanel';
import { LintCodeActions } from './lint/codeActions';
import { LintStatus } from './lint/lintStatus';
import { NotebookLinter } from './lint/notebookLinter';
import { RunPanels } from './runPanel';
import { pickCompanions, pickRuns, runIdOf } from './runPicker';
import { type RunsNode, RunsTreeProvider } from './runsView';
import { ScaffoldCommand } from './scaffoldCommand';
import { RunTracker } from './tracking';
import { WebviewHost } from './webviewHost';
import { WorkspaceStore } from './workspaceStore';

export function createApp(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  // The Python companion ships as source in the VSIX (esbuild copies it to dist/python).
  const pythonDir = vscode.Uri.joinPath(context.extensionUri, 'dist', 'python').fsPath;
  const store = new WorkspaceStore(log);
  const runs = new RunsTreeProvider(store, log);
  const view = vscode.window.createTreeView(VIEWS.runs, { treeDataProvider: runs, canSelectMany: true, showCollapseAll: false });
  runs.view = view;
  // Every webview panel is created, validated, restored and disposed by the one host.
  const host = new WebviewHost(context.extensionUri, log);
  const panels = new RunPanels(host, store, log);
  const comparePanels = new ComparePanels(host, store, log, (id) => panels.showRun(id));
  const driftPanels = new DriftPanels(host, store, log);
  const readiness = new ReadinessPanel(host, store, log, (id) => panels.showRun(id));
  const registryLater: { actions?: RegistryActions } = {};
  const experiments = new ExperimentsPanel(host, store, log, {
    showRun: (id) => panels.showRun(id),
    compare: (ids) => comparePanels.show(ids),
    diff: async (a, b) => {
      const [left, right] = [a, b].sort();
      await panels.showDiff(left!, right!);
    },
    register: async (id) => registryLater.actions?.register(id),
  });
  const registry = new RegistryTreeProvider(store, log);
  const registryView = vscode.window.createTreeView(VIEWS.registry, { treeDataProvider: registry });
  const registryActions = new RegistryActions(registry, store, log);
  registryLater.actions = registryActions;
  registry.servedBy = () => findServices();
  const monitors = new MonitorPanels(host, registry, registryActions, vscode.Uri.joinPath(context.extensionUri, 'dist', 'monitorWorker.js').fsPath, log);
  const tracker = new RunTracker(store, runs, panels, log, pythonDir, context.workspaceState);
  // Observes the user's own kernel from the start, so the linter knows what ran before it is asked.
  const executions = new ExecutionObserver(context.workspaceState, log);
  const linter = new NotebookLinter(executions, context.extensionUri, log, pythonDir);
  const templatesDir = vscode.Uri.joinPath(context.extensionUri, 'dist', 'scaffold-templates').fsPath;
  const scaffold = new ScaffoldCommand(store, templatesDir, String(context.extension.packageJSON.version ?? ''), log);
  // The run page's action bar: the same commands as the Runs view's menu, on the run shown.
  panels.actions = {
    replay: (id) => tracker.replay(id),
    register: (id) => registryActions.register(id),
    compare: async (id) => {
      const ids = await pickCompanions(store, id);
      if (ids) await comparePanels.show(ids);
    },
    diff: async (id) => {
      const other = (await pickRuns(store, 1, 'Diff against which run?', [id]))?.[0];
      if (!other) return;
      const [a, b] = [id, other].sort();
      await panels.showDiff(a!, b!);
    },
    scaffold: async (id) => {
      const run = await store.get().getRun(id);
      const root = store.workspaceFolder();
      if (!root) throw new UserError('no-workspace', 'Open the folder that holds the notebook to generate its service.');
      await scaffold.run(vscode.Uri.file(path.resolve(root, run.source.path)), { runId: id });
    },
  };

  context.subscriptions.push(
    store,
    view,
    host,
    panels,
    executions,
    linter,
    new LintStatus(linter),
    vscode.languages.registerCodeActionsProvider(
      [
        { notebookType: 'jupyter-notebook', language: 'python' },
        { scheme: 'file', language: 'python' },
      ],
      new LintCodeActions(linter),
      LintCodeActions.metadata,
    ),
    store.onDidChange(() => runs.refresh()),
    // Ages ("3 min ago") go stale while hidden: refresh when the view is shown again.
    view.onDidChangeVisibility((e) => e.visible && runs.refresh()),
    view.onDidChangeSelection((e) => runs.selectionChanged(e.selection)),
    comparePanels,
    experiments,
    driftPanels,
    monitors,
    readiness,
    registry,
    registryView,
    store.onDidChange(() => registry.refresh()),
    registerCommand(COMMANDS.checkReadiness, () => readiness.show(), log),
    // A folder from the Explorer, a model or version from the Registry view, or a quick pick of the services.
    registerCommand(COMMANDS.openMonitor, (target?: unknown) => monitors.openFor(target), log),
    scaffold,
    registerCommand(COMMANDS.generateService, (arg: unknown) => scaffold.run(arg), log),
    registerCommand(COMMANDS.refreshRegistry, () => registry.refresh(), log),
    registerCommand(COMMANDS.registerModel, (target?: RunsNode | string) => registryActions.register(target), log),
    registerCommand(COMMANDS.promoteModel, (node?: RegistryNode) => registryActions.promote(node), log),
    registerCommand(COMMANDS.approveModel, (node?: RegistryNode) => registryActions.approve(node), log),
    registerCommand(COMMANDS.rollbackModel, (node?: RegistryNode) => registryActions.rollback(node), log),
    registerCommand(
      COMMANDS.openModelCard,
      async (node?: RegistryNode) => {
        const reg = registry.registry();
        if (!reg) throw new UserError('no-workspace', 'Open the project folder to see its model registry.');
        let version = node?.kind === 'version' ? node.version : undefined;
        if (!version) {
          const { state } = await reg.read();
          const versions = Object.values(state.models).flatMap((m) => [...m.versions].reverse());
          if (!versions.length) throw new UserError('model-not-found', 'No model is registered yet: nb2prod registry register MODEL RUN.');
          const picked = await vscode.window.showQuickPick(
            versions.map((v) => ({ label: `${v.model} v${v.version}`, description: v.aliases.join(', '), v })),
            { title: 'Model card of which version?' },
          );
          version = picked?.v;
        }
        if (!version) return;
        const output = reg.defaultCardPath(version);
        const { kept } = await reg.writeModelCard(version.model, version.version, output);
        await vscode.window.showTextDocument(vscode.Uri.file(output), { preview: false });
        log.info(`${kept ? 'Updated' : 'Wrote'} the model card ${output}`);
      },
      log,
    ),
    // From the Explorer, the clicked data file is the current data; from the palette, nothing yet.
    registerCommand(COMMANDS.showDrift, (file?: unknown) => driftPanels.show(file instanceof vscode.Uri && file.scheme === 'file' ? { current: file.fsPath } : {}), log),
    registerCommand(
      COMMANDS.compareRuns,
      async (clicked?: RunsNode | string, selected?: readonly RunsNode[]) => {
        let ids = [...new Set((selected?.length ? selected : clicked ? [clicked] : []).map(runIdOf).filter((id): id is string => !!id))];
        if (ids.length < 2) {
          const picked = await pickRuns(store, 'many', 'Compare which runs?');
          if (!picked) return;
          ids = picked;
        }
        await comparePanels.show(ids);
      },
      log,
    ),
    registerCommand(
      COMMANDS.refreshRuns,
      () => {
        // An explicit refresh checks every run file, not only those the watcher reported.
        store.checkEveryRun();
        runs.refresh();
      },
      log,
    ),
    registerCommand(COMMANDS.openExperiments, () => experiments.show(), log),
    registerCommand(COMMANDS.openRunsAsTable, () => experiments.show(), log),
    registerCommand(COMMANDS.showLog, () => log.show(), log),
    registerCommand(COMMANDS.trackRun, (target?: unknown) => tracker.track(target), log),
    registerCommand(COMMANDS.trackRunWithParameters, (target?: unknown) => tracker.trackWithParameters(target), log),
    registerCommand(COMMANDS.replayRun, (target?: RunsNode | string) => tracker.replay(target), log),
    registerCommand(
      COMMANDS.showRun,
      async (target?: RunsNode | string) => {
        const id = runIdOf(target) ?? (await pickRuns(store, 1, 'Show which run?'))?.[0];
        if (id) await panels.showRun(id);
      },
      log,
    ),
    registerCommand(
      COMMANDS.diffRuns,
      async (clicked?: RunsNode | string, selected?: readonly RunsNode[]) => {
        const chosen = [...new Set((selected?.length ? selected : clicked ? [clicked] : []).map(runIdOf).filter((id): id is string => !!id))];
        if (chosen.length > 2) throw new UserError('usage', `Select exactly two runs to diff (${chosen.length} are selected).`);
        let ids = chosen;
        if (ids.length < 2) {
          const more = await pickRuns(store, 2 - ids.length, ids.length ? 'Diff against which run?' : 'Diff which two runs?', ids);
          if (!more) return;
          ids = [...ids, ...more];
        }
        // Older run on the left, as in a code diff.
        const [a, b] = [...ids].sort();
        await panels.showDiff(a!, b!);
      },
      log,
    ),
  );
}
