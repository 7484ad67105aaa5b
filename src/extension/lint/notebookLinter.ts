/**
 * Lint as the user types: notebooks (every cell) and Python files get nb2prod diagnostics on
 * the exact range, refreshed a moment after each edit. Only the edited cell is re-parsed (cell
 * analyses are cached by source text); the cross-cell rules re-run over the cached facts.
 *
 * The linter keeps what it found per document so the code action provider can offer the fixes
 * of exactly those findings.
 *
 * In a trusted workspace the project's interpreter confirms syntax (and lists what installed
 * modules' `import *` binds): one long-lived process (core/lint/pythonOracle.ts) that compiles
 * cells, never runs them. A lint uses the verdicts already in; the cells it has none for are
 * sent, and the document is linted again when the answers arrive. In an untrusted workspace no
 * Python runs: nb2prod's parser's syntax findings are warnings.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { type LintConfig, loadLintConfig, withRuleOverrides } from '../../core/lint/config';
import { lintCells } from '../../core/lint/engine';
import type { SourceCell } from '../../core/lint/model';
import { positionAt } from '../../core/lint/positions';
import { findProjectRoot, ProjectScanner } from '../../core/lint/project/scan';
import { installedStarModules } from '../../core/lint/externalNames';
import { cachedAnalyze } from '../../core/lint/model';
import { PythonOracle } from '../../core/lint/pythonOracle';
import type { Finding, LintTarget, Severity } from '../../core/lint/rule';
import { ALL_RULES } from '../../core/lint/rules';
import { ExecutionObserver } from '../executionObserver';
import { resolveInterpreter } from '../interpreter';
import { type InstalledPackages, queryInstalledPackages } from '../../core/project/installedPackages';

const NOTEBOOK_TYPE = 'jupyter-notebook';
/** Wait for a pause in typing before re-linting. */
const LINT_DELAY_MS = 250;

/** A finding as shown: where it lives now, so a quick fix edits the right cell. */
export interface ShownFinding {
  finding: Finding;
  diagnostic: vscode.Diagnostic;
  /** The document the diagnostic is on (a cell's document, or the script). */
  document: vscode.TextDocument;
  /** The notebook, when the finding is in one. */
  notebook: vscode.NotebookDocument | undefined;
  /** The version of `document` that was linted; fixes are only offered for it. */
  version: number;
}

/** Files whose change alters what the project scan found. */
const PROJECT_FILES_GLOB = '**/{requirements*.txt,pyproject.toml,nb2prod.toml,environment.yml,environment.yaml,Pipfile,setup.cfg,*.lock,.gitattributes,*.dvc,dvc.lock,dvc.yaml}';

export class NotebookLinter implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('nb2prod');
  private readonly shown = new Map<string, ShownFinding[]>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly scanners = new Map<string, ProjectScanner>();
  private readonly configs = new Map<string, LintConfig>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after diagnostics changed (the status bar counts them). */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.diagnostics, this.changed];
  private installedQueried = false;
  /** Installed distributions of the interpreter and the modules they provide, once asked (see loadInstalled). */
  private installed: InstalledPackages | undefined;
  /** The interpreter that confirms syntax, per interpreter path (trusted workspaces only). */
  private oracle: { python: string; oracle: PythonOracle } | undefined;
  /** The interpreter path, resolved once per window (and again when the setting changes). */
  private interpreter: Promise<string> | undefined;

  constructor(
    private readonly executions: ExecutionObserver,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    /** Folder of the Python companion (dist/python). */
    private readonly pythonDir: string,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(PROJECT_FILES_GLOB);
    const gitIndex = vscode.workspace.createFileSystemWatcher('**/.git/index');
    const projectChanged = (): void => this.invalidateProject();
    this.disposables.push(
      watcher,
      gitIndex,
      watcher.onDidChange(projectChanged),
      watcher.onDidCreate(projectChanged),
      watcher.onDidDelete(projectChanged),
      gitIndex.onDidChange(projectChanged),
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.schedule(notebook, 0)),
      vscode.workspace.onDidChangeNotebookDocument((event) => this.schedule(event.notebook)),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.forgetNotebook(notebook)),
      vscode.workspace.onDidOpenTextDocument((document) => this.scheduleScript(document, 0)),
      vscode.workspace.onDidChangeTextDocument((event) => this.scheduleScript(event.document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forgetScript(document)),
      executions.onDidChange((notebook) => this.schedule(notebook, 0)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('nb2prod.pythonPath')) {
          this.interpreter = undefined;
          this.relintAll();
        } else if (event.affectsConfiguration('nb2prod.lint')) this.relintAll();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        for (const scanner of this.scanners.values()) scanner.invalidate();
        this.scanners.clear();
        this.relintAll();
      }),
    );
    this.relintAll();
  }

  /** The findings shown on a document (a cell's or a script's). */
  findingsOn(document: vscode.TextDocument): readonly ShownFinding[] {
    return this.shown.get(document.uri.toString()) ?? [];
  }

  /** Counts of the findings in a notebook or file, for the status bar. */
  counts(uris: readonly vscode.Uri[]): Record<Severity, number> {
    const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
    for (const uri of uris) for (const shown of this.shown.get(uri.toString()) ?? []) counts[shown.finding.severity]++;
    return counts;
  }

  relintAll(): void {
    this.configs.clear();
    for (const notebook of vscode.workspace.notebookDocuments) this.schedule(notebook, 0);
    for (const document of vscode.workspace.textDocuments) this.scheduleScript(document, 0);
  }

  private enabled(resource: vscode.Uri): boolean {
    return vscode.workspace.getConfiguration('nb2prod.lint', resource).get<boolean>('enabled', true);
  }

  private schedule(notebook: vscode.NotebookDocument, delay = LINT_DELAY_MS): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE) return;
    this.debounce(notebook.uri.toString(), delay, () => this.lintNotebook(notebook));
  }

  private scheduleScript(document: vscode.TextDocument, delay = LINT_DELAY_MS): void {
    if (document.languageId !== 'python' || document.uri.scheme !== 'file') return;
    // Library code opened by "Go to Definition" is not the user's to fix.
    if (!vscode.workspace.getWorkspaceFolder(document.uri)) return;
    this.debounce(document.uri.toString(), delay, () => this.lintScript(document));
  }

  private debounce(key: string, delay: number, work: () => Promise<void>): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        work().catch((error: unknown) => this.log.error(`Lint failed for ${key}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
      }, delay),
    );
  }

  private async lintNotebook(notebook: vscode.NotebookDocument): Promise<void> {
    if (notebook.isClosed) return;
    const cellsNow = notebook.getCells();
    if (!this.enabled(notebook.uri)) {
      for (const cell of cellsNow) this.clear(cell.document.uri);
      return this.changed.fire();
    }
    const cells: SourceCell[] = cellsNow.map((cell) => ({
      index: cell.index,
      kind: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : cell.document.languageId === 'python' ? 'code' : 'raw',
      source: cell.document.getText(),
      executionCount: cell.executionSummary?.executionOrder ?? null,
    }));
    const versions = cellsNow.map((cell) => cell.document.version);
    const key = ExecutionObserver.notebookKey(notebook);
    const editedSinceRun = new Set(this.executions.executionLog.editedSinceRun(key).map((state) => state.index));
    const findings = await this.run(notebook.uri, cells, { kind: 'notebook', path: notebook.uri.fsPath }, { editedSinceRun }, () => this.schedule(notebook, 0));
    if (!findings || notebook.isClosed) return;
    // Edited while we were scanning: the next scheduled lint will show fresh results.
    if (cellsNow.some((cell, i) => cell.document.version !== versions[i])) return;
    const byCell = new Map<number, ShownFinding[]>();
    for (const finding of findings) {
      const cell = cellsNow[finding.cell];
      if (!cell) continue;
      const shown = this.toShown(finding, cell.document, notebook);
      byCell.set(finding.cell, [...(byCell.get(finding.cell) ?? []), shown]);
    }
    // Each cell's diagnostics are replaced once the new ones are known, not cleared before the
    // lint: it awaits the project scan and the interpreter, and a notebook shown without any
    // problem meanwhile (squiggles and Problems rows gone, then back) is wrong for that long.
    cellsNow.forEach((cell, index) => {
      const list = byCell.get(index);
      if (list) this.show(cell.document.uri, list);
      else this.clear(cell.document.uri);
    });
    this.changed.fire();
  }

  private async lintScript(document: vscode.TextDocument): Promise<void> {
    if (document.isClosed) return;
    if (!this.enabled(document.uri)) {
      this.clear(document.uri);
      return this.changed.fire();
    }
    const version = document.version;
    const cells: SourceCell[] = [{ index: 0, kind: 'code', source: document.getText(), executionCount: null }];
    const findings = await this.run(document.uri, cells, { kind: 'script', path: document.uri.fsPath }, null, () => this.scheduleScript(document, 0));
    if (!findings || document.isClosed || document.version !== version) return;
    this.show(document.uri, findings.map((finding) => this.toShown(finding, document, undefined)));
    this.changed.fire();
  }

  private async run(resource: vscode.Uri, cells: SourceCell[], target: LintTarget, session: { editedSinceRun: Set<number> } | null, relint: () => void): Promise<Finding[] | undefined> {
    const folder = vscode.workspace.getWorkspaceFolder(resource);
    const dir = path.dirname(target.path);
    const root = folder?.uri.scheme === 'file' ? folder.uri.fsPath : findProjectRoot(dir);
    const scanner = this.scannerFor(root);
    let config: LintConfig;
    try {
      config = this.configFor(dir, root, resource);
    } catch (error) {
      this.log.warn(`nb2prod lint configuration: ${(error as Error).message}`);
      void vscode.window.showWarningMessage(`nb2prod: ${(error as Error).message} Using the default lint rules.`);
      config = withRuleOverrides({ rules: {}, exclude: [], file: null, baseDir: null }, this.ruleSettings(resource));
      this.configs.set(dir, config);
    }
    const project = await scanner.forFile(target.path);
    const oracle = await this.oracleFor(resource);
    const result = lintCells(cells, target, { project, config, rules: ALL_RULES, session, python: oracle?.knowledge() ?? null });
    if (oracle) {
      // Ask about what the interpreter has not answered for; lint again once it has.
      const sources = cells.filter((c) => c.kind === 'code').map((c) => c.source);
      const modules = installedStarModules(sources.map((source) => cachedAnalyze(source)), project, dir);
      if (oracle.needs(sources, modules)) {
        void oracle.ensure(sources, modules).then(() => {
          if (oracle.unavailable) this.log.warn(`Linter: syntax is checked without Python: ${oracle.unavailable}`);
          relint();
        });
      }
    }
    for (const failure of result.ruleFailures) this.log.error(`Rule ${failure.rule} failed on ${target.path}: ${failure.message}`);
    // Only an unpinned install (its "pin" fix) and a missing requirement (which distribution, which
    // version) need the installed packages: ask Python then, once.
    if (result.findings.some((f) => f.rule === 'unpinned-install' || f.rule === 'missing-requirements')) void this.loadInstalled(resource);
    return result.findings;
  }

  /**
   * The interpreter process for the workspace's Python; undefined in an untrusted workspace,
   * where the interpreter (perhaps a venv inside the workspace) must not run.
   */
  private async oracleFor(resource: vscode.Uri): Promise<PythonOracle | undefined> {
    if (!vscode.workspace.isTrusted) return undefined;
    this.interpreter ??= resolveInterpreter(resource, this.log).then((interpreter) => interpreter.path);
    const python = await this.interpreter;
    if (this.oracle?.python !== python) {
      this.oracle?.oracle.dispose();
      this.oracle = { python, oracle: new PythonOracle({ python, pythonDir: this.pythonDir, importModules: true }) };
      this.log.debug(`Linter: confirming syntax with ${python}`);
    }
    return this.oracle.oracle;
  }

  private configFor(dir: string, root: string, resource: vscode.Uri): LintConfig {
    let config = this.configs.get(dir);
    if (!config) {
      config = withRuleOverrides(loadLintConfig(dir, root), this.ruleSettings(resource));
      this.configs.set(dir, config);
    }
    return config;
  }

  private ruleSettings(resource: vscode.Uri): Record<string, string> {
    return vscode.workspace.getConfiguration('nb2prod.lint', resource).get<Record<string, string>>('rules', {});
  }

  private scannerFor(root: string): ProjectScanner {
    let scanner = this.scanners.get(root);
    if (!scanner) {
      // Running git in an untrusted repository could run its configured programs.
      scanner = new ProjectScanner(root, { useGit: vscode.workspace.isTrusted, installed: this.installed?.versions, modules: this.installed?.modules });
      this.scanners.set(root, scanner);
    }
    return scanner;
  }

  /**
   * Installed versions make the "pin to the installed version" fix possible, and the modules each
   * distribution provides name the package behind an import. Trusted only: it runs Python. Asked
   * once per window, when an unpinned install or a missing requirement is first found, so a
   * workspace without one never starts an interpreter for the linter.
   */
  private async loadInstalled(resource: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted || this.installedQueried) return;
    this.installedQueried = true;
    try {
      const interpreter = await resolveInterpreter(resource, this.log);
      const installed = await queryInstalledPackages(interpreter.path);
      this.installed = installed;
      for (const each of this.scanners.values()) each.setInstalled(installed.versions, installed.modules);
      this.log.debug(`Linter: ${installed.versions.size} installed distributions from ${interpreter.path}`);
      this.relintAll();
    } catch (error) {
      this.installedQueried = false;
      this.log.warn(`Could not list installed packages for pin fixes: ${(error as Error).message}`);
    }
  }

  private invalidateProject(): void {
    for (const scanner of this.scanners.values()) scanner.invalidate();
    this.relintAll();
  }

  private toShown(finding: Finding, document: vscode.TextDocument, notebook: vscode.NotebookDocument | undefined): ShownFinding {
    const text = document.getText();
    const start = positionAt(text, finding.span.from);
    const end = positionAt(text, finding.span.to);
    const range = new vscode.Range(start.line, start.character, end.line, end.character);
    const diagnostic = new vscode.Diagnostic(range, finding.message, SEVERITY[finding.severity]);
    diagnostic.source = 'nb2prod';
    diagnostic.code = { value: finding.rule, target: vscode.Uri.joinPath(this.extensionUri, 'docs', 'rules', `${finding.rule}.md`) };
    if (notebook && finding.related?.length) {
      diagnostic.relatedInformation = finding.related.flatMap((related) => {
        if (related.cell >= notebook.cellCount) return [];
        const other = notebook.cellAt(related.cell).document;
        const from = positionAt(other.getText(), related.span.from);
        const to = positionAt(other.getText(), related.span.to);
        return [new vscode.DiagnosticRelatedInformation(new vscode.Location(other.uri, new vscode.Range(from.line, from.character, to.line, to.character)), related.message)];
      });
    }
    return { finding, diagnostic, document, notebook, version: document.version };
  }

  private show(uri: vscode.Uri, list: ShownFinding[]): void {
    this.shown.set(uri.toString(), list);
    this.diagnostics.set(uri, list.map((s) => s.diagnostic));
  }

  private clear(uri: vscode.Uri): void {
    this.shown.delete(uri.toString());
    this.diagnostics.delete(uri);
  }

  private forgetNotebook(notebook: vscode.NotebookDocument): void {
    clearTimeout(this.timers.get(notebook.uri.toString()));
    for (const cell of notebook.getCells()) this.clear(cell.document.uri);
    this.changed.fire();
  }

  private forgetScript(document: vscode.TextDocument): void {
    if (document.uri.scheme !== 'file') return;
    clearTimeout(this.timers.get(document.uri.toString()));
    this.clear(document.uri);
    this.changed.fire();
  }

  dispose(): void {
    this.oracle?.oracle.dispose();
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const d of this.disposables) d.dispose();
  }
}

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};
