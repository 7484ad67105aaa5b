/**
 * Run and diff pages: webview panels whose HTML the extension renders from the envelopes.
 * Strict CSP (nonce script, no inline styles, nothing remote), local resources limited to the
 * bundled webview scripts and media, every message from the page validated before use, and a
 * serializer so open pages come back after a reload.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { diffRuns } from '../core/diff';
import type { RunEnvelope } from '../core/envelope';
import { escapeHtml, renderDiffHtml, renderRunHtml } from '../core/render/runHtml';
import { linkedRunFile } from '../core/safePath';
import { type RunPageState, runPageMessageSchema, runPageStateSchema } from '../protocol/runPage';
import { RUN_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import { webviewPage, webviewResourceRoots } from './webviewPage';
import type { WorkspaceStore } from './workspaceStore';

interface OpenPage {
  panel: vscode.WebviewPanel;
  /** File paths the page links to: the only ones an `openFile` message may name. */
  allowedFiles: Set<string>;
}

export class RunPanels implements vscode.Disposable {
  private readonly pages = new Map<string, OpenPage>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async showRun(runId: string, panel?: vscode.WebviewPanel): Promise<void> {
    const run = await this.store.get().getRun(runId);
    this.show({ kind: 'run', runId }, `Run: ${run.name}`, renderRunHtml(run), filesOf([run]), panel);
  }

  async showDiff(idA: string, idB: string, panel?: vscode.WebviewPanel): Promise<void> {
    const store = this.store.get();
    const [a, b] = await Promise.all([store.getRun(idA), store.getRun(idB)]);
    this.show({ kind: 'diff', runIds: [idA, idB] }, `Diff: ${a.name} ↔ ${b.name}`, renderDiffHtml(diffRuns(a, b)), filesOf([a, b]), panel);
  }

  /** Restores a page after a window reload from the state its webview saved. */
  serializer(): vscode.WebviewPanelSerializer {
    return {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const parsed = runPageStateSchema.safeParse(state);
        if (!parsed.success) {
          panel.dispose();
          return;
        }
        try {
          if (parsed.data.kind === 'run') await this.showRun(parsed.data.runId, panel);
          else await this.showDiff(...parsed.data.runIds, panel);
        } catch (error) {
          panel.dispose();
          reportError(error, this.log, 'Restoring a run page');
        }
      },
    };
  }

  private show(state: RunPageState, title: string, body: string, allowedFiles: Set<string>, restored?: vscode.WebviewPanel): void {
    const key = state.kind === 'run' ? state.runId : state.runIds.join(':');
    const existing = this.pages.get(key);
    if (existing && !restored) {
      existing.panel.reveal();
      return;
    }
    const panel =
      restored ??
      vscode.window.createWebviewPanel(RUN_PANEL_VIEW_TYPE, title, vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: webviewResourceRoots(this.extensionUri),
      });
    panel.title = title;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nb2prod.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: webviewResourceRoots(this.extensionUri) };
    panel.webview.html = this.pageHtml(panel.webview, title, body, state);
    const page: OpenPage = { panel, allowedFiles };
    this.pages.set(key, page);
    panel.onDidDispose(() => this.pages.delete(key));
    panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(page, message));
  }

  private async onMessage(page: OpenPage, message: unknown): Promise<void> {
    const parsed = runPageMessageSchema.safeParse(message);
    if (!parsed.success) {
      this.log.warn(`Ignored an invalid message from a run page: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
      return;
    }
    try {
      const msg = parsed.data;
      switch (msg.type) {
        case 'openFile':
          await this.openFile(page, msg.path);
          break;
        case 'showRun':
          await this.showRun(msg.runId);
          break;
        default: {
          const unreachable: never = msg;
          throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
        }
      }
    } catch (error) {
      reportError(error, this.log, 'Run page action');
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

  private pageHtml(webview: vscode.Webview, title: string, body: string, state: RunPageState): string {
    return webviewPage(webview, this.extensionUri, {
      title,
      styles: ['runPage.css'],
      script: 'runPage',
      body,
      bodyAttributes: `class="run-page" data-state="${escapeHtml(JSON.stringify(state))}"`,
    });
  }

  dispose(): void {
    for (const page of this.pages.values()) page.panel.dispose();
    this.pages.clear();
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
