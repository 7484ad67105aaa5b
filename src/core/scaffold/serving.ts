/**
 * The serving chain of a notebook: what the service must do to one raw record to give the
 * prediction the notebook's model would. Walking back from the model's `fit`:
 *
 *   fit(M, y) ← fitted transformer applications T1 … Tk (T.transform(Z), T.fit_transform(Z),
 *   T.fit(Z).transform(Z), Ctor().fit_transform(Z)) ← train_test_split ← the feature matrix Z,
 *   computed by stateless statements from a table ← row selections (filters, dropna, a split of
 *   the table) ← the table read by pandas (directly, or in a helper function).
 *
 * The stateless statements become `build_features(frame)` (common/features.py, shared by the
 * pipeline and the service); row selections stay in training; the fitted transformers, in
 * order, and the model are composed into one scikit-learn Pipeline — from the run's own fitted
 * objects at scaffold time, and by the generated pipeline when it retrains.
 *
 * What does not fit this shape is refused with a message saying what to change: feature code
 * that learns from the rows (a median, groupby statistics, an encoder fitted on one column),
 * rows dropped after the feature code changed the columns they depend on, a loop changing the
 * table. Never a service that answers 500 or silently predicts something else.
 */
import { BUILTIN_NAMES, NotebookModel, type Position } from '../lint/model';
import type { CallFact, CellFacts, Expr, TopStatement } from '../lint/python/analyze';
import { lineOfOffset } from '../lint/positions';
import { cellNumber } from '../notebook/cellLabel';
import {
  assignedColumn,
  bracketed,
  columnsWritten,
  escape,
  inplaceOp,
  inplaceTarget,
  learnedFromRows,
  literalsIn,
  rowSelection,
  rowSelectionReads,
  statementText,
} from './frameCode';
import type { CellCode, ChainStep, ScaffoldPlan } from './plan';

export const READERS = new Set(['read_csv', 'read_table', 'read_parquet', 'read_json', 'read_excel', 'read_feather', 'read_pickle']);
const SAVERS: Record<string, 'joblib' | 'pickle'> = { 'joblib.dump': 'joblib', 'pickle.dump': 'pickle', 'cloudpickle.dump': 'pickle', 'dill.dump': 'pickle' };
export const MODEL_LIBRARIES = ['sklearn.', 'xgboost.', 'lightgbm.', 'catboost.', 'imblearn.', 'category_encoders.', 'feature_engine.'];
/** Wrappers that leave a transformer's output as it is for the next step (names, density). */
const TRANSPARENT_CALLS = new Set(['pandas.DataFrame', 'numpy.asarray', 'numpy.array']);
const TRANSPARENT_METHODS = new Set(['toarray', 'todense']);

interface Stmt {
  cell: number;
  statement: TopStatement;
  facts: CellFacts;
  /** Position in notebook order. */
  order: number;
}

export interface ServingContext {
  model: NotebookModel;
  code: Map<number, CellCode>;
  plan: ScaffoldPlan;
}

interface Problem {
  code: ScaffoldPlan['problems'][number]['code'];
  message: string;
  cell?: number;
}

function where(cell: number, facts: CellFacts, offset: number): string {
  return `Cell ${cellNumber(cell)}, line ${lineOfOffset(facts.source, offset) + 1}`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 70 ? `${line.slice(0, 67)}…` : line;
}

export function planServing(ctx: ServingContext): void {
  const { model, code, plan } = ctx;
  const statements: Stmt[] = [];
  for (const entry of code.values()) for (const statement of entry.facts.statements) statements.push({ cell: entry.cell, statement, facts: entry.facts, order: 0 });
  statements.sort((a, b) => a.cell - b.cell || a.statement.span.from - b.statement.span.from);
  statements.forEach((s, i) => (s.order = i));
  const factsOf = (cell: number): CellFacts => code.get(cell)?.facts ?? model.codeCells().find((c) => c.cell === cell)!.facts;
  const fail = (problem: Problem) => plan.problems.push(problem);

  // ---- the saved model and its fit -------------------------------------------------------
  const save = findSave(model, code);
  const fit = findFit(model, code, save);
  if (!fit) {
    fail({ code: 'no-model-fit', message: 'No model is trained in the notebook: nb2prod looks for `model.fit(X, y)` (or `model = Estimator(...).fit(X, y)`) on a scikit-learn (or XGBoost, LightGBM, CatBoost) estimator.' });
    return;
  }
  if (!save || !fit.matchesSave) {
    fail({
      code: 'no-model-written',
      cell: fit.cell,
      message: `The notebook trains \`${fit.variable}\` but never writes it to a file: add \`joblib.dump(${fit.variable}, "models/model.joblib")\` at the end, then track the notebook again so the run records the model.`,
    });
    return;
  }
  plan.model = { variable: save.variable, attribute: save.attribute, estimator: fit.estimator, path: save.path, saver: save.saver, cell: save.cell };
  plan.task = taskOf(fit.estimator);
  const fitAt: Position = { cell: fit.cell, offset: fit.call.span.from };
  const xArg = argument(fit.call, 0, 'X');
  const yArg = argument(fit.call, 1, 'y');
  if (!xArg) {
    fail({ code: 'no-data', cell: fit.cell, message: `Cell ${cellNumber(fit.cell)}: \`${fit.variable}.fit\` has no data argument.` });
    return;
  }
  if (!yArg) {
    fail({ code: 'no-target', cell: fit.cell, message: `Cell ${cellNumber(fit.cell)}: \`${fit.variable}.fit\` gets no target (y): nb2prod scaffolds supervised models, trained with \`fit(X, y)\`.` });
    return;
  }

  // ---- fitted steps and the split, walking back from the fit's X ----------------------------
  const chain: ChainStep[] = [];
  let afterSplit = 0;
  let split: { call: CallFact; at: Position; index: number; targets: string[]; cell: number } | null = null;
  let current: { expr: Expr; at: Position; cell: number } = { expr: xArg, at: fitAt, cell: fit.cell };
  const usedNames = new Set(model.codeCells().flatMap((c) => c.facts.bindings.map((b) => b.name)));
  for (let guard = 0; guard < 50; guard++) {
    const application = transformerApplication(model, current.expr, current.at);
    if (application) {
      const facts = factsOf(current.cell);
      const line = lineOfOffset(facts.source, application.span.from) + 1;
      const lastLine = lineOfOffset(facts.source, application.span.to) + 1;
      const name = application.variable ?? uniqueIdentifier(snake(application.estimator?.split('.').at(-1) ?? 'transformer'), usedNames);
      chain.unshift({ variable: application.variable, name, estimator: application.estimator, cell: current.cell, line, lastLine, ...(application.variable || !application.constructorSpan ? {} : { constructorSpan: application.constructorSpan }) });
      if (!split) afterSplit++;
      current = { expr: application.input, at: current.at, cell: current.cell };
      continue;
    }
    if (current.expr.kind !== 'name') break;
    const binding = model.bindingAt(current.expr.name, current.at);
    if (!binding) break;
    const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
    const unpacked = binding.item.unpacked;
    if (unpacked && unpacked.value.kind === 'call' && model.calleePath(unpacked.value.call, bindingAt)?.endsWith('.train_test_split')) {
      const splitCall = unpacked.value.call;
      const source = splitCall.args.filter((a) => !a.keyword && !a.star)[Math.floor(unpacked.index / 2)]?.value;
      if (!source || split) break;
      split = { call: splitCall, at: bindingAt, index: unpacked.index, targets: unpackedTargets(factsOf(binding.cell), unpacked.value), cell: binding.cell };
      current = { expr: source, at: bindingAt, cell: binding.cell };
      continue;
    }
    const value = binding.item.value;
    if (value && binding.item.kind === 'assign' && transformerApplication(model, value, bindingAt)) {
      current = { expr: value, at: bindingAt, cell: binding.cell };
      continue;
    }
    break;
  }
  plan.chain = chain;

  // ---- the feature matrix: stateless code from the table ---------------------------------
  const matrix = current;
  const matrixFacts = factsOf(matrix.cell);
  const matrixText = matrixFacts.source.slice(matrix.expr.span.from, matrix.expr.span.to);
  const target = traceTarget(model, yArg, fitAt, split);
  const slice = sliceFeatures(ctx, statements, matrix, target);
  if (!slice) return;
  if (!slice.read) {
    fail({ code: 'no-data', message: `Could not find where \`${oneLine(matrixText)}\` comes from: read the training data with pandas from a file path written in the notebook (\`df = pd.read_csv("data/train.csv")\`), or in a function the notebook calls to read it.` });
    return;
  }
  const readStatement = statements.find((s) => s.cell === slice.read!.cell && s.statement.span.from <= slice.read!.offset && slice.read!.offset < s.statement.span.to);
  plan.data = {
    frame: slice.read.frame,
    path: slice.read.path,
    pathHint: slice.read.pathHint,
    reader: slice.read.reader,
    readerArgs: slice.read.readerArgs,
    helper: slice.read.helper,
    step: '',
    cell: slice.read.cell,
    end: readStatement?.statement.span.to ?? factsOf(slice.read.cell).source.length,
  };
  plan.target = target.column ? target.column : null;
  if (!plan.target || !target.frame || !slice.frames.has(target.frame)) {
    plan.problems.push({ code: 'no-target', message: `Could not tell which column of \`${slice.read.frame}\` is the target: write it as \`y = ${slice.frame}["<column>"]\` before the split (a target computed from other columns is not supported: compute it into a column of the data file).` });
    return;
  }
  plan.features = {
    step: '',
    frame: slice.frame,
    matrix: slice.matrixName,
    body: slice.body,
    params: slice.params,
    cells: slice.cells,
    columns: slice.columns,
    mutatesFrame: slice.mutatesFrame,
  };

  // ---- evaluation: the held-out part of the split, through the chain's later steps ---------
  if (split) {
    const testPart = split.targets[split.index + 1];
    const yName = target.splitY;
    if (testPart && yName) {
      plan.evaluation = { step: '', model: save.variable, X: testPart, y: yName, chain: chain.slice(chain.length - afterSplit).map((s) => s.name), frame: false };
    }
  } else if (slice.splitFrame) {
    // The table itself was split (train, test = train_test_split(df)): evaluate on the test table.
    const test = slice.splitFrame.test;
    if (test) plan.evaluation = { step: '', model: save.variable, X: test, y: null, chain: chain.map((s) => s.name), frame: true };
  }

  // ---- edits of the pipeline's code -----------------------------------------------------------
  for (const step of chain) {
    if (step.variable || !step.constructorSpan) continue;
    // `StandardScaler().fit_transform(X)` keeps its fitted scaler: `(standard_scaler := StandardScaler())`.
    const entry = code.get(step.cell)!;
    const ctorText = entry.facts.source.slice(step.constructorSpan.from, step.constructorSpan.to);
    entry.edits.push({ from: step.constructorSpan.from, to: step.constructorSpan.to, text: `(${step.name} := ${ctorText})` });
  }
  // The saved object becomes the served composition; its path can be redirected (the golden step).
  const saveEntry = code.get(save.cell)!;
  if (chain.length) {
    const composition = `serving_bundle([${chain.map((s) => `(${JSON.stringify(s.name)}, ${s.name})`).join(', ')}], ${saveEntry.facts.source.slice(save.objectSpan.from, save.objectSpan.to)})`;
    saveEntry.edits.push({ from: save.objectSpan.from, to: save.objectSpan.to, text: composition });
  }
  const pathEntry = code.get(save.pathAt.cell)!;
  pathEntry.edits.push({ from: save.pathAt.span.from, to: save.pathAt.span.to, text: `model_output(${pathEntry.facts.source.slice(save.pathAt.span.from, save.pathAt.span.to)})` });
}

// ---- saving and fitting ---------------------------------------------------------------------------

interface Save {
  variable: string;
  /** `grid.best_estimator_`: the attribute of `variable` that was saved. */
  attribute: string | null;
  path: string;
  saver: 'joblib' | 'pickle';
  cell: number;
  at: Position;
  objectSpan: { from: number; to: number };
  /** The expression naming the file: wrapped in model_output() in the pipeline. */
  pathAt: { cell: number; span: { from: number; to: number } };
}

function findSave(model: NotebookModel, code: Map<number, unknown>): Save | null {
  let saved: Save | null = null;
  for (const { cell, call, at } of model.calls()) {
    if (call.timing !== 'immediate' || !code.has(cell)) continue;
    const saver = SAVERS[model.calleePath(call, at) ?? ''];
    if (!saver) continue;
    const objectArg = argument(call, 0, 'value') ?? argument(call, 0, 'obj');
    const fileArg = argument(call, 1, 'filename') ?? argument(call, 1, 'file');
    if (!objectArg || !fileArg) continue;
    let variable: string | null = null;
    let attribute: string | null = null;
    if (objectArg.kind === 'name') variable = objectArg.name;
    else if (objectArg.kind === 'attribute' && objectArg.object.kind === 'name') {
      variable = objectArg.object.name;
      attribute = objectArg.name;
    }
    if (!variable) continue;
    const direct = model.stringValue(fileArg, at);
    const opened = direct === null ? openedPath(model, fileArg, at) : null;
    const path = direct ?? opened?.path ?? null;
    if (!path) continue;
    const pathAt = direct !== null ? { cell, span: fileArg.span } : opened!.at;
    saved = { variable, attribute, path, saver, cell, at, objectSpan: objectArg.span, pathAt };
  }
  return saved;
}

/** `with open("m.pkl", "wb") as f: pickle.dump(model, f)`: the path opened, and where it is written. */
function openedPath(model: NotebookModel, expr: Expr, at: Position): { path: string; at: { cell: number; span: { from: number; to: number } } } | null {
  if (expr.kind !== 'name') return null;
  const binding = model.bindingAt(expr.name, { cell: at.cell, offset: at.offset + 1 });
  if (!binding) return null;
  const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
  let opened: CallFact | null = binding.item.value?.kind === 'call' ? binding.item.value.call : null;
  if (!opened && binding.item.kind === 'with') {
    const facts = model.codeCells().find((c) => c.cell === binding.cell)!.facts;
    opened = facts.calls.filter((c) => c.span.to <= binding.item.span.from && /^\s*as\s*$/.test(facts.source.slice(c.span.to, binding.item.span.from))).at(-1) ?? null;
  }
  if (!opened || model.calleePath(opened, bindingAt) !== 'builtins.open') return null;
  const first = opened.args[0];
  if (!first || first.keyword) return null;
  const path = model.stringValue(first.value, bindingAt);
  return path ? { path, at: { cell: binding.cell, span: first.value.span } } : null;
}

interface Fit {
  variable: string;
  estimator: string | null;
  cell: number;
  call: CallFact;
  /** The fit of the object the notebook saves (or the estimator the search CV it saves searched). */
  matchesSave: boolean;
}

/**
 * The fit of the saved object: `v.fit(X, y)`, `v = Estimator(...).fit(X, y)`, a search CV whose
 * `best_estimator_` is saved (`grid.fit(X, y)`; `best = grid.best_estimator_`). Without a save,
 * the last fit of a known estimator (for the message saying to save it).
 */
function findFit(model: NotebookModel, code: Map<number, unknown>, save: Save | null): Fit | null {
  let fitVariable: string | null = save ? (save.attribute ? save.variable : save.variable) : null;
  if (save && !save.attribute) {
    // `best = grid.best_estimator_` / `model = best`: follow to the object that was fitted.
    let name = save.variable;
    let at = save.at;
    for (let i = 0; i < 8; i++) {
      const binding = model.bindingAt(name, at);
      const value = binding?.item.value;
      if (!binding || !value) break;
      const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
      if (value.kind === 'name') {
        name = value.name;
        at = bindingAt;
      } else if (value.kind === 'attribute' && value.object.kind === 'name' && /_$/.test(value.name)) {
        name = value.object.name;
        at = bindingAt;
      } else break;
    }
    fitVariable = name;
  }
  let found: Fit | null = null;
  let fallback: Fit | null = null;
  for (const { cell, call, at } of model.calls()) {
    if (call.timing !== 'immediate' || !code.has(cell)) continue;
    if (call.callee.kind !== 'attribute' || call.callee.name !== 'fit') continue;
    if (save && (cell > save.at.cell || (cell === save.at.cell && call.span.from > save.at.offset))) continue;
    const object = call.callee.object;
    let variable: string | null = null;
    let estimator: string | null = null;
    if (object.kind === 'name') {
      variable = object.name;
      estimator = model.constructedBy(object, at);
    } else if (object.kind === 'call') {
      // `model = LogisticRegression(C=C).fit(X, y)`: the name the statement binds.
      const facts = model.codeCells().find((c) => c.cell === cell)!.facts;
      const binding = facts.bindings.find((b) => b.value?.kind === 'call' && b.value.call === call);
      if (!binding) continue;
      variable = binding.name;
      estimator = model.calleePath(object.call, at);
    } else continue;
    if (!argument(call, 0, 'X')) continue;
    const known = !!estimator && MODEL_LIBRARIES.some((lib) => estimator!.startsWith(lib));
    const fit: Fit = { variable, estimator, cell, call, matchesSave: variable === fitVariable };
    if (fit.matchesSave) found = fit;
    else if (known && argument(call, 1, 'y')) fallback = fit;
  }
  if (found && !found.estimator && save) {
    // The estimator of `grid = GridSearchCV(pipe, ...)`: the searched one names the task.
    const binding = model.bindingAt(found.variable, { cell: found.cell, offset: found.call.span.from });
    const value = binding?.item.value;
    if (value?.kind === 'call') found.estimator = model.calleePath(value.call, { cell: binding!.cell, offset: binding!.item.span.from });
  }
  if (found && found.estimator && /\.(GridSearchCV|RandomizedSearchCV|HalvingGridSearchCV|HalvingRandomSearchCV)$/.test(found.estimator)) {
    const binding = model.bindingAt(found.variable, { cell: found.cell, offset: found.call.span.from });
    const value = binding?.item.value;
    const searched = value?.kind === 'call' ? (argument(value.call, 0, 'estimator') ?? null) : null;
    const inner = searched ? model.constructedBy(searched, { cell: binding!.cell, offset: binding!.item.span.from }) : null;
    if (inner) found.estimator = pipelineFinal(model, searched!, { cell: binding!.cell, offset: binding!.item.span.from }) ?? inner;
  } else if (found && found.estimator && /\.(Pipeline|make_pipeline)$/.test(found.estimator)) {
    const binding = model.bindingAt(found.variable, { cell: found.cell, offset: found.call.span.from });
    const final = binding ? pipelineFinal(model, { kind: 'name', name: found.variable, span: found.call.callee.span }, { cell: found.cell, offset: found.call.span.from }) : null;
    if (final) found.estimator = final;
  }
  return found ?? (save ? null : fallback) ?? fallback;
}

/** The last step of a Pipeline / make_pipeline, as a class path (it names the task). */
function pipelineFinal(model: NotebookModel, expr: Expr, at: Position): string | null {
  let call: CallFact | null = null;
  let callAt = at;
  if (expr.kind === 'call') call = expr.call;
  else if (expr.kind === 'name') {
    const binding = model.bindingAt(expr.name, at);
    if (binding?.item.value?.kind === 'call') {
      call = binding.item.value.call;
      callAt = { cell: binding.cell, offset: binding.item.span.from };
    }
  }
  if (!call) return null;
  const path = model.calleePath(call, callAt);
  if (path?.endsWith('.make_pipeline')) {
    const last = call.args.filter((a) => !a.keyword).at(-1)?.value;
    return last ? model.constructedBy(last, callAt) : null;
  }
  if (path?.endsWith('.Pipeline')) {
    const steps = argument(call, 0, 'steps');
    const last = steps?.kind === 'sequence' ? steps.items.at(-1) : undefined;
    const estimator = last?.kind === 'sequence' ? last.items[1] : undefined;
    return estimator ? model.constructedBy(estimator, callAt) : null;
  }
  return null;
}

export function argument(call: CallFact, position: number, keyword: string): Expr | null {
  const positional = call.args.filter((a) => !a.keyword && !a.star);
  return positional[position]?.value ?? call.args.find((a) => a.keyword === keyword)?.value ?? null;
}

function unpackedTargets(facts: CellFacts, value: Expr): string[] {
  const targets: string[] = [];
  for (const binding of facts.bindings) if (binding.unpacked && binding.unpacked.value === value) targets[binding.unpacked.index] = binding.name;
  return targets;
}

function taskOf(estimator: string | null): ScaffoldPlan['task'] {
  const name = estimator?.split('.').at(-1) ?? '';
  if (/Classifier|LogisticRegression|^SVC$|^LinearSVC$|NaiveBayes|^(Gaussian|Multinomial|Bernoulli|Complement|Categorical)NB$|^NuSVC$/.test(name)) return 'classification';
  if (/Regressor|Regression$|^(Ridge|Lasso|ElasticNet|SVR|LinearSVR|NuSVR|Lars|LassoLars|BayesianRidge|HuberRegressor|KernelRidge|RidgeCV|LassoCV|ElasticNetCV)$/.test(name)) return 'regression';
  return null;
}

// ---- fitted transformer applications -----------------------------------------------------------

interface Application {
  variable: string | null;
  estimator: string | null;
  input: Expr;
  span: { from: number; to: number };
  constructorSpan?: { from: number; to: number };
}

/**
 * `T.transform(Z)`, `T.fit_transform(Z)`, `T.fit(Z).transform(Z)`, `Ctor().fit_transform(Z)`,
 * `Ctor().fit(Z).transform(Z)`, seen through `pd.DataFrame(...)`, `.toarray()`, `np.asarray(...)`.
 */
function transformerApplication(model: NotebookModel, expr: Expr, at: Position): Application | null {
  if (expr.kind !== 'call') return null;
  const call = expr.call;
  const path = model.calleePath(call, at);
  if (path && TRANSPARENT_CALLS.has(path)) {
    const inner = argument(call, 0, 'data');
    return inner ? transformerApplication(model, inner, at) : null;
  }
  if (call.callee.kind !== 'attribute') return null;
  const method = call.callee.name;
  const object = call.callee.object;
  if (TRANSPARENT_METHODS.has(method) && !call.args.length) return transformerApplication(model, object, at);
  if (method !== 'transform' && method !== 'fit_transform') return null;
  const input = argument(call, 0, 'X');
  if (!input) return null;
  if (object.kind === 'name') {
    return isEstimator(model, object.name, at) ? { variable: object.name, estimator: model.constructedBy(object, at), input, span: call.span } : null;
  }
  if (object.kind !== 'call') return null;
  const inner = object.call;
  if (inner.callee.kind === 'attribute' && inner.callee.name === 'fit') {
    const fitted = inner.callee.object;
    if (fitted.kind === 'name' && isEstimator(model, fitted.name, at)) return { variable: fitted.name, estimator: model.constructedBy(fitted, at), input, span: call.span };
    if (fitted.kind === 'call' && isEstimatorClass(model.calleePath(fitted.call, at))) return { variable: null, estimator: model.calleePath(fitted.call, at), input, span: call.span, constructorSpan: fitted.span };
    return null;
  }
  if (method === 'fit_transform' && isEstimatorClass(model.calleePath(inner, at))) {
    return { variable: null, estimator: model.calleePath(inner, at), input, span: call.span, constructorSpan: object.span };
  }
  return null;
}

function isEstimatorClass(path: string | null): boolean {
  return !!path && MODEL_LIBRARIES.some((lib) => path.startsWith(lib)) && /\.[A-Z]\w*$/.test(path);
}

/** A name holding an estimator: built by a library class (or a Pipeline of them), or fitted somewhere. */
function isEstimator(model: NotebookModel, name: string, at: Position): boolean {
  const built = model.constructedBy({ kind: 'name', name, span: { from: 0, to: 0 } }, at);
  if (isEstimatorClass(built)) return true;
  return model.calls().some(({ call }) => call.callee.kind === 'attribute' && (call.callee.name === 'fit' || call.callee.name === 'fit_transform') && call.callee.object.kind === 'name' && call.callee.object.name === name);
}

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function uniqueIdentifier(base: string, used: Set<string>): string {
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

// ---- the target -----------------------------------------------------------------------------------

interface Target {
  column: string | null;
  /** The frame it is a column of. */
  frame: string | null;
  /** The held-out part of y in the split (y_test), when the split has it. */
  splitY: string | null;
}

function traceTarget(model: NotebookModel, yArg: Expr, fitAt: Position, split: { call: CallFact; at: Position; targets: string[] } | null): Target {
  let expr = yArg;
  let at = fitAt;
  let splitY: string | null = null;
  if (expr.kind === 'name' && split) {
    const binding = model.bindingAt(expr.name, at);
    const unpacked = binding?.item.unpacked;
    if (binding && unpacked && unpacked.value.kind === 'call' && unpacked.value.call === split.call) {
      const source = split.call.args.filter((a) => !a.keyword && !a.star)[Math.floor(unpacked.index / 2)]?.value;
      splitY = split.targets[unpacked.index + 1] ?? null;
      if (source) {
        expr = source;
        at = split.at;
      }
    }
  }
  for (let i = 0; i < 6; i++) {
    const found = columnOf(model, expr, at);
    if (found) return { ...found, splitY };
    if (expr.kind !== 'name') break;
    const binding = model.bindingAt(expr.name, at);
    if (!binding?.item.value) {
      // `y = df.pop("t")` is a binding whose value is the call: handled by columnOf.
      break;
    }
    expr = binding.item.value;
    at = { cell: binding.cell, offset: binding.item.span.from };
  }
  return { column: null, frame: null, splitY };
}

/** `df["t"]`, `df.t`, `df.pop("t")`, `df[TARGET]`, with `.values`, `.copy()`, `.to_numpy()`, `.ravel()`, `.astype(...)`. */
function columnOf(model: NotebookModel, expr: Expr, at: Position): { column: string; frame: string } | null {
  const facts = model.codeCells().find((c) => c.cell === at.cell)?.facts;
  if (!facts) return null;
  let text = facts.source.slice(expr.span.from, expr.span.to).trim();
  if (expr.kind === 'call') {
    const path = model.calleePath(expr.call, at);
    if (path === 'numpy.array' || path === 'numpy.asarray' || path === 'numpy.ravel') {
      const inner = argument(expr.call, 0, 'a') ?? argument(expr.call, 0, 'object');
      if (inner) return columnOf(model, inner, at);
    }
  }
  for (;;) {
    const stripped = text.replace(/\.(values|copy\(\)|to_numpy\(\)|ravel\(\)|squeeze\(\))\s*$/, '').replace(/\.astype\([^()]*\)\s*$/, '');
    if (stripped === text) break;
    text = stripped;
  }
  const match =
    /^([A-Za-z_]\w*)\s*\[\s*(['"])(.+?)\2\s*\]$/.exec(text) ??
    /^([A-Za-z_]\w*)\s*\.\s*pop\(\s*(['"])(.+?)\2\s*\)$/.exec(text) ??
    /^([A-Za-z_]\w*)\s*\.loc\[\s*:\s*,\s*(['"])(.+?)\2\s*\]$/.exec(text) ??
    /^([A-Za-z_]\w*)\.()([A-Za-z_]\w*)$/.exec(text);
  if (match) return { frame: match[1]!, column: match[3]! };
  const indexed = /^([A-Za-z_]\w*)\s*\[\s*([A-Za-z_]\w*)\s*\]$/.exec(text);
  if (indexed) {
    const column = model.stringValue({ kind: 'name', name: indexed[2]!, span: expr.span }, at);
    if (column) return { frame: indexed[1]!, column };
  }
  return null;
}

// ---- the feature slice -----------------------------------------------------------------------------

interface Read {
  frame: string;
  path: string | null;
  pathHint: string | null;
  reader: string;
  readerArgs: Record<string, string>;
  helper: string | null;
  cell: number;
  offset: number;
}

interface Slice {
  read: Read | null;
  /** build_features' parameter: the table as the rows selections left it. */
  frame: string;
  /** Every name the table had on its way (read, filtered, split). */
  frames: Set<string>;
  matrixName: string | null;
  body: string;
  params: string[];
  cells: number[];
  columns: { only: string[] } | { allBut: string[] };
  mutatesFrame: boolean;
  /** `train, test = train_test_split(df)`: the table was split; the test part's name. */
  splitFrame: { test: string | null } | null;
}

function sliceFeatures(ctx: ServingContext, statements: Stmt[], matrix: { expr: Expr; at: Position; cell: number }, target: Target): Slice | null {
  const { model, code, plan } = ctx;
  const fail = (problem: Problem) => {
    plan.problems.push(problem);
    return null;
  };
  const matrixFacts = code.get(matrix.cell)!.facts;
  const matrixText = matrixFacts.source.slice(matrix.expr.span.from, matrix.expr.span.to);
  const limit = { cell: matrix.at.cell, offset: matrix.at.offset };
  const before = (s: Stmt) => s.cell < limit.cell || (s.cell === limit.cell && s.statement.span.from < limit.offset);

  // The matrix as a name bound by a statement of its own (X = ...), or an expression read in place.
  let matrixName: string | null = null;
  const needed = new Set<string>();
  if (matrix.expr.kind === 'name') {
    matrixName = matrix.expr.name;
    needed.add(matrixName);
  } else {
    for (const use of matrixFacts.uses) if (use.span.from >= matrix.expr.span.from && use.span.to <= matrix.expr.span.to) needed.add(use.name);
  }

  const frames = new Set<string>();
  const chosen: Stmt[] = [];
  const rowStatements: Stmt[] = [];
  let read: Read | null = null;
  const reads: Read[] = [];
  let splitFrame: Slice['splitFrame'] = null;
  let lastRows: { stmt: Stmt; name: string } | null = null;
  const targetColumn = target.column;

  for (let i = statements.length - 1; i >= 0; i--) {
    const stmt = statements[i]!;
    if (!before(stmt)) continue;
    const { statement, facts, cell } = stmt;
    if (statement.kind === 'import' || statement.kind === 'optional-import') continue;
    const inside = (s: { from: number; to: number }) => s.from >= statement.span.from && s.to <= statement.span.to;
    const text = statementText(facts, statement);
    const binds = facts.bindings.filter((b) => inside(b.span) && b.timing === 'immediate');
    const bound = binds.filter((b) => needed.has(b.name));
    const mutated = statement.kind === 'assign' ? mutationTarget(text) : inplaceTarget(facts, statement);
    const mutatesNeeded = mutated !== null && (needed.has(mutated) || frames.has(mutated));
    if (statement.kind === 'other') {
      // A loop or block changing a table the features come from (`for d in [train, test]: d["x"] = ...`).
      const watched = new Set([...needed, ...frames]);
      const changed = new Set<string>();
      for (const match of text.matchAll(/\b([A-Za-z_]\w*)\s*(?:\[(?:[^[\]\n]|\[[^[\]\n]*\])*\]|\.(?:loc|iloc|at)\[(?:[^[\]\n]|\[[^[\]\n]*\])*\]|\.[A-Za-z_]\w*)\s*(?:[-+*/%&|^]|\/\/|\*\*)?=(?!=)/g)) changed.add(match[1]!);
      for (const match of text.matchAll(/\b([A-Za-z_]\w*)(?:\[[^\]\n]*\])?\.\w+\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*inplace\s*=\s*True/g)) changed.add(match[1]!);
      // the loop's variable stands for the tables it iterates over
      const loop = /^for\s+([A-Za-z_]\w*)\s+in\s+([^\n]*):/.exec(text);
      const aliases = loop && [...watched].some((n) => new RegExp(`\\b${escape(n)}\\b`).test(loop[2]!)) ? [loop[1]!] : [];
      const hit = [...changed].find((n) => watched.has(n) && facts.uses.some((u) => inside(u.span) && u.name === n)) ?? [...changed].find((n) => aliases.includes(n));
      if (hit) {
        const table = watched.has(hit) ? hit : [...watched].find((n) => new RegExp(`\\b${escape(n)}\\b`).test(loop![2]!))!;
        return fail({
          code: 'unsupported-feature-code',
          cell,
          message: `${where(cell, facts, statement.span.from)}: \`${oneLine(text.split('\n')[0]!)}\` changes \`${table}\` inside a loop or a block, which nb2prod cannot follow into the service's feature code. Write those changes as statements of their own on the table (one per column), then track the notebook again.`,
        });
      }
    }
    if (!bound.length && !mutatesNeeded) continue;

    // The table read: the root of the slice.
    const readHere = bound.map((b) => readOf(ctx, b.name, { cell, offset: b.span.from }, b.value)).find(Boolean);
    if (readHere) {
      reads.push(readHere);
      frames.add(readHere.frame);
      needed.delete(readHere.frame);
      if (!lastRows) lastRows = { stmt, name: readHere.frame };
      continue;
    }
    // A split of the table (train, test = train_test_split(df)): rows, in training only.
    const unpacked = bound.find((b) => b.unpacked)?.unpacked;
    if (unpacked && unpacked.value.kind === 'call' && model.calleePath(unpacked.value.call, { cell, offset: statement.span.from })?.endsWith('.train_test_split')) {
      const names = unpackedTargets(facts, unpacked.value);
      const mine = bound.find((b) => b.unpacked)!;
      const sourceExpr = unpacked.value.call.args.filter((a) => !a.keyword && !a.star)[Math.floor(mine.unpacked!.index / 2)]?.value;
      frames.add(mine.name);
      needed.delete(mine.name);
      splitFrame = { test: names[mine.unpacked!.index + 1] ?? null };
      if (!lastRows) lastRows = { stmt, name: mine.name };
      rowStatements.push(stmt);
      if (sourceExpr) for (const use of facts.uses) if (use.span.from >= sourceExpr.span.from && use.span.to <= sourceExpr.span.to) needed.add(use.name);
      continue;
    }
    // A row selection rebinding a table: `df = df.dropna()`, `sub = df[df.a > 0]`.
    const value = bound.length === 1 ? bound[0]!.value : null;
    if (value && rowSelection(facts.source.slice(value.span.from, value.span.to))) {
      const name = bound[0]!.name;
      frames.add(name);
      needed.delete(name);
      if (!lastRows) lastRows = { stmt, name };
      rowStatements.push(stmt);
      for (const use of facts.uses) if (inside(use.span)) needed.add(use.name);
      continue;
    }
    if (mutated && statement.kind === 'expression' && inplaceOp(text) === 'rows') {
      frames.add(mutated);
      if (!lastRows) lastRows = { stmt, name: mutated };
      rowStatements.push(stmt);
      needed.add(mutated);
      continue;
    }
    // A change of the target column is training's business (`df["y"] = df["y"].map(...)`).
    if (mutated && targetColumn && assignedColumn(text, new Set([mutated])) === targetColumn) continue;
    chosen.unshift(stmt);
    if (mutated) frames.add(mutated);
    for (const use of facts.uses) if (inside(use.span)) needed.add(use.name);
    // A name that is a table: rebinding it (df = df.drop(...)) is a change of the table.
    for (const b of bound) if (frames.has(b.name)) needed.add(b.name);
  }

  reads.sort((a, b) => a.cell - b.cell || a.offset - b.offset);
  if (reads.length > 1) {
    const paths = [...new Set(reads.map((r) => r.path ?? r.pathHint ?? r.frame))];
    if (paths.length > 1) {
      plan.problems.push({
        code: 'several-data-files',
        message: `The features come from several files (${paths.join(', ')}): the generated service takes one record of one table. Join them into one file in a data preparation notebook, and train from that file.`,
      });
      return null;
    }
  }
  read = reads[0] ?? null;
  if (!read) return { read: null, frame: '', frames, matrixName, body: '', params: [], cells: [], columns: { only: [] }, mutatesFrame: false, splitFrame };
  const frame = lastRows?.name ?? read.frame;

  // Rows selected after the feature code changed what they look at cannot move before it.
  for (const rows of rowStatements) {
    const earlier = chosen.filter((c) => c.order < rows.order && touchesFrames(c, frames));
    if (!earlier.length) continue;
    const rowsText = statementText(rows.facts, rows.statement);
    const reads = rowSelectionReads(rowsText, frames);
    let written = new Set<string>();
    let unknown = false;
    for (const c of earlier) {
      const w = columnsWritten(statementText(c.facts, c.statement), frames);
      written = new Set([...written, ...w.columns]);
      unknown ||= w.unknown;
    }
    const clash = [...reads.columns].find((c) => written.has(c));
    if (reads.whole || unknown || clash) {
      const first = earlier[0]!;
      return fail({
        code: 'rows-after-features',
        cell: rows.cell,
        message: `${where(rows.cell, rows.facts, rows.statement.span.from)}: \`${oneLine(rowsText)}\` drops rows after ${where(first.cell, first.facts, first.statement.span.from).toLowerCase()} changed ${clash ? `the column "${clash}" it looks at` : 'the columns it looks at'}. The service answers every record and drops none, so nb2prod keeps row filters in training only, before the feature code: move the filter above the feature code, on the raw columns${reads.whole ? ', and name the columns it checks (`dropna(subset=[...])`)' : ''}.`,
      });
    }
  }

  // What learns from the training rows cannot be recomputed from one record.
  const estimatorNames = (name: string) => isEstimator(model, name, limit);
  for (const stmt of chosen) {
    const learned = learnedFromRows(stmt.facts, stmt.statement, (offset) => {
      const call = stmt.facts.calls.find((c) => c.span.from === offset);
      return call ? model.calleePath(call, { cell: stmt.cell, offset }) : null;
    }, estimatorNames);
    if (learned) {
      return fail({
        code: 'learned-in-features',
        cell: stmt.cell,
        message: `${where(stmt.cell, stmt.facts, learned.from)}: \`${oneLine(learned.text)}\` ${learned.why}; the service, which sees one record at a time, would compute something else. ${capitalize(learned.fix)}. Then track the notebook again.`,
      });
    }
  }

  // The body: chosen statements, aliases for the table's other names, the matrix.
  const bodyParts: string[] = [];
  const bodyNames = new Set<string>();
  for (const stmt of chosen) for (const use of stmt.facts.uses) if (use.span.from >= stmt.statement.span.from && use.span.to <= stmt.statement.span.to) bodyNames.add(use.name);
  if (matrix.expr.kind !== 'name' || !chosen.some((c) => bindsName(c, matrix.expr.kind === 'name' ? matrix.expr.name : ''))) {
    for (const use of matrixFacts.uses) if (use.span.from >= matrix.expr.span.from && use.span.to <= matrix.expr.span.to) bodyNames.add(use.name);
  }
  for (const name of [...frames].sort()) if (name !== frame && bodyNames.has(name)) bodyParts.push(`${name} = ${frame}`);
  for (const stmt of chosen) bodyParts.push(statementText(stmt.facts, stmt.statement));
  const matrixBound = matrixName !== null && chosen.some((c) => bindsName(c, matrixName!));
  bodyParts.push(`return ${matrixBound ? matrixName : matrixText}`);

  // Cut the slice out of the pipeline; where the matrix was computed, call build_features.
  const readElsewhere = new Set<string>();
  for (const stmt of statements) {
    if (chosen.includes(stmt)) continue;
    const inside = (s: { from: number; to: number }) => s.from >= stmt.statement.span.from && s.to <= stmt.statement.span.to;
    for (const use of stmt.facts.uses) if (inside(use.span)) readElsewhere.add(use.name);
  }
  const mutatesFrame = chosen.some((c) => {
    const text = statementText(c.facts, c.statement);
    const m = c.statement.kind === 'assign' ? mutationTarget(text) : inplaceTarget(c.facts, c.statement);
    return m !== null && frames.has(m);
  });
  const callText = `build_features(${frame}${mutatesFrame ? '.copy()' : ''})`;
  for (const stmt of chosen) {
    const entry = code.get(stmt.cell)!;
    if (matrixBound && stmt === [...chosen].reverse().find((c) => bindsName(c, matrixName!))) {
      entry.edits.push({ from: stmt.statement.span.from, to: stmt.statement.span.to, text: `${matrixName} = ${callText}` });
      continue;
    }
    const inside = (s: { from: number; to: number }) => s.from >= stmt.statement.span.from && s.to <= stmt.statement.span.to;
    const names = stmt.facts.bindings.filter((b) => inside(b.span)).map((b) => b.name);
    const text = statementText(stmt.facts, stmt.statement);
    const pure = (stmt.statement.kind === 'assign' ? mutationTarget(text) : inplaceTarget(stmt.facts, stmt.statement)) === null && !names.some((n) => frames.has(n));
    const keep = pure && names.some((n) => readElsewhere.has(n));
    if (!keep) entry.edits.push({ from: stmt.statement.span.from, to: stmt.statement.span.to, text: '' });
  }
  if (!matrixBound) {
    // `scaler.fit_transform(df[cols])`, `model.fit(df[cols], y)`: the expression becomes the call.
    code.get(matrix.cell)!.edits.push({ from: matrix.expr.span.from, to: matrix.expr.span.to, text: callText });
  }
  if (splitFrame?.test) {
    // The notebook computes the held-out matrix with the same code on the other part of the
    // table (`preprocess.transform(valid_set[cols])`): it calls build_features too, or the
    // columns the feature code adds would be missing there.
    const test = splitFrame.test;
    const renamed = (text: string) => text.replace(new RegExp(`\\b${escape(frame)}\\b`, 'g'), test);
    const binding = matrixBound ? [...chosen].reverse().find((c) => bindsName(c, matrixName!)) : undefined;
    const bindingValue = binding ? binding.facts.bindings.find((b) => b.name === matrixName && b.span.from >= binding.statement.span.from && b.span.to <= binding.statement.span.to)?.value : undefined;
    const wanted = [bindingValue ? renamed(binding!.facts.source.slice(bindingValue.span.from, bindingValue.span.to)) : renamed(matrixText)];
    const testCall = `build_features(${test}${mutatesFrame ? '.copy()' : ''})`;
    for (const stmt of statements) {
      if (chosen.includes(stmt) || !stmt.facts.uses.some((u) => u.name === test && u.span.from >= stmt.statement.span.from && u.span.to <= stmt.statement.span.to)) continue;
      const entry = code.get(stmt.cell);
      if (!entry) continue;
      const text = statementText(stmt.facts, stmt.statement);
      for (const candidate of wanted) {
        for (let at = text.indexOf(candidate); at >= 0; at = text.indexOf(candidate, at + candidate.length)) {
          const from = stmt.statement.span.from + at;
          const to = from + candidate.length;
          const before = text[at - 1] ?? ' ';
          const after = text[at + candidate.length] ?? ' ';
          if (/\w/.test(before) || /[\w[(.]/.test(after)) continue;
          if (!entry.edits.some((e) => e.from < to && from < e.to)) entry.edits.push({ from, to, text: testCall });
        }
      }
    }
  }

  // Which raw columns the feature code reads: named ones, or all but those it drops.
  const literals = new Set<string>();
  for (const stmt of chosen) {
    // A column made the index (`set_index("PassengerId")`) labels rows: it is not a feature.
    const indexArgs = stmt.facts.calls.filter((c) => c.callee.kind === 'attribute' && c.callee.name === 'set_index' && c.span.from >= stmt.statement.span.from && c.span.to <= stmt.statement.span.to).map((c) => c.argsSpan);
    for (const literal of stmt.facts.strings) {
      if (literal.span.from < stmt.statement.span.from || literal.span.to > stmt.statement.span.to || literal.bytes) continue;
      if (indexArgs.some((a) => literal.span.from >= a.from && literal.span.to <= a.to)) continue;
      literals.add(literal.value);
    }
  }
  for (const value of literalsIn(matrixFacts, matrix.expr.span)) literals.add(value);
  const attributes = new Set<string>();
  const frameNames = [...frames].map(escape).join('|');
  const wholeUse = frameNames ? new RegExp(`\\b(?:${frameNames})\\b(?!\\s*(\\[|\\.loc\\[\\s*:\\s*,|\\.pop\\())`, 'g') : null;
  let whole = false;
  const allText = [...chosen.map((c) => statementText(c.facts, c.statement)), matrixText].join('\n');
  if (wholeUse) {
    for (const match of allText.matchAll(wholeUse)) {
      const after = allText.slice(match.index + match[0].length);
      const attribute = /^\s*\.\s*([A-Za-z_]\w*)(\s*\()?/.exec(after);
      const assignedTo = /^\s*=(?!=)/.test(after) || /^\s*\[[^\]]*\]\s*=(?!=)/.test(after);
      if (assignedTo) continue;
      if (attribute && !attribute[2]) {
        // `df.Age` reads a column; `df.values`, `df.columns` the whole table (decided against the profile later).
        attributes.add(attribute[1]!);
        continue;
      }
      // `df.set_index("id")`, `df.copy()`: no column's values feed the features through them.
      if (attribute && ['set_index', 'reset_index', 'copy', 'rename'].includes(attribute[1]!)) continue;
      whole = true;
    }
  }
  const dropped = new Set<string>();
  for (const match of allText.matchAll(/\.(drop|pop)\s*\(/g)) {
    const args = bracketed(allText, match.index + match[0].length - 1)?.inner ?? '';
    for (const literal of args.matchAll(/(['"])(.+?)\1/g)) dropped.add(literal[2]!);
  }
  for (const match of allText.matchAll(/\bdel\s+[A-Za-z_]\w*\s*\[\s*(['"])(.+?)\1\s*\]/g)) dropped.add(match[2]!);
  const columns: Slice['columns'] = whole ? { allBut: [...dropped] } : { only: [...new Set([...literals, ...attributes])] };

  const params = [...bodyNames].filter((n) => !frames.has(n) && n !== matrixName && !BUILTIN_NAMES.has(n) && !chosen.some((c) => bindsName(c, n)));
  return {
    read,
    frame,
    frames,
    matrixName: matrixBound ? matrixName : null,
    body: bodyParts.join('\n'),
    params,
    cells: [...new Set(chosen.map((c) => c.cell))],
    columns,
    mutatesFrame,
    splitFrame,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function bindsName(stmt: Stmt, name: string): boolean {
  return stmt.facts.bindings.some((b) => b.name === name && b.span.from >= stmt.statement.span.from && b.span.to <= stmt.statement.span.to);
}

function touchesFrames(stmt: Stmt, frames: ReadonlySet<string>): boolean {
  return stmt.facts.uses.some((u) => frames.has(u.name) && u.span.from >= stmt.statement.span.from && u.span.to <= stmt.statement.span.to);
}

/** `df["x"] = ...`, `df.loc[...] = ...`, `df.x += 1`: the name changed in place by an assignment. */
function mutationTarget(text: string): string | null {
  const target = /^([A-Za-z_]\w*)\s*(?:\[|\.)[^=]*?(?:[-+*/%&|^]|\/\/|\*\*|<<|>>)?=(?!=)/.exec(text);
  return target ? target[1]! : null;
}

// ---- reading the table ---------------------------------------------------------------------------

/**
 * `df = pd.read_csv("data/x.csv", sep=";")`, or `df = load_data("x.csv")` where `load_data` is a
 * function of the notebook that returns what a pandas reader read: the path as far as it can
 * be known without running anything (the run's inputs confirm it at scaffold time).
 */
function readOf(ctx: ServingContext, name: string, at: Position, value: Expr | null): Read | null {
  const { model } = ctx;
  if (value?.kind !== 'call') return null;
  const callAt = { cell: at.cell, offset: value.span.from };
  const callee = model.calleePath(value.call, callAt);
  const reader = callee?.split('.').at(-1);
  if (callee?.startsWith('pandas.') && reader && READERS.has(reader)) {
    const first = argument(value.call, 0, 'filepath_or_buffer') ?? argument(value.call, 0, 'path');
    const path = first ? model.stringValue(first, callAt) : null;
    return { frame: name, path: path && !path.includes('{}') ? path : null, pathHint: path, reader: callee, readerArgs: literalKeywords(model, value.call, at.cell), helper: null, cell: at.cell, offset: at.offset };
  }
  // A helper of the notebook: follow the call into its definition.
  if (value.call.callee.kind !== 'name') return null;
  const helper = value.call.callee.name;
  const definition = model.bindingAt(helper, callAt);
  if (!definition || definition.item.kind !== 'def') return null;
  const defFacts = model.codeCells().find((c) => c.cell === definition.cell)!.facts;
  const defStatement = defFacts.statements.find((s) => s.span.from <= definition.item.span.from && definition.item.span.to <= s.span.to);
  if (!defStatement) return null;
  const defText = statementText(defFacts, defStatement);
  const header = /^\s*def\s+\w+\s*\(([\s\S]*?)\)\s*(->[^:]*)?:\s*\n/.exec(defText);
  if (!header) return null;
  const params = topLevelParams(header[1]!);
  const callFacts = model.codeCells().find((c) => c.cell === at.cell)!.facts;
  const lines: string[] = [];
  params.forEach((param, index) => {
    const given = value.call.args.find((a) => a.keyword === param.name) ?? value.call.args.filter((a) => !a.keyword && !a.star)[index];
    const source = given ? callFacts.source.slice(given.value.span.from, given.value.span.to) : param.default;
    if (source) lines.push(`${param.name} = ${source}`);
  });
  const body = dedent(defText.slice(header[0].length)).replace(/^return\s+/gm, '__nb2prod_return__ = ');
  const synthetic = `${lines.join('\n')}\n${body}`;
  // Analysed after the notebook's cells, so global names (DATA_DIR = ...) resolve as they were.
  const cells = model.codeCells().filter((c) => c.cell <= at.cell).map((c) => ({ index: c.cell, kind: 'code' as const, source: c.facts.source, executionCount: null }));
  const inner = new NotebookModel([...cells, { index: cells.length, kind: 'code', source: synthetic, executionCount: null }]);
  const innerCell = inner.codeCells().at(-1)!;
  for (const call of innerCell.facts.calls) {
    const innerAt = { cell: innerCell.cell, offset: call.span.from };
    const path = inner.calleePath(call, innerAt);
    const innerReader = path?.split('.').at(-1);
    if (!path?.startsWith('pandas.') || !innerReader || !READERS.has(innerReader)) continue;
    const first = argument(call, 0, 'filepath_or_buffer') ?? argument(call, 0, 'path');
    const found = first ? inner.stringValue(first, innerAt) : null;
    const hints = value.call.args.map((a) => model.stringValue(a.value, callAt)).filter((s): s is string => !!s);
    return {
      frame: name,
      path: found && !found.includes('{}') ? found : null,
      pathHint: found ?? hints[0] ?? null,
      reader: path,
      readerArgs: literalKeywords(inner, call, innerCell.cell),
      helper,
      cell: at.cell,
      offset: at.offset,
    };
  }
  return null;
}

function literalKeywords(model: NotebookModel, call: CallFact, cell: number): Record<string, string> {
  const facts = model.codeCells().find((c) => c.cell === cell)!.facts;
  const out: Record<string, string> = {};
  for (const arg of call.args) {
    if (!arg.keyword) continue;
    const value = arg.value;
    if (value.kind === 'string' && !value.fields?.length) out[arg.keyword] = facts.source.slice(value.span.from, value.span.to);
    else if (value.kind === 'number' || value.kind === 'constant') out[arg.keyword] = facts.source.slice(value.span.from, value.span.to);
    else if (value.kind === 'sequence' && value.items.every((i) => i.kind === 'string' || i.kind === 'number')) out[arg.keyword] = facts.source.slice(value.span.from, value.span.to);
  }
  return out;
}

function topLevelParams(text: string): Array<{ name: string; default: string | null }> {
  const out: Array<{ name: string; default: string | null }> = [];
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  for (const part of parts) {
    const match = /^\s*\*{0,2}([A-Za-z_]\w*)\s*(?::[^=]*)?(?:=\s*([\s\S]+?))?\s*$/.exec(part);
    if (match && !part.trim().startsWith('*')) out.push({ name: match[1]!, default: match[2] ?? null });
  }
  return out;
}

function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(cut, /^\s*/.exec(l)![0].length))).join('\n');
}
