/**
 * The readiness checklist panel: runs the same check as `nb2prod check` on the workspace (with
 * progress), renders the report (core/render/readinessHtml) and follows evidence links — a run
 * opens its page, a file or config key opens the file at that place, a registry entry shows the
 * Registry view. Files are only opened inside the workspace folder. Hosted by the WebviewHost.
 */
import * as vscode from 'vscode';
import { checkReadiness } from '../core/readiness/check';
import type { EvidenceRef } from '../core/readiness/model';
import { registryFactsProvider } from '../core/readiness/registryFacts';
import type { FixAction } from '../core/readiness/actions';
import { readinessEvidence, readinessFixes, renderReadinessHtml } from '../core/render/readinessHtml';
import { UserError } from '../core/errors';
import { containedPath } from '../core/safePath';
import { type ReadinessMessage, readinessMessageSchema, type ReadinessState, readinessStateSchema, type ReadinessToPage, readinessToPageSchema } from '../protocol/readiness';
import { COMMANDS, READINESS_PANEL_VIEW_TYPE, VIEWS } from './commandIds';
import type { HostedPanel, PanelKind, WebviewHost } from './webviewHost';
import type { WorkspaceStore } from './workspaceStore';

export const READINESS_PANEL: PanelKind<ReadinessMessage, ReadinessToPage, ReadinessState> = {
  viewType: READINESS_PANEL_VIEW_TYPE,
  script: 'readiness',
  styles: ['runPage.css', 'compare.css'],
  fromPage: readinessMessageSchema,
  toPage: readinessToPageSchema,
  state: readinessStateSchema,
  name: 'readiness panel',
};

export class ReadinessPanel implements vscode.Disposable {
  private page: HostedPanel<ReadinessMessage, ReadinessToPage, ReadinessState> | undefined;
  private evidence: EvidenceRef[] = [];
  private fixes: FixAction[] = [];
  private root = '';
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly host: WebviewHost,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly showRun: (runId: string) => Promise<void>,
  ) {
    this.subscriptions.push(host.registerSerializer(READINESS_PANEL, (panel) => this.show(panel), {}));
  }

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
    this.fixes = readinessFixes(report);
    const title = report.productionReady ? 'Readiness: ready' : `Readiness: ${report.counts.fail} failing`;
    if (!this.page || this.page.isDisposed || restored) {
      this.page?.dispose();
      const page = this.host.open(READINESS_PANEL, { title, body: renderReadinessHtml(report), ...(restored ? { restored } : {}) });
      page.onMessage((message) => this.onMessage(message));
      this.page = page;
    } else {
      this.page.title = title;
      this.page.setBody(renderReadinessHtml(report));
    }
    this.page.panel.reveal(undefined, true);
  }

  private async onMessage(message: ReadinessMessage): Promise<void> {
    switch (message.type) {
      case 'refresh':
        await this.show();
        break;
      case 'openEvidence': {
        const evidence = this.evidence[message.index];
        if (evidence) await this.open(evidence);
        break;
      }
      case 'fix': {
        const action = this.fixes[message.index];
        if (action) await this.runFix(action);
        break;
      }
      default: {
        const unreachable: never = message;
        throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
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

  /**
   * Runs a fix button: each kind is one of the extension's own commands, with a path from the
   * report checked to stay inside the project first. Nothing else can be run from the page.
   */
  private async runFix(action: FixAction): Promise<void> {
    const inside = async (relative: string) => vscode.Uri.file(await containedPath(relative, { base: this.root, roots: [this.root], what: 'to run the fix', from: 'the readiness report' }));
    switch (action.kind) {
      case 'track':
        return void (await vscode.commands.executeCommand(COMMANDS.trackRun, await inside(action.source)));
      case 'trackWithParameters':
        return void (await vscode.commands.executeCommand(COMMANDS.trackRunWithParameters, await inside(action.source)));
      case 'replay':
        return void (await vscode.commands.executeCommand(COMMANDS.replayRun, action.runId));
      case 'register':
        return void (await vscode.commands.executeCommand(COMMANDS.registerModel, action.runId));
      case 'generateService':
        return void (await vscode.commands.executeCommand(COMMANDS.generateService, await inside(action.notebook)));
      case 'showDrift':
        return void (await vscode.commands.executeCommand(COMMANDS.showDrift));
      case 'openModelCard':
        return void (await vscode.commands.executeCommand(COMMANDS.openModelCard));
      case 'approve':
        return void (await vscode.commands.executeCommand(COMMANDS.approveModel));
      case 'rollback':
        return void (await vscode.commands.executeCommand(COMMANDS.rollbackModel));
      case 'promote':
        return void (await vscode.commands.executeCommand(COMMANDS.promoteModel));
      case 'sourceControl':
        return void (await vscode.commands.executeCommand('workbench.view.scm'));
      case 'openFile': {
        const uri = await inside(action.path);
        if (action.create !== undefined) {
          // Written only when absent: a fix never replaces the user's file.
          try {
            await vscode.workspace.fs.stat(uri);
          } catch {
            await vscode.workspace.fs.writeFile(uri, Buffer.from(action.create, 'utf8'));
            this.log.info(`Readiness fix: wrote ${action.path}`);
          }
        }
        return this.openFile(action.path, undefined, action.find);
      }
      default: {
        const unreachable: never = action;
        throw new Error(`Unhandled fix ${JSON.stringify(unreachable)}`);
      }
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

  dispose(): void {
    this.page?.dispose();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
