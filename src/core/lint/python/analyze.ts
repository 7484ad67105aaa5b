/**
 * What one cell (or script) says, as facts the rules and the cross-cell dataflow model read:
 * imports and the names they bind, names defined and used (with Python's scoping: function
 * bodies, classes, comprehensions, lambdas, `global`), calls with their callee chain and
 * arguments, string literals with their values, and syntax errors.
 *
 * Parsing is @lezer/python: pure JavaScript (no wasm to load), about 60 KB, error tolerant (a
 * broken line yields an error node and the rest of the cell still parses), fast enough to
 * re-parse a cell per keystroke. See docs/architecture.md, "Linting".
 *
 * Offsets are offsets in the cell's source (magics are masked to spaces of the same length).
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@lezer/python';
import { lineOfOffset } from '../positions';
import { type Magic, maskIPython } from './ipython';
import { adjustForLezer } from './lezerCompat';
import { EXCEPT_COMMA, NOT_EQUAL, OLD_OCTAL, PRINT_STATEMENT, python2Construct, RAISE_COMMA, UR_PREFIX } from './python2';
import { stringTokenValue } from './strings';

export interface Span {
  from: number;
  to: number;
}

/** An expression as far as the rules need it; anything else is `other` with the names it reads. */
export type Expr =
  | { kind: 'name'; name: string; span: Span }
  | {
      kind: 'string';
      value: string;
      bytes: boolean;
      formatted: boolean;
      span: Span;
      /** Format strings: the expression of each replacement field, in the order of the `{}` in `value`. */
      fields?: Expr[];
    }
  | { kind: 'number'; text: string; span: Span }
  | { kind: 'constant'; value: 'True' | 'False' | 'None'; span: Span }
  | { kind: 'attribute'; object: Expr; name: string; span: Span }
  | { kind: 'subscript'; object: Expr; span: Span }
  | { kind: 'call'; call: CallFact; span: Span }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; span: Span }
  | { kind: 'sequence'; items: Expr[]; span: Span }
  | { kind: 'other'; span: Span };

export interface ArgFact {
  /** The keyword of `f(x=1)`, else null. */
  keyword: string | null;
  /** `*args` or `**kwargs`. */
  star: '' | '*' | '**';
  value: Expr;
  span: Span;
}

export interface CallFact {
  /** Position of the call among the cell's calls, in source order of their start. */
  index: number;
  callee: Expr;
  args: ArgFact[];
  /** The whole call, callee to closing parenthesis. */
  span: Span;
  /** The argument list, parentheses included. */
  argsSpan: Span;
  /** Whether the call runs when the cell runs (`module`) or only when a function is called. */
  timing: Timing;
}

/** Module-level code runs when the cell runs; a function body only when the function is called. */
export type Timing = 'immediate' | 'deferred';

export type BindingKind = 'assign' | 'augassign' | 'import' | 'def' | 'class' | 'for' | 'with' | 'except' | 'walrus' | 'match' | 'global' | 'magic';

/** A module-level (global) name being bound. */
export interface Binding {
  name: string;
  kind: BindingKind;
  span: Span;
  /** The value assigned when it is one expression assigned to this name alone (`x = f()`). */
  value: Expr | null;
  /** For `a, b = f()`: the position of this name in the target tuple, and the value `f()`. */
  unpacked: { index: number; of: number; value: Expr } | null;
  /** Global names the bound value was computed from (the right-hand side's reads). */
  dependsOn: string[];
  timing: Timing;
  /**
   * Offset from which the name holds this value: the end of the statement (`x = x + 1` reads
   * the old x), the start of the body for `for`/`with`/`except`/`case` targets.
   */
  boundAt: number;
}

/** A read of a global name. */
export interface NameUse {
  name: string;
  span: Span;
  timing: Timing;
  /**
   * Code that expects the name may be missing: inside `try:` whose handler catches NameError
   * (or Exception, or everything), or in a branch taken only on some Python versions
   * (`if sys.version_info < (3,):`, `if six.PY2:`).
   */
  guard?: 'name-error' | 'python-version';
  /**
   * The outermost module-level loop (`for`/`while`) holding the read: a name bound later in the
   * same loop may be bound by an earlier iteration.
   */
  loop?: Span;
}

/** `del x` of a global name, as a statement of the cell itself (not under if/try/loop/def): x is unbound after it. */
export interface Deletion {
  name: string;
  span: Span;
}

/**
 * Names a magic brings into the namespace that reading the cell cannot list: `%run script.py`
 * (the script's globals; `target` is the script as written, or `-m module`), `%store -r` with
 * no names (every stored variable), `%pylab` (numpy and matplotlib's names).
 */
export interface NameSource {
  kind: 'run' | 'store' | 'pylab';
  target: string;
  span: Span;
}

export interface ImportFact {
  /** The name the import binds: `np` for `import numpy as np`, `os` for `import os.path`. */
  bound: string;
  /** The dotted path `bound` refers to: `numpy`, `os`, `sklearn.model_selection.train_test_split`. */
  path: string;
  /** The module named by the statement: `numpy`, `os.path`, `sklearn.model_selection`. */
  module: string;
  /** Leading dots of a relative import (`from . import x` is 1). */
  level: number;
  star: boolean;
  /** The statement, and the part naming this import. */
  statementSpan: Span;
  nameSpan: Span;
  timing: Timing;
  /** Inside `try:` whose `except` catches ImportError/ModuleNotFoundError: an optional dependency. */
  optional: boolean;
}

export interface StringFact {
  value: string;
  bytes: boolean;
  formatted: boolean;
  span: Span;
}

/**
 * A value given to a name, in any scope: `name = v`, `obj.name = v`, `d["name"] = v`,
 * `f(name=v)`, `def f(name=v)`, `{"name": v}`. Secrets are found this way.
 */
export interface NamedValue {
  name: string;
  /** `obj` for `obj.name = v` (a variable name), else null. */
  qualifier: string | null;
  kind: 'assign' | 'attribute' | 'key' | 'keyword' | 'parameter';
  value: Expr;
}

/**
 * A statement at the top level of the cell, for code that moves cells around (the scaffold):
 * what kind it is and, for expression statements, whether it is a call (kept: it may have
 * effects) or a bare value (a notebook display).
 */
export interface TopStatement {
  span: Span;
  kind: 'import' | 'optional-import' | 'assign' | 'expression' | 'def' | 'other';
  /** Expression statements: the call it consists of (index into `calls`), else null. */
  call: number | null;
}

export interface SyntaxProblem {
  span: Span;
  message: string;
  /** The Python 2 construct this is (`print statement`), when it is one (see python2.ts). */
  python2?: string;
}

export interface CellFacts {
  /** The cell's source as given (not masked). */
  source: string;
  isPython: boolean;
  magics: Magic[];
  imports: ImportFact[];
  bindings: Binding[];
  uses: NameUse[];
  calls: CallFact[];
  strings: StringFact[];
  /** Comments, for suppressions (`# nb2prod: ignore[rule]`). */
  comments: Array<{ text: string; span: Span }>;
  namedValues: NamedValue[];
  /** Decorators (`@app.get("/home")`), whose strings are routes and the like, not paths. */
  decorators: Span[];
  syntaxErrors: SyntaxProblem[];
  /** `from x import *` somewhere in the cell: any name may be defined. */
  starImport: boolean;
  /** The top-level statements, in order (comments are not statements). */
  statements: TopStatement[];
  /** `del name` at the top level of the cell. */
  deletions: Deletion[];
  /** `%run`, `%store -r`: names from elsewhere. */
  nameSources: NameSource[];
}

interface Scope {
  kind: 'module' | 'function' | 'class' | 'comprehension';
  /** Names local to this scope (for functions: collected before the body is walked). */
  locals: Set<string>;
  /** Names declared `global` in this function. */
  globals: Set<string>;
  parent: Scope | null;
}

export function analyzeCell(source: string): CellFacts {
  const masked = maskIPython(source);
  const facts: CellFacts = {
    source,
    isPython: masked.isPython,
    magics: masked.magics,
    imports: [],
    bindings: [],
    uses: [],
    calls: [],
    strings: [],
    comments: [],
    namedValues: [],
    decorators: [],
    syntaxErrors: [],
    starImport: false,
    statements: [],
    deletions: [],
    nameSources: [],
  };
  if (!masked.isPython || !masked.code.trim()) return facts;
  const walker = new CellWalker(adjustForLezer(masked.code), masked.code, facts);
  walker.walkScript();
  walker.magicFacts();
  facts.calls.sort((a, b) => a.span.from - b.span.from);
  facts.calls.forEach((call, index) => (call.index = index));
  for (const statement of facts.statements) {
    if (statement.call === null) continue;
    const whole = statement.call;
    // Resolved after sorting: the call spanning the whole expression.
    const index = facts.calls.findIndex((c) => c.span.from === whole && c.span.to === statement.span.to);
    statement.call = index >= 0 ? index : null;
  }
  return facts;
}

const STATEMENT_CONTAINERS = new Set(['Script', 'Body', 'StatementGroup']);

/** Handlers that catch a NameError: `except NameError`, `except Exception`, a bare `except:`. */
const CATCHES_NAME_ERROR = new Set(['NameError', 'Exception', 'BaseException']);

/** An `if` test that picks code by Python version: `sys.version_info < (3,)`, `six.PY2`. */
const VERSION_TEST = /\bversion_info\b|\bsys\.version\b|\bPY[23]\b|\bpython_version\b|\bhexversion\b/;

class CellWalker {
  private readonly module: Scope = { kind: 'module', locals: new Set(), globals: new Set(), parent: null };
  /** Where the statement being walked ends: where its bindings take effect by default. */
  private statementEnd = 0;
  /** Set while binding the targets of a compound statement: where its body starts. */
  private bodyStart: number | null = null;
  /** Inside the body of a `try` that catches ImportError. */
  private importGuarded = false;
  /** Set while walking code that expects a name may be missing (see NameUse.guard). */
  private guard: NameUse['guard'] = undefined;
  /** The module-level loop being walked (see NameUse.loop). */
  private loop: Span | undefined = undefined;

  /**
   * `code` is what is parsed (magics masked, adjusted for Lezer: see lezerCompat.ts); `masked`
   * the same before that adjustment, for the text of number literals.
   */
  constructor(
    private readonly code: string,
    private readonly masked: string,
    private readonly facts: CellFacts,
  ) {}

  walkScript(): void {
    const tree = parser.parse(this.code);
    this.collectErrorsAndComments(tree.topNode);
    for (const node of children(tree.topNode)) {
      // `a = 1; b = 2` is one node holding both statements.
      for (const statement of node.name === 'StatementGroup' ? children(node).filter((c) => c.name !== ';') : [node]) {
        // Comments are not statements; nor is the `pass` a magic was masked into.
        const masksMagic = this.facts.magics.some((m) => m.from <= statement.from && statement.to <= m.to);
        if (statement.name !== 'Comment' && !masksMagic) this.facts.statements.push(this.topStatement(statement));
        if (statement.name === 'DeleteStatement') this.deletions(statement);
      }
      this.statement(node, this.module);
    }
  }

  /** `del a, b` as a statement of the cell: the global names it unbinds. */
  private deletions(node: SyntaxNode): void {
    for (const target of children(node)) {
      if (target.name === 'VariableName') this.facts.deletions.push({ name: this.text(target), span: span(target) });
    }
  }

  /**
   * What magics say about names: `%store -r a b` and `%%capture out` bind names, `%run x.py`
   * and `%store -r` bring in names from elsewhere, and names bound by `%timeit`'s statement do
   * not outlive it.
   */
  magicFacts(): void {
    const source = this.facts.source;
    for (const magic of this.facts.magics) {
      const words = [...source.slice(magic.commandFrom, magic.to).matchAll(/\S+/g)].map((m) => ({ text: m[0], span: { from: magic.commandFrom + m.index, to: magic.commandFrom + m.index + m[0].length } }));
      const name = words[0]?.text;
      if (magic.kind === 'line' && name === 'store' && words.some((w) => w.text === '-r')) {
        const names = words.slice(1).filter((w) => !w.text.startsWith('-') && /^[A-Za-z_]\w*$/.test(w.text));
        for (const word of names) this.bindMagic(word.text, word.span, magic.to);
        if (!names.length) this.facts.nameSources.push({ kind: 'store', target: '', span: { from: magic.from, to: magic.to } });
      } else if (magic.kind === 'line' && name === 'run') {
        // `%run -i script.py args`, `%run -m module`: the first word that is not an option.
        const args = words.slice(1);
        let i = 0;
        while (i < args.length && args[i]!.text.startsWith('-') && args[i]!.text !== '-m') i++;
        const target = args[i]?.text === '-m' ? args[i + 1] : args[i];
        this.facts.nameSources.push({ kind: 'run', target: args[i]?.text === '-m' ? `-m ${target?.text ?? ''}` : (target?.text ?? ''), span: { from: magic.from, to: magic.to } });
      } else if (magic.kind === 'line' && name === 'pylab') {
        this.facts.nameSources.push({ kind: 'pylab', target: '', span: { from: magic.from, to: magic.to } });
      } else if (magic.kind === 'cell' && name === 'capture') {
        // `%%capture [--no-stderr] out`: `out` holds the output once the cell ran.
        const target = words.slice(1).find((w) => !w.text.startsWith('-'));
        if (target && /^[A-Za-z_]\w*$/.test(target.text)) this.bindMagic(target.text, target.span, source.length);
      }
      if (magic.python && !magic.python.bindsNames) {
        const { from, to } = magic.python;
        const inside = (s: Span): boolean => s.from >= from && s.to <= to;
        const local = new Set(this.facts.bindings.filter((b) => inside(b.span)).map((b) => b.name));
        this.facts.bindings = this.facts.bindings.filter((b) => !inside(b.span));
        this.facts.uses = this.facts.uses.filter((u) => !(inside(u.span) && local.has(u.name)));
      }
    }
  }

  private bindMagic(name: string, nameSpan: Span, boundAt: number): void {
    const binding: Binding = { name, kind: 'magic', span: nameSpan, value: null, unpacked: null, dependsOn: [], timing: 'immediate', boundAt };
    const after = this.facts.bindings.findIndex((b) => b.boundAt > boundAt);
    this.facts.bindings.splice(after < 0 ? this.facts.bindings.length : after, 0, binding);
  }

  private topStatement(node: SyntaxNode): TopStatement {
    const result: TopStatement = { span: span(node), kind: 'other', call: null };
    switch (node.name) {
      case 'ImportStatement':
        result.kind = 'import';
        break;
      case 'TryStatement': {
        // `try: import x / except ImportError: x = None` is an import too (an optional one).
        const parts = children(node);
        const body = parts.find((p) => p.name === 'Body');
        const statements = body ? children(body).filter((c) => c.name !== 'Comment' && c.name !== ':') : [];
        const importsOnly = statements.length > 0 && statements.every((c) => c.name === 'ImportStatement');
        const catchesImportError = /except\s*\(?[^:]*\b(ImportError|ModuleNotFoundError)\b/.test(this.text(node));
        if (importsOnly && catchesImportError) result.kind = 'optional-import';
        break;
      }
      case 'AssignStatement':
      case 'UpdateStatement':
        result.kind = 'assign';
        break;
      case 'FunctionDefinition':
      case 'ClassDefinition':
      case 'DecoratedStatement':
        result.kind = 'def';
        break;
      case 'ExpressionStatement': {
        result.kind = 'expression';
        const expression = node.firstChild;
        // The call's start offset for now; made an index into `calls` once they are sorted.
        if (expression?.name === 'CallExpression' && expression.to === node.to) result.call = expression.from;
        break;
      }
    }
    return result;
  }

  private text(node: SyntaxNode | Span): string {
    return this.code.slice(node.from, node.to);
  }

  private collectErrorsAndComments(top: SyntaxNode): void {
    const cursor = top.cursor();
    do {
      if (cursor.type.isError) {
        this.addSyntaxError(cursor.from, cursor.to);
      } else if (cursor.name === 'Comment') {
        this.facts.comments.push({ text: this.code.slice(cursor.from, cursor.to), span: { from: cursor.from, to: cursor.to } });
      } else if (cursor.name === 'PrintStatement') {
        this.addPython2({ from: cursor.from, to: cursor.to }, PRINT_STATEMENT, 'in Python 3 print is a function, write print(...).');
      } else {
        this.python2Node(cursor.node);
      }
    } while (cursor.next());
  }

  /** Python 2 code that Lezer's grammar accepts (see python2.ts). */
  private python2Node(node: SyntaxNode): void {
    switch (node.name) {
      case 'TryStatement': {
        // `except ValueError, e:`
        const parts = children(node);
        parts.forEach((part, i) => {
          if (part.name === 'except' && parts[i + 2]?.name === ',' && parts[i + 3]?.name === 'VariableName') {
            this.addPython2(spanOf([parts[i + 1]!, parts[i + 3]!]), EXCEPT_COMMA, 'write `except X as e:`.');
          }
        });
        return;
      }
      case 'CompareOp':
        if (this.text(node) === '<>') this.addPython2(span(node), NOT_EQUAL, 'write `!=`.');
        return;
      case 'Number':
        if (/^0[0-9_]*[1-9][0-9_]*$/.test(this.text(node))) this.addPython2(span(node), OLD_OCTAL, 'write octal numbers with `0o` (`0o777`).');
        return;
      case 'RaiseStatement':
        if (node.getChild(',')) this.addPython2(span(node), RAISE_COMMA, 'write `raise E("message")`.');
        return;
      case 'VariableName': {
        const next = node.nextSibling;
        if (/^[uU][rR]$/.test(this.text(node)) && next && next.from === node.to && (next.name === 'String' || next.name === 'FormatString')) {
          this.addPython2({ from: node.from, to: next.to }, UR_PREFIX, 'drop the `u`: write `r"..."`.');
        }
        return;
      }
    }
  }

  private addPython2(at: Span, construct: string, advice: string): void {
    const previous = this.facts.syntaxErrors.at(-1);
    if (previous && lineOfOffset(this.code, previous.span.from) === lineOfOffset(this.code, at.from)) return;
    this.facts.syntaxErrors.push({ span: at, message: `Python 2 ${construct}: ${advice}`, python2: construct });
  }

  private addSyntaxError(from: number, to: number): void {
    const previous = this.facts.syntaxErrors.at(-1);
    // Error recovery often yields a run of error nodes for one mistake: report it once per line.
    if (previous && lineOfOffset(this.code, previous.span.from) === lineOfOffset(this.code, from)) return;
    let message: string;
    const rest = this.code.slice(from).trim();
    if (!rest) {
      message = 'Unexpected end of the cell: an unclosed bracket, string or block?';
      // Point at the last character so the editor has something to underline.
      const end = this.code.trimEnd().length;
      from = Math.max(0, end - 1);
      to = end;
    } else {
      const token = to > from ? this.code.slice(from, to) : (/^\S+/.exec(rest)?.[0] ?? rest[0]!);
      if (to <= from) {
        from = from + (this.code.slice(from).length - this.code.slice(from).trimStart().length);
        to = from + token.length;
      }
      message = `Invalid syntax at \`${token.length > 30 ? token.slice(0, 30) + '…' : token}\`.`;
    }
    const lineStart = this.code.lastIndexOf('\n', from - 1) + 1;
    const lineEnd = this.code.indexOf('\n', from);
    const construct = python2Construct(this.masked.slice(lineStart, lineEnd < 0 ? undefined : lineEnd), from - lineStart);
    if (construct) this.facts.syntaxErrors.push({ span: { from, to }, message: `Python 2 ${construct}: not valid in Python 3.`, python2: construct });
    else this.facts.syntaxErrors.push({ span: { from, to }, message });
  }

  // ---- statements ------------------------------------------------------------------------

  private statement(node: SyntaxNode, scope: Scope): void {
    if (STATEMENT_CONTAINERS.has(node.name)) return this.statementIn(node, scope);
    const outer = this.statementEnd;
    this.statementEnd = node.to;
    try {
      this.statementIn(node, scope);
    } finally {
      this.statementEnd = outer;
    }
  }

  private statementIn(node: SyntaxNode, scope: Scope): void {
    switch (node.name) {
      case 'ImportStatement':
        return this.importStatement(node, scope);
      case 'AssignStatement':
        return this.assignStatement(node, scope);
      case 'UpdateStatement':
        return this.updateStatement(node, scope);
      case 'FunctionDefinition':
        return this.functionDefinition(node, scope);
      case 'ClassDefinition':
        return this.classDefinition(node, scope);
      case 'DecoratedStatement':
        for (const child of children(node)) {
          if (child.name === 'Decorator') this.decorator(child, scope);
          else this.statement(child, scope);
        }
        return;
      case 'IfStatement':
        return this.ifStatement(node, scope);
      case 'WhileStatement':
        return this.inLoop(node, scope, () => this.statementsAndExpressions(node, scope));
      case 'ForStatement':
        return this.forStatement(node, scope);
      case 'WithStatement':
        return this.withStatement(node, scope);
      case 'TryStatement':
        return this.tryStatement(node, scope);
      case 'MatchStatement':
        return this.matchStatement(node, scope);
      case 'ScopeStatement':
        if (node.firstChild?.name === 'global') for (const name of node.getChildren('VariableName')) scope.globals.add(this.text(name));
        return;
      case 'Body':
      case 'Script':
      case 'StatementGroup':
        for (const child of children(node)) if (child.name !== ';') this.statement(child, scope);
        return;
      default:
        this.statementsAndExpressions(node, scope);
    }
  }

  /** Expression statements, return/raise/assert/del/...: sub-statements are in Body nodes, the rest expressions. */
  private statementsAndExpressions(node: SyntaxNode, scope: Scope): void {
    for (const child of children(node)) {
      if (STATEMENT_CONTAINERS.has(child.name)) this.statement(child, scope);
      else this.expression(child, scope);
    }
  }

  /** Walks a module-level loop's code with `loop` set (see NameUse.loop). */
  private inLoop(node: SyntaxNode, scope: Scope, walk: () => void): void {
    const outer = this.loop;
    if (scope.kind === 'module' && !outer) this.loop = span(node);
    try {
      walk();
    } finally {
      this.loop = outer;
    }
  }

  private withGuard(guard: NameUse['guard'], walk: () => void): void {
    const outer = this.guard;
    this.guard = outer ?? guard;
    try {
      walk();
    } finally {
      this.guard = outer;
    }
  }

  /** `if`/`elif`/`else`; a chain testing the Python version guards all its branches. */
  private ifStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const tests = parts.filter((p, i) => (parts[i - 1]?.name === 'if' || parts[i - 1]?.name === 'elif') && p.name !== 'Body');
    const byVersion = tests.some((test) => VERSION_TEST.test(this.text(test)));
    for (const part of parts) {
      if (part.name === 'Body') this.withGuard(byVersion ? 'python-version' : undefined, () => this.statement(part, scope));
      else this.expression(part, scope);
    }
  }

  /**
   * A decorator, `@a.b.c(args)`, is one flat node in Lezer's tree: rebuilt as the expression it
   * is (reading `a`; a call whose callee is `a.b.c`), evaluated in the enclosing scope.
   */
  private decorator(node: SyntaxNode, scope: Scope): void {
    this.facts.decorators.push(span(node));
    const parts = children(node).filter((p) => p.name !== 'At' && p.name !== '@');
    const argList = parts.at(-1)?.name === 'ArgList' ? parts.at(-1)! : null;
    const chain = argList ? parts.slice(0, -1) : parts;
    const dotted = chain.length % 2 === 1 && chain.every((p, i) => (i % 2 === 0 ? p.name === 'VariableName' : p.name === '.'));
    if (!dotted) {
      this.expressionsIn(node, scope);
      return;
    }
    let callee = this.expression(chain[0]!, scope);
    for (let i = 2; i < chain.length; i += 2) callee = { kind: 'attribute', object: callee, name: this.text(chain[i]!), span: spanOf([chain[0]!, chain[i]!]) };
    if (argList) this.callWith(callee, argList, spanOf([chain[0]!, argList]), scope);
  }
  private importStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const statementSpan = span(node);
    const timing = timingOf(scope);
    if (parts[0]?.name === 'from') {
      let level = 0;
      const moduleNames: string[] = [];
      let i = 1;
      for (; i < parts.length && parts[i]!.name !== 'import'; i++) {
        const part = parts[i]!;
        if ((part.name === '.' || part.name === 'Ellipsis') && !moduleNames.length) level += this.text(part).length;
        else if (part.name === 'VariableName') moduleNames.push(this.text(part));
      }
      const module = moduleNames.join('.');
      const base = '.'.repeat(level) + module;
      for (i++; i < parts.length; i++) {
        const part = parts[i]!;
        if (part.name === '*') {
          this.facts.starImport = true;
          this.facts.imports.push({ bound: '*', path: base, module: base, level, star: true, statementSpan, nameSpan: span(part), timing, optional: this.importGuarded });
          continue;
        }
        if (part.name !== 'VariableName') continue;
        const imported = this.text(part);
        let boundNode = part;
        if (parts[i + 1]?.name === 'as' && parts[i + 2]?.name === 'VariableName') {
          boundNode = parts[i + 2]!;
          i += 2;
        }
        const bound = this.text(boundNode);
        const path = base.endsWith('.') || !base ? base + imported : `${base}.${imported}`;
        this.facts.imports.push({ bound, path, module: base, level, star: false, statementSpan, nameSpan: { from: part.from, to: boundNode.to }, timing, optional: this.importGuarded });
        this.bind(bound, 'import', span(boundNode), null, null, [], scope);
      }
      return;
    }
    // import a.b.c [as d], e
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]!.name !== 'VariableName') continue;
      const start = parts[i]!;
      const dotted = [this.text(start)];
      let end = start;
      while (parts[i + 1]?.name === '.' && parts[i + 2]?.name === 'VariableName') {
        end = parts[i + 2]!;
        dotted.push(this.text(end));
        i += 2;
      }
      const module = dotted.join('.');
      let bound = dotted[0]!;
      let path = dotted[0]!;
      let boundSpan = span(start);
      if (parts[i + 1]?.name === 'as' && parts[i + 2]?.name === 'VariableName') {
        end = parts[i + 2]!;
        bound = this.text(end);
        boundSpan = span(end);
        path = module;
        i += 2;
      }
      this.facts.imports.push({ bound, path, module, level: 0, star: false, statementSpan, nameSpan: { from: start.from, to: end.to }, timing, optional: this.importGuarded });
      this.bind(bound, 'import', boundSpan, null, null, [], scope);
    }
  }

  private assignStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const lastOp = findLastIndex(parts, (p) => p.name === 'AssignOp');
    if (lastOp < 0) {
      // `x: int` declares without binding; the annotation is still evaluated.
      for (const part of parts) if (part.name === 'TypeDef') this.expressionsIn(part, scope);
      return;
    }
    const valueNodes = parts.slice(lastOp + 1);
    const readsBefore = this.facts.uses.length;
    const values = valueNodes.filter((p) => p.name !== ',').map((p) => this.expression(p, scope));
    const value: Expr | null = values.length === 1 ? values[0]! : values.length > 1 ? { kind: 'sequence', items: values, span: spanOf(valueNodes) } : null;
    const dependsOn = this.readsSince(readsBefore);
    // Targets: groups of nodes between AssignOps (`a = b = v`), each possibly a bare tuple.
    let group: SyntaxNode[] = [];
    for (const part of parts.slice(0, lastOp + 1)) {
      if (part.name === 'AssignOp') {
        this.assignTargets(group, value, dependsOn, 'assign', scope);
        group = [];
      } else if (part.name === 'TypeDef') this.expressionsIn(part, scope);
      else group.push(part);
    }
  }

  /** Binds the names of one assignment target (`x`, `a, b`, `(a, [b, *c])`, `obj.attr`). */
  private assignTargets(nodes: SyntaxNode[], value: Expr | null, dependsOn: string[], kind: BindingKind, scope: Scope): void {
    const items = nodes.filter((n) => n.name !== ',' && n.name !== '*');
    if (items.length === 1 && nodes.every((n) => n.name !== ',')) {
      this.target(items[0]!, value, null, dependsOn, kind, scope);
      return;
    }
    const literal = value?.kind === 'sequence' && value.items.length === items.length ? value.items : null;
    items.forEach((item, index) => {
      if (literal) this.target(item, literal[index]!, null, dependsOn, kind, scope);
      else this.target(item, null, value ? { index, of: items.length, value } : null, dependsOn, kind, scope);
    });
  }

  private target(node: SyntaxNode, value: Expr | null, unpacked: Binding['unpacked'], dependsOn: string[], kind: BindingKind, scope: Scope): void {
    switch (node.name) {
      case 'VariableName':
        if (value) this.facts.namedValues.push({ name: this.text(node), qualifier: null, kind: 'assign', value });
        this.bind(this.text(node), kind, span(node), value, unpacked, dependsOn, scope);
        return;
      case 'TupleExpression':
      case 'ArrayExpression':
      case 'ParenthesizedExpression':
        this.assignTargets(children(node).filter((n) => !['(', ')', '[', ']'].includes(n.name)), null, dependsOn, kind, scope);
        return;
      default: {
        // obj.attr = v, d[k] = v: reads obj and d (and k).
        const target = this.expression(node, scope);
        if (value && target.kind === 'attribute') {
          this.facts.namedValues.push({ name: target.name, qualifier: target.object.kind === 'name' ? target.object.name : null, kind: 'attribute', value });
        } else if (value && target.kind === 'subscript') {
          const key = subscriptKey(node, this.facts.strings);
          if (key !== null) this.facts.namedValues.push({ name: key, qualifier: null, kind: 'key', value });
        }
      }
    }
  }

  private updateStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const readsBefore = this.facts.uses.length;
    const target = parts[0];
    for (const part of parts.slice(2)) this.expression(part, scope);
    if (target?.name === 'VariableName') {
      this.use(target, scope);
      this.bind(this.text(target), 'augassign', span(target), null, null, this.readsSince(readsBefore), scope);
    } else if (target) this.expression(target, scope);
  }

  private functionDefinition(node: SyntaxNode, scope: Scope): void {
    const name = node.getChild('VariableName');
    const params = node.getChild('ParamList');
    const body = node.getChild('Body');
    const inner: Scope = { kind: 'function', locals: new Set(), globals: new Set(), parent: scope };
    if (params) this.parameters(params, scope, inner);
    for (const child of node.getChildren('TypeDef')) this.expressionsIn(child, scope);
    if (name) this.bind(this.text(name), 'def', span(name), null, null, [], scope);
    if (body) {
      this.collectLocals(body, inner);
      this.statement(body, inner);
    }
  }

  /** Parameter names become locals of `inner`; defaults and annotations are read in `outer`. */
  private parameters(params: SyntaxNode, outer: Scope, inner: Scope): void {
    const parts = children(params);
    let parameter: string | null = null;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.name === 'VariableName') {
        parameter = this.text(part);
        inner.locals.add(parameter);
      } else if (part.name === 'AssignOp' && parts[i + 1]) {
        const value = this.expression(parts[++i]!, outer);
        if (parameter) this.facts.namedValues.push({ name: parameter, qualifier: null, kind: 'parameter', value });
      } else if (part.name === 'TypeDef') this.expressionsIn(part, outer);
      else if (part.name === ',') parameter = null;
    }
  }

  private classDefinition(node: SyntaxNode, scope: Scope): void {
    const name = node.getChild('VariableName');
    const bases = node.getChild('ArgList');
    const body = node.getChild('Body');
    if (bases) this.expressionsIn(bases, scope);
    const inner: Scope = { kind: 'class', locals: new Set(), globals: new Set(), parent: scope };
    if (body) this.statement(body, inner);
    if (name) this.bind(this.text(name), 'class', span(name), null, null, [], scope);
  }

  private forStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const inAt = parts.findIndex((p) => p.name === 'in');
    const readsBefore = this.facts.uses.length;
    for (const part of parts.slice(inAt + 1)) if (part.name !== 'Body' && part.name !== 'else') this.expression(part, scope);
    const bodyAt = parts.find((p) => p.name === 'Body')?.from ?? node.to;
    this.boundFrom(bodyAt, () => this.assignTargets(parts.slice(1, inAt).filter((p) => p.name !== 'async' && p.name !== 'for'), null, this.readsSince(readsBefore), 'for', scope));
    const bodies = parts.filter((p) => p.name === 'Body');
    // The loop body runs again after its end; the `else:` body once.
    if (bodies[0]) this.inLoop(node, scope, () => this.statement(bodies[0]!, scope));
    for (const body of bodies.slice(1)) this.statement(body, scope);
  }

  private withStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.name === 'Body') this.statement(part, scope);
      else if (part.name === 'as' && parts[i + 1]) {
        const bodyAt = parts.find((p) => p.name === 'Body')?.from ?? node.to;
        const target = parts[++i]!;
        this.boundFrom(bodyAt, () => this.target(target, null, null, [], 'with', scope));
      } else if (part.name !== 'with' && part.name !== 'async' && part.name !== ',') this.expression(part, scope);
    }
  }

  private tryStatement(node: SyntaxNode, scope: Scope): void {
    const parts = children(node);
    const caught = (part: SyntaxNode): string[] =>
      part.name === 'VariableName' ? [this.text(part)] : part.name === 'TupleExpression' || part.name === 'ParenthesizedExpression' ? children(part).flatMap(caught) : [];
    const catchesImportError = parts.some((part, i) => parts[i - 1]?.name === 'except' && caught(part).some((name) => name === 'ImportError' || name === 'ModuleNotFoundError'));
    const catchesNameError = parts.some((part, i) => part.name === 'except' && (!parts[i + 1] || parts[i + 1]!.name === 'Body' || caught(parts[i + 1]!).some((name) => CATCHES_NAME_ERROR.has(name))));
    let firstBody = true;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.name === 'Body' && firstBody) {
        // The `try:` body: imports there are optional when an ImportError is caught.
        firstBody = false;
        const outer = this.importGuarded;
        this.importGuarded = outer || catchesImportError;
        this.withGuard(catchesNameError ? 'name-error' : undefined, () => this.statement(part, scope));
        this.importGuarded = outer;
      } else if (part.name === 'Body') this.statement(part, scope);
      else if (part.name === 'as' && parts[i + 1]?.name === 'VariableName') {
        const name = parts[++i]!;
        const bodyAt = parts.slice(i).find((p) => p.name === 'Body')?.from ?? node.to;
        this.boundFrom(bodyAt, () => this.bind(this.text(name), 'except', span(name), null, null, [], scope));
      }
      else if (!['try', 'except', 'finally', 'else', '*'].includes(part.name)) this.expression(part, scope);
    }
  }

  private matchStatement(node: SyntaxNode, scope: Scope): void {
    for (const part of children(node)) {
      if (part.name === 'MatchBody') {
        for (const clause of part.getChildren('MatchClause')) this.patternsIn(clause, scope);
      } else if (part.name !== 'match') this.expression(part, scope);
    }
  }

  private patternsIn(node: SyntaxNode, scope: Scope, clauseBodyAt?: number): void {
    const parts = children(node);
    const bodyAt = clauseBodyAt ?? parts.find((p) => p.name === 'Body')?.from ?? this.statementEnd;
    parts.forEach((child, i) => {
      if (child.name === 'Body') this.statement(child, scope);
      else if (child.name === 'CapturePattern' || (child.name === 'VariableName' && parts[i - 1]?.name === 'as')) {
        const name = child.name === 'VariableName' ? child : child.getChild('VariableName');
        if (name && this.text(name) !== '_') this.boundFrom(bodyAt, () => this.bind(this.text(name), 'match', span(name), null, null, [], scope));
      } else if (child.name === 'Guard' || child.name === 'ValuePattern') this.expressionsIn(child, scope);
      else if (child.firstChild) this.patternsIn(child, scope, bodyAt);
    });
  }

  /**
   * Python decides at compile time which names are local to a function: any name bound anywhere
   * in its body (unless declared global). Those are collected before the body is walked.
   */
  private collectLocals(body: SyntaxNode, scope: Scope): void {
    const declaredGlobal = new Set<string>();
    const bound = new Set<string>();
    const visit = (node: SyntaxNode): void => {
      switch (node.name) {
        case 'FunctionDefinition':
        case 'ClassDefinition': {
          const name = node.getChild('VariableName');
          if (name) bound.add(this.text(name));
          // Defaults and decorators belong to this scope but bind nothing; the body is another scope.
          return;
        }
        case 'LambdaExpression':
        case 'ArrayComprehensionExpression':
        case 'DictionaryComprehensionExpression':
        case 'SetComprehensionExpression':
        case 'ComprehensionExpression':
          return;
        case 'ScopeStatement':
          for (const name of node.getChildren('VariableName')) {
            if (node.firstChild?.name === 'global') declaredGlobal.add(this.text(name));
            else bound.add(this.text(name));
          }
          return;
        case 'AssignStatement': {
          const parts = children(node);
          const lastOp = findLastIndex(parts, (p) => p.name === 'AssignOp');
          for (const part of parts.slice(0, Math.max(0, lastOp))) this.targetNames(part, bound);
          for (const part of parts.slice(lastOp + 1)) visit(part);
          return;
        }
        case 'UpdateStatement':
        case 'NamedExpression':
          if (node.firstChild?.name === 'VariableName') bound.add(this.text(node.firstChild));
          break;
        case 'ForStatement': {
          const parts = children(node);
          const inAt = parts.findIndex((p) => p.name === 'in');
          for (const part of parts.slice(1, Math.max(1, inAt))) this.targetNames(part, bound);
          break;
        }
        case 'ImportStatement':
          this.importedNames(node, bound);
          return;
        case 'CapturePattern':
          if (node.firstChild) bound.add(this.text(node.firstChild));
          return;
        case 'DeleteStatement':
          // `del x` makes x local, as an assignment would.
          for (const part of children(node)) this.targetNames(part, bound);
          return;
      }
      // with ... as x, except E as x
      const parts = children(node);
      parts.forEach((part, i) => {
        if (part.name === 'as' && parts[i + 1] && (node.name === 'WithStatement' || node.name === 'TryStatement')) this.targetNames(parts[i + 1]!, bound);
        visit(part);
      });
    };
    visit(body);
    for (const name of bound) if (!declaredGlobal.has(name)) scope.locals.add(name);
    for (const name of declaredGlobal) scope.globals.add(name);
  }

  private targetNames(node: SyntaxNode, into: Set<string>): void {
    if (node.name === 'VariableName') into.add(this.text(node));
    else if (node.name === 'TupleExpression' || node.name === 'ArrayExpression' || node.name === 'ParenthesizedExpression') {
      for (const child of children(node)) this.targetNames(child, into);
    }
  }

  private importedNames(node: SyntaxNode, into: Set<string>): void {
    const parts = children(node);
    const isFrom = parts[0]?.name === 'from';
    let afterImport = !isFrom;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.name === 'import') afterImport = true;
      if (!afterImport || part.name !== 'VariableName') continue;
      if (parts[i + 1]?.name === 'as' && parts[i + 2]) {
        into.add(this.text(parts[i + 2]!));
        i += 2;
      } else {
        into.add(this.text(part));
        if (!isFrom) while (parts[i + 1]?.name === '.') i += 2;
      }
    }
  }

  // ---- expressions -----------------------------------------------------------------------

  private expressionsIn(node: SyntaxNode, scope: Scope): void {
    for (const child of children(node)) this.expression(child, scope);
  }

  private expression(node: SyntaxNode, scope: Scope): Expr {
    const nodeSpan = span(node);
    switch (node.name) {
      case 'VariableName':
        this.use(node, scope);
        return { kind: 'name', name: this.text(node), span: nodeSpan };
      case 'String':
      case 'FormatString':
      case 'ContinuedString': {
        // Implicitly joined literals; a comment between two of them is not part of the value.
        const parts = node.name === 'ContinuedString' ? children(node).filter((c) => c.name === 'String' || c.name === 'FormatString') : [node];
        let value = '';
        let bytes = false;
        let formatted = false;
        const fields: Expr[] = [];
        for (const part of parts) {
          const token = stringTokenValue(this.text(part));
          value += token.value;
          bytes ||= token.bytes;
          formatted ||= token.formatted;
          if (part.name !== 'FormatString') continue;
          for (const child of children(part)) {
            if (child.name !== 'FormatReplacement') {
              this.expression(child, scope);
              continue;
            }
            // `{expr!r:spec}`: the expression is the first child after the brace.
            let field: Expr | null = null;
            for (const inner of children(child)) {
              if (inner.name === '{' || inner.name === '}') continue;
              const expr = this.expression(inner, scope);
              field ??= expr;
            }
            // A conversion or format spec (`{x!r}`, `{i:03d}`) changes the text: not foldable.
            const plain = !child.getChild('FormatConversion') && !child.getChild('FormatSpec');
            fields.push(plain && field ? field : { kind: 'other', span: span(child) });
          }
        }
        this.facts.strings.push({ value, bytes, formatted, span: nodeSpan });
        return formatted ? { kind: 'string', value, bytes, formatted, span: nodeSpan, fields } : { kind: 'string', value, bytes, formatted, span: nodeSpan };
      }
      case 'FormatReplacement':
      case 'FormatSpec':
        this.expressionsIn(node, scope);
        return { kind: 'other', span: nodeSpan };
      case 'Number':
        // As written: `2.` was adjusted to `20` for the parser (lezerCompat.ts).
        return { kind: 'number', text: this.masked.slice(node.from, node.to), span: nodeSpan };
      case 'Boolean':
      case 'None':
        return { kind: 'constant', value: this.text(node) as 'True' | 'False' | 'None', span: nodeSpan };
      case 'ParenthesizedExpression': {
        const inner = children(node).filter((c) => c.name !== '(' && c.name !== ')');
        if (inner.length === 1) return this.expression(inner[0]!, scope);
        this.expressionsIn(node, scope);
        return { kind: 'other', span: nodeSpan };
      }
      case 'MemberExpression': {
        const parts = children(node);
        const object = this.expression(parts[0]!, scope);
        if (parts[1]?.name === '.' && parts[2]?.name === 'PropertyName') {
          return { kind: 'attribute', object, name: this.text(parts[2]), span: nodeSpan };
        }
        for (const part of parts.slice(1)) this.expression(part, scope);
        return { kind: 'subscript', object, span: nodeSpan };
      }
      case 'CallExpression':
        return { kind: 'call', call: this.call(node, scope), span: nodeSpan };
      case 'BinaryExpression': {
        const parts = children(node);
        if (parts.length === 3) {
          return { kind: 'binary', op: this.text(parts[1]!), left: this.expression(parts[0]!, scope), right: this.expression(parts[2]!, scope), span: nodeSpan };
        }
        this.expressionsIn(node, scope);
        return { kind: 'other', span: nodeSpan };
      }
      case 'TupleExpression':
      case 'ArrayExpression': {
        const items = children(node)
          .filter((c) => !['(', ')', '[', ']', ','].includes(c.name))
          .map((c) => this.expression(c, scope));
        return { kind: 'sequence', items, span: nodeSpan };
      }
      case 'NamedExpression': {
        const parts = children(node);
        const readsBefore = this.facts.uses.length;
        const value = parts[2] ? this.expression(parts[2], scope) : null;
        const target = parts[0];
        if (target?.name === 'VariableName') this.boundFrom(node.to, () => this.bind(this.text(target), 'walrus', span(target), value, null, this.readsSince(readsBefore), comprehensionParent(scope)));
        return value ?? { kind: 'other', span: nodeSpan };
      }
      case 'LambdaExpression': {
        const inner: Scope = { kind: 'function', locals: new Set(), globals: new Set(), parent: scope };
        const params = node.getChild('ParamList');
        if (params) this.parameters(params, scope, inner);
        for (const child of children(node)) if (child.name !== 'ParamList' && child.name !== 'lambda' && child.name !== ':') this.expression(child, inner);
        return { kind: 'other', span: nodeSpan };
      }
      case 'ArrayComprehensionExpression':
      case 'DictionaryComprehensionExpression':
      case 'SetComprehensionExpression':
      case 'ComprehensionExpression':
        this.comprehension(node, scope);
        return { kind: 'other', span: nodeSpan };
      case 'Comment':
        return { kind: 'other', span: nodeSpan };
      case 'DictionaryExpression': {
        // {"key": value, ...}: string keys name their values.
        const parts = children(node);
        let key: Expr | null = null;
        for (let i = 0; i < parts.length; i++) {
          const part = parts[i]!;
          if (['{', '}', ','].includes(part.name)) continue;
          if (part.name === ':') continue;
          const expr = this.expression(part, scope);
          if (parts[i + 1]?.name === ':') key = expr;
          else {
            if (key?.kind === 'string') this.facts.namedValues.push({ name: key.value, qualifier: null, kind: 'key', value: expr });
            key = null;
          }
        }
        return { kind: 'other', span: nodeSpan };
      }
      default:
        if (STATEMENT_CONTAINERS.has(node.name)) this.statement(node, scope);
        else this.expressionsIn(node, scope);
        return { kind: 'other', span: nodeSpan };
    }
  }

  private call(node: SyntaxNode, scope: Scope): CallFact {
    const callee = this.expression(node.firstChild!, scope);
    return this.callWith(callee, node.getChild('ArgList'), span(node), scope);
  }

  private callWith(callee: Expr, argList: SyntaxNode | null, callSpan: Span, scope: Scope): CallFact {
    const call: CallFact = {
      index: this.facts.calls.length,
      callee,
      args: [],
      span: callSpan,
      argsSpan: argList ? span(argList) : { from: callSpan.to, to: callSpan.to },
      timing: timingOf(scope),
    };
    this.facts.calls.push(call);
    if (!argList) return call;
    const parts = children(argList);
    // A generator argument, f(x for x in y), is one comprehension spread over the list.
    if (parts.some((p) => p.name === 'for')) {
      this.comprehension(argList, scope);
      return call;
    }
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (['(', ')', ','].includes(part.name)) continue;
      if (part.name === '*' || part.name === '**') {
        const value = parts[i + 1];
        if (value) call.args.push({ keyword: null, star: part.name, value: this.expression(value, scope), span: { from: part.from, to: value.to } });
        i++;
      } else if (part.name === 'VariableName' && parts[i + 1]?.name === 'AssignOp' && parts[i + 2]) {
        const value = parts[i + 2]!;
        const expr = this.expression(value, scope);
        call.args.push({ keyword: this.text(part), star: '', value: expr, span: { from: part.from, to: value.to } });
        this.facts.namedValues.push({ name: this.text(part), qualifier: null, kind: 'keyword', value: expr });
        i += 2;
      } else {
        call.args.push({ keyword: null, star: '', value: this.expression(part, scope), span: span(part) });
      }
    }
    return call;
  }

  /**
   * `[e for t in it if c]`: the first iterable is evaluated in the enclosing scope, the targets
   * are local to the comprehension, everything else sees both.
   */
  private comprehension(node: SyntaxNode, scope: Scope): void {
    const parts = children(node).filter((p) => !['(', ')', '[', ']', '{', '}', ',', ':'].includes(p.name));
    const inner: Scope = { kind: 'comprehension', locals: new Set(), globals: new Set(), parent: scope };
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]!.name !== 'for') continue;
      for (let j = i + 1; j < parts.length && parts[j]!.name !== 'in'; j++) this.targetNames(parts[j]!, inner.locals);
    }
    let firstIterable = true;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.name === 'for' || part.name === 'if' || part.name === 'async') continue;
      if (part.name === 'in') {
        const iterable = parts[++i];
        if (iterable) this.expression(iterable, firstIterable ? scope : inner);
        firstIterable = false;
        continue;
      }
      const isTarget = parts.slice(0, i).some((p, k) => p.name === 'for' && parts.slice(k + 1, i + 1).every((q) => q.name !== 'in'));
      if (!isTarget) this.expression(part, inner);
    }
  }

  // ---- names -----------------------------------------------------------------------------

  private use(node: SyntaxNode, scope: Scope): void {
    const name = this.text(node);
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (s.kind === 'module') break;
      // Functions defined in a class body do not see the class's names.
      if (s.kind === 'class' && s !== scope) continue;
      if (s.globals.has(name)) break;
      if (s.locals.has(name)) return;
    }
    const use: NameUse = { name, span: span(node), timing: timingOf(scope) };
    if (this.guard) use.guard = this.guard;
    if (this.loop) use.loop = this.loop;
    this.facts.uses.push(use);
  }

  private bind(name: string, kind: BindingKind, nameSpan: Span, value: Expr | null, unpacked: Binding['unpacked'], dependsOn: string[], scope: Scope): void {
    if (scope.kind === 'module' || scope.globals.has(name)) {
      const boundAt = this.bodyStart ?? Math.max(this.statementEnd, nameSpan.to);
      this.facts.bindings.push({ name, kind, span: nameSpan, value, unpacked, dependsOn, timing: timingOf(scope), boundAt });
    } else if (scope.kind === 'class' || scope.kind === 'comprehension') {
      scope.locals.add(name);
    }
  }

  /** Runs `bind` calls whose names take effect at `offset` rather than at the statement's end. */
  private boundFrom(offset: number, bindTargets: () => void): void {
    const outer = this.bodyStart;
    this.bodyStart = offset;
    try {
      bindTargets();
    } finally {
      this.bodyStart = outer;
    }
  }

  private readsSince(count: number): string[] {
    return [...new Set(this.facts.uses.slice(count).map((u) => u.name))];
  }
}

// ---- helpers -----------------------------------------------------------------------------

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function span(node: SyntaxNode): Span {
  return { from: node.from, to: node.to };
}

function spanOf(nodes: SyntaxNode[]): Span {
  return { from: nodes[0]!.from, to: nodes.at(-1)!.to };
}

function findLastIndex<T>(items: T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

function timingOf(scope: Scope): Timing {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.kind === 'function') return 'deferred';
  return 'immediate';
}

/** A walrus in a comprehension binds in the enclosing scope (PEP 572). */
function comprehensionParent(scope: Scope): Scope {
  let s = scope;
  while (s.kind === 'comprehension' && s.parent) s = s.parent;
  return s;
}

/** The string key of `d["key"]` (already walked, so its literal is among `strings`), else null. */
function subscriptKey(node: SyntaxNode, strings: readonly StringFact[]): string | null {
  const parts = children(node).filter((p) => p.name !== '[' && p.name !== ']');
  const key = parts.length === 2 ? parts[1]! : null;
  if (!key || (key.name !== 'String' && key.name !== 'ContinuedString')) return null;
  return strings.find((s) => s.span.from === key.from && s.span.to === key.to)?.value ?? null;
}

