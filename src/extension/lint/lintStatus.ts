/**
 * The problem count of the notebook or Python file in front of the user, in the status bar.
 * Clicking it opens the Problems panel.
 */
import * as vscode from 'vscode';
import type { NotebookLinter } from './notebookLinter';

export class LintStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('nb2prod.lintStatus', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(private readonly linter: NotebookLinter) {
    this.item.name = 'nb2prod lint';
    this.item.command = 'workbench.actions.view.problems';
    this.disposables.push(
      linter.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
    );
    this.update();
  }

  private update(): void {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    const editor = vscode.window.activeTextEditor;
    let uris: vscode.Uri[] | undefined;
    let what = '';
    if (notebook && notebook.notebookType === 'jupyter-notebook') {
      uris = notebook.getCells().map((cell) => cell.document.uri);
      what = 'this notebook';
    } else if (editor && editor.document.languageId === 'python' && editor.document.uri.scheme === 'file') {
      uris = [editor.document.uri];
      what = 'this file';
    }
    if (!uris) {
      this.item.hide();
      return;
    }
    const counts = this.linter.counts(uris);
    const total = counts.error + counts.warning + counts.info;
    this.item.text = total ? `$(beaker) nb2prod: $(error) ${counts.error} $(warning) ${counts.warning}${counts.info ? ` $(info) ${counts.info}` : ''}` : '$(beaker) nb2prod: $(check) no problems';
    this.item.tooltip = total
      ? `nb2prod found ${counts.error} errors, ${counts.warning} warnings and ${counts.info} notes in ${what} that stop it from reproducing. Click to open the Problems panel.`
      : `nb2prod found nothing in ${what} that stops it from reproducing.`;
    this.item.accessibilityInformation = { label: this.item.tooltip };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
