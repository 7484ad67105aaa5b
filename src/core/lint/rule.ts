/**
 * What a lint rule is and what it reports. A rule reads the notebook model (and, for some, the
 * project and the live session) and reports findings: a message that says what to do, the exact
 * span in a cell, and fixes where one is safe. Rules never touch the editor or the file system.
 */
import type { Span } from './python/analyze';
import type { NotebookModel } from './model';
import type { ProjectInfo } from './project';
import type { PythonKnowledge } from './pythonOracle';

export type Severity = 'error' | 'warning' | 'info';

export const RULE_IDS = [
  'syntax-error',
  'unseeded-random',
  'unversioned-data',
  'absolute-path',
  'out-of-order-execution',
  'unexecuted-cell',
  'undefined-name',
  'modified-after-run',
  'unpinned-install',
  'missing-requirements',
  'data-leakage',
  'hardcoded-secret',
  'runtime-download',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

export function isRuleId(value: string): value is RuleId {
  return (RULE_IDS as readonly string[]).includes(value);
}

export interface TextEdit {
  /** Position of the cell in the notebook (0 for a script). */
  cell: number;
  span: Span;
  text: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
  /** New code cells, inserted at `at` (before the cell now there). Scripts get text edits instead. */
  insertCells?: Array<{ at: number; source: string }>;
  /** The fix the editor offers first (Ctrl+. applies it). */
  preferred?: boolean;
}

/** Another place that is part of a finding (the other cells of a notebook-level finding). */
export interface RelatedLocation {
  /** Position of the cell in the notebook. */
  cell: number;
  span: Span;
  message: string;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  /** Position of the cell in the notebook (0 for a script). */
  cell: number;
  span: Span;
  fixes: Fix[];
  /** Other places the finding is about (the editor links them; SARIF's relatedLocations). */
  related?: RelatedLocation[];
}

/** What the editor knows about the live kernel session (absent in the CLI). */
export interface SessionInfo {
  /** Cells (by position) whose source changed since they last ran. */
  editedSinceRun: ReadonlySet<number>;
}

export interface LintTarget {
  kind: 'notebook' | 'script';
  /** Absolute path of the file (for a notebook not saved yet: where it would be). */
  path: string;
}

export interface RuleContext {
  target: LintTarget;
  model: NotebookModel;
  project: ProjectInfo;
  session: SessionInfo | null;
  /**
   * What the project's interpreter says (cell verdicts, installed modules' names); null when no
   * interpreter may be asked (untrusted workspace) or none was found.
   */
  python: PythonKnowledge | null;
  /**
   * `severity` lowers the rule's severity for this finding (never raises it): a rule reports a
   * `warning` where it is not certain a fresh run breaks.
   */
  report(finding: { cell: number; span: Span; message: string; fixes?: Fix[]; related?: RelatedLocation[]; severity?: Severity }): void;
}

export interface Rule {
  id: RuleId;
  defaultSeverity: Severity;
  /** One line for listings and SARIF's shortDescription. */
  summary: string;
  /** What to do about it, for SARIF's help text (the docs page says more). */
  help: string;
  appliesTo: ReadonlyArray<LintTarget['kind']>;
  check(context: RuleContext): void;
}
