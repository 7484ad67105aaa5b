/**
 * The Compare panel: a client-side page (webviews/compare) fed with the comparison of the runs
 * the user selected. The extension loads the envelopes, computes the statistics in core and
 * sends the page a view of them once it says it is ready; the page draws tables and vega-lite
 * charts (the vega interpreter, so the CSP needs no 'unsafe-eval'). Strict CSP with a nonce,
 * every message validated, state restored after a reload by the serializer.
 */
import * as vscode from 'vscode';
import type { RunEnvelope } from '../core/envelope';
import { UserError } from '../core/errors';
import { compareView } from '../core/render/compareView';
import { compareRuns, groupRuns } from '../core/stats/compare';
import { type CompareMessage, type CompareState, type CompareToPage, compareMessageSchema, compareStateSchema } from '../protocol/compare';
import { COMPARE_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import { webviewPage, webviewResourceRoots } from './webviewPage';
import type { WorkspaceStore } from './workspaceStore';

export class ComparePanels implements vscode.Disposable {
  private readonly panels = new Set<vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly showRun: (runId: string) => Promise<void>,
  ) {}

  /** Opens a Compare panel for these runs (grouped by their group, else by code and params). */
  async show(runIds: readonly string[], restored?: vscode.WebviewPanel, state?: CompareState): Promise<void> {
    if (!runIds.length) throw new UserError('usage', 'Select two or more runs in the Runs view to compare them.');
    const panel =
      restored ??
      vscode.window.createWebviewPanel(COMPARE_PANEL_VIEW_TYPE, `Compare ${runIds.length} runs`, vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: false,
        localResourceRoots: this.resourceRoots(),
      });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nb2prod.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: this.resourceRoots() };
    let current: CompareState = { ...state, runIds: [...runIds] };
    panel.webview.html = this.pageHtml(panel.webview);
    this.panels.add(panel);
    const post = (message: CompareToPage): void => void panel.webview.postMessage(message);
    const send = async (): Promise<void> => {
      post({ type: 'computing', runs: current.runIds.length });
      try {
        const view = await vscode.window.withProgress(
          { location: { viewId: 'nb2prod.runs' }, title: 'Comparing runs' },
          () => this.compute(current),
        );
        panel.title = `Compare: ${view.groups.map((g) => g.label).join(' vs ')}`;
        post({ type: 'comparison', view, state: current });
      } catch (error) {
        post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        if (!(error instanceof UserError)) reportError(error, this.log, 'Comparing runs');
      }
    };
    const subscription = panel.webview.onDidReceiveMessage(async (raw: unknown) => {
      const parsed = compareMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.log.warn(`Ignored an invalid message from the Compare panel: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
        return;
      }
      const message: CompareMessage = parsed.data;
      try {
        switch (message.type) {
          case 'ready':
            await send();
            break;
          case 'showRun':
            if (current.runIds.includes(message.runId)) await this.showRun(message.runId);
            break;
          case 'setBaseline':
            current = { ...current, baseline: message.index };
            await send();
            break;
          default: {
            const unreachable: never = message;
            throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
          }
        }
      } catch (error) {
        reportError(error, this.log, 'Compare panel');
      }
    });
    panel.onDidDispose(() => {
      subscription.dispose();
      this.panels.delete(panel);
    });
  }

  serializer(): vscode.WebviewPanelSerializer {
    return {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const parsed = compareStateSchema.safeParse(state);
        if (!parsed.success) {
          panel.dispose();
          return;
        }
        try {
          await this.show(parsed.data.runIds, panel, parsed.data);
        } catch (error) {
          panel.dispose();
          reportError(error, this.log, 'Restoring a Compare panel');
        }
      },
    };
  }

  private async compute(state: CompareState) {
    const store = this.store.get();
    const runs: RunEnvelope[] = await Promise.all(state.runIds.map((id) => store.getRun(id)));
    const groups = groupRuns(runs);
    const baseline = state.baseline !== undefined && state.baseline < groups.length ? state.baseline : 0;
    return compareView(compareRuns(groups, { baseline }), runs);
  }

  private resourceRoots(): vscode.Uri[] {
    return webviewResourceRoots(this.extensionUri);
  }

  private pageHtml(webview: vscode.Webview): string {
    return webviewPage(webview, this.extensionUri, { title: 'Compare runs', styles: ['runPage.css', 'compare.css'], script: 'compare', body: '<main id="app" aria-live="polite"><p class="muted">Comparing runs…</p></main>' });
  }

  dispose(): void {
    for (const panel of this.panels) panel.dispose();
  }
}
