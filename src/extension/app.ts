/**
 * The composition root: builds every piece of the extension, passes dependencies through
 * constructors and owns every disposable (no service locator, no globals).
 */
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { formatAge } from '../core/render/format';
import type { RunSummary } from '../core/store/runIndex';
import { COMMANDS, RUN_PANEL_VIEW_TYPE, VIEWS } from './commandIds';
import { registerCommand } from './errors';
import { RunPanels } from './runPanel';
import { type RunsNode, RunsTreeProvider } from './runsView';
import { WorkspaceStore } from './workspaceStore';

export function createApp(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  const sqlWasmPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath;
  const store = new WorkspaceStore(sqlWasmPath, log);
  const runs = new RunsTreeProvider(store, log);
  const view = vscode.window.createTreeView(VIEWS.runs, { treeDataProvider: runs, canSelectMany: true, showCollapseAll: false });
  runs.view = view;
  const panels = new RunPanels(context.extensionUri, store, log);

  context.subscriptions.push(
    store,
    view,
    panels,
    store.onDidChange(() => runs.refresh()),
    // Ages ("3 min ago") go stale while hidden: refresh when the view is shown again.
    view.onDidChangeVisibility((e) => e.visible && runs.refresh()),
    vscode.window.registerWebviewPanelSerializer(RUN_PANEL_VIEW_TYPE, panels.serializer()),
    registerCommand(COMMANDS.refreshRuns, () => runs.refresh(), log),
    registerCommand(COMMANDS.showLog, () => log.show(), log),
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

function runIdOf(target: RunsNode | string | undefined): string | undefined {
  if (typeof target === 'string') return target;
  return target?.kind === 'run' ? target.run.id : undefined;
}

/** Quick pick of `count` runs, newest first. Undefined when the user cancels. */
async function pickRuns(store: WorkspaceStore, count: number, title: string, exclude: string[] = []): Promise<string[] | undefined> {
  const { runs } = await store.get().list();
  const candidates = runs.filter((r) => !exclude.includes(r.id));
  if (candidates.length < count) {
    throw new UserError('run-not-found', candidates.length ? 'There are not enough runs to diff.' : 'There are no runs in this workspace yet.');
  }
  const items = candidates.map((run) => ({ label: run.name, description: describe(run), detail: run.id, id: run.id }));
  if (count === 1) {
    const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true });
    return picked ? [picked.id] : undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: `${title} (pick ${count})`, canPickMany: true, matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.length !== count) throw new UserError('usage', `Pick exactly ${count} runs to diff (${picked.length} picked).`);
  return picked.map((p) => p.id);
}

function describe(run: RunSummary): string {
  return `${run.status} · ${run.sourcePath} · ${formatAge(run.startedAt)}`;
}
