/**
 * Run and diff pages: webview panels whose HTML the extension renders from the envelopes.
 * Hosted by the WebviewHost: strict CSP (nonce script, no inline styles, nothing remote), local
 * resources limited to the bundled webview scripts and media, every message from the page
 * validated before use, and a serializer so open pages come back after a reload.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { diffRuns } from '../core/diff';
import type { RunEnvelope } from '../core/envelope';
import { escapeHtml, renderDiffHtml, renderRunHtml } from '../core/render/runHtml';
import { linkedRunFile } from '../core/safePath';
import { type RunPageMessage, type RunPageState, type RunPageToPage, runPageMessageSchema, runPageStateSchema, runPageToPageSchema } from '../protocol/runPage';
import { RUN_PANEL_VIEW_TYPE } from './commandIds';
import type { HostedPanel, PanelKind, WebviewHost } from './webviewHost';
import type { WorkspaceStore } from './workspaceStore';

export const RUN_PAGE: PanelKind<RunPageMessage, RunPageToPage, RunPageState> = {
  viewType: RUN_PANEL_VIEW_TYPE,
  script: 'runPage',
  styles: ['runPage.css'],
  fromPage: runPageMessageSchema,
  toPage: runPageToPageSchema,
  state: runPageStateSchema,
  name: 'run page',
};

/** What the run page's action bar does, wired by the composition root (the commands live elsewhere). */
export type RunPageActions = Record<'replay' | 'register' | 'compare' | 'diff' | 'scaffold', (runId: string) => Promise<void>>;

interface OpenPage {
  page: HostedPanel<RunPageMessage, RunPageToPage, RunPageState>;
  state: RunPageState;
  /** File paths the page links to: the only ones an `openFile` message may name. */
  allowedFiles: Set<string>;
}

export class RunPanels implements vscode.Disposable {
  private readonly pages = new Map<string, OpenPage>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Set by the composition root once the commands exist. */
  actions: RunPageActions | undefined;

  constructor(
    private readonly host: WebviewHost,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      host.registerSerializer(RUN_PAGE, async (panel, state) => {
        if (state.kind === 'run') await this.showRun(state.runId, panel);
        else await this.showDiff(...state.runIds, panel);
      }),
    );
  }

  async showRun(runId: string, panel?: vscode.WebviewPanel): Promise<void> {
    const run = await this.store.get().getRun(runId);
    this.show({ kind: 'run', runId }, `Run: ${run.name}`, renderRunHtml(run), filesOf([run]), panel);
  }

  async showDiff(idA: string, idB: string, panel?: vscode.WebviewPanel): Promise<void> {
    const store = this.store.get();
    const [a, b] = await Promise.all([store.getRun(idA), store.getRun(idB)]);
    this.show({ kind: 'diff', runIds: [idA, idB] }, `Diff: ${a.name} ↔ ${b.name}`, renderDiffHtml(diffRuns(a, b)), filesOf([a, b]), panel);
  }

  private show(state: RunPageState, title: string, body: string, allowedFiles: Set<string>, restored?: vscode.WebviewPanel): void {
    const key = state.kind === 'run' ? state.runId : state.runIds.join(':');
    const existing = this.pages.get(key);
    if (existing && !restored) {
      existing.page.reveal();
      return;
    }
    const page = this.host.open(RUN_PAGE, {
      title,
      body,
      bodyAttributes: `class="run-page" data-state="${escapeHtml(JSON.stringify(state))}"`,
      ...(restored ? { restored } : {}),
    });
    const open: OpenPage = { page, state, allowedFiles };
    this.pages.set(key, open);
    page.own({ dispose: () => this.pages.get(key) === open && this.pages.delete(key) });
    page.onMessage((message) => this.onMessage(open, message));
  }

  private async onMessage(open: OpenPage, message: RunPageMessage): Promise<void> {
    switch (message.type) {
      case 'openFile':
        await this.openFile(open, message.path);
        break;
      case 'showRun':
        await this.showRun(message.runId);
        break;
      case 'action':
        // Only a run page has the action bar; it acts on the run the page shows.
        if (open.state.kind === 'run') await this.actions?.[message.action](open.state.runId);
        break;
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private async openFile(page: OpenPage, recorded: string): Promise<void> {
    if (!page.allowedFiles.has(recorded)) {
      this.log.warn(`Refused to open ${recorded}: the page does not link to it`);
      return;
    }
    const folder = this.store.workspaceFolder();
    if (!folder) return;
    // The envelope is a file a cloned repository may have crafted: an absolute or ../ path, or a
    // link leading out, is refused (with its one-line reason) rather than opened.
    const target = await linkedRunFile(recorded, folder, this.store.root() ?? path.join(folder, '.nb2prod'));
    const uri = vscode.Uri.file(target);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      void vscode.window.showWarningMessage(`${recorded} no longer exists in the workspace.`);
      return;
    }
    await vscode.commands.executeCommand('vscode.open', uri);
  }

  dispose(): void {
    for (const open of this.pages.values()) open.page.dispose();
    this.pages.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}

function filesOf(runs: RunEnvelope[]): Set<string> {
  const files = new Set<string>();
  for (const run of runs) {
    files.add(run.source.path);
    if (run.environment.lockFile) files.add(run.environment.lockFile.path);
    for (const f of [...run.inputs, ...run.outputs, ...run.artifacts]) files.add(f.path);
  }
  return files;
}
