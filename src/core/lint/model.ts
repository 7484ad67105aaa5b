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
 * only that cell. The scaffolding of production code reads this model too.
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

export class NotebookModel {
  readonly cells: readonly ModelCell[];
  private readonly importsByName = new Map<string, Array<Located<ImportFact>>>();
  private readonly bindingsByName = new Map<string, Array<Located<Binding>>>();
  /** Some cell does `from x import *`: any name may exist. */
  readonly hasStarImport: boolean;
  private readonly codeCellList: Array<{ cell: number; source: SourceCell; facts: CellFacts }> = [];
  private callList: Array<{ cell: number; call: CallFact; at: Position }> | undefined;
  /** Callee paths by `cell:callIndex`: several rules ask for the same calls. */
  private readonly calleePaths = new WeakMap<CallFact, { cell: number; path: string | null }>();
  private readonly immediateBindings = new Map<string, Array<Located<Binding>>>();
  /** Offsets of the global reads of each cell (see `isLocalRead`). */
  private readonly globalReads = new WeakMap<CellFacts, Set<number>>();

  constructor(cells: readonly SourceCell[], analyze: (source: string) => CellFacts = cachedAnalyze) {
    this.cells = cells.map((cell) => ({ cell, facts: cell.kind === 'code' ? analyze(cell.source) : null }));
    let star = false;
    this.cells.forEach(({ cell: source, facts }, cell) => {
      if (!facts) return;
      this.codeCellList.push({ cell, source, facts });
      star ||= facts.starImport;
      for (const item of facts.imports) if (!item.star) push(this.importsByName, item.bound, { cell, item });
      for (const item of facts.bindings) push(this.bindingsByName, item.name, { cell, item });
    });
    this.hasStarImport = star;
  }

  /** Code cells with their facts, in notebook order. `cell` is the position in `cells`. */
  codeCells(): ReadonlyArray<{ cell: number; source: SourceCell; facts: CellFacts }> {
    return this.codeCellList;
  }

  /** Every binding of a global name, in notebook order (imports included). */
  bindingsOf(name: string): ReadonlyArray<Located<Binding>> {
    return this.bindingsByName.get(name) ?? [];
  }

  /** Every import anywhere in the notebook, in order. */
  imports(): Array<Located<ImportFact>> {
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
    const imports = this.importsByName.get(name);
    if (!imports) return undefined;
    const latest = this.latestBefore(this.bindingsOf(name), at, boundOffset);
    if (latest && latest.item.kind !== 'import') return undefined;
    const before = this.latestBefore(imports, at, (i) => i.nameSpan.from);
    return (before ?? imports[0])?.item;
  }

  /** The latest binding of `name` executed before `at` that runs immediately. */
  bindingAt(name: string, at: Position): Located<Binding> | undefined {
    let immediate = this.immediateBindings.get(name);
    if (!immediate) {
      immediate = this.bindingsOf(name).filter((b) => b.item.timing === 'immediate');
      this.immediateBindings.set(name, immediate);
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
    // Memoised for the call's own position, which is how rules ask.
    if (at.offset !== call.span.from) return this.resolve(call.callee, at);
    const known = this.calleePaths.get(call);
    if (known && known.cell === at.cell) return known.path;
    const path = this.resolve(call.callee, at);
    this.calleePaths.set(call, { cell: at.cell, path });
    return path;
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
    const facts = this.cells[at.cell]?.facts;
    if (!facts || facts.source.slice(expr.span.from, expr.span.to) !== expr.name) return false;
    let reads = this.globalReads.get(facts);
    if (!reads) {
      reads = new Set(facts.uses.map((u) => u.span.from));
      this.globalReads.set(facts, reads);
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
    if (!this.callList) {
      this.callList = [];
      for (const { cell, facts } of this.codeCells()) {
        for (const call of facts.calls) this.callList.push({ cell, call, at: { cell, offset: call.span.from } });
      }
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
