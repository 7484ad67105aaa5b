/**
 * The readiness checklist panel: runs the same check as `nb2prod check` on the workspace (with
 * progress), renders the report (core/render/readinessHtml) and follows evidence links — a run
 * opens its page, a file or config key opens the file at that place, a registry entry shows the
 * Registry view. Files are only opened inside the workspace folder.
 */
import * as vscode from 'vscode';
import { checkReadiness } from '../core/readiness/check';
import type { EvidenceRef, ReadinessReport } from '../core/readiness/model';
import { registryFactsProvider } from '../core/readiness/registryFacts';
import { readinessEvidence, renderReadinessHtml } from '../core/render/readinessHtml';
import { UserError } from '../core/errors';
import { containedPath } from '../core/safePath';
import { readinessMessageSchema } from '../protocol/readiness';
import { READINESS_PANEL_VIEW_TYPE, VIEWS } from './commandIds';
import { reportError } from './errors';
import { webviewPage, webviewResourceRoots } from './webviewPage';
import type { WorkspaceStore } from './workspaceStore';

export class ReadinessPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private evidence: EvidenceRef[] = [];
  private root = '';

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly showRun: (runId: string) => Promise<void>,
  ) {}

  /** Checks the workspace and shows (or refreshes) the report. */
  async show(restored?: vscode.WebviewPanel): Promise<void> {
    const root = this.store.workspaceFolder();
    if (!root) throw new UserError('no-workspace', 'Open the project folder to check its production readiness.');
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'nb2prod: Checking production readiness' },
      () => checkReadiness({ root, store: this.store.get(), useGit: vscode.workspace.isTrusted, registry: registryFactsProvider }),
    );
    this.root = root;
    this.evidence = readinessEvidence(report);
    const panel = restored ?? this.panel ?? this.create();
    this.panel = panel;
    panel.title = report.productionReady ? 'Readiness: ready' : `Readiness: ${report.counts.fail} failing`;
    panel.webview.html = this.pageHtml(panel.webview, report);
    panel.reveal(undefined, true);
  }

  serializer(): vscode.WebviewPanelSerializer {
    return {
      deserializeWebviewPanel: async (panel) => {
        this.attach(panel);
        try {
          await this.show(panel);
        } catch (error) {
          panel.dispose();
          reportError(error, this.log, 'Restoring the readiness panel');
        }
      },
    };
  }

  private create(): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(READINESS_PANEL_VIEW_TYPE, 'Readiness', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: webviewResourceRoots(this.extensionUri),
    });
    this.attach(panel);
    return panel;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nb2prod.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: webviewResourceRoots(this.extensionUri) };
    const subscription = panel.webview.onDidReceiveMessage(async (raw: unknown) => {
      const parsed = readinessMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.log.warn(`Ignored an invalid message from the readiness panel: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
        return;
      }
      try {
        if (parsed.data.type === 'refresh') await this.show();
        else {
          const evidence = this.evidence[parsed.data.index];
          if (evidence) await this.open(evidence);
        }
      } catch (error) {
        reportError(error, this.log, 'Readiness panel');
      }
    });
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private async open(evidence: EvidenceRef): Promise<void> {
    switch (evidence.kind) {
      case 'run':
        await this.showRun(evidence.id);
        return;
      case 'registry':
        await vscode.commands.executeCommand(`${VIEWS.registry}.focus`);
        return;
      case 'file':
        await this.openFile(evidence.path, evidence.line);
        return;
      case 'config':
        await this.openFile(evidence.path, undefined, evidence.key);
        return;
    }
  }

  /** Opens a file of the project (never outside it), at a line or at the first mention of `key`. */
  private async openFile(relative: string, line?: number, key?: string): Promise<void> {
    // Evidence paths come from the configuration and run files: kept inside the workspace
    // (symbolic links resolved), refused with the reason otherwise.
    const target = await containedPath(relative, { base: this.root, roots: [this.root], what: 'to open the evidence', from: 'the readiness report' });
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(vscode.Uri.file(target));
    } catch {
      void vscode.window.showWarningMessage(`${relative} does not exist (yet): the item's fix says what to create.`);
      return;
    }
    let at = line ? Math.max(0, line - 1) : 0;
    if (key) {
      const last = key.split('.').at(-1)!;
      const found = document.getText().split('\n').findIndex((text) => text.includes(last));
      if (found >= 0) at = found;
    }
    const position = new vscode.Position(Math.min(at, document.lineCount - 1), 0);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: false });
  }

  private pageHtml(webview: vscode.Webview, report: ReadinessReport): string {
    return webviewPage(webview, this.extensionUri, { title: 'Production readiness', styles: ['runPage.css', 'compare.css'], script: 'readiness', body: renderReadinessHtml(report) });
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
