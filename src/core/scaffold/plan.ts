/**
 * From a notebook's code to the plan of its production version: which sections become which
 * pipeline steps with which inputs and outputs, which statements compute the model's features
 * (shared with the service), where the training data is read, which column is the target, which
 * variable holds the model and where it is saved. Everything comes from the lint dataflow model
 * (src/core/lint/model.ts); nothing runs.
 *
 * What cannot be scaffolded is a problem with a message saying what to add; what is dropped or
 * changed (displays, plots, magics, shell escapes) is a note.
 */
import { hardcodedSecret } from '../lint/rules/hardcodedSecret';
import type { RuleContext } from '../lint/rule';
import { BUILTIN_NAMES, cachedAnalyze, NotebookModel, type SourceCell } from '../lint/model';
import type { CellFacts, TopStatement } from '../lint/python/analyze';
import { lineOfOffset } from '../lint/positions';
import { cellNumber } from '../notebook/cellLabel';
import type { NotebookCell } from '../notebook/ipynb';
import { planServing, READERS } from './serving';

export interface ScaffoldProblem {
  code:
    | 'syntax-error'
    | 'star-import'
    | 'no-model-fit'
    | 'no-model-written'
    | 'no-data'
    | 'several-data-files'
    | 'no-target'
    | 'undefined-name'
    | 'hardcoded-secret'
    | 'learned-in-features'
    | 'rows-after-features'
    | 'unsupported-feature-code';
  message: string;
  /** Position among the notebook's cells, when one cell is to blame. */
  cell?: number;
}

export interface ScaffoldNote {
  cell: number;
  message: string;
}

export interface StepPlan {
  /** A Python identifier, unique in the pipeline. */
  name: string;
  /** The heading or `step:` tag it came from. */
  title: string;
  cells: number[];
  /** The function body, not indented. */
  body: string;
  /** Positional parameters: names from earlier steps. */
  inputs: string[];
  /** Keyword-only parameters: the notebook's parameters it reads. */
  params: string[];
  outputs: string[];
  /** Steps that read files get retries (a flaky mount, a file being replaced). */
  retries: number;
}

export interface FeaturePlan {
  /** The step that computes the matrix. */
  step: string;
  /** build_features' parameter: the table as read, after the rows training selected. */
  frame: string;
  /** The name the matrix is bound to in the pipeline, when the notebook named it (else null: an expression). */
  matrix: string | null;
  /** build_features' body (not indented), ending with `return` of the matrix. */
  body: string;
  /** Notebook parameters the feature code reads (keyword arguments with the run's values). */
  params: string[];
  cells: number[];
  /** The raw columns the feature code reads: exactly these, or every column but these. */
  columns: { only: string[] } | { allBut: string[] };
  /** The feature code changes the table in place: the pipeline passes it a copy. */
  mutatesFrame: boolean;
}

/** A fitted transformer the model's input goes through, in order (see serving.ts). */
export interface ChainStep {
  /** The global holding it; null when it was built and fitted in one expression. */
  variable: string | null;
  /** Its name in the composed Pipeline and in the generated pipeline's code. */
  name: string;
  /** The class path, when the notebook says it. */
  estimator: string | null;
  /** Where it was applied to the training data: cell (0-based) and lines (1-based), as the run's capture records them. */
  cell: number;
  line: number;
  lastLine: number;
  /** For one built and fitted in one expression: where its constructor is (it gets a name in the pipeline). */
  constructorSpan?: { from: number; to: number };
}

export interface EnvironmentReads {
  required: string[];
  optional: string[];
}

export interface ScaffoldPlan {
  /** Import statements of the notebook, hoisted, in order, without duplicates. */
  imports: string[];
  /** The parameters cell: name → Python source of the value. */
  parameters: Record<string, string>;
  steps: StepPlan[];
  features: FeaturePlan | null;
  data: {
    frame: string;
    /** Relative to the notebook's folder; null when the notebook computes it (then `pathHint`, confirmed against the run's inputs). */
    path: string | null;
    pathHint: string | null;
    reader: string;
    /** Literal keyword arguments of the reader call (`sep=";"`), as Python source. */
    readerArgs: Record<string, string>;
    /** The notebook's function that reads it, when it is read through one. */
    helper: string | null;
    step: string;
    cell: number;
    /** Where the statement reading it ends in its cell: the pipeline's step that reads it ends there too. */
    end: number;
  } | null;
  target: string | null;
  model: { variable: string; attribute: string | null; estimator: string | null; path: string; saver: 'joblib' | 'pickle'; cell: number } | null;
  /** The fitted transformers between the feature code and the model, in order. */
  chain: ChainStep[];
  /**
   * The held-out set: `X` is the split's test part of the matrix (or, with `frame`, the test
   * part of the table, whose features build_features computes), `chain` the steps applied to it
   * before the model.
   */
  evaluation: { step: string; model: string; X: string; y: string | null; chain: string[]; frame: boolean } | null;
  /** From the estimator's name; null when it does not say (decided from the model later). */
  task: 'classification' | 'regression' | null;
  /**
   * Environment variables the generated code reads (the notebook's `os.environ[...]`): required
   * ones (`os.environ["X"]`) and those with a fallback (`os.environ.get("X", ...)`, `os.getenv`).
   */
  environment: { pipeline: EnvironmentReads; features: EnvironmentReads };
  notes: ScaffoldNote[];
  problems: ScaffoldProblem[];
}

const PLOT_LIBRARIES = ['matplotlib.', 'seaborn.', 'plotly.', 'altair.', 'bokeh.', 'pandas.plotting.', 'missingno.', 'yellowbrick.'];
const TRACKING_LIBRARIES = ['mlflow', 'nb2prod', 'wandb', 'neptune', 'comet_ml'];
/** Methods that only show something when their result is not assigned. */
const DISPLAY_METHODS = new Set([
  'head', 'tail', 'describe', 'info', 'sample', 'value_counts', 'plot', 'hist', 'boxplot', 'show', 'corr', 'nunique', 'isna', 'isnull', 'unique',
  'memory_usage', 'tolist', 'to_list', 'sum', 'mean', 'median', 'std', 'min', 'max', 'count', 'sort_values', 'agg', 'round', 'get_params', 'score',
  'predict', 'predict_proba', 'select_dtypes', 'pivot_table', 'items', 'keys', 'values', 'savefig', 'heatmap', 'pairplot', 'countplot', 'barplot',
]);

export interface CellCode {
  cell: number;
  facts: CellFacts;
  /** Offsets to cut out of the cell's source, with what replaces them. */
  edits: Array<{ from: number; to: number; text: string }>;
}

/** Builds the plan. `cells` are all of the notebook's cells (markdown too, for the headings). */
export function planScaffold(cells: readonly NotebookCell[]): ScaffoldPlan {
  const plan: ScaffoldPlan = {
    imports: [],
    parameters: {},
    steps: [],
    features: null,
    data: null,
    target: null,
    model: null,
    chain: [],
    evaluation: null,
    task: null,
    environment: { pipeline: { required: [], optional: [] }, features: { required: [], optional: [] } },
    notes: [],
    problems: [],
  };
  const sourceCells: SourceCell[] = cells.map((c) => ({ index: c.index, kind: c.kind, source: c.source, executionCount: c.executionCount }));
  const model = new NotebookModel(sourceCells, cachedAnalyze);

  for (const { cell, facts } of model.codeCells()) {
    if (facts.syntaxErrors.length) {
      const error = facts.syntaxErrors[0]!;
      plan.problems.push({ code: 'syntax-error', cell, message: `Cell ${cellNumber(cell)}, line ${lineOfOffset(facts.source, error.span.from) + 1}: ${error.message} Fix it so the notebook runs.` });
    }
    if (facts.starImport) {
      const star = facts.imports.find((i) => i.star)!;
      plan.problems.push({ code: 'star-import', cell, message: `Cell ${cellNumber(cell)} has \`from ${star.module} import *\`: import the names it uses explicitly, so the generated code knows where each one comes from.` });
    }
  }
  if (plan.problems.length) return plan;
  findSecrets(model, plan);
  if (plan.problems.length) return plan;

  const parametersCell = cells.find((c) => c.kind === 'code' && c.tags.includes('parameters'))?.index ?? null;
  const code = new Map<number, CellCode>();
  for (const { cell, facts } of model.codeCells()) {
    if (cell === parametersCell) {
      readParameters(facts, plan);
      continue;
    }
    code.set(cell, { cell, facts, edits: [] });
  }

  planServing({ model, code, plan });
  if (plan.problems.length) return plan;

  for (const entry of code.values()) dropNonProductionCode(model, entry, plan);
  planSteps(cells, code, plan);
  plan.environment = environmentReads(plan);
  return plan;
}

// ---- secrets ---------------------------------------------------------------------------------

/** A secret written in a cell stops the scaffold: generated code never carries one (hardcoded-secret's detection). */
function findSecrets(model: NotebookModel, plan: ScaffoldPlan): void {
  const context = {
    target: { kind: 'notebook', path: 'notebook.ipynb' },
    model,
    report: (finding: { cell: number; span: { from: number; to: number }; message: string }) => {
      const facts = model.codeCells().find((c) => c.cell === finding.cell)!.facts;
      const line = lineOfOffset(facts.source, finding.span.from) + 1;
      plan.problems.push({
        code: 'hardcoded-secret',
        cell: finding.cell,
        message: `Cell ${cellNumber(finding.cell)}, line ${line}: ${finding.message.replace(/ in this cell\b/, '')} nb2prod does not copy secrets into generated code: once the notebook reads it from the environment, the generated pipeline and service read it from there too.`,
      });
    },
  } as unknown as RuleContext;
  hardcodedSecret.check(context);
}

/** `os.environ["X"]` (required), `os.environ.get("X")`, `os.getenv("X")` (optional) in the generated code. */
function environmentReads(plan: ScaffoldPlan): ScaffoldPlan['environment'] {
  const reads = (code: string): EnvironmentReads => {
    const required = new Set<string>();
    const optional = new Set<string>();
    for (const match of code.matchAll(/\b(?:os\.)?environ\s*\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\]/g)) required.add(match[2]!);
    for (const match of code.matchAll(/\b(?:(?:os\.)?environ\.get|(?:os\.)?getenv)\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1/g)) if (!required.has(match[2]!)) optional.add(match[2]!);
    return { required: [...required].sort(), optional: [...optional].sort() };
  };
  return { pipeline: reads(plan.steps.map((s) => s.body).join('\n')), features: plan.features ? reads(plan.features.body) : { required: [], optional: [] } };
}

// ---- parameters ------------------------------------------------------------------------------

function readParameters(facts: CellFacts, plan: ScaffoldPlan): void {
  for (const binding of facts.bindings) {
    if (binding.kind !== 'assign' || !binding.value || binding.timing !== 'immediate') continue;
    plan.parameters[binding.name] = facts.source.slice(binding.value.span.from, binding.value.span.to);
  }
}

// ---- what production code leaves out -----------------------------------------------------------

function dropNonProductionCode(model: NotebookModel, entry: CellCode, plan: ScaffoldPlan): void {
  const { cell, facts } = entry;
  if (!facts.isPython) {
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)} is a \`%%${facts.magics[0]?.command.split(/\s+/)[0] ?? ''}\` cell, not Python: left out; port it to Python if the pipeline needs it.` });
    entry.edits.push({ from: 0, to: facts.source.length, text: '' });
    return;
  }
  const overlaps = (from: number, to: number) => entry.edits.some((e) => e.from < to && from < e.to);
  for (const magic of facts.magics) {
    const text = facts.source.slice(magic.from, magic.to).trim();
    const what = magic.kind === 'shell' ? 'shell command' : 'magic';
    const why = /^%?\s*(pip|conda)\s+install/.test(text) || /^!\s*(pip|conda)\s+install/.test(text) ? 'dependencies are pinned in requirements.txt' : magic.kind === 'shell' ? 'run it outside the pipeline, or port it to Python' : 'IPython only';
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out the ${what} \`${text}\` (${why}).` });
    // A cell magic's first line is cut; its Python body stays.
    entry.edits.push({ from: magic.from, to: magic.to, text: '' });
  }
  const tracking = trackingNames(model);
  const readsTracking = (from: number, to: number) => facts.uses.some((u) => u.span.from >= from && u.span.to <= to && tracking.has(u.name));
  const unwrapped: Array<{ from: number; to: number }> = [];
  for (const statement of facts.statements) {
    const text = facts.source.slice(statement.span.from, statement.span.to);
    if (statement.kind === 'import' || statement.kind === 'optional-import') {
      const modules = cachedAnalyze(text).imports.map((i) => i.module.split('.')[0]!);
      if (modules.length && modules.every((m) => TRACKING_LIBRARIES.includes(m))) {
        plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out the import of ${[...new Set(modules)].map((m) => `\`${m}\``).join(', ')} (tracking: the pipeline is tracked with \`nb2prod run\`).` });
      } else if (!plan.imports.includes(text)) plan.imports.push(text);
      entry.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
      continue;
    }
    if (overlaps(statement.span.from, statement.span.to)) continue;
    if (readsTracking(statement.span.from, statement.span.to)) {
      const header = /^with\s+([^\n]*?):[ \t]*(#[^\n]*)?\n/.exec(text);
      if (statement.kind === 'other' && header && readsTracking(statement.span.from, statement.span.from + header[0].length) && !header[1]!.includes(',')) {
        // `with mlflow.start_run():` — its body is the notebook's work: kept, one level out.
        plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out \`${oneLine(header[0])}\` and kept its body (the pipeline is tracked by \`nb2prod run\`).` });
        entry.edits.push({ from: statement.span.from, to: statement.span.from + header[0].length, text: '' });
        unwrapped.push({ from: statement.span.from + header[0].length, to: statement.span.to });
        continue;
      }
      if (statement.kind !== 'def' && (statement.kind !== 'other' || /^if\s/.test(text))) {
        plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out the tracking call \`${oneLine(text)}\` (the pipeline is tracked with \`nb2prod run\`).` });
        entry.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
        continue;
      }
    }
    if (statement.kind !== 'expression') continue;
    const dropped = displayOnly(model, facts, statement, cell);
    if (!dropped) continue;
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out \`${oneLine(text)}\` (${dropped}).` });
    entry.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
  }
  dropNestedLines(model, entry, plan, tracking, unwrapped);
}

/** Names the notebook binds to tracking libraries (`import mlflow`, `import nb2prod`, `from mlflow import sklearn`). */
function trackingNames(model: NotebookModel): Set<string> {
  const names = new Set<string>();
  for (const { item } of model.imports()) if (TRACKING_LIBRARIES.includes(item.module.split('.')[0]!)) names.add(item.bound);
  return names;
}

/**
 * Tracking calls and plots inside blocks (`for c in cols: sns.histplot(df[c])`, the body of
 * `with mlflow.start_run():`) are cut line by line; a block left empty goes too, and the body of
 * an unwrapped `with` moves one level out.
 */
function dropNestedLines(model: NotebookModel, entry: CellCode, plan: ScaffoldPlan, tracking: ReadonlySet<string>, unwrapped: Array<{ from: number; to: number }>): void {
  const { cell, facts } = entry;
  const source = facts.source;
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number) => lineOfOffset(source, offset);
  const lineText = (line: number) => source.slice(lineStarts[line]!, (lineStarts[line + 1] ?? source.length + 1) - 1);
  const removed = new Set<number>();
  const covered = (from: number, to: number) => entry.edits.some((e) => e.from <= from && to <= e.to && e.text === '');
  for (const call of facts.calls) {
    if (covered(call.span.from, call.span.to)) continue;
    if (facts.statements.some((s) => s.span.from === call.span.from)) continue; // top-level: handled above
    const first = lineOf(call.span.from);
    const last = lineOf(call.span.to);
    const whole = source.slice(lineStarts[first]!, lineStarts[last + 1] !== undefined ? lineStarts[last + 1]! - 1 : source.length);
    const callText = source.slice(call.span.from, call.span.to);
    const assigned = /^\s*[A-Za-z_]\w*\s*=\s*/.exec(whole);
    const bare = whole.trim() === callText.trim();
    const path = model.calleePath(call, { cell, offset: call.span.from });
    const root = rootName(call.callee);
    const isTracking = (path && TRACKING_LIBRARIES.includes(path.split('.')[0]!)) || (root !== null && tracking.has(root));
    const isPlot = (path && PLOT_LIBRARIES.some((lib) => path.startsWith(lib))) || (call.callee.kind === 'attribute' && ['plot', 'hist', 'boxplot', 'show', 'savefig'].includes(call.callee.name)) || path === 'IPython.display.display' || (call.callee.kind === 'name' && call.callee.name === 'display' && !path);
    const assignedWhole = !!assigned && whole.replace(/\s+/g, '') === `${assigned[0]}${callText}`.replace(/\s+/g, '');
    if (!((isTracking && (bare || assignedWhole)) || (isPlot && bare))) continue;
    for (let line = first; line <= last; line++) removed.add(line);
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out \`${oneLine(callText)}\` (${isTracking ? 'a tracking call: the pipeline is tracked with `nb2prod run`' : 'a plot'}).` });
  }
  // `run_id = mlflow.active_run().info.run_id` in a block: a one-line statement reading a tracking name.
  for (const use of facts.uses) {
    if (!tracking.has(use.name) || covered(use.span.from, use.span.to) || facts.statements.some((s) => s.span.from <= use.span.from && use.span.to <= s.span.to && s.span.from === lineStarts[lineOf(use.span.from)])) continue;
    const line = lineOf(use.span.from);
    const text = lineText(line);
    const balanced = [...text].filter((c) => '([{'.includes(c)).length === [...text].filter((c) => ')]}'.includes(c)).length;
    if (removed.has(line) || !balanced || !/^\s*([A-Za-z_]\w*\s*=[^=]|[A-Za-z_][\w.]*\()/.test(text) || /:\s*(#.*)?$/.test(text)) continue;
    removed.add(line);
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out \`${oneLine(text)}\` (it reads the tracking library \`${use.name}\`).` });
  }
  // Blocks left empty go too (a `pass` keeps one that an `else` or `except` follows).
  const indent = (line: number) => /^[ \t]*/.exec(lineText(line))![0].length;
  const blank = (line: number) => !lineText(line).trim() || lineText(line).trim().startsWith('#');
  const passes = new Map<number, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (let line = 0; line < lineStarts.length; line++) {
      if (removed.has(line) || blank(line) || !/:\s*(#.*)?$/.test(lineText(line)) || !/^\s*(if|elif|else|for|while|with|try|except|finally|def|class)\b/.test(lineText(line))) continue;
      const body: number[] = [];
      let next = line + 1;
      for (; next < lineStarts.length; next++) {
        if (blank(next)) continue;
        if (indent(next) <= indent(line)) break;
        body.push(next);
      }
      if (!body.length || !body.every((b) => removed.has(b)) || passes.has(body[0]!)) continue;
      const continued = next < lineStarts.length && indent(next) === indent(line) && /^\s*(elif|else|except|finally)\b/.test(lineText(next));
      if (continued || /^\s*(elif|else|except|finally)\b/.test(lineText(line))) passes.set(body[0]!, `${' '.repeat(indent(body[0]!))}pass`);
      else removed.add(line);
      changed = true;
    }
  }
  for (const line of [...removed].sort((a, b) => a - b)) {
    const from = lineStarts[line]!;
    const to = (lineStarts[line + 1] ?? source.length + 1) - 1;
    if (!covered(from, to)) entry.edits.push({ from, to, text: passes.get(line) ?? '' });
  }
  for (const block of unwrapped) {
    const lines: number[] = [];
    for (let line = lineOf(block.from); line <= lineOf(Math.max(block.from, block.to - 1)); line++) if (!blank(line) && !removed.has(line)) lines.push(line);
    const cut = lines.length ? Math.min(...lines.map(indent)) : 0;
    for (const line of lines) if (cut) entry.edits.push({ from: lineStarts[line]!, to: lineStarts[line]! + cut, text: '' });
  }
}

function rootName(expr: { kind: string; name?: string; object?: unknown }): string | null {
  let current = expr as { kind: string; name?: string; object?: unknown };
  while (current.kind === 'attribute' || current.kind === 'subscript') current = current.object as typeof current;
  if (current.kind === 'call') return null;
  return current.kind === 'name' ? current.name ?? null : null;
}

/** Why an expression statement is for the notebook's reader only, or null when it does work. */
function displayOnly(model: NotebookModel, facts: CellFacts, statement: TopStatement, cell: number): string | null {
  if (statement.call === null) return 'a value shown in the notebook';
  const call = facts.calls[statement.call]!;
  const path = model.calleePath(call, { cell, offset: call.span.from });
  if (path && PLOT_LIBRARIES.some((lib) => path.startsWith(lib))) return 'a plot';
  if (path === 'IPython.display.display' || (call.callee.kind === 'name' && call.callee.name === 'display' && !path)) return 'a display';
  if (call.callee.kind === 'attribute' && DISPLAY_METHODS.has(call.callee.name) && !call.args.some((a) => a.keyword === 'inplace')) {
    return ['plot', 'hist', 'boxplot', 'show', 'savefig', 'heatmap', 'pairplot', 'countplot', 'barplot'].includes(call.callee.name) ? 'a plot' : 'a value shown in the notebook';
  }
  return null;
}

function oneLine(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line + (text.includes('\n') ? ' …' : '');
}

// ---- steps ----------------------------------------------------------------------------------

function planSteps(cells: readonly NotebookCell[], code: Map<number, CellCode>, plan: ScaffoldPlan): void {
  // Sections: an H2 heading in a markdown cell, or a `step:NAME` tag on a code cell, starts one.
  const sections: Array<{ title: string; cells: number[] }> = [];
  let current: { title: string; cells: number[] } | null = null;
  for (const cell of cells) {
    const tag = cell.tags.find((t) => t.startsWith('step:'));
    const heading = cell.kind === 'markdown' ? /^##\s+(.+?)\s*#*\s*$/m.exec(cell.source)?.[1] : undefined;
    if (tag || heading) {
      current = { title: tag ? tag.slice('step:'.length) : heading!, cells: [] };
      sections.push(current);
    }
    if (!code.has(cell.index)) continue;
    if (!current) {
      current = { title: 'prepare', cells: [] };
      sections.push(current);
    }
    current.cells.push(cell.index);
  }
  if (sections.length === 1 && !cells.some((c) => c.tags.some((t) => t.startsWith('step:')) || (c.kind === 'markdown' && /^##\s/m.test(c.source)))) {
    plan.notes.push({ cell: sections[0]!.cells[0] ?? 0, message: 'The notebook has no `## ` headings or `step:` cell tags: the whole notebook is one pipeline step. Add headings to split it into steps.' });
  }

  const parameterNames = new Set(Object.keys(plan.parameters));
  if (plan.features) {
    const features = plan.features;
    features.params = features.params.filter((name) => parameterNames.has(name));
    // The call that replaced the feature code passes the notebook parameters it reads.
    const keywords = features.params.map((p) => `, ${p}=${p}`).join('');
    const call = new RegExp(`build_features\\(${features.frame}(\\.copy\\(\\))?\\)`);
    for (const entry of code.values()) for (const edit of entry.edits) edit.text = edit.text.replace(call, (_m, copy: string | undefined) => `build_features(${features.frame}${copy ?? ''}${keywords})`);
  }
  const used = new Set<string>();
  // The step that reads the training table ends with the read: the pipeline checks the table
  // against its contract after that step, before any code uses (or changes) its rows.
  const pieces: Array<{ title: string; cells: number[]; parts: Array<{ cell: number; from: number; to: number }>; readsData?: boolean }> = [];
  for (const section of sections) {
    const parts = section.cells.map((cell) => ({ cell, from: 0, to: code.get(cell)!.facts.source.length }));
    const at = plan.data ? parts.findIndex((p) => p.cell === plan.data!.cell) : -1;
    if (at >= 0) {
      const dataPart = parts[at]!;
      const head = [...parts.slice(0, at), { ...dataPart, to: plan.data!.end }];
      const tail = [{ ...dataPart, from: plan.data!.end }, ...parts.slice(at + 1)];
      if (tail.some((p) => applyEdits(code.get(p.cell)!, p).trim())) {
        pieces.push({ title: section.title, cells: [...new Set(head.map((p) => p.cell))], parts: head, readsData: true });
        pieces.push({ title: `${section.title} continued`, cells: [...new Set(tail.map((p) => p.cell))], parts: tail });
        continue;
      }
    }
    pieces.push({ ...section, parts, readsData: at >= 0 });
  }
  const bodies: Array<{ title: string; cells: number[]; body: string; facts: CellFacts; readsData: boolean }> = [];
  for (const piece of pieces) {
    const text = piece.parts
      .map((part) => applyEdits(code.get(part.cell)!, part))
      .filter((t) => t.trim())
      .join('\n\n');
    if (!text.trim()) continue;
    bodies.push({ title: piece.title, cells: piece.cells, body: text, facts: cachedAnalyze(text), readsData: !!piece.readsData });
  }
  const importNames = new Set(plan.imports.flatMap((text) => cachedAnalyze(text).imports.map((i) => i.bound)));
  if (plan.features) importNames.add('build_features');
  for (const name of GENERATED_NAMES) importNames.add(name);
  // What the pipeline's configuration names in its namespace once the steps ran: the model, the
  // fitted steps, the table and the held-out set (for evaluation and the golden sample).
  const required = new Set<string>([plan.model?.variable, ...plan.chain.map((c) => c.name), plan.features?.frame, plan.data?.frame, plan.evaluation?.X, plan.evaluation?.y].filter((n): n is string => !!n));

  bodies.forEach((section, index) => {
    const facts = section.facts;
    const boundHere = new Set(facts.bindings.map((b) => b.name));
    const reads = new Set(facts.uses.map((u) => u.name));
    const inputs: string[] = [];
    const params: string[] = [];
    for (const name of reads) {
      if (importNames.has(name) && !boundHere.has(name)) continue;
      const boundBefore = bodies.slice(0, index).some((b) => b.facts.bindings.some((x) => x.name === name));
      const firstBinding = facts.bindings.find((b) => b.name === name);
      const firstUse = facts.uses.find((u) => u.name === name)!;
      // `df = df.dropna()` reads df before binding it: the binding takes effect at the statement's end.
      const readBeforeBound = !firstBinding || firstUse.span.from < firstBinding.boundAt || firstUse.timing === 'deferred';
      if (!readBeforeBound) continue;
      if (boundBefore) inputs.push(name);
      else if (parameterNames.has(name)) params.push(name);
      else if (!boundHere && !BUILTIN_NAMES.has(name)) {
        plan.problems.push({ code: 'undefined-name', cell: section.cells[0], message: `Section "${section.title}" uses \`${name}\`, which no earlier cell defines: define it before it is used (run the notebook top to bottom to check).` });
      }
    }
    const later = bodies.slice(index + 1);
    // What later steps read, and what the pipeline's evaluation reads once the steps ran.
    const outputs = [...boundHere].filter((name) => (later.some((b) => b.facts.uses.some((u) => u.name === name)) || required.has(name)) && !importNames.has(name));
    const name = uniqueName(identifier(section.title), used, importNames);
    const readsFiles = facts.calls.some((c) => (c.callee.kind === 'attribute' && READERS.has(c.callee.name)) || (c.callee.kind === 'name' && c.callee.name === 'open'));
    const step: StepPlan = { name, title: section.title, cells: section.cells, body: section.body, inputs, params, outputs, retries: readsFiles ? 2 : 0 };
    plan.steps.push(step);
    if (plan.data && section.readsData) plan.data.step = name;
    if (plan.features && section.body.includes(`build_features(${plan.features.frame}`)) plan.features.step = name;
    if (plan.evaluation && facts.bindings.some((b) => b.name === plan.evaluation!.X) && !plan.evaluation.step) plan.evaluation.step = name;
  });
  // Evaluation needs the fitted model and the held-out set: after the later of the two steps.
  if (plan.evaluation) {
    const binds = (name: string) => plan.steps.findIndex((s) => cachedAnalyze(s.body).bindings.some((b) => b.name === name));
    const withTest = plan.steps.findIndex((s) => s.name === plan.evaluation!.step);
    const last = Math.max(binds(plan.model!.variable), withTest, ...plan.chain.map((c) => binds(c.name)));
    plan.evaluation.step = plan.steps[last]?.name ?? plan.evaluation.step;
  }
}

function applyEdits(entry: CellCode, range: { from: number; to: number } = { from: 0, to: entry.facts.source.length }): string {
  let text = entry.facts.source.slice(range.from, range.to);
  const edits = entry.edits
    .filter((e) => e.from >= range.from && e.to <= range.to && !(e.from === e.to && e.from === range.to && range.to < entry.facts.source.length))
    .map((e) => ({ ...e, from: e.from - range.from, to: e.to - range.from }))
    .sort((a, b) => b.from - a.from);
  // A cut leaves a marker, so a line it empties goes away while the notebook's blank lines stay.
  const CUT = '\u0000';
  for (const edit of edits) text = text.slice(0, edit.from) + (edit.text || CUT) + text.slice(edit.to);
  return text
    .split('\n')
    .filter((line) => !(line.includes(CUT) && !line.replaceAll(CUT, '').trim()))
    .map((line) => line.replaceAll(CUT, '').replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const PYTHON_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'match', 'case']);

/** A Python identifier from a heading: "Load data" → load_data. */
export function identifier(text: string): string {
  let name = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name) name = 'step';
  if (/^\d/.test(name)) name = `step_${name}`;
  if (PYTHON_KEYWORDS.has(name)) name = `${name}_`;
  return name;
}

/** A step name no other step, import or name of steps.py uses. */
function uniqueName(name: string, used: Set<string>, imported: ReadonlySet<string>): string {
  let candidate = name;
  for (let i = 2; used.has(candidate) || RESERVED_STEP_NAMES.has(candidate) || imported.has(candidate); i++) candidate = `${name}_${i}`;
  used.add(candidate);
  return candidate;
}

/** Names the generated code imports into steps.py (common/bundle.py). */
const GENERATED_NAMES = ['serving_bundle', 'model_output'];

/** Names steps.py already uses at module level. */
const RESERVED_STEP_NAMES = new Set(['step', 'build_features', 'STEPS', ...GENERATED_NAMES]);

