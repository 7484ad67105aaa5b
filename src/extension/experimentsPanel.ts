/**
 * The experiments table: every run of the store in a sortable, filterable, virtualised table
 * (webviews/experiments) with plots beside it, opened from the Runs view's "Open as Table" or
 * the command palette. The first panel built on the WebviewHost. The extension sends the table
 * (core/experiments/table.ts, from the index: no envelope read) when the page is ready and again
 * when runs change, the step series of the runs the curves show, and turns the page's buttons
 * into the same commands as the Runs view (compare, diff, register, show).
 */
import type * as vscode from 'vscode';
import { buildExperimentTable } from '../core/experiments/table';
import { type ExperimentsMessage, experimentsMessageSchema, type ExperimentsState, experimentsStateSchema, type ExperimentsToPage, experimentsToPageSchema } from '../protocol/experiments';
import { EXPERIMENTS_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import type { HostedPanel, PanelKind, WebviewHost } from './webviewHost';
import type { WorkspaceStore } from './workspaceStore';

export const EXPERIMENTS_PANEL: PanelKind<ExperimentsMessage, ExperimentsToPage, ExperimentsState> = {
  viewType: EXPERIMENTS_PANEL_VIEW_TYPE,
  script: 'experiments',
  styles: ['runPage.css', 'compare.css', 'experiments.css'],
  fromPage: experimentsMessageSchema,
  toPage: experimentsToPageSchema,
  state: experimentsStateSchema,
  name: 'experiments table',
};

export interface ExperimentActions {
  showRun(runId: string): Promise<void>;
  compare(runIds: string[]): Promise<void>;
  diff(a: string, b: string): Promise<void>;
  register(runId: string): Promise<void>;
}

export class ExperimentsPanel implements vscode.Disposable {
  private page: HostedPanel<ExperimentsMessage, ExperimentsToPage, ExperimentsState> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly host: WebviewHost,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly actions: ExperimentActions,
  ) {
    this.subscriptions.push(
      host.registerSerializer(EXPERIMENTS_PANEL, (panel) => this.show(panel), {}),
      // New, changed or deleted runs: the open table is sent again (the page keeps its view).
      store.onDidChange(() => void this.send()),
    );
  }

  /** Opens the table (or shows the one already open). */
  show(restored?: vscode.WebviewPanel): void {
    if (this.page && !this.page.isDisposed && !restored) {
      this.page.reveal();
      return;
    }
    const page = this.host.open(EXPERIMENTS_PANEL, { title: 'Experiments', ...(restored ? { restored } : {}) });
    page.onReady(() => this.send());
    page.onMessage((message) => this.onMessage(message));
    this.page = page;
  }

  private async send(): Promise<void> {
    const page = this.page;
    if (!page || page.isDisposed) return;
    try {
      const { runs, problems } = await this.store.get().list({ order: 'asc' });
      const table = buildExperimentTable(runs);
      page.title = `Experiments (${runs.length} run${runs.length === 1 ? '' : 's'})`;
      page.post({ type: 'table', table, problems: problems.length });
    } catch (error) {
      page.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      reportError(error, this.log, 'Loading the experiments table');
    }
  }

  private async onMessage(message: ExperimentsMessage): Promise<void> {
    switch (message.type) {
      case 'showRun':
        await this.actions.showRun(message.runId);
        break;
      case 'compare':
        await this.actions.compare(message.runIds);
        break;
      case 'diff':
        await this.actions.diff(...message.runIds);
        break;
      case 'register':
        await this.actions.register(message.runId);
        break;
      case 'series': {
        const store = this.store.get();
        const series = await Promise.all(
          message.runIds.map(async (runId) => {
            const run = await store.getRun(runId);
            const points = (run.metrics[message.metric]?.series ?? []).filter((p) => Number.isFinite(p.step) && Number.isFinite(p.value)).map((p) => [p.step, p.value] as [number, number]);
            return { runId, points };
          }),
        );
        this.page?.post({ type: 'series', metric: message.metric, series });
        break;
      }
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  dispose(): void {
    this.page?.dispose();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
