/**
 * The cross-cell dataflow model of a notebook (a script is a notebook of one cell): every code
 * cell's facts, and the questions that need more than one cell — what an import alias refers to
 * at a point, what value a name holds there, which names a value was derived from, and the
 * dotted path a call resolves to (`np.random.rand` → `numpy.random.rand`).
 *
 * Order is notebook order: top to bottom, then offset within the cell. That is the order of a
 * clean "Run All", the only one that reproduces.
 *
 * Cell analyses are cached by source text, so a model rebuilt after one cell changed re-parses
 * only that cell; built on the previous model of the same notebook, it also keeps the per-name
 * lists and the per-cell pieces that the edit did not touch (see `perCell`). The scaffolding of
 * production code reads this model too.
 */
import { analyzeCell, type Binding, type CallFact, type CellFacts, type Expr, type ImportFact } from './python/analyze';

export interface SourceCell {
  /** Position in the notebook (markdown cells included). */
  index: number;
  kind: 'code' | 'markdown' | 'raw';
  source: string;
  /** The `[n]` beside the cell; null when it never ran (or outputs were cleared). */
  executionCount: number | null;
  /** The nbformat 4.5 cell id, when the notebook has them (reports name the cell with it). */
  id?: string | null;
}

export interface Position {
  cell: number;
  offset: number;
}

export interface ModelCell {
  cell: SourceCell;
  /** Null for markdown and raw cells. */
  facts: CellFacts | null;
}

export interface Located<T> {
  cell: number;
  item: T;
}

/** Python's builtins, and the names IPython puts in a notebook's namespace. */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set([
  'abs', 'aiter', 'all', 'anext', 'any', 'ascii', 'bin', 'bool', 'breakpoint', 'bytearray', 'bytes', 'callable', 'chr',
  'classmethod', 'compile', 'complex', 'copyright', 'credits', 'delattr', 'dict', 'dir', 'divmod', 'enumerate', 'eval',
  'exec', 'exit', 'filter', 'float', 'format', 'frozenset', 'getattr', 'globals', 'hasattr', 'hash', 'help', 'hex', 'id',
  'input', 'int', 'isinstance', 'issubclass', 'iter', 'len', 'license', 'list', 'locals', 'map', 'max', 'memoryview',
  'min', 'next', 'object', 'oct', 'open', 'ord', 'pow', 'print', 'property', 'quit', 'range', 'repr', 'reversed',
  'round', 'set', 'setattr', 'slice', 'sorted', 'staticmethod', 'str', 'sum', 'super', 'tuple', 'type', 'vars', 'zip',
  '__import__', '__name__', '__doc__', '__file__', '__builtins__', '__spec__', '__loader__', '__package__', '__debug__',
  'NotImplemented', 'Ellipsis', 'True', 'False', 'None',
  'BaseException', 'BaseExceptionGroup', 'Exception', 'ExceptionGroup', 'ArithmeticError', 'AssertionError',
  'AttributeError', 'BlockingIOError', 'BrokenPipeError', 'BufferError', 'BytesWarning', 'ChildProcessError',
  'ConnectionAbortedError', 'ConnectionError', 'ConnectionRefusedError', 'ConnectionResetError', 'DeprecationWarning',
  'EOFError', 'EncodingWarning', 'EnvironmentError', 'FileExistsError', 'FileNotFoundError', 'FloatingPointError',
  'FutureWarning', 'GeneratorExit', 'IOError', 'ImportError', 'ImportWarning', 'IndentationError', 'IndexError',
  'InterruptedError', 'IsADirectoryError', 'KeyError', 'KeyboardInterrupt', 'LookupError', 'MemoryError',
  'ModuleNotFoundError', 'NameError', 'NotADirectoryError', 'NotImplementedError', 'OSError', 'OverflowError',
  'PendingDeprecationWarning', 'PermissionError', 'ProcessLookupError', 'RecursionError', 'ReferenceError',
  'ResourceWarning', 'RuntimeError', 'RuntimeWarning', 'StopAsyncIteration', 'StopIteration', 'SyntaxError',
  'SyntaxWarning', 'SystemError', 'SystemExit', 'TabError', 'TimeoutError', 'TypeError', 'UnboundLocalError',
  'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError', 'UnicodeTranslateError', 'UnicodeWarning', 'UserWarning',
  'ValueError', 'Warning', 'ZeroDivisionError',
  // IPython
  'display', 'get_ipython', 'In', 'Out', '_', '__', '___', '_i', '_ii', '_iii', '_oh', '_ih', '_dh',
]);

/** Source text → facts. Bounded so a long editing session does not grow it without limit. */
const analysisCache = new Map<string, CellFacts>();
const ANALYSIS_CACHE_LIMIT = 5_000;

export function cachedAnalyze(source: string): CellFacts {
  const cached = analysisCache.get(source);
  if (cached) return cached;
  const facts = analyzeCell(source);
  if (analysisCache.size >= ANALYSIS_CACHE_LIMIT) analysisCache.delete(analysisCache.keys().next().value!);
  analysisCache.set(source, facts);
  return facts;
}

/** Forget cached analyses (benchmarks measure a cold lint with it). */
export function clearAnalysisCache(): void {
  analysisCache.clear();
}

export function comparePositions(a: Position, b: Position): number {
  return a.cell - b.cell || a.offset - b.offset;
}

/**
 * Names whose bindings a per-cell piece read (see `NotebookModel.perCell`), or `GLOBAL` when it
 * read something of the whole notebook (every import, every cell).
 */
type Dependencies = Set<string>;
const GLOBAL = '\0global';
/** Pseudo-name: whether some cell does `from x import *`. */
const STAR = '\0star';

interface PieceEntry {
  facts: CellFacts;
  value: unknown;
  deps: Dependencies;
  /** The model generation that computed or last confirmed it. */
  gen: number;
}

/** Above this many changed cells a model is built from scratch (an insertion at the top moves every cell). */
const INCREMENTAL_LIMIT = 64;
let generations = 0;

/** Immediate bindings of a name, by the identity of its (unchanged, hence shared) binding list. */
const immediateOf = new WeakMap<ReadonlyArray<Located<Binding>>, Array<Located<Binding>>>();
/** Offsets of the global reads of each cell (see `isLocalRead`). */
const globalReads = new WeakMap<CellFacts, Set<number>>();

export class NotebookModel {
  private readonly cellList: readonly ModelCell[];
  private readonly importsByName: Map<string, Array<Located<ImportFact>>>;
  private readonly bindingsByName: Map<string, Array<Located<Binding>>>;
  private readonly star: boolean;
  private readonly codeCellList: Array<{ cell: number; source: SourceCell; facts: CellFacts }> = [];
  private callList: Array<{ cell: number; call: CallFact; at: Position }> | undefined;
  /**
   * Incremental state, carried from the model this one was built after (the same notebook one
   * edit ago): per-cell pieces by key, the generation, and what changed since the previous one.
   */
  private readonly pieces: Map<string, Array<PieceEntry | undefined>>;
  private readonly gen = ++generations;
  private readonly parentGen: number;
  /** Names whose binding or import list is not the previous model's (GLOBAL/STAR included when those changed). */
  private readonly changedNames: Set<string>;
  /** The dependencies being recorded (innermost piece being computed), if any. */
  private tracking: Dependencies | null = null;

  /**
   * `previous`: the model of the same notebook before an edit. Cells whose facts are unchanged
   * keep their place in the per-name lists (the lists of names no changed cell binds are the
   * previous model's, by identity), and per-cell pieces computed there stay valid when nothing
   * they read changed.
   */
  constructor(cells: readonly SourceCell[], analyze: (source: string) => CellFacts = cachedAnalyze, previous?: NotebookModel) {
    this.cellList = cells.map((cell) => ({ cell, facts: cell.kind === 'code' ? analyze(cell.source) : null }));
    let star = false;
    this.cellList.forEach(({ cell: source, facts }, cell) => {
      if (!facts) return;
      this.codeCellList.push({ cell, source, facts });
      star ||= facts.starImport;
    });
    this.star = star;
    const changed = previous ? this.changedCells(previous) : null;
    if (previous && changed && changed.length <= INCREMENTAL_LIMIT) {
      this.parentGen = previous.gen;
      this.pieces = previous.pieces;
      this.changedNames = new Set();
      this.importsByName = new Map(previous.importsByName);
      this.bindingsByName = new Map(previous.bindingsByName);
      const names = new Set<string>();
      for (const cell of changed) {
        for (const facts of [previous.cellList[cell]?.facts, this.cellList[cell]?.facts]) {
          if (!facts) continue;
          for (const item of facts.imports) if (!item.star) names.add(item.bound);
          for (const item of facts.bindings) names.add(item.name);
        }
      }
      const changedSet = new Set(changed);
      for (const name of names) {
        if (this.patch(this.importsByName, name, changed, changedSet, (facts) => facts.imports.filter((i) => !i.star && i.bound === name))) this.changedNames.add(name);
        if (this.patch(this.bindingsByName, name, changed, changedSet, (facts) => facts.bindings.filter((b) => b.name === name))) this.changedNames.add(name);
      }
      if (changed.length) this.changedNames.add(GLOBAL);
      if (star !== previous.star) this.changedNames.add(STAR);
    } else {
      this.parentGen = -1;
      this.pieces = new Map();
      this.changedNames = new Set([GLOBAL]);
      this.importsByName = new Map();
      this.bindingsByName = new Map();
      for (const { cell, facts } of this.codeCellList) {
        for (const item of facts.imports) if (!item.star) push(this.importsByName, item.bound, { cell, item });
        for (const item of facts.bindings) push(this.bindingsByName, item.name, { cell, item });
      }
    }
  }

  /** Every cell (markdown and raw included), by position. Reading it from a per-cell piece makes the piece depend on every cell. */
  get cells(): readonly ModelCell[] {
    this.tracking?.add(GLOBAL);
    return this.cellList;
  }

  /** Some cell does `from x import *`: any name may exist. */
  get hasStarImport(): boolean {
    this.tracking?.add(STAR);
    return this.star;
  }

  /**
   * A piece of derived data for one cell, computed once and kept across edits of other cells: a
   * model built after an edit (see the constructor) reuses it while the cell's facts are the same
   * and no name whose bindings `compute` read changed. `compute` must read nothing but the
   * cell's facts, this model, and constants of the lint (the key must say which: the target's
   * kind, the project's root): never the project, the interpreter or the session, which change
   * without the model knowing. Model queries are recorded as dependencies; reading `cells`,
   * `codeCells`, `imports` or `calls` depends on every cell.
   */
  perCell<T>(key: string, cell: number, compute: (facts: CellFacts) => T): T {
    const facts = this.cellList[cell]?.facts;
    if (!facts) throw new Error(`perCell: cell ${cell} is not a code cell`);
    let entries = this.pieces.get(key);
    if (!entries) this.pieces.set(key, (entries = []));
    const entry = entries[cell];
    if (entry && entry.facts === facts && (entry.gen === this.gen || (entry.gen === this.parentGen && this.stillValid(entry.deps)))) {
      entry.gen = this.gen;
      if (this.tracking) for (const dep of entry.deps) this.tracking.add(dep);
      return entry.value as T;
    }
    const outer = this.tracking;
    const deps: Dependencies = new Set();
    this.tracking = deps;
    let value: T;
    try {
      value = compute(facts);
    } finally {
      this.tracking = outer;
    }
    entries[cell] = { facts, value, deps, gen: this.gen };
    if (outer) for (const dep of deps) outer.add(dep);
    return value;
  }

  private stillValid(deps: Dependencies): boolean {
    if (this.changedNames.size < deps.size) {
      for (const name of this.changedNames) if (deps.has(name)) return false;
    } else {
      for (const name of deps) if (this.changedNames.has(name)) return false;
    }
    return true;
  }

  /** Positions whose facts differ from `previous`'s (cells added or removed at the end included). */
  private changedCells(previous: NotebookModel): number[] {
    const out: number[] = [];
    const length = Math.max(previous.cellList.length, this.cellList.length);
    for (let i = 0; i < length; i++) {
      const before = previous.cellList[i];
      const now = this.cellList[i];
      const same = before && now && before.facts === now.facts && before.cell.kind === now.cell.kind && before.cell.executionCount === now.cell.executionCount && before.cell.id === now.cell.id && before.cell.index === now.cell.index;
      if (!same) out.push(i);
      if (out.length > INCREMENTAL_LIMIT) break;
    }
    return out;
  }

  /**
   * Rebuilds one name's list in `map` from the previous list (entries of unchanged cells) and
   * the changed cells' items; keeps the previous list when it comes out the same. True when the
   * list changed.
   */
  private patch<T>(map: Map<string, Array<Located<T>>>, name: string, changed: readonly number[], changedSet: ReadonlySet<number>, itemsOf: (facts: CellFacts) => T[]): boolean {
    const old = map.get(name) ?? [];
    const fresh: Array<Located<T>> = [];
    for (const cell of changed) {
      const facts = this.cellList[cell]?.facts;
      if (facts) for (const item of itemsOf(facts)) fresh.push({ cell, item });
    }
    const list: Array<Located<T>> = [];
    let f = 0;
    for (const entry of old) {
      if (changedSet.has(entry.cell)) continue;
      while (f < fresh.length && fresh[f]!.cell < entry.cell) list.push(fresh[f++]!);
      list.push(entry);
    }
    while (f < fresh.length) list.push(fresh[f++]!);
    if (list.length === old.length && list.every((entry, i) => entry.cell === old[i]!.cell && entry.item === old[i]!.item)) return false;
    if (list.length) map.set(name, list);
    else map.delete(name);
    // A re-analysed cell has new fact objects; equal ones (the edit was elsewhere in the cell)
    // change nothing a piece could have derived from them.
    return !(list.length === old.length && list.every((entry, i) => entry.cell === old[i]!.cell && sameData(entry.item, old[i]!.item)));
  }

  /** Code cells with their facts, in notebook order. `cell` is the position in `cells`. */
  codeCells(): ReadonlyArray<{ cell: number; source: SourceCell; facts: CellFacts }> {
    this.tracking?.add(GLOBAL);
    return this.codeCellList;
  }

  /** Every binding of a global name, in notebook order (imports included). */
  bindingsOf(name: string): ReadonlyArray<Located<Binding>> {
    this.tracking?.add(name);
    return this.bindingsByName.get(name) ?? [];
  }

  /** Every import anywhere in the notebook, in order. */
  imports(): Array<Located<ImportFact>> {
    this.tracking?.add(GLOBAL);
    const out: Array<Located<ImportFact>> = [];
    for (const { cell, facts } of this.codeCellList) for (const item of facts.imports) out.push({ cell, item });
    return out;
  }

  /**
   * The import that binds `name` at `at`: the last one before it, else (hidden state: a cell
   * below was run first) the first one after it. Undefined when the name is bound by something
   * other than an import more recently than by an import.
   */
  importAt(name: string, at: Position): ImportFact | undefined {
    this.tracking?.add(name);
    const imports = this.importsByName.get(name);
    if (!imports) return undefined;
    const latest = this.latestBefore(this.bindingsOf(name), at, boundOffset);
    if (latest && latest.item.kind !== 'import') return undefined;
    const before = this.latestBefore(imports, at, (i) => i.nameSpan.from);
    return (before ?? imports[0])?.item;
  }

  /** The latest binding of `name` executed before `at` that runs immediately. */
  bindingAt(name: string, at: Position): Located<Binding> | undefined {
    const all = this.bindingsOf(name);
    let immediate = immediateOf.get(all);
    if (!immediate) {
      immediate = all.filter((b) => b.item.timing === 'immediate');
      immediateOf.set(all, immediate);
    }
    return this.latestBefore(immediate, at, boundOffset);
  }

  /**
   * The dotted path an expression refers to through imports: `np.random.rand` → `numpy.random.rand`;
   * an unbound builtin `open` → `builtins.open`. Null when the chain does not start at an import.
   */
  resolve(expr: Expr, at: Position): string | null {
    if (expr.kind === 'name') {
      const imported = this.importAt(expr.name, at);
      if (imported) return imported.path;
      if (BUILTIN_NAMES.has(expr.name) && !this.bindingsOf(expr.name).length) return `builtins.${expr.name}`;
      return null;
    }
    if (expr.kind === 'attribute') {
      const base = this.resolve(expr.object, at);
      return base ? `${base}.${expr.name}` : null;
    }
    return null;
  }

  /** The path of the function a call calls (see `resolve`). */
  calleePath(call: CallFact, at: Position): string | null {
    // Kept per cell for the call's own position, which is how rules ask: several rules, and the
    // lints after an edit elsewhere, ask for the same calls.
    const facts = this.cellList[at.cell]?.facts;
    if (at.offset !== call.span.from || facts?.calls[call.index] !== call) return this.resolve(call.callee, at);
    const cell = at.cell;
    return this.perCell('callee-paths', cell, (own) => own.calls.map((c) => this.resolve(c.callee, { cell, offset: c.span.from })))[call.index]!;
  }

  /**
   * What an expression holds when it is an instance made by a known constructor: the path of
   * that constructor. `StandardScaler()` and a name assigned `StandardScaler()` both give
   * `sklearn.preprocessing.StandardScaler`.
   */
  constructedBy(expr: Expr, at: Position, depth = 0): string | null {
    if (depth > 8) return null;
    if (expr.kind === 'call') return this.calleePath(expr.call, at);
    if (expr.kind === 'name') {
      const binding = this.bindingAt(expr.name, at);
      if (binding?.item.value) return this.constructedBy(binding.item.value, { cell: binding.cell, offset: binding.item.span.from }, depth + 1);
    }
    return null;
  }

  /**
   * The string an expression evaluates to when that is known without running anything: a
   * literal, a name assigned a literal, `os.path.join(...)` or `Path(...) / ...` of those.
   * Format strings fill in the fields whose value is known (a name holding a string or a
   * number literal) and keep `{}` for the others.
   */
  stringValue(expr: Expr, at: Position, depth = 0): string | null {
    if (depth > 8) return null;
    switch (expr.kind) {
      case 'string':
        if (expr.bytes) return null;
        return expr.fields?.length ? this.formatValue(expr.value, expr.fields, at, depth) : expr.value;
      case 'name': {
        // A function's parameter or local of the same name is not the global.
        if (this.isLocalRead(expr, at)) return null;
        const binding = this.bindingAt(expr.name, at);
        if (!binding?.item.value) return null;
        return this.stringValue(binding.item.value, { cell: binding.cell, offset: binding.item.span.from }, depth + 1);
      }
      case 'binary': {
        if (expr.op !== '/' && expr.op !== '+') return null;
        const left = this.stringValue(expr.left, at, depth + 1);
        const right = this.stringValue(expr.right, at, depth + 1);
        if (left === null || right === null) return null;
        return expr.op === '/' ? joinPath(left, right) : left + right;
      }
      case 'call': {
        const path = this.calleePath(expr.call, at);
        const args = expr.call.args;
        if (path === 'os.path.join' || path === 'posixpath.join' || path === 'pathlib.Path' || path === 'pathlib.PurePath' || path === 'pathlib.PosixPath') {
          if (!args.length || args.some((a) => a.keyword || a.star)) return null;
          const parts = args.map((a) => this.stringValue(a.value, at, depth + 1));
          if (parts.some((p) => p === null)) return null;
          return (parts as string[]).reduce((acc, part) => joinPath(acc, part));
        }
        return null;
      }
      default:
        return null;
    }
  }

  /**
   * Whether a name read in the cell at `at` reads a local (a parameter, a name assigned in the
   * function): the analyzer records reads of globals only. Names not written at their span (made
   * up by a rule) are taken for globals.
   */
  private isLocalRead(expr: Extract<Expr, { kind: 'name' }>, at: Position): boolean {
    const facts = this.cellList[at.cell]?.facts;
    if (!facts || facts.source.slice(expr.span.from, expr.span.to) !== expr.name) return false;
    let reads = globalReads.get(facts);
    if (!reads) {
      reads = new Set(facts.uses.map((u) => u.span.from));
      globalReads.set(facts, reads);
    }
    return !reads.has(expr.span.from);
  }

  /** An f-string's text with the known fields filled in (`{}` stays for the others). */
  private formatValue(value: string, fields: readonly Expr[], at: Position, depth: number): string {
    const literal = value.split('{}');
    // A literal `{{}}` in the text makes the placeholders ambiguous: keep the text as it is.
    if (literal.length !== fields.length + 1) return value;
    let out = literal[0]!;
    fields.forEach((field, i) => {
      let known: string | null;
      if (field.kind === 'number') known = field.text;
      else {
        // A name holding a number (`VERSION = 2`) formats as the number's text.
        const bound = field.kind === 'name' ? this.bindingAt(field.name, at)?.item.value : undefined;
        known = bound?.kind === 'number' ? bound.text : this.stringValue(field, at, depth + 1);
      }
      out += (known ?? '{}') + literal[i + 1]!;
    });
    return out;
  }

  /**
   * The global names a name's value was derived from at `at`, transitively through assignments
   * (`X_scaled = scaler.fit_transform(X)` derives X_scaled from scaler and X).
   */
  derivedFrom(name: string, at: Position): Set<string> {
    const seen = new Set<string>([name]);
    const queue: Array<{ name: string; at: Position }> = [{ name, at }];
    while (queue.length) {
      const next = queue.pop()!;
      const binding = this.bindingAt(next.name, next.at);
      if (!binding) continue;
      const bindingAt = { cell: binding.cell, offset: binding.item.span.from };
      for (const source of binding.item.dependsOn) {
        if (seen.has(source)) continue;
        seen.add(source);
        queue.push({ name: source, at: bindingAt });
      }
    }
    return seen;
  }

  /** Calls in notebook order, with where they are (computed once per model: every rule walks them). */
  calls(): ReadonlyArray<{ cell: number; call: CallFact; at: Position }> {
    this.tracking?.add(GLOBAL);
    if (!this.callList) {
      const list: Array<{ cell: number; call: CallFact; at: Position }> = [];
      for (const { cell } of this.codeCellList) {
        for (const entry of this.perCell('located-calls', cell, (facts) => facts.calls.map((call) => ({ cell, call, at: { cell, offset: call.span.from } })))) list.push(entry);
      }
      this.callList = list;
    }
    return this.callList;
  }

  /** The last item (in notebook order) that takes effect before `at`. */
  private latestBefore<T>(items: ReadonlyArray<Located<T>>, at: Position, offsetOf: (item: T) => number): Located<T> | undefined {
    let found: Located<T> | undefined;
    for (const entry of items) {
      if (entry.cell < at.cell || (entry.cell === at.cell && offsetOf(entry.item) < at.offset)) found = entry;
      else break;
    }
    return found;
  }
}

/** A binding takes effect where its statement ends (or its body starts), not where its name is. */
function boundOffset(binding: Binding): number {
  return binding.boundAt;
}

/** Deep equality of plain data (facts are trees of objects, arrays, strings, numbers, booleans, null). */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameData(item, b[i]));
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function joinPath(left: string, right: string): string {
  if (right.startsWith('/') || /^[A-Za-z]:[\\/]/.test(right)) return right;
  if (!left) return right;
  return left.endsWith('/') || left.endsWith('\\') ? left + right : `${left}/${right}`;
}
