/**
 * The run store of the open workspace: where it is (the `nb2prod.storePath` setting, relative to
 * the first workspace folder), the RunStore over it (created lazily, on first use), and a change
 * event fed by a file watcher on `runs/`. The store is a watched one: it keeps its index in
 * memory and the watcher tells it which run files changed (see RunStore.noteChanged).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { RunStore } from '../core/store/runStore';

export class WorkspaceStore implements vscode.Disposable {
  private store: RunStore | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires (debounced) when run files appear, change or disappear, or the store moves. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('nb2prod.storePath')) this.reset();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reset()),
    );
  }

  /** The folder of the store, or undefined when no folder is open. */
  root(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') return undefined;
    const configured = vscode.workspace.getConfiguration('nb2prod', folder.uri).get<string>('storePath') || '.nb2prod';
    return path.resolve(folder.uri.fsPath, configured);
  }

  workspaceFolder(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
  }

  /** The store, created on first use. Throws a user error when no folder is open. */
  get(): RunStore {
    if (this.store) return this.store;
    const root = this.root();
    if (!root) throw new UserError('no-workspace', 'Open a folder to see its runs: nb2prod keeps them in the folder’s .nb2prod store.');
    this.store = new RunStore(root, { watched: true });
    this.watch(root);
    this.log.info(`Run store: ${root}`);
    return this.store;
  }

  /** The next list checks every run file (the watcher may have missed a change). */
  checkEveryRun(): void {
    this.store?.noteChanged();
  }

  private watch(root: string): void {
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), 'runs/*.json'));
    const fire = (uri: vscode.Uri) => {
      this.store?.noteChanged([uri.fsPath]);
      clearTimeout(this.debounce);
      // Coalesce bursts (a CI job writing many runs) into one refresh.
      this.debounce = setTimeout(() => this.changed.fire(), 250);
    };
    this.watcher.onDidCreate(fire);
    this.watcher.onDidChange(fire);
    this.watcher.onDidDelete(fire);
  }

  private reset(): void {
    this.store?.close();
    this.store = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.changed.fire();
  }

  dispose(): void {
    clearTimeout(this.debounce);
    this.store?.close();
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
