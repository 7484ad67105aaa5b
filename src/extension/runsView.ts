/**
 * The Runs view: the workspace's runs, newest first, with status, what sets each apart from the
 * other runs of its notebook (the params that vary, the seed), key metrics and age; every param
 * in the tooltip.
 * Files in the store that are not valid runs are shown as a warning row and announced once in
 * a notification; they never hide the valid runs.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { formatAge, formatDuration, formatNumber, keyMetrics } from '../core/render/format';
import { llmCostLabel } from '../core/render/llmText';
import { paramLines, runDistinctions } from '../core/render/runLabels';
import { describeProblem } from '../core/render/runText';
import type { RunSummary } from '../core/store/runIndex';
import type { StoreProblem } from '../core/store/runStore';
import { COMMANDS } from './commandIds';
import { reportError } from './errors';
import type { WorkspaceStore } from './workspaceStore';

export type RunsNode = { kind: 'run'; run: RunSummary } | { kind: 'problems'; problems: StoreProblem[] } | { kind: 'problem'; problem: StoreProblem };

const STATUS_ICONS: Record<RunSummary['status'], vscode.ThemeIcon> = {
  succeeded: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  interrupted: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('problemsWarningIcon.foreground')),
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private runs: RunSummary[] = [];
  /** Per run: the params (and seed) that set it apart from the other runs of its source. */
  private distinctions = new Map<string, string>();
  private problems: StoreProblem[] = [];
  /** Problems already announced, so a refresh does not repeat the same notification. */
  private announced = new Set<string>();
  /** Set by the composition root: the view whose message shows the store state. */
  view: vscode.TreeView<RunsNode> | undefined;
  /** Callers waiting for the view to have loaded its rows again (see revealRun). */
  private readonly rootLoadWaiters: Array<() => void> = [];
  /**
   * A run just revealed (a tracked run): every reload of the rows (a refresh, the view shown
   * again) selects it again until the user selects something else or a minute has passed.
   * Reloads and hide/show cycles drop the drawn selection while the extension-side
   * `view.selection` can still name the run, so it is re-revealed without asking that.
   */
  private sticky: { run: RunSummary; until: number } | undefined;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }


  async getChildren(element?: RunsNode): Promise<RunsNode[]> {
    if (element?.kind === 'problems') return element.problems.map((problem) => ({ kind: 'problem', problem }));
    if (element) return [];
    try {
      return await this.rootChildren();
    } finally {
      for (const resolve of this.rootLoadWaiters.splice(0)) resolve();
      this.keepSticky();
    }
  }

  private async rootChildren(): Promise<RunsNode[]> {
    if (!this.store.root()) return [];
    let recovered: string[] = [];
    try {
      const started = Date.now();
      // Runs whose tracker died (killed, crashed, the editor closed) are published as interrupted
      // here; saying so once is the editor's counterpart of `nb2prod runs` listing them.
      recovered = await this.store.get().recoverInterrupted();
      const result = await this.store.get().list();
      this.runs = result.runs;
      this.distinctions = runDistinctions(result.runs);
      this.problems = result.problems;
      this.log.debug(`Listed ${result.runs.length} runs in ${Date.now() - started} ms${this.store.get().lastIndexRebuild ? ` (index rebuilt: ${this.store.get().lastIndexRebuild})` : ''}`);
    } catch (error) {
      reportError(error, this.log, 'Listing runs');
      return [];
    }
    this.announceProblems();
    if (recovered.length) this.announceInterrupted(recovered);
    const nodes: RunsNode[] = this.runs.map((run) => ({ kind: 'run', run }));
    return this.problems.length ? [{ kind: 'problems', problems: this.problems }, ...nodes] : nodes;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'problems') {
      const item = new vscode.TreeItem(
        `${node.problems.length} run file${node.problems.length === 1 ? '' : 's'} could not be read`,
        vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.contextValue = 'problems';
      item.tooltip = 'These files in the store are not valid run envelopes. The other runs are not affected.';
      return item;
    }
    if (node.kind === 'problem') {
      const item = new vscode.TreeItem(path.basename(node.problem.file), vscode.TreeItemCollapsibleState.None);
      item.description = describeProblem(node.problem).slice(node.problem.file.length + 2);
      item.tooltip = describeProblem(node.problem);
      item.iconPath = new vscode.ThemeIcon('file');
      item.contextValue = 'problem';
      const root = this.store.root();
      if (root) item.command = { command: 'vscode.open', title: 'Open File', arguments: [vscode.Uri.file(path.join(root, node.problem.file))] };
      return item;
    }
    const run = node.run;
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    item.id = run.id;
    const preferred = vscode.workspace.getConfiguration('nb2prod').get<string[]>('runs.keyMetrics') ?? [];
    const metrics = keyMetrics(run.metrics, preferred)
      .map(([name, value]) => `${name} ${formatNumber(value)}`)
      .join(' · ');
    // What sets the run apart first (unless its name already says it), then metrics, then age.
    const distinction = this.distinctions.get(run.id) ?? '';
    const shownDistinction = distinction && !run.name.includes(distinction) ? distinction : '';
    item.description = [shownDistinction, metrics, llmCostLabel(run.llm), formatAge(run.startedAt)].filter(Boolean).join(' · ');
    item.iconPath = STATUS_ICONS[run.status];
    // The status is otherwise only an icon and its colour: screen readers need it in words.
    item.accessibilityInformation = { label: `${run.name}, ${run.status}, ${item.description}` };
    item.contextValue = `run.${run.status}`;
    item.command = { command: COMMANDS.showRun, title: 'Show Run', arguments: [node] };
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escapeMarkdown(run.name)}** — ${run.status}\n\n`);
    tooltip.appendMarkdown(`${escapeMarkdown(run.sourcePath)} · ${run.kind}\n\n`);
    tooltip.appendMarkdown(`Started ${escapeMarkdown(new Date(run.startedAt).toLocaleString())}, took ${formatDuration(run.durationMs)}\n\n`);
    const params = paramLines(run);
    if (params.own.length || params.autologged) {
      const autolog = params.autologged ? `${params.own.length ? ', and ' : ''}${params.autologged} autologged` : '';
      tooltip.appendMarkdown(`Params: ${params.own.map((p) => `\`${p.replace(/`/g, "'")}\``).join(', ')}${autolog}\n\n`);
    }
    if (run.seeds.length) tooltip.appendMarkdown(`Seeds: ${escapeMarkdown(run.seeds.map((v) => JSON.stringify(v)).join(', '))}\n\n`);
    if (run.git) tooltip.appendMarkdown(`Commit ${run.git.commit.slice(0, 7)}${run.git.dirty ? ' (uncommitted changes)' : ''}\n\n`);
    const allMetrics = Object.entries(run.metrics);
    if (allMetrics.length) tooltip.appendMarkdown(allMetrics.map(([n, v]) => `- ${escapeMarkdown(n)}: ${formatNumber(v)}`).join('\n') + '\n\n');
    if (run.tags.length) tooltip.appendMarkdown(`Tags: ${run.tags.map(escapeMarkdown).join(', ')}\n\n`);
    tooltip.appendMarkdown(`\`${run.id}\``);
    item.tooltip = tooltip;
    return item;
  }

  /**
   * Refreshes the view and shows `runId` selected in it (opening the view if needed). The tree
   * matches the element by its TreeItem id, the run id, so a fresh node for the run will do.
   * Returns whether the run ended up selected.
   */
  async revealRun(runId: string): Promise<boolean> {
    const view = this.view;
    if (!view) return false;
    const { runs } = await this.store.get().list();
    const run = runs.find((r) => r.id === runId);
    if (!run) return false;
    const isSelected = () => view.selection.some((n) => n.kind === 'run' && n.run.id === runId);
    // Sticky from the start: if every reveal below comes too early (the view being opened or
    // closed meanwhile), the next reload of the rows still selects it.
    this.sticky = { run, until: Date.now() + 60_000 };
    // A visible tree reloads its rows after a refresh, asynchronously, and draws them after
    // getChildren resolves: a reveal that arrives before the new row is drawn selects nothing.
    // So refresh once, wait for the reload, then reveal — and reveal again, a little later each
    // time, until the row is selected (on a loaded machine the first reveals can come too early).
    const reloaded = view.visible ? this.nextRootLoad(2_000) : Promise.resolve();
    this.refresh();
    await reloaded;
    for (let attempt = 0; attempt < 8; attempt++) {
      await sleep(attempt === 0 ? 50 : 250 * attempt);
      await view.reveal({ kind: 'run', run }, { select: true, focus: false });
      for (let waited = 0; waited < 500 && !isSelected(); waited += 50) await sleep(50);
      if (isSelected()) return true;
      // The view may have been opened by the reveal: its rows load now.
      if (view.visible && attempt === 0) await this.nextRootLoad(2_000);
    }
    return false;
  }

  /** After a reload, selects the sticky run again (a reveal of a selected row changes nothing). */
  private keepSticky(): void {
    const sticky = this.sticky;
    const view = this.view;
    if (!sticky || !view) return;
    if (Date.now() > sticky.until) {
      this.sticky = undefined;
      return;
    }
    // After the rows are drawn: getChildren has only just resolved.
    setTimeout(() => {
      if (this.sticky !== sticky || !view.visible) return;
      view.reveal({ kind: 'run', run: sticky.run }, { select: true, focus: false }).then(undefined, () => undefined);
    }, 100);
  }

  /** Wired to the view: a selection of something else by the user ends the stickiness. */
  selectionChanged(selection: readonly RunsNode[]): void {
    const sticky = this.sticky;
    // An empty selection is what hiding the view reports: not a choice by the user.
    if (!sticky || !selection.length) return;
    if (!selection.some((n) => n.kind === 'run' && n.run.id === sticky.run.id)) this.sticky = undefined;
  }

  /** Resolves when the root rows have been loaded again, or after `timeoutMs` (a hidden view loads nothing). */
  private nextRootLoad(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.rootLoadWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  getParent(): RunsNode | undefined {
    return undefined;
  }

  private announceInterrupted(ids: string[]): void {
    const runs = this.runs.filter((r) => ids.includes(r.id));
    if (!runs.length) return;
    for (const run of runs) this.log.warn(`Run ${run.id} (${run.name}) was interrupted: the process tracking it stopped before the run finished`);
    const message =
      runs.length === 1
        ? `nb2prod: run ${runs[0]!.name} was interrupted: the process tracking it stopped before the run finished. It is recorded with the cells it finished.`
        : `nb2prod: ${runs.length} runs were interrupted: the processes tracking them stopped before they finished. They are recorded with the cells they finished.`;
    void vscode.window.showWarningMessage(message, ...(runs.length === 1 ? ['Show Run'] : [])).then((choice) => {
      if (choice) void vscode.commands.executeCommand(COMMANDS.showRun, { kind: 'run', run: runs[0]! } satisfies RunsNode);
    });
  }

  private announceProblems(): void {
    if (this.view) {
      this.view.message = this.problems.length
        ? `⚠ ${this.problems.length} file${this.problems.length === 1 ? '' : 's'} in the store could not be read; the other runs are listed.`
        : undefined;
    }
    const fresh = this.problems.filter((p) => !this.announced.has(`${p.file}\0${p.message}`));
    if (!fresh.length) return;
    for (const p of fresh) {
      this.announced.add(`${p.file}\0${p.message}`);
      this.log.warn(`Invalid run file ${describeProblem(p)}`);
    }
    const first = fresh[0]!;
    const more = fresh.length > 1 ? ` and ${fresh.length - 1} more` : '';
    const message = `nb2prod: ${fresh.length} run file${fresh.length === 1 ? '' : 's'} could not be read: ${describeProblem(first)}${more}. The other runs are listed.`;
    void vscode.window.showWarningMessage(message, 'Open File', 'Show Log').then((choice) => {
      const root = this.store.root();
      if (choice === 'Open File' && root) void vscode.window.showTextDocument(vscode.Uri.file(path.join(root, first.file)));
      if (choice === 'Show Log') this.log.show();
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
