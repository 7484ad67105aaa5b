/**
 * Watches what the user's own kernel does to their Jupyter notebooks — which cells run, in what
 * order, and which are edited after they ran — and keeps it in an ExecutionLog (core/session),
 * saved in the workspace state so it survives a window reload. The notebook linter asks it
 * about out-of-order runs, stale outputs and hidden state.
 */
import * as vscode from 'vscode';
import { sha256Hex } from '../core/hash';
import { type CellSnapshot, ExecutionLog } from '../core/session/executionLog';

const STATE_KEY = 'nb2prod.executionLog';
const NOTEBOOK_TYPE = 'jupyter-notebook';
/** Edits come per keystroke: save at most this often. */
const SAVE_DELAY_MS = 1_000;

export class ExecutionObserver implements vscode.Disposable {
  private readonly log: ExecutionLog;
  private readonly changed = new vscode.EventEmitter<vscode.NotebookDocument>();
  /** Fires after the log learned something about a notebook. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly state: vscode.Memento,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.log = ExecutionLog.fromJSON(state.get<unknown>(STATE_KEY));
    for (const notebook of vscode.workspace.notebookDocuments) this.syncCells(notebook);
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.syncCells(notebook)),
      vscode.workspace.onDidChangeNotebookDocument((event) => this.onChange(event)),
    );
  }

  /** The log of executions, for questions such as `outOfOrder(notebookKey(notebook))`. */
  get executionLog(): ExecutionLog {
    return this.log;
  }

  /** The key of a notebook in the log. */
  static notebookKey(notebook: vscode.NotebookDocument): string {
    return notebook.uri.toString();
  }

  /**
   * The key of a cell in the log: its nbformat id (kept in the file, so it survives a reload),
   * else the cell document's URI fragment, stable while the notebook is open. Notebooks older
   * than nbformat 4.5 have no cell ids: their history lasts until the window reloads.
   */
  static cellKey(cell: vscode.NotebookCell): string {
    const id = (cell.metadata as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' && id ? id : `#${cell.document.uri.fragment}`;
  }

  private onChange(event: vscode.NotebookDocumentChangeEvent): void {
    const notebook = event.notebook;
    if (notebook.notebookType !== NOTEBOOK_TYPE) return;
    const key = ExecutionObserver.notebookKey(notebook);
    // New or removed cells, and cells that just got their id (ipynb assigns one to added cells).
    if (event.contentChanges.length || event.cellChanges.some((c) => c.metadata)) this.syncCells(notebook);
    let learned = event.contentChanges.length > 0;
    for (const change of event.cellChanges) {
      const cellKey = ExecutionObserver.cellKey(change.cell);
      if (change.document) {
        this.log.recordEdit(key, cellKey, hashOf(change.cell));
        learned = true;
      }
      const summary = change.executionSummary;
      // Clearing outputs resets the summary to no order: that is not an execution.
      if (summary?.executionOrder !== undefined) {
        const outcome = this.log.recordExecution(
          key,
          cellKey,
          { order: summary.executionOrder, success: summary.success, startTime: summary.timing?.startTime, endTime: summary.timing?.endTime },
          hashOf(change.cell),
        );
        if (outcome === 'restart') this.output.debug(`Execution counter of ${notebook.uri.fsPath} went back: a new kernel session`);
        learned = true;
      }
    }
    if (learned) this.learned(notebook);
  }

  private syncCells(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE) return;
    const cells: CellSnapshot[] = notebook.getCells().map((cell) => ({
      id: ExecutionObserver.cellKey(cell),
      kind: cell.kind === vscode.NotebookCellKind.Code ? 'code' : 'markup',
      sourceHash: hashOf(cell),
    }));
    this.log.setCells(ExecutionObserver.notebookKey(notebook), cells);
    this.learned(notebook);
  }

  private learned(notebook: vscode.NotebookDocument): void {
    this.changed.fire(notebook);
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  private save(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.state.update(STATE_KEY, this.log.toJSON()).then(undefined, (error: unknown) => {
      this.output.warn(`Could not save the notebook execution log: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  dispose(): void {
    if (this.saveTimer) this.save();
    for (const d of this.disposables) d.dispose();
  }
}

function hashOf(cell: vscode.NotebookCell): string {
  return sha256Hex(cell.document.getText());
}
