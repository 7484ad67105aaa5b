/**
 * The Drift panel: pick a reference (a data file, or a run's captured input profile) and the
 * current data; the extension reads both with cancellable progress, computes the report in core
 * and sends it to the page, which draws the summary, the columns by severity and overlaid
 * histograms, and asks for exports (HTML, Markdown, JSON) that the extension writes. Hosted by
 * the WebviewHost (CSP shell, messages validated both ways, restore, theme broadcast, disposal).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { formatFromPath, readDataset } from '../core/data/dataset';
import { computeDrift, type DriftReport } from '../core/drift/drift';
import { keepDriftFilesInside } from '../core/drift/panelState';
import { profileReferenceFromRun } from '../core/drift/profileReference';
import { renderDriftReport } from '../core/drift/report';
import { UserError } from '../core/errors';
import { type DriftMessage, type DriftReferenceChoice, type DriftState, type DriftToPage, driftMessageSchema, driftStateSchema, driftToPageSchema } from '../protocol/drift';
import { DRIFT_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import type { PanelKind, WebviewHost } from './webviewHost';
import type { WorkspaceStore } from './workspaceStore';

export const DRIFT_PANEL: PanelKind<DriftMessage, DriftToPage, DriftState> = {
  viewType: DRIFT_PANEL_VIEW_TYPE,
  script: 'drift',
  styles: ['runPage.css', 'compare.css'],
  fromPage: driftMessageSchema,
  toPage: driftToPageSchema,
  state: driftStateSchema,
  name: 'Drift panel',
};

const DATA_FILTERS = { 'Data files': ['csv', 'tsv', 'tab', 'jsonl', 'ndjson', 'parquet', 'gz'] };

export class DriftPanels implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly host: WebviewHost,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // A restored panel's files come from its saved state: kept inside the workspace or refused.
    this.subscriptions.push(
      host.registerSerializer(
        DRIFT_PANEL,
        async (panel, saved) => {
          const { state, refused } = await keepDriftFilesInside(saved, this.store.workspaceFolder(), this.store.root());
          for (const reason of refused) {
            this.log.warn(reason);
            void vscode.window.showWarningMessage(reason);
          }
          this.show(state, panel);
        },
        {},
      ),
    );
  }

  /** Opens a Drift panel; `current` preselects the data to check (e.g. from the Explorer). */
  show(initial: DriftState = {}, restored?: vscode.WebviewPanel): void {
    const page = this.host.open(DRIFT_PANEL, { title: 'Data drift', ...(restored ? { restored } : {}) });
    let state: DriftState = { ...initial };
    let report: DriftReport | undefined;
    /** The state `report` was computed for: a page shown again gets it without re-reading the data. */
    let reportFor = '';
    const post = (message: DriftToPage): void => void page.post(message);
    const labels = () => ({ referenceLabel: labelOf(state.reference!), currentLabel: path.basename(state.current!) });
    const refresh = async (): Promise<void> => {
      if (report && reportFor === JSON.stringify([state.reference, state.current])) {
        post({ type: 'report', report, state, ...labels() });
        return;
      }
      if (!state.reference || !state.current) {
        post({ type: 'choose', state, referenceLabel: state.reference ? labelOf(state.reference) : null, currentLabel: state.current ? path.basename(state.current) : null });
        return;
      }
      try {
        report = await this.compute(state, (what) => post({ type: 'computing', what }));
        if (!report) {
          post({ type: 'choose', state, ...labels() });
          return;
        }
        reportFor = JSON.stringify([state.reference, state.current]);
        page.title = `Drift: ${path.basename(state.current)}`;
        post({ type: 'report', report, state, ...labels() });
      } catch (error) {
        post({ type: 'error', message: error instanceof Error ? error.message : String(error), state });
        if (!(error instanceof UserError)) reportError(error, this.log, 'Computing drift');
      }
    };
    page.own(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('nb2prod.drift')) {
          report = undefined;
          void refresh();
        }
      }),
    );
    page.onReady(refresh);
    page.onMessage(async (message) => {
      switch (message.type) {
        case 'pickReference': {
          const reference = await this.pickReference();
          if (reference) {
            state = { ...state, reference };
            await refresh();
          }
          break;
        }
        case 'pickCurrent': {
          const current = await this.pickFile('Current data');
          if (current) {
            state = { ...state, current };
            await refresh();
          }
          break;
        }
        case 'export':
          if (report) await this.export(report, message.format, state);
          break;
        default: {
          const unreachable: never = message;
          throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
        }
      }
    });
  }

  /** Reads both sides and computes the report, in a cancellable progress notification. */
  private async compute(state: DriftState, announce: (what: string) => void): Promise<DriftReport | undefined> {
    const referenceChoice = state.reference!;
    const current = state.current!;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'nb2prod: Checking drift', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        const reading = (name: string) => {
          let reported = 0;
          return (read: number, total: number) => {
            const percent = total ? Math.floor((read / total) * 100) : 0;
            if (percent > reported) {
              progress.report({ message: `reading ${name} (${percent}%)`, increment: (percent - reported) / 2 });
              reported = percent;
            }
          };
        };
        let reference;
        if (referenceChoice.kind === 'file') {
          announce(`Reading ${path.basename(referenceChoice.path)}…`);
          reference = await readDataset(referenceChoice.path, { signal: controller.signal, onProgress: reading(path.basename(referenceChoice.path)) });
        } else {
          const run = await this.store.get().getRun(referenceChoice.runId);
          reference = profileReferenceFromRun(run, referenceChoice.input);
        }
        if (token.isCancellationRequested) return undefined;
        announce(`Reading ${path.basename(current)}…`);
        const data = await readDataset(current, { signal: controller.signal, onProgress: reading(path.basename(current)) });
        if (token.isCancellationRequested) return undefined;
        announce('Computing the statistics…');
        progress.report({ message: 'computing the statistics' });
        const settings = vscode.workspace.getConfiguration('nb2prod.drift');
        return computeDrift(reference, data, {
          thresholds: settings.get<{ monitor?: number; retrain?: number }>('thresholds') ?? {},
          kinds: settings.get<Record<string, 'numeric' | 'categorical'>>('columnKinds') ?? {},
        });
      },
    ).then(
      (report) => report,
      (error: unknown) => {
        if (error instanceof Error && error.name === 'AbortError') return undefined;
        throw error;
      },
    );
  }

  private async pickReference(): Promise<DriftReferenceChoice | undefined> {
    const runs = await this.profiledInputs();
    const choice = await vscode.window.showQuickPick(
      [
        { label: '$(file) A data file…', id: 'file' as const },
        ...runs.map((r) => ({ label: `$(history) ${r.runName}`, description: r.input, detail: `run ${r.runId}: its captured profile of ${r.input}`, id: 'run' as const, run: r })),
      ],
      { title: 'Reference data: what the current data is compared with', matchOnDescription: true },
    );
    if (!choice) return undefined;
    if (choice.id === 'file') {
      const file = await this.pickFile('Reference data');
      return file ? { kind: 'file', path: file } : undefined;
    }
    const run = (choice as { run: { runId: string; input: string } }).run;
    return { kind: 'run', runId: run.runId, input: run.input };
  }

  /** Inputs with a captured profile, newest runs first (at most 50 runs looked at). */
  private async profiledInputs(): Promise<Array<{ runId: string; runName: string; input: string }>> {
    try {
      const store = this.store.get();
      const { runs } = await store.list({ limit: 50 });
      const out: Array<{ runId: string; runName: string; input: string }> = [];
      for (const summary of runs) {
        const run = await store.getRun(summary.id);
        for (const input of run.inputs) if (input.profile) out.push({ runId: run.id, runName: run.name, input: input.path });
      }
      return out;
    } catch (error) {
      this.log.debug(`No run references for drift: ${(error as Error).message}`);
      return [];
    }
  }

  private async pickFile(title: string): Promise<string | undefined> {
    const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: DATA_FILTERS, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    const file = picked?.[0]?.fsPath;
    if (file && !formatFromPath(file)) throw new UserError('usage', `${path.basename(file)} is not a CSV, TSV, JSON Lines or Parquet file.`);
    return file;
  }

  private async export(report: DriftReport, format: 'html' | 'md' | 'json', state: DriftState): Promise<void> {
    const base = state.current ? path.basename(state.current).replace(/\.[^.]+(\.gz)?$/, '') : 'data';
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const suggested = folder ? vscode.Uri.joinPath(folder, `drift-${base}.${format}`) : undefined;
    const target = await vscode.window.showSaveDialog({ title: 'Export the drift report', defaultUri: suggested, filters: { [format.toUpperCase()]: [format] } });
    if (!target) return;
    await fs.writeFile(target.fsPath, renderDriftReport(report, format));
    const open = await vscode.window.showInformationMessage(`Drift report saved to ${path.basename(target.fsPath)}.`, 'Open');
    if (open) await vscode.commands.executeCommand('vscode.open', target);
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}

function labelOf(reference: DriftReferenceChoice): string {
  return reference.kind === 'file' ? path.basename(reference.path) : `${reference.input ? path.basename(reference.input) : 'input'} profile of run ${reference.runId}`;
}
