/**
 * Runs the rules over a notebook or script: builds the dataflow model (re-using cached cell
 * analyses), runs each enabled rule at its configured severity, drops findings suppressed with
 * `# nb2prod: ignore[rule-id]` on their line, and sorts what is left. A rule that throws is
 * reported as a problem of the run, not as a crash of the whole lint.
 */
import { parseNotebook } from '../notebook/ipynb';
import { type LintConfig, severityFor } from './config';
import { NotebookModel, type SourceCell } from './model';
import { lineOfOffset } from './positions';
import type { ProjectInfo } from './project';
import type { PythonKnowledge } from './pythonOracle';
import type { Finding, LintTarget, Rule, SessionInfo, Severity } from './rule';

export interface LintOptions {
  project: ProjectInfo;
  config: LintConfig;
  rules: readonly Rule[];
  session?: SessionInfo | null;
  /** The interpreter's answers, gathered before the lint (see pythonOracle.ts). */
  python?: PythonKnowledge | null;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export interface LintResult {
  findings: Finding[];
  /** Rules that failed on this input (a bug in nb2prod): id and message. */
  ruleFailures: Array<{ rule: string; message: string }>;
  model: NotebookModel;
}

/**
 * The last model of each file linted, by kind and path: the next lint of the same file builds
 * on it (see NotebookModel), so an edit re-derives only what depends on what changed. Bounded:
 * the editor lints the notebooks that are open.
 */
const previousModels = new Map<string, NotebookModel>();
const PREVIOUS_MODELS_LIMIT = 16;

/** Forget the previous models: the next lint of every file starts from scratch (tests compare the two). */
export function forgetPreviousLints(): void {
  previousModels.clear();
}

export function lintCells(cells: readonly SourceCell[], target: LintTarget, options: LintOptions): LintResult {
  const key = `${target.kind}:${target.path}`;
  const model = new NotebookModel(cells, undefined, previousModels.get(key));
  previousModels.delete(key);
  if (previousModels.size >= PREVIOUS_MODELS_LIMIT) previousModels.delete(previousModels.keys().next().value!);
  previousModels.set(key, model);
  const findings: Finding[] = [];
  const ruleFailures: LintResult['ruleFailures'] = [];
  for (const rule of options.rules) {
    if (!rule.appliesTo.includes(target.kind)) continue;
    const severity = severityFor(options.config, rule.id, rule.defaultSeverity);
    if (severity === 'off') continue;
    try {
      rule.check({
        target,
        model,
        project: options.project,
        session: options.session ?? null,
        python: options.python ?? null,
        report: (finding) => {
          if (isSuppressed(model, finding.cell, finding.span.from, rule.id)) return;
          const lowered = finding.severity && RANK[finding.severity] < RANK[severity] ? finding.severity : severity;
          findings.push({
            rule: rule.id,
            severity: lowered,
            message: finding.message,
            cell: finding.cell,
            span: finding.span,
            fixes: finding.fixes ?? [],
            ...(finding.related?.length ? { related: finding.related } : {}),
          });
        },
      });
    } catch (error) {
      ruleFailures.push({ rule: rule.id, message: (error as Error).stack ?? String(error) });
    }
  }
  findings.sort((a, b) => a.cell - b.cell || a.span.from - b.span.from || a.rule.localeCompare(b.rule));
  return { findings, ruleFailures, model };
}

/** The cells of a notebook file's text; throws a UserError for a file that is not a notebook. */
export function notebookCells(text: string, file: string): SourceCell[] {
  return parseNotebook(text, file).cells.map((cell) => ({
    index: cell.index,
    kind: cell.kind,
    source: cell.source,
    executionCount: cell.executionCount,
    id: cell.id,
  }));
}

/** A Python script is a notebook of one code cell that never ran. */
export function scriptCells(text: string): SourceCell[] {
  return [{ index: 0, kind: 'code', source: text, executionCount: null }];
}

export function targetKind(file: string): LintTarget['kind'] | null {
  if (file.endsWith('.ipynb')) return 'notebook';
  if (file.endsWith('.py')) return 'script';
  return null;
}

export function cellsOf(text: string, target: LintTarget): SourceCell[] {
  if (target.kind === 'script') return scriptCells(text);
  return notebookCells(text, target.path);
}

const SUPPRESSION = /#\s*nb2prod:\s*ignore(?:\[([^\]]*)\])?/;

/** `# nb2prod: ignore[rule-a, rule-b]` (or `# nb2prod: ignore` for all rules) on the finding's line. */
function isSuppressed(model: NotebookModel, cell: number, offset: number, rule: string): boolean {
  const facts = model.cells[cell]?.facts;
  if (!facts?.comments.length) return false;
  const line = lineOfOffset(facts.source, offset);
  for (const comment of facts.comments) {
    if (lineOfOffset(facts.source, comment.span.from) !== line) continue;
    const match = SUPPRESSION.exec(comment.text);
    if (!match) continue;
    if (match[1] === undefined) return true;
    if (match[1].split(',').some((id) => id.trim() === rule)) return true;
  }
  return false;
}

