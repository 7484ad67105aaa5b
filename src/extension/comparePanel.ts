/**
 * The Compare panel: a client-side page (webviews/compare) fed with the comparison of the runs
 * the user selected. The extension loads the envelopes, computes the statistics in core and
 * sends the page a view of them once it says it is ready; the page draws tables and vega-lite
 * charts (the vega interpreter, so the CSP needs no 'unsafe-eval'). Hosted by the WebviewHost
 * (CSP shell, messages validated both ways, restore, theme broadcast, disposal).
 */
import * as vscode from 'vscode';
import type { RunEnvelope } from '../core/envelope';
import { UserError } from '../core/errors';
import { compareView } from '../core/render/compareView';
import { compareRuns, groupRuns } from '../core/stats/compare';
import { type CompareMessage, type CompareState, type CompareToPage, compareMessageSchema, compareStateSchema, compareToPageSchema, type CompareView } from '../protocol/compare';
import { COMPARE_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import type { PanelKind, WebviewHost } from './webviewHost';
import type { WorkspaceStore } from './workspaceStore';

export const COMPARE_PANEL: PanelKind<CompareMessage, CompareToPage, CompareState> = {
  viewType: COMPARE_PANEL_VIEW_TYPE,
  script: 'compare',
  styles: ['runPage.css', 'compare.css'],
  fromPage: compareMessageSchema,
  toPage: compareToPageSchema,
  state: compareStateSchema,
  name: 'Compare panel',
};

export class ComparePanels implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly host: WebviewHost,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly showRun: (runId: string) => Promise<void>,
  ) {
    this.subscriptions.push(host.registerSerializer(COMPARE_PANEL, (panel, state) => this.show(state.runIds, panel, state)));
  }

  /** Opens a Compare panel for these runs (grouped by their group, else by code and params). */
  async show(runIds: readonly string[], restored?: vscode.WebviewPanel, state?: CompareState): Promise<void> {
    if (!runIds.length) throw new UserError('usage', 'Select two or more runs in the Runs view to compare them.');
    const page = this.host.open(COMPARE_PANEL, { title: `Compare ${runIds.length} runs`, ...(restored ? { restored } : {}) });
    let current: CompareState = { ...state, runIds: [...runIds] };
    let view: CompareView | undefined;
    const send = async (recompute: boolean): Promise<void> => {
      if (view && !recompute) {
        page.post({ type: 'comparison', view, state: current });
        return;
      }
      page.post({ type: 'computing', runs: current.runIds.length });
      try {
        view = await vscode.window.withProgress({ location: { viewId: 'nb2prod.runs' }, title: 'Comparing runs' }, () => this.compute(current));
        const labels = view.groups.map((g) => g.label).join(' vs ');
        page.title = view.groups.length <= 3 && labels.length <= 60 ? `Compare: ${labels}` : `Compare: ${view.groups.length} groups`;
        page.post({ type: 'comparison', view, state: current });
      } catch (error) {
        page.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        if (!(error instanceof UserError)) reportError(error, this.log, 'Comparing runs');
      }
    };
    page.onReady(() => send(false));
    page.onMessage(async (message) => {
      switch (message.type) {
        case 'showRun':
          if (current.runIds.includes(message.runId)) await this.showRun(message.runId);
          break;
        case 'setBaseline': {
          const { diff: _diff, ...rest } = current;
          current = { ...rest, baseline: message.index };
          await send(true);
          break;
        }
        case 'setDiff':
          if (message.runIds.every((id) => current.runIds.includes(id))) {
            current = { ...current, diff: message.runIds };
            await send(true);
          }
          break;
        default: {
          const unreachable: never = message;
          throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
        }
      }
    });
  }

  private async compute(state: CompareState): Promise<CompareView> {
    const store = this.store.get();
    const runs: RunEnvelope[] = await Promise.all(state.runIds.map((id) => store.getRun(id)));
    const groups = groupRuns(runs);
    const baseline = state.baseline !== undefined && state.baseline < groups.length ? state.baseline : 0;
    return compareView(compareRuns(groups, { baseline }), runs, state.diff ? { diff: state.diff } : {});
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
