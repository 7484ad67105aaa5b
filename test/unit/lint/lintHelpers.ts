/**
 * Builds real nbformat 4 notebook JSON for rule tests and lints it through the same path as the
 * CLI (text → parseNotebook → model → rules).
 */
import { DEFAULT_CONFIG, type LintConfig } from '../../../src/core/lint/config';
import { cellsOf, lintCells, type LintResult } from '../../../src/core/lint/engine';
import { type ProjectInfo, StaticProjectInfo, type StaticProjectFacts } from '../../../src/core/lint/project';
import type { PythonKnowledge } from '../../../src/core/lint/pythonOracle';
import type { Finding, Rule, SessionInfo } from '../../../src/core/lint/rule';
import { positionAt } from '../../../src/core/lint/positions';

export interface CellSpec {
  source: string;
  kind?: 'code' | 'markdown' | 'raw';
  /** execution_count; default null (never ran). */
  count?: number | null;
}

/** A notebook's JSON text, as Jupyter writes it (source as a list of lines). */
export function notebookJson(cells: Array<string | CellSpec>): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
      cells: cells.map((spec, i) => {
        const cell = typeof spec === 'string' ? { source: spec } : spec;
        const kind = cell.kind ?? 'code';
        const lines = cell.source.split(/(?<=\n)/);
        return kind === 'code'
          ? { cell_type: 'code', id: `cell-${i}`, metadata: {}, execution_count: cell.count ?? null, outputs: [], source: lines }
          : { cell_type: kind, id: `cell-${i}`, metadata: {}, source: lines };
      }),
    },
    null,
    1,
  );
}

export const PROJECT_ROOT = '/work/project';

export interface LintTestOptions {
  project?: Partial<StaticProjectFacts> | ProjectInfo;
  config?: LintConfig;
  session?: SessionInfo;
  /** Default: a notebook at /work/project/analysis.ipynb. */
  path?: string;
  /** The interpreter's answers (default: none, as without an interpreter). */
  python?: PythonKnowledge | null;
}

export function lintNotebook(rules: Rule[], cells: Array<string | CellSpec>, options: LintTestOptions = {}): LintResult {
  return lintText(rules, notebookJson(cells), options.path ?? `${PROJECT_ROOT}/analysis.ipynb`, options);
}

export function lintScript(rules: Rule[], source: string, options: LintTestOptions = {}): LintResult {
  return lintText(rules, source, options.path ?? `${PROJECT_ROOT}/train.py`, options);
}

function lintText(rules: Rule[], text: string, path: string, options: LintTestOptions): LintResult {
  const target = { kind: path.endsWith('.py') ? ('script' as const) : ('notebook' as const), path };
  const project = options.project && 'versioning' in options.project ? options.project : new StaticProjectInfo({ root: PROJECT_ROOT, ...(options.project as Partial<StaticProjectFacts>) });
  const result = lintCells(cellsOf(text, target), target, { project, config: options.config ?? DEFAULT_CONFIG, rules, session: options.session ?? null, python: options.python ?? null });
  if (result.ruleFailures.length) throw new Error(`rule failed: ${result.ruleFailures.map((f) => f.message).join('\n')}`);
  return result;
}

/** The text a finding points at, for precise assertions. */
export function flagged(result: LintResult, finding: Finding): string {
  const source = result.model.cells[finding.cell]!.cell.source;
  return source.slice(finding.span.from, finding.span.to);
}

/** `cell:line:character rule` for each finding, for compact assertions. */
export function where(result: LintResult): string[] {
  return result.findings.map((f) => {
    const position = positionAt(result.model.cells[f.cell]!.cell.source, f.span.from);
    return `${f.cell}:${position.line}:${position.character} ${f.rule}`;
  });
}

/** Applies a fix's text edits to the cell sources (and inserts its cells): the notebook after the fix. */
export function applyFix(result: LintResult, fix: Finding['fixes'][number]): string[] {
  const sources = result.model.cells.map((c) => c.cell.source);
  const byCell = new Map<number, typeof fix.edits>();
  for (const edit of fix.edits) byCell.set(edit.cell, [...(byCell.get(edit.cell) ?? []), edit]);
  for (const [cell, edits] of byCell) {
    let text = sources[cell]!;
    for (const edit of [...edits].sort((a, b) => b.span.from - a.span.from)) text = text.slice(0, edit.span.from) + edit.text + text.slice(edit.span.to);
    sources[cell] = text;
  }
  for (const insert of [...(fix.insertCells ?? [])].sort((a, b) => b.at - a.at)) sources.splice(insert.at, 0, insert.source);
  return sources;
}
