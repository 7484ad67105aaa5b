/**
 * `data-leakage`: a preprocessing step (scaler, imputer, encoder, PCA, feature selection,
 * vectorizer) that learns from rows the model is later evaluated on. Its statistics carry
 * information from the test set into training, so the reported score is optimistic and does not
 * reproduce on new data.
 *
 * Two shapes:
 * 1. fit before the split: `scaler.fit_transform(X)` and later `train_test_split(...)` (or a
 *    splitter's `.split`, `cross_val_score`, or a search's `GridSearchCV(...).fit`) on data
 *    derived from the same value of `X`, where the fitted step reaches the split data (it was
 *    transformed with it, or — for a train/test split — the step is used after the split, or the
 *    columns were replaced in place). A fit on the training split whose output is then
 *    cross-validated is this shape too: preprocessing outside the cross-validation loop sees
 *    every fold's validation rows. Fitting for a plot only does not count.
 * 2. fit on test data: the data is (derived from) a test part of a `train_test_split` unpacking.
 *
 * Values, not names: `X` reassigned between the fit and the split (a toy `X` for a demo, then
 * the real data) is another value, so the fit on the first says nothing about the split of the
 * second. Bindings are followed in notebook order.
 *
 * Only module-level code is considered: inside a function, names are its locals.
 */
import { cellNumber } from '../../notebook/cellLabel';
import type { ArgFact, Binding, CallFact, Expr } from '../python/analyze';
import { comparePositions, type Located, type NotebookModel, type Position } from '../model';
import { lineOfOffset } from '../positions';
import type { Rule, RuleContext } from '../rule';
import { STATEFUL_PREPROCESSORS } from './randomnessCatalog';

const FIT_METHODS = new Set(['fit', 'fit_transform']);
const CROSS_VALIDATION = new Set(['cross_val_score', 'cross_validate', 'cross_val_predict', 'learning_curve', 'validation_curve', 'permutation_test_score']);
/** Hyper-parameter searches: their `fit(X, y)` cross-validates on X. */
const SEARCHES = new Set(['GridSearchCV', 'RandomizedSearchCV', 'HalvingGridSearchCV', 'HalvingRandomSearchCV']);

interface Fit {
  cell: number;
  call: CallFact;
  /** Before the statement holding the call: `X = s.fit_transform(X)` reads the old `X`. */
  at: Position;
  estimator: string;
  data: ArgFact;
  /** Global names the data is read from. */
  names: Set<string>;
  /** The values (bindings) of those names at the fit; a name with none stands for itself. */
  values: Set<Binding | string>;
  /** The name holding the fitted step, when it is one. */
  step: string | null;
}

interface Split {
  cell: number;
  call: CallFact;
  at: Position;
  /** How the message names it. */
  label: string;
  crossValidation: boolean;
  data: ArgFact[];
}

export const dataLeakage: Rule = {
  id: 'data-leakage',
  defaultSeverity: 'warning',
  summary: 'A preprocessing step fit on data that includes the test set.',
  help: 'Split first, fit scalers, imputers, encoders and feature selection on the training split only (transform the test split), or put them in a Pipeline that cross-validation refits per fold.',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model } = context;
    const fits: Fit[] = [];
    const splits: Split[] = [];
    for (const { cell, call, at } of model.calls()) {
      if (call.timing !== 'immediate') continue;
      const fit = fitOf(model, cell, call, at);
      if (fit) fits.push(fit);
      const split = splitOf(model, cell, call, at);
      if (split) splits.push(split);
    }
    for (const fit of fits) {
      const test = testSplitIn(model, fit);
      if (test) {
        context.report({
          cell: fit.cell,
          span: fit.call.span,
          message: `\`${fit.estimator}\` is fit on test data (\`${test.name}\`, from the train_test_split ${context.target.kind === 'notebook' ? 'in' : 'on'} ${where(context, test.cell, test.offset)}): fit it on the training split only and just call transform on the test split.`,
        });
        continue;
      }
      const split = laterSplitOf(model, fit, splits);
      if (!split) continue;
      const data = dataText(model, fit);
      const message = split.crossValidation
        ? `\`${fit.estimator}\` is fit on ${data} before \`${split.label}\` splits it into folds (${where(context, split.cell, split.call.span.from)}): every fold's test part was seen by the fit. Put the ${fit.estimator} in a Pipeline (make_pipeline(${fit.estimator}(), model)) and cross-validate the pipeline.`
        : `\`${fit.estimator}\` is fit on ${data} before it is split into train and test (${where(context, split.cell, split.call.span.from)}): fit it on the training split only, or put it in a Pipeline.`;
      context.report({ cell: fit.cell, span: fit.call.span, message });
    }
  },
};

// ---- fits and splits ----------------------------------------------------------------------

function fitOf(model: NotebookModel, cell: number, call: CallFact, at: Position): Fit | null {
  if (call.callee.kind !== 'attribute' || !FIT_METHODS.has(call.callee.name)) return null;
  const receiver = call.callee.object;
  const estimator = preprocessorName(model.constructedBy(receiver, at));
  if (!estimator) return null;
  const data = call.args.find((a) => !a.keyword && !a.star) ?? call.args.find((a) => a.keyword === 'X' || a.keyword === 'raw_documents');
  if (!data) return null;
  const before = statementStart(model, cell, call);
  const names = namesIn(model, data.value, before);
  if (!names.size) return null;
  const values = new Set<Binding | string>([...names].map((name) => model.bindingAt(name, before)?.item ?? name));
  return { cell, call, at: before, estimator, data, names, values, step: receiver.kind === 'name' ? receiver.name : null };
}

/** `StandardScaler` for a path to a stateful sklearn preprocessor, else null. */
function preprocessorName(path: string | null): string | null {
  if (!path?.startsWith('sklearn.')) return null;
  const segments = path.split('.');
  const name = segments.at(-1)!;
  const subpackage = STATEFUL_PREPROCESSORS.get(name);
  return subpackage && segments[1] === subpackage ? name : null;
}

function splitOf(model: NotebookModel, cell: number, call: CallFact, at: Position): Split | null {
  const path = model.calleePath(call, at);
  const isMethod = call.callee.kind === 'attribute' && (call.callee.name === 'split' || call.callee.name === 'fit');
  if (!path?.startsWith('sklearn.') && !isMethod) return null;
  const positional = call.args.filter((a) => !a.keyword && !a.star);
  const before = statementStart(model, cell, call);
  if (path?.startsWith('sklearn.')) {
    const name = path.slice(path.lastIndexOf('.') + 1);
    if (name === 'train_test_split') return { cell, call, at: before, label: name, crossValidation: false, data: positional };
    if (CROSS_VALIDATION.has(name)) {
      const data = positional[1] ?? call.args.find((a) => a.keyword === 'X');
      return data ? { cell, call, at: before, label: name, crossValidation: true, data: [data] } : null;
    }
    return null;
  }
  // `search.fit(X, y)` on a GridSearchCV and friends: cross-validation on X.
  if (call.callee.kind === 'attribute' && call.callee.name === 'fit') {
    const search = model.constructedBy(call.callee.object, at);
    const name = search?.startsWith('sklearn.') ? search.slice(search.lastIndexOf('.') + 1) : '';
    if (!SEARCHES.has(name)) return null;
    const data = positional[0] ?? call.args.find((a) => a.keyword === 'X');
    return data ? { cell, call, at: before, label: `${name}.fit`, crossValidation: true, data: [data] } : null;
  }
  // `kf.split(X, y)` on a scikit-learn splitter.
  if (call.callee.kind === 'attribute') {
    const splitter = model.constructedBy(call.callee.object, at);
    if (!splitter?.startsWith('sklearn.model_selection.')) return null;
    const name = splitter.slice(splitter.lastIndexOf('.') + 1);
    if (!/(Fold|Split|Out)$/.test(name)) return null;
    const data = positional[0] ?? call.args.find((a) => a.keyword === 'X');
    return data ? { cell, call, at: before, label: `${name}.split`, crossValidation: true, data: [data] } : null;
  }
  return null;
}

/**
 * The first split after the fit whose data derives from the fitted data, when the fitted step
 * reaches that split: the split data went through it, or it is used after the split, or its
 * output replaced columns in place (`X[cols] = scaler.fit_transform(X[cols])`).
 */
function laterSplitOf(model: NotebookModel, fit: Fit, splits: Split[]): Split | null {
  const fitEnd = { cell: fit.cell, offset: fit.call.span.to };
  const outputs = outputBindings(model, fit);
  const inPlace = fit.call.callee.kind === 'attribute' && fit.call.callee.name === 'fit_transform' && !outputs.size && !nestedInCall(model, fit) && inAssignment(model, fit);
  // What carries the fitted step: its outputs, and the step itself (the value it has at the fit).
  const marks = new Set<Binding | string>(outputs);
  if (fit.step) marks.add(model.bindingAt(fit.step, fit.at)?.item ?? fit.step);
  for (const split of splits) {
    if (comparePositions(fitEnd, { cell: split.cell, offset: split.call.span.to }) > 0) continue;
    const derived = new Set<Binding | string>();
    for (const arg of split.data) for (const name of namesIn(model, arg.value, split.at)) derivedValues(model, name, split.at, derived);
    if (![...fit.values].some((v) => derived.has(v))) continue;
    const reaches = [...marks].some((m) => derived.has(m));
    // Cross-validation leaks only through data that went through the step; a train/test split
    // also when the step is used on the split parts afterwards.
    if (split.crossValidation ? reaches || inPlace : reaches || inPlace || usedAfter(model, fit, split)) return split;
  }
  return null;
}

/**
 * The values a name's value at `at` was computed from, transitively: the bindings (and, for
 * names bound nowhere before, the names) it depends on, following each name to the binding it
 * had where it was read.
 */
function derivedValues(model: NotebookModel, name: string, at: Position, into: Set<Binding | string>): void {
  const queue: Array<{ name: string; at: Position }> = [{ name, at }];
  const seen = new Set<Binding>();
  while (queue.length) {
    const next = queue.pop()!;
    const binding = model.bindingAt(next.name, next.at);
    if (!binding) {
      into.add(next.name);
      continue;
    }
    if (seen.has(binding.item)) continue;
    seen.add(binding.item);
    into.add(binding.item);
    const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
    for (const source of binding.item.dependsOn) queue.push({ name: source, at: bindingAt });
  }
}

/** Bindings (at module level, in the fit's cell) of a value that contains the fit call. */
function outputBindings(model: NotebookModel, fit: Fit): Set<Binding> {
  const bindings = new Set<Binding>();
  for (const binding of model.cells[fit.cell]!.facts!.bindings) {
    const value = binding.value ?? binding.unpacked?.value;
    if (binding.timing === 'immediate' && value && contains(value.span, fit.call.span)) bindings.add(binding);
  }
  return bindings;
}

/** The fit is in an assignment (`df[cols] = scaler.fit_transform(df[cols])`, maybe in a loop), not a bare expression shown as output. */
function inAssignment(model: NotebookModel, fit: Fit): boolean {
  const statement = model.cells[fit.cell]!.facts!.statements.find((s) => contains(s.span, fit.call.span));
  return !!statement && statement.kind !== 'expression';
}

/** The fit is an argument of another call (`plt.scatter(*pca.fit_transform(X).T)`). */
function nestedInCall(model: NotebookModel, fit: Fit): boolean {
  return model.cells[fit.cell]!.facts!.calls.some((c) => c !== fit.call && contains(c.argsSpan, fit.call.span));
}

/** The fitted step (the same binding of its name) is read after the split. */
function usedAfter(model: NotebookModel, fit: Fit, split: Split): boolean {
  if (!fit.step) return false;
  const fitted = model.bindingAt(fit.step, fit.at);
  const splitEnd = { cell: split.cell, offset: split.call.span.to };
  for (const { cell, facts } of model.codeCells()) {
    if (cell < split.cell) continue;
    for (const use of facts.uses) {
      if (use.name !== fit.step) continue;
      const at = { cell, offset: use.span.from };
      if (comparePositions(at, splitEnd) > 0 && model.bindingAt(fit.step, at) === fitted) return true;
    }
  }
  return false;
}

// ---- test splits --------------------------------------------------------------------------

/** The test part of a split the fitted data is (derived from), with where it was bound. */
function testSplitIn(model: NotebookModel, fit: Fit): { name: string; cell: number; offset: number } | null {
  for (const name of fit.names) {
    for (const source of model.derivedFrom(name, fit.at)) {
      const binding = model.bindingAt(source, fit.at);
      if (binding && isTestPart(model, binding)) return { name: source, cell: binding.cell, offset: binding.item.span.from };
    }
  }
  return null;
}

/** An odd position of `X_train, X_test, y_train, y_test = train_test_split(...)`. */
function isTestPart(model: NotebookModel, binding: Located<Binding>): boolean {
  const unpacked = binding.item.unpacked;
  if (!unpacked || unpacked.of < 2 || unpacked.of % 2 !== 0 || unpacked.index % 2 !== 1) return false;
  if (unpacked.value.kind !== 'call') return false;
  const path = model.calleePath(unpacked.value.call, { cell: binding.cell, offset: binding.item.span.from });
  return !!path?.startsWith('sklearn.') && path.endsWith('.train_test_split');
}

// ---- helpers ------------------------------------------------------------------------------

/**
 * Where the statement holding a call starts, when the call is (inside) the value of a
 * module-level assignment: the names it reads have their values from before the assignment.
 */
function statementStart(model: NotebookModel, cell: number, call: CallFact): Position {
  let offset = call.span.from;
  for (const binding of model.cells[cell]!.facts!.bindings) {
    const value = binding.value ?? binding.unpacked?.value;
    if (binding.timing === 'immediate' && value && contains(value.span, call.span)) offset = Math.min(offset, binding.span.from);
  }
  return { cell, offset };
}

/** Global names (not modules or builtins) an expression reads its data from. */
function namesIn(model: NotebookModel, expr: Expr, at: Position, into = new Set<string>()): Set<string> {
  switch (expr.kind) {
    case 'name':
      if (!model.resolve(expr, at)) into.add(expr.name);
      break;
    case 'attribute':
    case 'subscript':
      namesIn(model, expr.object, at, into);
      break;
    case 'call':
      // `X.fillna(0)` reads X; `np.log1p(X)` reads X (np resolves to a module).
      if (expr.call.callee.kind === 'attribute') namesIn(model, expr.call.callee.object, at, into);
      for (const arg of expr.call.args) namesIn(model, arg.value, at, into);
      break;
    case 'binary':
      namesIn(model, expr.left, at, into);
      namesIn(model, expr.right, at, into);
      break;
    case 'sequence':
      for (const item of expr.items) namesIn(model, item, at, into);
      break;
    default:
      break;
  }
  return into;
}

function contains(outer: { from: number; to: number }, inner: { from: number; to: number }): boolean {
  return outer.from <= inner.from && inner.to <= outer.to;
}

function dataText(model: NotebookModel, fit: Fit): string {
  const text = model.cells[fit.cell]!.cell.source.slice(fit.data.value.span.from, fit.data.value.span.to);
  return text.length <= 40 && !text.includes('\n') ? `\`${text}\`` : `\`${[...fit.names][0]!}\``;
}

function where(context: RuleContext, cell: number, offset: number): string {
  if (context.target.kind === 'notebook') return `cell ${cellNumber(cell)}`;
  return `line ${lineOfOffset(context.model.cells[cell]!.cell.source, offset) + 1}`;
}
