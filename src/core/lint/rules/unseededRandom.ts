/**
 * `unseeded-random`: randomness whose seed is not fixed, so every run gives different numbers
 * (splits, initial weights, shuffles) and the saved results cannot be reproduced.
 *
 * Three kinds of call:
 * - functions of a global generator (`random.shuffle`, `np.random.rand`, `torch.randn`,
 *   `tf.random.uniform`) with no seed call before them in notebook order;
 * - independent generators built without a seed (`np.random.default_rng()`, `random.Random()`);
 * - scikit-learn objects and pandas' `sample` that take a `random_state` and were not given one.
 *   With `random_state=None` they draw from NumPy's global generator, so `np.random.seed` above
 *   also fixes them.
 *
 * A seed counts when it runs before the call: earlier in notebook order at module level, or
 * through a helper function (`def set_seed(): ...`) called earlier, or earlier in the same
 * function as the call.
 */
import type { ArgFact, Binding, CallFact, CellFacts, Expr, Span } from '../python/analyze';
import { comparePositions, type NotebookModel, type Position } from '../model';
import type { Fix, Rule, RuleContext, TextEdit } from '../rule';
import {
  NUMPY_LEGACY_FUNCTIONS,
  type RandomStateCondition,
  type RngFamily,
  SEEDERS,
  SKLEARN_RANDOM_STATE,
  SKLEARN_UTILS_ONLY,
  STDLIB_RANDOM_FUNCTIONS,
  TF1_RANDOM_FUNCTIONS,
  TF_RANDOM_FUNCTIONS,
  TORCH_RANDOM_FUNCTIONS,
  UNSEEDED_GENERATOR_CONSTRUCTORS,
} from './randomnessCatalog';

const FAMILY_ORDER: readonly RngFamily[] = ['random', 'numpy', 'torch', 'tensorflow'];

const LIBRARY_NAMES: Record<RngFamily, string> = {
  random: "Python's",
  numpy: "NumPy's",
  torch: "PyTorch's",
  tensorflow: "TensorFlow's",
};

export const unseededRandom: Rule = {
  id: 'unseeded-random',
  defaultSeverity: 'warning',
  summary: 'Random numbers, shuffles or splits with no fixed seed.',
  help: 'Seed the global generators once at the top (random.seed(0), np.random.seed(0), torch.manual_seed(0)), pass random_state=0 to scikit-learn and pandas, and give generators a seed (np.random.default_rng(0)).',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model } = context;
    const kind = context.target.kind;
    // Built only when some draw needs judging: most notebooks have none.
    let seeds: SeedIndex | undefined;
    const seeded = (family: RngFamily, cell: number, call: CallFact): boolean => (seeds ??= new SeedIndex(model, kind)).seeded(family, cell, call);
    const globalHits: Array<{ cell: number; span: Span; family: RngFamily; message: string }> = [];
    for (const { cell } of model.codeCells()) {
      // What each call is depends on its cell and the names it reads: kept per cell across edits
      // of other cells. Whether a seed runs before it is judged here, over the whole notebook.
      for (const draw of model.perCell(`unseeded-random:${kind}`, cell, (facts) => drawsIn(context, cell, facts))) {
        if (draw.kind === 'report') context.report(draw.finding);
        else if (draw.kind === 'global') {
          if (!seeded(draw.family, cell, draw.call)) globalHits.push({ cell, span: draw.call.span, family: draw.family, message: draw.message });
        } else if (!seeded('numpy', cell, draw.call)) context.report(draw.finding);
      }
    }
    if (!globalHits.length) return;
    // One fix for all of them: a seed for each library used unseeded, before the first code cell.
    const families = FAMILY_ORDER.filter((f) => globalHits.some((h) => h.family === f));
    const fix = seedFix(context, families);
    for (const hit of globalHits) context.report({ cell: hit.cell, span: hit.span, message: hit.message, fixes: fix ? [fix] : [] });
  },
};

type Reported = Parameters<RuleContext['report']>[0];

/**
 * A cell's calls that draw random numbers: reported as they are (`report`), or once it is known
 * whether a seed runs before them (`global`: a global generator's function; `random-state`: no
 * random_state, which NumPy's global seed also fixes).
 */
type Draw =
  | { kind: 'report'; finding: Reported }
  | { kind: 'global'; call: CallFact; family: RngFamily; message: string }
  | { kind: 'random-state'; call: CallFact; finding: Reported };

function drawsIn(context: RuleContext, cell: number, facts: CellFacts): Draw[] {
  const { model } = context;
  const draws: Draw[] = [];
  const source = facts.source;
  const collecting: RuleContext = { ...context, report: (finding) => draws.push({ kind: 'report', finding }) };
  for (const call of facts.calls) {
    const at = { cell, offset: call.span.from };
    const path = model.calleePath(call, at);
    const global = globalGeneratorUse(call, path, source);
    if (global) {
      draws.push({ kind: 'global', call, family: global.family, message: global.message(context.target.kind) });
      continue;
    }
    if (path && UNSEEDED_GENERATOR_CONSTRUCTORS.has(path)) {
      reportUnseededGenerator(collecting, cell, call, path, source);
      continue;
    }
    const randomState = randomStateUse(model, call, path, at, source);
    if (randomState && !shownOnly(facts, call, path)) {
      const fix = randomStateFix(cell, call, randomState.explicitNone, source);
      draws.push({ kind: 'random-state', call, finding: { cell, span: call.span, message: randomState.message, fixes: fix ? [fix] : [] } });
    }
  }
  return draws;
}

// ---- global generators -------------------------------------------------------------------

interface GlobalUse {
  family: RngFamily;
  message(kind: RuleContext['target']['kind']): string;
}

function globalGeneratorUse(call: CallFact, path: string | null, source: string): GlobalUse | null {
  if (!path) return null;
  const name = displayName(call, path, source);
  const top = (kind: string): string => (kind === 'notebook' ? 'at the top of the notebook' : 'at the top of the script');
  const dot = path.lastIndexOf('.');
  const module = path.slice(0, dot);
  const fn = path.slice(dot + 1);
  if (module === 'random' && STDLIB_RANDOM_FUNCTIONS.has(fn)) {
    return {
      family: 'random',
      message: (kind) => `${name} uses Python's global random generator, which nothing seeds before this call: call \`random.seed(0)\` ${top(kind)} (or draw from a seeded \`random.Random(0)\`).`,
    };
  }
  if (module === 'numpy.random' && NUMPY_LEGACY_FUNCTIONS.has(fn)) {
    return {
      family: 'numpy',
      message: (kind) => `${name} uses NumPy's global random generator, which nothing seeds before this call: call \`np.random.seed(0)\` ${top(kind)}, or draw from a seeded generator (\`rng = np.random.default_rng(0)\`).`,
    };
  }
  const torchSeedHint = (kind: string): string => `call \`torch.manual_seed(0)\` ${top(kind)}`;
  if (module === 'torch' && TORCH_RANDOM_FUNCTIONS.has(fn) && !hasKeyword(call, 'generator')) {
    return { family: 'torch', message: (kind) => `${name} uses PyTorch's global random generator, which nothing seeds before this call: ${torchSeedHint(kind)}.` };
  }
  if (isTorchData(path, 'DataLoader') && isConstant(keywordArg(call, 'shuffle')?.value, 'True') && !hasKeyword(call, 'generator') && !hasKeyword(call, 'sampler')) {
    return {
      family: 'torch',
      message: (kind) => `${name}(shuffle=True) shuffles with PyTorch's global random generator, which nothing seeds before this call: ${torchSeedHint(kind)}, or pass \`generator=torch.Generator().manual_seed(0)\`.`,
    };
  }
  if ((isTorchData(path, 'random_split') || isTorchData(path, 'RandomSampler')) && !hasKeyword(call, 'generator')) {
    return {
      family: 'torch',
      message: (kind) => `${name} uses PyTorch's global random generator, which nothing seeds before this call: ${torchSeedHint(kind)}, or pass \`generator=torch.Generator().manual_seed(0)\`.`,
    };
  }
  const tfOp = (module === 'tensorflow.random' && TF_RANDOM_FUNCTIONS.has(fn)) || (module === 'tensorflow' && TF1_RANDOM_FUNCTIONS.has(fn));
  // An op-level seed alone makes a TensorFlow op deterministic.
  if (tfOp && !hasValue(keywordArg(call, 'seed'))) {
    return {
      family: 'tensorflow',
      message: (kind) => `${name} uses TensorFlow's global random seed, which nothing sets before this call: call \`tf.random.set_seed(0)\` ${top(kind)}, or pass seed=0.`,
    };
  }
  return null;
}

function isTorchData(path: string, name: string): boolean {
  return path.startsWith('torch.utils.data.') && path.endsWith(`.${name}`);
}

// ---- generators built without a seed ------------------------------------------------------

function reportUnseededGenerator(context: RuleContext, cell: number, call: CallFact, path: string, source: string): void {
  const positional = call.args.filter((a) => !a.keyword && !a.star);
  if (call.args.some((a) => a.star)) return;
  const seedArg = positional[0] ?? call.args.find((a) => a.keyword === 'seed' || a.keyword === 'x' || a.keyword === 'entropy');
  if (seedArg && !isConstant(seedArg.value, 'None')) return;
  // Arguments other than the seed (`RandomState(seed=None)` aside): leave them be.
  if (!seedArg && call.args.length) return;
  const short = path.slice(path.lastIndexOf('.') + 1);
  const edit: TextEdit | null = seedArg
    ? { cell, span: seedArg.value.span, text: '0' }
    : emptyParens(call, source)
      ? { cell, span: { from: call.argsSpan.from + 1, to: call.argsSpan.from + 1 }, text: '0' }
      : null;
  context.report({
    cell,
    span: call.span,
    message: `${displayName(call, path, source)}${seedArg ? ' with seed None' : '()'} without a seed starts from fresh OS entropy on every run: pass a seed, e.g. \`${short}(0)\`.`,
    fixes: edit ? [{ title: `Seed it: ${short}(0)`, edits: [edit], preferred: true }] : [],
  });
}

// ---- random_state -------------------------------------------------------------------------

interface RandomStateUse {
  message: string;
  /** The `random_state=None` argument, replaced by the fix. */
  explicitNone: ArgFact | null;
}

function randomStateUse(model: NotebookModel, call: CallFact, path: string | null, at: Position, source: string): RandomStateUse | null {
  if (call.args.some((a) => a.star === '**')) return null;
  const given = keywordArg(call, 'random_state');
  if (given && !isConstant(given.value, 'None')) return null;
  const explicitNone = given ?? null;
  const advice = 'pass random_state=0 (or any fixed integer)';
  if (path?.startsWith('sklearn.')) {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const condition = SKLEARN_RANDOM_STATE.get(name);
    if (!condition) return null;
    if (SKLEARN_UTILS_ONLY.has(name) && !path.startsWith('sklearn.utils.')) return null;
    const qualifier = randomWhen(model, call, condition, at);
    if (qualifier === null) return null;
    const state = explicitNone ? 'random_state=None' : 'no random_state';
    const verb = name === 'train_test_split' || condition === 'shuffle' || name === 'ShuffleSplit' ? 'shuffles' : 'is random';
    return { message: `\`${name}\`${qualifier} ${verb} with ${state}, so its results change on every run: ${advice}.`, explicitNone };
  }
  if (!path && isPandasSample(model, call, at)) {
    // DataFrame.sample(n, frac, replace, weights, random_state, ...): the fifth positional.
    const positional = call.args.filter((a) => !a.keyword && !a.star);
    if (call.args.some((a) => a.star) || (positional.length >= 5 && !isConstant(positional[4]!.value, 'None'))) return null;
    if (hasValue(keywordArg(call, 'seed'))) return null;
    const name = `\`${source.slice(call.callee.span.from, call.callee.span.to)}\``;
    return { message: `${name} picks random rows with ${explicitNone ? 'random_state=None' : 'no random_state'}, so it picks different ones on every run: ${advice}.`, explicitNone };
  }
  return null;
}

/** Null when the call is not random as written; else a qualifier for the message. */
function randomWhen(model: NotebookModel, call: CallFact, condition: RandomStateCondition, at: Position): string | null {
  switch (condition) {
    case 'always':
      return '';
    case 'unless-no-shuffle':
      return isConstant(keywordArg(call, 'shuffle')?.value, 'False') ? null : '';
    case 'shuffle':
      return isConstant(keywordArg(call, 'shuffle')?.value, 'True') ? '(shuffle=True)' : null;
    case 'probability':
      return isConstant(keywordArg(call, 'probability')?.value, 'True') ? '(probability=True)' : null;
    case 'dual':
      return isConstant(keywordArg(call, 'dual')?.value, 'True') ? '(dual=True)' : null;
    case 'solver':
    case 'ridge-solver': {
      const solver = stringArg(model, call, 'solver', at);
      const random = condition === 'solver' ? ['sag', 'saga', 'liblinear'] : ['sag', 'saga'];
      return solver !== null && random.includes(solver) ? ` with solver '${solver}'` : null;
    }
    case 'svd-solver': {
      const solver = stringArg(model, call, 'svd_solver', at);
      return solver === 'randomized' || solver === 'arpack' ? ` with svd_solver '${solver}'` : null;
    }
    case 'selection':
      return stringArg(model, call, 'selection', at) === 'random' ? "(selection='random')" : null;
    case 'init-array':
      return kmeansInitIsRandom(model, call, at) ? '' : null;
  }
}

/**
 * KMeans draws its starting centres unless `init` is an array of them (`init=X[:3]`,
 * `init=np.array(...)`, a name holding one): 'k-means++' (the default), 'random' and a callable
 * (given the random state) are random. A value that cannot be told is taken for an array, the
 * only other thing `init` accepts.
 */
function kmeansInitIsRandom(model: NotebookModel, call: CallFact, at: Position): boolean {
  const positional = call.args.filter((a) => !a.keyword && !a.star);
  // KMeans(n_clusters=8, *, init=...): init is keyword-only since scikit-learn 1.0, second before.
  const init = keywordArg(call, 'init') ?? positional[1];
  if (!init || isConstant(init.value, 'None')) return true;
  if (model.stringValue(init.value, at) !== null) return true;
  if (init.value.kind === 'name') {
    const binding = model.bindingAt(init.value.name, at) ?? model.bindingsOf(init.value.name).at(-1);
    if (binding && (binding.item.kind === 'def' || binding.item.kind === 'import')) return true;
  }
  if (init.value.kind === 'attribute' && model.resolve(init.value, at)) return true;
  return false;
}

/**
 * An estimator or splitter built only to be shown (`LogisticRegression(solver="liblinear")` as
 * a cell's whole statement, displaying its parameters): nothing is fit or split with it, so
 * nothing is drawn.
 */
function shownOnly(facts: CellFacts, call: CallFact, path: string | null): boolean {
  const name = path?.slice(path.lastIndexOf('.') + 1) ?? '';
  if (!/^[A-Z]/.test(name)) return false;
  return facts.statements.some((s) => s.kind === 'expression' && s.call === call.index);
}

/** Libraries whose objects have a `.sample` that is not pandas'. */
const NON_PANDAS_SAMPLERS = ['random.', 'numpy.', 'torch.', 'tensorflow.', 'jax.', 'scipy.', 'pyspark.', 'polars.', 'secrets.'];

/** `<frame>.sample(...)`: a method call on a value, in a notebook that uses pandas. */
function isPandasSample(model: NotebookModel, call: CallFact, at: Position): boolean {
  if (call.callee.kind !== 'attribute' || call.callee.name !== 'sample') return false;
  const receiver = call.callee.object;
  if (model.resolve(receiver, at)) return false;
  const made = model.constructedBy(receiver, at);
  if (made) return made.startsWith('pandas.') || (!NON_PANDAS_SAMPLERS.some((prefix) => made.startsWith(prefix)) && usesPandasOnly(model));
  return usesPandasOnly(model);
}

/** The notebook imports pandas, and no other dataframe library with a `.sample(seed=)`. */
function usesPandasOnly(model: NotebookModel): boolean {
  let pandas = false;
  for (const { item } of model.imports()) {
    const root = item.module.split('.')[0];
    if (root === 'pyspark' || root === 'polars' || root === 'dask') return false;
    if (root === 'pandas' || root === 'modin') pandas = true;
  }
  return pandas;
}

function randomStateFix(cell: number, call: CallFact, explicitNone: ArgFact | null, source: string): Fix | null {
  const title = 'Pass random_state=0';
  if (explicitNone) return { title, edits: [{ cell, span: explicitNone.value.span, text: '0' }], preferred: true };
  const last = call.args.at(-1);
  if (last) return { title, edits: [{ cell, span: { from: last.span.to, to: last.span.to }, text: ', random_state=0' }], preferred: true };
  // `f(x for x in xs)` has no ArgFacts but is not empty.
  if (!emptyParens(call, source)) return null;
  const inside = call.argsSpan.from + 1;
  return { title, edits: [{ cell, span: { from: inside, to: inside }, text: 'random_state=0' }], preferred: true };
}

// ---- seeds --------------------------------------------------------------------------------

/**
 * A top-level statement holding code that runs later: a `def` or `class` (with its decorators),
 * or a statement with a lambda in it. Its code runs when a name it binds is used.
 */
interface Definition {
  key: string;
  cell: number;
  span: Span;
  /** The global names the statement binds (the function or class; `f` of `f = lambda: ...`). */
  bindings: Binding[];
}

interface SeedEvent {
  cell: number;
  offset: number;
  families: ReadonlySet<RngFamily>;
  /** For a seed inside a definition: that definition, which it seeds from there on. */
  within: Definition | null;
}

/**
 * When a definition's code first runs: at `at` (module level), through `chain` — the
 * definitions whose code calls it on the way, each with the offset of that call.
 */
interface Run {
  at: Position;
  chain: Array<{ definition: Definition; offset: number }>;
}

/**
 * Where each global generator gets seeded: module-level seed calls, calls of functions that
 * seed (`def set_seed(s): random.seed(s); np.random.seed(s)`), and seeds inside a function for
 * the rest of that function. A draw inside a function is judged where the function first runs
 * (where its name is first used at module level, directly or through other functions), so a seed
 * set after the `def` but before the call covers it.
 */
class SeedIndex {
  private readonly events: SeedEvent[] = [];
  private readonly definitions = new Map<string, Definition | null>();
  private readonly runs = new Map<string, Run | null>();

  constructor(
    private readonly model: NotebookModel,
    private readonly kind: RuleContext['target']['kind'],
  ) {
    // Functions that seed, found to a fixed point so helpers calling helpers count.
    const seeding = new Map<Binding, Set<RngFamily>>();
    const located: Array<{ cell: number; call: CallFact; at: Position; within: Definition | null }> = [];
    for (const { cell, call, at } of model.calls()) located.push({ cell, call, at, within: call.timing === 'deferred' ? this.definitionAt(cell, call.span.from) : null });
    const familiesOf = (entry: (typeof located)[number]): ReadonlySet<RngFamily> | undefined => {
      const path = model.calleePath(entry.call, entry.at);
      const direct = path ? SEEDERS.get(path) : undefined;
      if (direct) return hasSeedArgument(entry.call) ? new Set(direct) : undefined;
      const helper = helperCalled(model, entry.call, entry.at);
      return helper ? seeding.get(helper) : undefined;
    };
    for (let round = 0; round < 4; round++) {
      let changed = false;
      for (const entry of located) {
        if (!entry.within) continue;
        const families = familiesOf(entry);
        if (!families?.size) continue;
        for (const binding of entry.within.bindings) {
          if (binding.kind !== 'def') continue;
          const into = seeding.get(binding) ?? new Set<RngFamily>();
          const before = into.size;
          for (const f of families) into.add(f);
          seeding.set(binding, into);
          changed ||= into.size !== before;
        }
      }
      if (!changed) break;
    }
    for (const entry of located) {
      const families = familiesOf(entry);
      if (families?.size) this.events.push({ cell: entry.cell, offset: entry.call.span.from, families, within: entry.within });
    }
  }

  /**
   * Whether `family` is seeded before `call` runs. A draw in a function that this file never
   * runs: in a notebook it is judged at the `def` (a later cell will call it); a script's
   * functions that nothing in it calls are a module's, run by whoever imports it, which seeds.
   */
  seeded(family: RngFamily, cell: number, call: CallFact): boolean {
    const at = { cell, offset: call.span.from };
    const topLevel = (event: SeedEvent, before: Position): boolean => event.within === null && comparePositions(event, before) < 0;
    const has = (event: SeedEvent): boolean => event.families.has(family);
    if (call.timing === 'immediate') return this.events.some((e) => has(e) && topLevel(e, at));
    const definition = this.definitionAt(cell, call.span.from);
    if (!definition) return this.events.some((e) => has(e) && topLevel(e, at));
    // Earlier in the same function.
    if (this.events.some((e) => has(e) && e.within === definition && e.cell === cell && e.offset < call.span.from)) return true;
    const run = this.firstRun(definition, new Set());
    if (!run) return this.kind === 'script' || this.events.some((e) => has(e) && topLevel(e, at));
    if (this.events.some((e) => has(e) && topLevel(e, run.at))) return true;
    // Seeded by the function that calls it, before the call.
    return run.chain.some((link) => this.events.some((e) => has(e) && e.within === link.definition && e.offset < link.offset));
  }

  /** The top-level statement holding deferred code at `offset`, when it is one. */
  private definitionAt(cell: number, offset: number): Definition | null {
    const facts = this.model.cells[cell]?.facts;
    const statement = facts?.statements.find((s) => s.span.from <= offset && offset < s.span.to);
    if (!facts || !statement) return null;
    const key = `${cell}:${statement.span.from}`;
    let definition = this.definitions.get(key);
    if (definition === undefined) {
      const bindings = facts.bindings.filter((b) => b.timing === 'immediate' && statement.span.from <= b.span.from && b.span.to <= statement.span.to);
      definition = { key, cell, span: statement.span, bindings };
      this.definitions.set(key, definition);
    }
    return definition;
  }

  /** The first time a definition's code can run (see `Run`); null when nothing here runs it. */
  private firstRun(definition: Definition, visiting: Set<string>): Run | null {
    const known = this.runs.get(definition.key);
    if (known !== undefined) return known;
    if (visiting.has(definition.key)) return null;
    visiting.add(definition.key);
    let best: Run | null = null;
    const consider = (run: Run): void => {
      if (!best || comparePositions(run.at, best.at) < 0) best = run;
    };
    const start = { cell: definition.cell, offset: definition.span.from };
    // A lambda handed to something (`ds.map(lambda x: ...)`) runs from its statement on.
    if (!definition.bindings.length) consider({ at: start, chain: [] });
    const names = new Set(definition.bindings.map((b) => b.name));
    for (const { cell, facts } of this.model.codeCells()) {
      for (const use of facts.uses) {
        if (!names.has(use.name)) continue;
        const at = { cell, offset: use.span.from };
        // Its own body (recursion), and uses above the definition (hidden state), do not run it.
        if (cell === definition.cell && definition.span.from <= use.span.from && use.span.from < definition.span.to) continue;
        if (comparePositions(at, start) < 0) continue;
        if (use.timing === 'immediate') {
          consider({ at, chain: [] });
          continue;
        }
        const caller = this.definitionAt(cell, use.span.from);
        const callerRun = caller && caller.key !== definition.key ? this.firstRun(caller, visiting) : null;
        if (caller && callerRun) consider({ at: callerRun.at, chain: [...callerRun.chain, { definition: caller, offset: use.span.from }] });
      }
    }
    visiting.delete(definition.key);
    // Cache only results not cut short by a cycle.
    if (!visiting.size) this.runs.set(definition.key, best);
    return best;
  }
}

/** A seed call needs a seed: `random.seed()` and `np.random.seed()` seed from the clock or the OS. */
function hasSeedArgument(call: CallFact): boolean {
  return call.args.some((a) => a.star || !isConstant(a.value, 'None'));
}

/** The module-level function a call calls, when it is a name bound by `def`. */
function helperCalled(model: NotebookModel, call: CallFact, at: Position): Binding | undefined {
  if (call.callee.kind !== 'name') return undefined;
  const binding = model.bindingAt(call.callee.name, at) ?? (call.timing === 'deferred' ? model.bindingsOf(call.callee.name).at(-1) : undefined);
  return binding?.item.kind === 'def' ? binding.item : undefined;
}

// ---- the seed cell fix --------------------------------------------------------------------

interface SeedLine {
  /** The import it needs, as the name it binds and the path that name refers to. */
  bound: string;
  path: string;
  importLine: string;
  seedLine: string;
}

function seedLines(model: NotebookModel, families: readonly RngFamily[]): SeedLine[] {
  return families.map((family) => {
    switch (family) {
      case 'random':
        return nameFree(model, 'random', 'random')
          ? { bound: 'random', path: 'random', importLine: 'import random', seedLine: 'random.seed(0)' }
          : { bound: 'stdlib_random', path: 'random', importLine: 'import random as stdlib_random', seedLine: 'stdlib_random.seed(0)' };
      case 'numpy':
        return preferAlias(model, 'numpy', 'np')
          ? { bound: 'np', path: 'numpy', importLine: 'import numpy as np', seedLine: 'np.random.seed(0)' }
          : { bound: 'numpy', path: 'numpy', importLine: 'import numpy', seedLine: 'numpy.random.seed(0)' };
      case 'torch':
        return { bound: 'torch', path: 'torch', importLine: 'import torch', seedLine: 'torch.manual_seed(0)' };
      case 'tensorflow':
        return preferAlias(model, 'tensorflow', 'tf')
          ? { bound: 'tf', path: 'tensorflow', importLine: 'import tensorflow as tf', seedLine: 'tf.random.set_seed(0)' }
          : { bound: 'tensorflow', path: 'tensorflow', importLine: 'import tensorflow', seedLine: 'tensorflow.random.set_seed(0)' };
    }
  });
}

/** `name` is unbound, or bound only by imports of `path`. */
function nameFree(model: NotebookModel, name: string, path: string): boolean {
  const imports = [...model.imports()].filter(({ item }) => item.bound === name);
  return model.bindingsOf(name).every((b) => b.item.kind === 'import') && imports.every(({ item }) => item.path === path);
}

/** Use the conventional alias unless the notebook imports the module under another name only. */
function preferAlias(model: NotebookModel, module: string, alias: string): boolean {
  if (!nameFree(model, alias, module)) return false;
  const aliases = new Set([...model.imports()].filter(({ item }) => item.path === module).map(({ item }) => item.bound));
  return aliases.size === 0 || aliases.has(alias);
}

function seedFix(context: RuleContext, families: readonly RngFamily[]): Fix | null {
  const { model } = context;
  const lines = seedLines(model, families);
  const names = families.map((f) => LIBRARY_NAMES[f].replace("'s", '')).join(', ');
  if (context.target.kind === 'notebook') {
    const first = model.codeCells()[0];
    if (!first) return null;
    const source = `${lines.map((l) => l.importLine).join('\n')}\n\n${lines.map((l) => l.seedLine).join('\n')}`;
    return { title: `Add a seed cell at the top (${names})`, edits: [], insertCells: [{ at: first.cell, source }] };
  }
  const edit = scriptSeedEdit(model, lines);
  return edit ? { title: `Seed ${names} at the top of the script`, edits: [edit] } : null;
}

/** Seed lines after the script's leading imports (or its docstring), importing what is missing. */
function scriptSeedEdit(model: NotebookModel, lines: SeedLine[]): TextEdit | null {
  const facts = model.cells[0]?.facts;
  if (!facts) return null;
  const source = facts.source;
  const comments = facts.comments.map((c) => c.span);
  let cursor = skipTrivia(source, 0, comments);
  let afterDocstring = false;
  const docstring = facts.strings.find((s) => s.span.from === cursor);
  if (docstring && atLineEnd(source, docstring.span.to, comments)) {
    cursor = docstring.span.to;
    afterDocstring = true;
  }
  let importsEnd: number | null = null;
  const present: Array<{ bound: string; path: string }> = [];
  const statements = [...new Map(facts.imports.filter((i) => i.timing === 'immediate').map((i) => [i.statementSpan.from, i.statementSpan])).values()].sort((a, b) => a.from - b.from);
  for (const statement of statements) {
    if (skipTrivia(source, cursor, comments) !== statement.from) break;
    cursor = importsEnd = statement.to;
    for (const item of facts.imports) if (item.statementSpan.from === statement.from) present.push({ bound: item.bound, path: item.path });
  }
  const anchor = importsEnd ?? (afterDocstring ? cursor : null);
  let at = 0;
  if (anchor !== null) {
    const newline = source.indexOf('\n', anchor);
    at = newline === -1 ? source.length : newline + 1;
  }
  const missing = lines.filter((l) => !present.some((p) => p.bound === l.bound && p.path === l.path)).map((l) => `${l.importLine}\n`);
  let text = (importsEnd === null && anchor !== null ? '\n' : '') + missing.join('') + (missing.length || importsEnd !== null ? '\n' : '') + lines.map((l) => `${l.seedLine}\n`).join('');
  if (at === source.length && source.length && !source.endsWith('\n')) text = `\n${text}`;
  if (at < source.length && source[at] !== '\n' && source[at] !== '\r') text += '\n';
  return { cell: 0, span: { from: at, to: at }, text };
}

function skipTrivia(source: string, from: number, comments: Span[]): number {
  let i = from;
  for (;;) {
    while (i < source.length && (source[i] === ' ' || source[i] === '\t' || source[i] === '\n' || source[i] === '\r' || source[i] === '\f')) i++;
    const comment = comments.find((c) => c.from === i);
    if (!comment) return i;
    i = comment.to;
  }
}

function atLineEnd(source: string, offset: number, comments: Span[]): boolean {
  let i = offset;
  while (i < source.length && (source[i] === ' ' || source[i] === '\t')) i++;
  if (comments.some((c) => c.from === i)) return true;
  return i >= source.length || source[i] === '\n' || source[i] === '\r';
}

// ---- helpers ------------------------------------------------------------------------------

function keywordArg(call: CallFact, keyword: string): ArgFact | undefined {
  return call.args.find((a) => a.keyword === keyword);
}

function hasKeyword(call: CallFact, keyword: string): boolean {
  return hasValue(keywordArg(call, keyword));
}

/** Passed, and not `None`. */
function hasValue(arg: ArgFact | undefined): boolean {
  return !!arg && !isConstant(arg.value, 'None');
}

function isConstant(expr: Expr | undefined, value: 'True' | 'False' | 'None'): boolean {
  return expr?.kind === 'constant' && expr.value === value;
}

function stringArg(model: NotebookModel, call: CallFact, keyword: string, at: Position): string | null {
  const arg = keywordArg(call, keyword);
  return arg ? model.stringValue(arg.value, at) : null;
}

function emptyParens(call: CallFact, source: string): boolean {
  return call.argsSpan.to - call.argsSpan.from >= 2 && !source.slice(call.argsSpan.from + 1, call.argsSpan.to - 1).trim();
}

/** How the message names the function: as written, with the full path when written bare. */
function displayName(call: CallFact, path: string, source: string): string {
  const written = source.slice(call.callee.span.from, call.callee.span.to);
  return call.callee.kind === 'name' && written !== path ? `\`${written}\` (\`${path}\`)` : `\`${written}\``;
}
