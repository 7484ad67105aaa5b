/**
 * Quick fixes for nb2prod diagnostics: the fixes the rules computed (add a seed cell, add
 * random_state, make a path relative, pin an install) and, for every finding, "suppress on this
 * line" with `# nb2prod: ignore[rule-id]`.
 */
import * as vscode from 'vscode';
import type { Fix } from '../../core/lint/rule';
import type { NotebookLinter, ShownFinding } from './notebookLinter';

const SUPPRESSION = /#\s*nb2prod:\s*ignore\[([^\]]*)\]/;

export class LintCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly linter: NotebookLinter) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const shown of this.linter.findingsOn(document)) {
      // Fix offsets were computed on the linted text; after an edit, wait for the next lint.
      if (shown.version !== document.version) continue;
      if (!shown.diagnostic.range.intersection(range) && !context.diagnostics.some((d) => sameDiagnostic(d, shown.diagnostic))) continue;
      for (const fix of shown.finding.fixes) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [shown.diagnostic];
        action.isPreferred = fix.preferred ?? false;
        action.edit = this.editFor(shown, fix);
        actions.push(action);
      }
      actions.push(this.suppression(shown));
    }
    return actions;
  }

  private editFor(shown: ShownFinding, fix: Fix): vscode.WorkspaceEdit {
    const edit = new vscode.WorkspaceEdit();
    for (const textEdit of fix.edits) {
      const document = shown.notebook ? shown.notebook.cellAt(textEdit.cell).document : shown.document;
      edit.replace(document.uri, new vscode.Range(document.positionAt(textEdit.span.from), document.positionAt(textEdit.span.to)), textEdit.text);
    }
    if (shown.notebook && fix.insertCells?.length) {
      const notebookEdits = [...fix.insertCells]
        .sort((a, b) => b.at - a.at)
        .map((cell) => vscode.NotebookEdit.insertCells(cell.at, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, cell.source, 'python')]));
      edit.set(shown.notebook.uri, notebookEdits);
    }
    return edit;
  }

  private suppression(shown: ShownFinding): vscode.CodeAction {
    const rule = shown.finding.rule;
    const action = new vscode.CodeAction(`Ignore ${rule} on this line`, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [shown.diagnostic];
    const line = shown.document.lineAt(shown.diagnostic.range.start.line);
    const existing = SUPPRESSION.exec(line.text);
    const edit = new vscode.WorkspaceEdit();
    if (existing) {
      const start = line.range.start.translate(0, existing.index);
      const ids = [...existing[1]!.split(',').map((id) => id.trim()).filter(Boolean), rule];
      edit.replace(shown.document.uri, new vscode.Range(start, start.translate(0, existing[0].length)), `# nb2prod: ignore[${ids.join(', ')}]`);
    } else {
      edit.insert(shown.document.uri, line.range.end, `  # nb2prod: ignore[${rule}]`);
    }
    action.edit = edit;
    return action;
  }
}

function sameDiagnostic(a: vscode.Diagnostic, b: vscode.Diagnostic): boolean {
  return a.message === b.message && a.range.isEqual(b.range);
}
