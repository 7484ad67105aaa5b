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
import { BUILTIN_NAMES, cachedAnalyze, NotebookModel, type Position, type SourceCell } from '../lint/model';
import type { CallFact, CellFacts, Expr, TopStatement } from '../lint/python/analyze';
import { lineOfOffset } from '../lint/positions';
import { cellNumber } from '../notebook/cellLabel';
import type { NotebookCell } from '../notebook/ipynb';

export interface ScaffoldProblem {
  code: 'syntax-error' | 'star-import' | 'no-model-fit' | 'no-model-written' | 'no-data' | 'several-data-files' | 'no-target' | 'undefined-name';
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
  /** The raw frame the features are computed from (the parameter of build_features). */
  frame: string;
  /** The matrix given to the model. */
  matrix: string;
  /** build_features' body (not indented), ending with the computation of `matrix`. */
  body: string;
  /** Notebook parameters the feature code reads (keyword arguments with the run's values). */
  params: string[];
  cells: number[];
}

export interface ScaffoldPlan {
  /** Import statements of the notebook, hoisted, in order, without duplicates. */
  imports: string[];
  /** The parameters cell: name → Python source of the value. */
  parameters: Record<string, string>;
  steps: StepPlan[];
  features: FeaturePlan | null;
  data: { frame: string; path: string; reader: string; step: string; cell: number } | null;
  target: string | null;
  model: { variable: string; estimator: string | null; path: string; saver: string; cell: number } | null;
  evaluation: { step: string; model: string; X: string; y: string } | null;
  /** From the estimator's name; null when it does not say (decided from the model later). */
  task: 'classification' | 'regression' | null;
  notes: ScaffoldNote[];
  problems: ScaffoldProblem[];
}

const READERS = new Set(['read_csv', 'read_table', 'read_parquet', 'read_json', 'read_excel', 'read_feather', 'read_pickle']);
const SAVERS: Record<string, string> = { 'joblib.dump': 'joblib', 'pickle.dump': 'pickle', 'cloudpickle.dump': 'pickle', 'dill.dump': 'pickle' };
const MODEL_LIBRARIES = ['sklearn.', 'xgboost.', 'lightgbm.', 'catboost.', 'imblearn.'];
const PLOT_LIBRARIES = ['matplotlib.', 'seaborn.', 'plotly.', 'altair.', 'bokeh.'];
/** Methods that only show something when their result is not assigned. */
const DISPLAY_METHODS = new Set([
  'head', 'tail', 'describe', 'info', 'sample', 'value_counts', 'plot', 'hist', 'boxplot', 'show', 'corr', 'nunique', 'isna', 'isnull', 'unique',
  'memory_usage', 'tolist', 'to_list', 'sum', 'mean', 'median', 'std', 'min', 'max', 'count', 'sort_values', 'agg', 'round', 'get_params', 'score',
  'predict', 'predict_proba', 'select_dtypes', 'pivot_table', 'items', 'keys', 'values',
]);

interface CellCode {
  cell: number;
  facts: CellFacts;
  /** Offsets to cut out of the cell's source, with what replaces them. */
  edits: Array<{ from: number; to: number; text: string }>;
}

/** Builds the plan. `cells` are all of the notebook's cells (markdown too, for the headings). */
export function planScaffold(cells: readonly NotebookCell[]): ScaffoldPlan {
  const plan: ScaffoldPlan = { imports: [], parameters: {}, steps: [], features: null, data: null, target: null, model: null, evaluation: null, task: null, notes: [], problems: [] };
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

  const parametersCell = cells.find((c) => c.kind === 'code' && c.tags.includes('parameters'))?.index ?? null;
  const code = new Map<number, CellCode>();
  for (const { cell, facts } of model.codeCells()) {
    if (cell === parametersCell) {
      readParameters(facts, plan);
      continue;
    }
    code.set(cell, { cell, facts, edits: [] });
  }

  findModelAndData(model, plan, code);
  if (plan.problems.length) return plan;

  for (const entry of code.values()) dropNonProductionCode(model, entry, plan);
  planSteps(cells, code, plan);
  return plan;
}

// ---- parameters ------------------------------------------------------------------------------

function readParameters(facts: CellFacts, plan: ScaffoldPlan): void {
  for (const binding of facts.bindings) {
    if (binding.kind !== 'assign' || !binding.value || binding.timing !== 'immediate') continue;
    plan.parameters[binding.name] = facts.source.slice(binding.value.span.from, binding.value.span.to);
  }
}

// ---- the model, its data, its features ------------------------------------------------------

function findModelAndData(model: NotebookModel, plan: ScaffoldPlan, code: Map<number, CellCode>): void {
  // The model: the variable given to joblib.dump / pickle.dump, fitted with .fit(X, y).
  let saved: { variable: string; path: string; saver: string; cell: number } | null = null;
  for (const { cell, call, at } of model.calls()) {
    if (call.timing !== 'immediate' || !code.has(cell)) continue;
    const saver = SAVERS[model.calleePath(call, at) ?? ''];
    const [objectArg, fileArg] = call.args;
    if (!saver || objectArg?.value.kind !== 'name' || !fileArg) continue;
    const path = model.stringValue(fileArg.value, at) ?? openedPath(model, fileArg.value, at);
    if (path) saved = { variable: objectArg.value.name, path, saver, cell };
  }
  const fit = findFit(model, saved?.variable ?? null, code);
  if (!fit) {
    plan.problems.push({ code: 'no-model-fit', message: 'No model is trained in the notebook: nb2prod looks for `model.fit(X, y)` on a scikit-learn (or XGBoost, LightGBM, CatBoost) estimator.' });
    return;
  }
  if (!saved || saved.variable !== fit.variable) {
    plan.problems.push({
      code: 'no-model-written',
      cell: fit.cell,
      message: `The notebook trains \`${fit.variable}\` but never writes it to a file: add \`joblib.dump(${fit.variable}, "models/model.joblib")\` at the end, then track the notebook again so the run records the model.`,
    });
    return;
  }
  plan.model = { variable: fit.variable, estimator: fit.estimator, path: saved.path, saver: saved.saver, cell: saved.cell };
  plan.task = taskOf(fit.estimator);

  // The matrix the model learns from: the fit's X, or what train_test_split split into it.
  const fitAt = { cell: fit.cell, offset: fit.call.span.from };
  const xArg = fit.call.args[0]?.value;
  const yArg = fit.call.args[1]?.value;
  if (xArg?.kind !== 'name') {
    plan.problems.push({ code: 'no-data', cell: fit.cell, message: `Cell ${cellNumber(fit.cell)}: give \`${fit.variable}.fit\` a variable as its first argument (\`X_train\`), so nb2prod can follow where the features come from.` });
    return;
  }
  let matrix = xArg.name;
  let targetName = yArg?.kind === 'name' ? yArg.name : null;
  let splitAt: Position | null = null;
  const split = splitOf(model, xArg.name, fitAt);
  if (split) {
    splitAt = split.at;
    const xSource = split.call.args[Math.floor(split.index / 2)]?.value;
    if (xSource?.kind === 'name') matrix = xSource.name;
    if (targetName) {
      const ySplit = splitOf(model, targetName, fitAt);
      const ySource = ySplit ? ySplit.call.args[Math.floor(ySplit.index / 2)]?.value : null;
      if (ySource?.kind === 'name') targetName = ySource.name;
    }
    const names = split.targets;
    const testX = names[split.index + 1];
    // y's train part is at 2·k, k its position among the split's arguments; the test part follows.
    const yPosition = targetName ? split.call.args.findIndex((a) => !a.keyword && a.value.kind === 'name' && a.value.name === targetName) : -1;
    const testY = yPosition >= 0 ? names[2 * yPosition + 1] : undefined;
    if (testX && testY) plan.evaluation = { step: '', model: fit.variable, X: testX, y: testY };
  }
  const matrixAt = splitAt ?? fitAt;

  // The raw frame: read by pandas from one file, upstream of the matrix.
  const upstream = model.derivedFrom(matrix, matrixAt);
  const frames: Array<{ frame: string; path: string; reader: string; cell: number; offset: number }> = [];
  for (const name of upstream) {
    for (const binding of model.bindingsOf(name)) {
      const value = binding.item.value;
      if (value?.kind !== 'call' || binding.item.timing !== 'immediate') continue;
      const at = { cell: binding.cell, offset: binding.item.span.from };
      const callee = model.calleePath(value.call, at);
      const reader = callee?.split('.').at(-1);
      if (!callee?.startsWith('pandas.') || !reader || !READERS.has(reader)) continue;
      const first = value.call.args[0];
      const path = first && !first.keyword ? model.stringValue(first.value, at) : null;
      if (path && !frames.some((f) => f.frame === name)) frames.push({ frame: name, path, reader: callee, cell: binding.cell, offset: binding.item.span.from });
    }
  }
  if (!frames.length) {
    plan.problems.push({ code: 'no-data', message: `Could not find where \`${matrix}\` comes from: read the training data with pandas from a file path written in the notebook (\`df = pd.read_csv("data/train.csv")\`).` });
    return;
  }
  if (frames.length > 1) {
    plan.problems.push({
      code: 'several-data-files',
      message: `The features come from several files (${frames.map((f) => f.path).join(', ')}): the generated service takes one record of one table. Join them into one file in a data preparation notebook, and train from that file.`,
    });
    return;
  }
  const frame = frames[0]!;
  plan.data = { frame: frame.frame, path: frame.path, reader: frame.reader, step: '', cell: frame.cell };

  plan.target = targetName ? targetColumn(model, targetName, frame.frame, matrixAt) : null;
  if (!plan.target) {
    plan.problems.push({ code: 'no-target', message: `Could not tell which column of \`${frame.frame}\` is the target: write it as \`y = ${frame.frame}["<column>"]\` before the split.` });
    return;
  }
  plan.features = sliceFeatures(model, code, frame, matrix, matrixAt);
}

function findFit(model: NotebookModel, preferred: string | null, code: Map<number, CellCode>): { variable: string; estimator: string | null; cell: number; call: CallFact } | null {
  let found: { variable: string; estimator: string | null; cell: number; call: CallFact } | null = null;
  for (const { cell, call, at } of model.calls()) {
    if (call.timing !== 'immediate' || !code.has(cell)) continue;
    if (call.callee.kind !== 'attribute' || call.callee.name !== 'fit' || call.callee.object.kind !== 'name') continue;
    if (call.args.filter((a) => !a.keyword).length < 2) continue;
    const variable = call.callee.object.name;
    const estimator = model.constructedBy(call.callee.object, at);
    const known = !!estimator && MODEL_LIBRARIES.some((lib) => estimator.startsWith(lib));
    if (variable === preferred || (known && !found)) found = { variable, estimator, cell, call };
  }
  return found;
}

/** `with open("m.pkl", "wb") as f: pickle.dump(model, f)`: the path opened. */
function openedPath(model: NotebookModel, expr: Expr, at: Position): string | null {
  if (expr.kind !== 'name') return null;
  const binding = model.bindingAt(expr.name, { cell: at.cell, offset: at.offset + 1 });
  if (!binding) return null;
  const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
  let opened: CallFact | null = binding.item.value?.kind === 'call' ? binding.item.value.call : null;
  if (!opened && binding.item.kind === 'with') {
    // `with open(...) as f`: the call that ends just before ` as f`.
    const facts = model.codeCells().find((c) => c.cell === binding.cell)!.facts;
    opened = facts.calls.filter((c) => c.span.to <= binding.item.span.from && /^\s*as\s*$/.test(facts.source.slice(c.span.to, binding.item.span.from))).at(-1) ?? null;
  }
  if (!opened || model.calleePath(opened, bindingAt) !== 'builtins.open') return null;
  const first = opened.args[0];
  return first && !first.keyword ? model.stringValue(first.value, bindingAt) : null;
}

interface Split {
  call: CallFact;
  /** Where the splitting statement is. */
  at: Position;
  /** This name's position among the unpacked targets. */
  index: number;
  /** All the unpacked names by position. */
  targets: string[];
}

/** `X_train, X_test, y_train, y_test = train_test_split(X, y, ...)`: the split `name` comes from. */
function splitOf(model: NotebookModel, name: string, at: Position): Split | null {
  const binding = model.bindingAt(name, at);
  const unpacked = binding?.item.unpacked;
  if (!binding || !unpacked || unpacked.value.kind !== 'call') return null;
  const splitAt = { cell: binding.cell, offset: binding.item.span.from };
  const path = model.calleePath(unpacked.value.call, splitAt);
  if (!path?.endsWith('.train_test_split')) return null;
  const call = unpacked.value.call;
  const targets: string[] = [];
  for (const other of model.bindingsOf(name).length ? model.codeCells().find((c) => c.cell === binding.cell)!.facts.bindings : []) {
    if (other.unpacked && other.unpacked.value === unpacked.value) targets[other.unpacked.index] = other.name;
  }
  return { call, at: splitAt, index: unpacked.index, targets };
}

/** `y = df["churned"]`, `y = df.churned` or `y = df.pop("churned")`: the column name. */
function targetColumn(model: NotebookModel, name: string, frame: string, at: Position): string | null {
  const binding = model.bindingAt(name, at);
  const value = binding?.item.value;
  if (!binding || !value) return null;
  const source = model.codeCells().find((c) => c.cell === binding.cell)!.facts.source;
  const text = source.slice(value.span.from, value.span.to).trim();
  const escaped = frame.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match =
    new RegExp(`^${escaped}\\s*\\[\\s*(['"])(.+?)\\1\\s*\\]$`).exec(text) ??
    new RegExp(`^${escaped}\\s*\\.\\s*pop\\(\\s*(['"])(.+?)\\1\\s*\\)$`).exec(text) ??
    new RegExp(`^${escaped}\\.()([A-Za-z_]\\w*)$`).exec(text);
  if (match) return match[2]!;
  // `y = df[target]` with `target = "churned"`.
  const indexed = new RegExp(`^${escaped}\\s*\\[\\s*([A-Za-z_]\\w*)\\s*\\]$`).exec(text);
  if (indexed) return model.stringValue({ kind: 'name', name: indexed[1]!, span: value.span }, { cell: binding.cell, offset: value.span.from });
  return null;
}

function taskOf(estimator: string | null): ScaffoldPlan['task'] {
  const name = estimator?.split('.').at(-1) ?? '';
  if (/Classifier|LogisticRegression|^SVC$|NaiveBayes|^(Gaussian|Multinomial|Bernoulli|Complement|Categorical)NB$/.test(name)) return 'classification';
  if (/Regressor|Regression$|^(Ridge|Lasso|ElasticNet|SVR|LinearSVR|Lars|LassoLars|BayesianRidge|HuberRegressor|KernelRidge)$/.test(name)) return 'regression';
  return null;
}

/**
 * The statements that compute the matrix from the raw frame: walking back from the matrix,
 * every statement that binds a name it needs, and every in-place change of such a name
 * (`df["x"] = ...`, `df.fillna(0, inplace=True)`) after the frame was read. Rebinding the frame
 * itself (`df = df.dropna()`) stays in the pipeline: in a function it would not change the
 * caller's frame. The slice is cut out of its cells and replaced by `X = build_features(df)`.
 */
function sliceFeatures(model: NotebookModel, code: Map<number, CellCode>, frame: { frame: string; cell: number; offset: number }, matrix: string, matrixAt: Position): FeaturePlan {
  const statements: Array<{ cell: number; statement: TopStatement; facts: CellFacts }> = [];
  for (const entry of code.values()) {
    for (const statement of entry.facts.statements) {
      const at = { cell: entry.cell, offset: statement.span.from };
      const afterRead = at.cell > frame.cell || (at.cell === frame.cell && at.offset > frame.offset);
      const beforeMatrix = at.cell < matrixAt.cell || (at.cell === matrixAt.cell && at.offset < matrixAt.offset);
      if (afterRead && beforeMatrix) statements.push({ cell: entry.cell, statement, facts: entry.facts });
    }
  }
  statements.sort((a, b) => a.cell - b.cell || a.statement.span.from - b.statement.span.from);
  const needed = new Set([matrix]);
  const chosen: typeof statements = [];
  for (let i = statements.length - 1; i >= 0; i--) {
    const entry = statements[i]!;
    const { statement, facts } = entry;
    if (statement.kind === 'import' || statement.kind === 'optional-import') continue;
    const inside = (s: { from: number; to: number }) => s.from >= statement.span.from && s.to <= statement.span.to;
    const binds = facts.bindings.filter((b) => inside(b.span) && b.timing === 'immediate');
    const bindsNeeded = binds.some((b) => needed.has(b.name) && b.name !== frame.frame);
    const mutated = mutatedName(facts, statement);
    const mutatesNeeded = mutated !== null && (needed.has(mutated) || mutated === frame.frame);
    if (!bindsNeeded && !mutatesNeeded) continue;
    if (binds.some((b) => b.name === frame.frame)) continue;
    chosen.unshift(entry);
    for (const use of facts.uses) if (inside(use.span)) needed.add(use.name);
  }
  // Which of these are notebook parameters is decided with the parameters (planSteps).
  const params = [...needed].filter((n) => n !== frame.frame && n !== matrix);
  // Names the rest of the notebook reads: a plain binding they need stays in the pipeline too
  // (`NUMERIC = [...]` used by the model's column transformer). Re-binding is harmless.
  const readElsewhere = new Set<string>();
  for (const entry of code.values()) {
    for (const statement of entry.facts.statements) {
      if (chosen.some((c) => c.cell === entry.cell && c.statement === statement)) continue;
      for (const use of entry.facts.uses) if (use.span.from >= statement.span.from && use.span.to <= statement.span.to) readElsewhere.add(use.name);
    }
  }
  // Cut the slice out of its cells; the statement binding the matrix becomes the call.
  const last = chosen.at(-1);
  const bodyParts: string[] = [];
  for (const entry of chosen) {
    const { statement, facts } = entry;
    bodyParts.push(facts.source.slice(statement.span.from, statement.span.to));
    const cellCode = code.get(entry.cell)!;
    if (entry === last) {
      cellCode.edits.push({ from: statement.span.from, to: statement.span.to, text: `${matrix} = build_features(${frame.frame})` });
      continue;
    }
    const binds = facts.bindings.filter((b) => b.span.from >= statement.span.from && b.span.to <= statement.span.to);
    const keep = mutatedName(facts, statement) === null && binds.some((b) => readElsewhere.has(b.name));
    if (!keep) cellCode.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
  }
  return {
    step: '',
    frame: frame.frame,
    matrix,
    body: `${bodyParts.join('\n')}\nreturn ${matrix}`,
    params,
    cells: [...new Set(chosen.map((c) => c.cell))],
  };
}

/** `df["x"] = ...`, `df.loc[...] = ...`, `df.x += 1`, `df.fillna(0, inplace=True)`: the name changed in place. */
function mutatedName(facts: CellFacts, statement: TopStatement): string | null {
  const text = facts.source.slice(statement.span.from, statement.span.to);
  if (statement.kind === 'assign') {
    const target = /^([A-Za-z_]\w*)\s*(?:\[|\.)[^=]*?(?:[-+*/%&|^]|\/\/|\*\*|<<|>>)?=(?!=)/.exec(text);
    return target ? target[1]! : null;
  }
  if (statement.kind === 'expression' && statement.call !== null) {
    const call = facts.calls[statement.call]!;
    const inplace = call.args.some((a) => a.keyword === 'inplace' && a.value.kind === 'constant' && a.value.value === 'True');
    if (inplace && call.callee.kind === 'attribute' && call.callee.object.kind === 'name') return call.callee.object.name;
  }
  return null;
}

// ---- what production code leaves out -----------------------------------------------------------

function dropNonProductionCode(model: NotebookModel, entry: CellCode, plan: ScaffoldPlan): void {
  const { cell, facts } = entry;
  if (!facts.isPython) {
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)} is a \`%%${facts.magics[0]?.command.split(/\s+/)[0] ?? ''}\` cell, not Python: left out; port it to Python if the pipeline needs it.` });
    entry.edits.push({ from: 0, to: facts.source.length, text: '' });
    return;
  }
  for (const magic of facts.magics) {
    const text = facts.source.slice(magic.from, magic.to).trim();
    const what = magic.kind === 'shell' ? 'shell command' : 'magic';
    const why = /^%?\s*(pip|conda)\s+install/.test(text) || /^!\s*(pip|conda)\s+install/.test(text) ? 'dependencies are pinned in requirements.txt' : magic.kind === 'shell' ? 'run it outside the pipeline, or port it to Python' : 'IPython only';
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out the ${what} \`${text}\` (${why}).` });
    // A cell magic's first line is cut; its Python body stays.
    entry.edits.push({ from: magic.from, to: magic.to, text: '' });
  }
  for (const statement of facts.statements) {
    const text = facts.source.slice(statement.span.from, statement.span.to);
    if (statement.kind === 'import' || statement.kind === 'optional-import') {
      if (!plan.imports.includes(text)) plan.imports.push(text);
      entry.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
      continue;
    }
    if (statement.kind !== 'expression') continue;
    const dropped = displayOnly(model, facts, statement, cell);
    if (!dropped) continue;
    // The slice may already have replaced this statement: then it is not a display.
    if (entry.edits.some((e) => e.from === statement.span.from)) continue;
    plan.notes.push({ cell, message: `Cell ${cellNumber(cell)}: left out \`${oneLine(text)}\` (${dropped}).` });
    entry.edits.push({ from: statement.span.from, to: statement.span.to, text: '' });
  }
}

/** Why an expression statement is for the notebook's reader only, or null when it does work. */
function displayOnly(model: NotebookModel, facts: CellFacts, statement: TopStatement, cell: number): string | null {
  if (statement.call === null) return 'a value shown in the notebook';
  const call = facts.calls[statement.call]!;
  const path = model.calleePath(call, { cell, offset: call.span.from });
  if (path && PLOT_LIBRARIES.some((lib) => path.startsWith(lib))) return 'a plot';
  if (path === 'IPython.display.display' || (call.callee.kind === 'name' && call.callee.name === 'display' && !path)) return 'a display';
  if (call.callee.kind === 'attribute' && DISPLAY_METHODS.has(call.callee.name) && !call.args.some((a) => a.keyword === 'inplace')) {
    return ['plot', 'hist', 'boxplot', 'show'].includes(call.callee.name) ? 'a plot' : 'a value shown in the notebook';
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
    const call = `build_features(${features.frame}${features.params.map((p) => `, ${p}=${p}`).join('')})`;
    for (const entry of code.values()) for (const edit of entry.edits) if (edit.text.endsWith(`build_features(${features.frame})`)) edit.text = `${features.matrix} = ${call}`;
  }
  const used = new Set<string>();
  const bodies: Array<{ title: string; cells: number[]; body: string; facts: CellFacts }> = [];
  for (const section of sections) {
    const text = section.cells
      .map((cell) => applyEdits(code.get(cell)!))
      .filter((t) => t.trim())
      .join('\n\n');
    if (!text.trim()) continue;
    bodies.push({ ...section, body: text, facts: cachedAnalyze(text) });
  }
  const importNames = new Set(plan.imports.flatMap((text) => cachedAnalyze(text).imports.map((i) => i.bound)));
  if (plan.features) importNames.add('build_features');

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
      const readBeforeBound = !firstBinding || firstUse.span.from < firstBinding.span.from || firstUse.timing === 'deferred';
      if (!readBeforeBound) continue;
      if (boundBefore) inputs.push(name);
      else if (parameterNames.has(name)) params.push(name);
      else if (!boundHere && !BUILTIN_NAMES.has(name)) {
        plan.problems.push({ code: 'undefined-name', cell: section.cells[0], message: `Section "${section.title}" uses \`${name}\`, which no earlier cell defines: define it before it is used (run the notebook top to bottom to check).` });
      }
    }
    const later = bodies.slice(index + 1);
    // What later steps read, and what the pipeline's evaluation reads once the steps ran.
    const evaluationNames = plan.evaluation ? [plan.evaluation.model, plan.evaluation.X, plan.evaluation.y] : [];
    const outputs = [...boundHere].filter((name) => (later.some((b) => b.facts.uses.some((u) => u.name === name)) || evaluationNames.includes(name)) && !importNames.has(name));
    const name = uniqueName(identifier(section.title), used, importNames);
    const readsFiles = facts.calls.some((c) => (c.callee.kind === 'attribute' && READERS.has(c.callee.name)) || (c.callee.kind === 'name' && c.callee.name === 'open'));
    const step: StepPlan = { name, title: section.title, cells: section.cells, body: section.body, inputs, params, outputs, retries: readsFiles ? 2 : 0 };
    plan.steps.push(step);
    if (plan.data && section.cells.includes(plan.data.cell)) plan.data.step = name;
    if (plan.features && section.body.includes(`${plan.features.matrix} = build_features(${plan.features.frame}`)) plan.features.step = name;
    if (plan.evaluation && facts.bindings.some((b) => b.name === plan.evaluation!.X) && !plan.evaluation.step) plan.evaluation.step = name;
  });
  // Evaluation needs the fitted model and the held-out set: after the later of the two steps.
  if (plan.evaluation) {
    const withModel = plan.steps.findIndex((s) => cachedAnalyze(s.body).bindings.some((b) => b.name === plan.model!.variable));
    const withTest = plan.steps.findIndex((s) => s.name === plan.evaluation!.step);
    plan.evaluation.step = plan.steps[Math.max(withModel, withTest)]?.name ?? plan.evaluation.step;
  }
}

function applyEdits(entry: CellCode): string {
  let text = entry.facts.source;
  const edits = [...entry.edits].sort((a, b) => b.from - a.from);
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

/** Names steps.py already uses at module level. */
const RESERVED_STEP_NAMES = new Set(['step', 'build_features', 'STEPS']);

