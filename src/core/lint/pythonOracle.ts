/**
 * What the project's Python interpreter says, for rules that must agree with it: whether each
 * cell compiles (the `syntax-error` rule) and which names an installed module's `import *`
 * binds (`undefined-name`). Rules stay synchronous: answers are gathered before a lint (the CLI
 * waits for them) or arrive later (the editor re-lints then), and rules read them through
 * `PythonKnowledge`, keyed by cell source.
 *
 * One long-lived process per interpreter runs src/core/capture/python/nb2prod_lint.py
 * (`--serve`): cells go in as JSON lines, verdicts come back. It passes each cell through
 * IPython's own input transformation when IPython is installed (else nb2prod's masking) and
 * compiles it; it never runs a cell. Listing a module's names does import it (it runs the
 * module's code), so that is done in a separate short process, only for installed modules and
 * only when the caller allows it (the CLI, a trusted workspace). See docs/architecture.md,
 * "Linting".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { cachedAnalyze, type SourceCell } from './model';
import { positionAt } from './positions';
import type { ProjectInfo } from './project';
import { maskIPython } from './python/ipython';
import { installedStarModules } from './externalNames';

/** The interpreter's verdict on one cell. Positions are 0-based, in the cell's source. */
export type SyntaxVerdict =
  | { ok: true }
  | {
      ok: false;
      /** `SyntaxError`, `IndentationError`, `TabError`, or `ValueError` for a null byte in old Pythons. */
      error: string;
      message: string;
      /** -1 when the interpreter named no line. */
      line: number;
      column: number;
      endLine: number;
      endColumn: number;
    };

export interface PythonKnowledge {
  /** `Python 3.11`, for messages. */
  readonly label: string;
  /** The verdict on a cell with this source; undefined when the interpreter has not been asked (yet). */
  syntax(source: string): SyntaxVerdict | undefined;
  /**
   * What `from module import *` binds, per the interpreter; null when it cannot import it,
   * undefined when it was not asked (untrusted workspace, not yet answered).
   */
  moduleNames(module: string): ReadonlySet<string> | null | undefined;
}

export interface PythonOracleOptions {
  /** The interpreter: a path or a command on the PATH. */
  python: string;
  /** Folder of the Python companion (dist/python; src/core/capture/python in tests). */
  pythonDir: string;
  /** Whether installed modules may be imported to list their names (it runs their code). */
  importModules: boolean;
  /** How long the interpreter may take to start (IPython's import is slow on a cold disk). */
  startTimeoutMs?: number;
  /** How long a batch of answers may take once started. */
  answerTimeoutMs?: number;
}

interface Pending {
  source: string;
  resolve: () => void;
}

/** Verdicts kept per interpreter; a long editing session should not grow it without limit. */
const VERDICT_CACHE_LIMIT = 20_000;

export class PythonOracle {
  private process: ChildProcess | null = null;
  private started: Promise<boolean> | null = null;
  private version: { python: string; ipython: string | null } | null = null;
  /** Why the interpreter cannot be used; null while it can (or has not been tried). */
  private failure: string | null = null;
  private readonly verdicts = new Map<string, SyntaxVerdict>();
  /** Cells the interpreter answered without a verdict (a bug in the companion): not asked again. */
  private readonly unanswerable = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly pending = new Map<number, Pending>();
  private readonly names = new Map<string, ReadonlySet<string> | null>();
  private readonly namesInFlight = new Map<string, Promise<void>>();
  private nextId = 1;
  private buffered = '';
  private stderrTail = '';
  private disposed = false;

  constructor(private readonly options: PythonOracleOptions) {}

  /** The interpreter's version and IPython's (null when IPython is not installed: nb2prod's masking is used), once started. */
  get versions(): { python: string; ipython: string | null } | null {
    return this.version;
  }

  /** Why the interpreter could not be used (not found, crashed, timed out); null otherwise. */
  get unavailable(): string | null {
    return this.failure;
  }

  /**
   * What is known now (synchronous, for a lint); null when there is no usable interpreter.
   * Before the interpreter has answered, every verdict is still unknown.
   */
  knowledge(): PythonKnowledge | null {
    if (this.failure) return null;
    const label = this.version ? `Python ${this.version.python.split('.').slice(0, 2).join('.')}` : 'Python';
    return {
      label,
      syntax: (source) => this.verdicts.get(source),
      moduleNames: (module) => this.names.get(module),
    };
  }

  /** Whether asking about these would learn something (cells without a verdict, modules not listed). */
  needs(sources: readonly string[], modules: readonly string[] = []): boolean {
    if (this.failure || this.disposed) return false;
    return sources.some((s) => !this.verdicts.has(s) && !this.unanswerable.has(s)) || (this.options.importModules && modules.some((m) => !this.names.has(m) && this.isModuleName(m)));
  }

  /**
   * Asks the interpreter about the cells (and the installed modules) it has not answered for.
   * Resolves once the answers are in, or the interpreter turned out unusable (see
   * `unavailable`); never rejects.
   */
  async ensure(sources: readonly string[], modules: readonly string[] = []): Promise<void> {
    if (this.disposed || this.failure) return;
    await Promise.all([this.ensureSyntax(sources), this.options.importModules ? this.ensureNames(modules) : Promise.resolve()]);
  }

  /**
   * For a lint that waits (the CLI): asks about every code cell of a notebook and the installed
   * modules it star-imports, then returns what is known.
   */
  async prepare(cells: readonly SourceCell[], project: ProjectInfo, fromDir: string): Promise<PythonKnowledge | null> {
    const sources = cells.filter((c) => c.kind === 'code').map((c) => c.source);
    const modules = installedStarModules(cells.filter((c) => c.kind === 'code').map((c) => cachedAnalyze(c.source)), project, fromDir);
    await this.ensure(sources, modules);
    return this.knowledge();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private async ensureSyntax(sources: readonly string[]): Promise<void> {
    const waits: Array<Promise<void>> = [];
    const fresh: string[] = [];
    for (const source of new Set(sources)) {
      if (this.verdicts.has(source) || this.unanswerable.has(source)) continue;
      const waiting = this.inFlight.get(source);
      if (waiting) waits.push(waiting);
      else fresh.push(source);
    }
    if (!fresh.length) {
      await Promise.all(waits);
      return;
    }
    if (!(await this.start())) return;
    for (const source of fresh) {
      const id = this.nextId++;
      const answered = new Promise<void>((resolve) => this.pending.set(id, { source, resolve }));
      const done = answered.finally(() => this.inFlight.delete(source));
      this.inFlight.set(source, done);
      waits.push(done);
      const masked = maskIPython(source);
      // `%time stmt` and the like: the magic compiles its statement when it runs.
      const statements = masked.magics
        .filter((m) => m.kind === 'line' && m.python)
        .map((m) => ({ ...positionAt(source, m.python!.from), text: source.slice(m.python!.from, m.python!.to) }))
        .map(({ line, character, text }) => ({ line, column: character, text }));
      this.process!.stdin!.write(JSON.stringify({ id, source, masked: masked.isPython ? masked.code : '', statements }) + '\n');
    }
    const timeout = this.options.answerTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.fail(`${this.options.python} did not answer within ${Math.round(timeout / 1000)} s`);
        resolve();
      }, timeout);
    });
    await Promise.race([Promise.all(waits), timedOut]);
    clearTimeout(timer);
  }

  private async ensureNames(modules: readonly string[]): Promise<void> {
    const wanted = [...new Set(modules)].filter((m) => !this.names.has(m) && this.isModuleName(m));
    const waits = wanted.map((m) => this.namesInFlight.get(m)).filter((w): w is Promise<void> => !!w);
    const fresh = wanted.filter((m) => !this.namesInFlight.has(m));
    if (fresh.length) {
      const listed = this.listNames(fresh).finally(() => fresh.forEach((m) => this.namesInFlight.delete(m)));
      for (const module of fresh) this.namesInFlight.set(module, listed);
      waits.push(listed);
    }
    await Promise.all(waits);
  }

  private isModuleName(module: string): boolean {
    return /^[A-Za-z_][\w.]*$/.test(module);
  }

  /** Imports the modules in a process of their own (their code runs) and records their names. */
  private listNames(modules: string[]): Promise<void> {
    return new Promise((resolve) => {
      const script = path.join(this.options.pythonDir, 'nb2prod_lint.py');
      execFile(this.options.python, [script, '--names', ...modules], { cwd: os.tmpdir(), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout) => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
        } catch {
          // Unknown stays unknown: the rule is quiet about names after the import.
        }
        for (const module of modules) {
          const names = parsed[module];
          // Not listed (it failed, timed out): unknown, and not asked again.
          this.names.set(module, Array.isArray(names) ? new Set(names.filter((n): n is string => typeof n === 'string')) : null);
        }
        resolve();
      });
    });
  }

  private start(): Promise<boolean> {
    if (this.started) return this.started;
    this.started = new Promise<boolean>((resolve) => {
      const script = path.join(this.options.pythonDir, 'nb2prod_lint.py');
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timeout = this.options.startTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.fail(`${this.options.python} did not start within ${Math.round(timeout / 1000)} s`);
        settle(false);
      }, timeout);
      let child: ChildProcess;
      try {
        // From a neutral folder, so a workspace module named like `IPython` or `json` is not imported.
        child = spawn(this.options.python, [script, '--serve'], { cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
      } catch (error) {
        this.fail(`${this.options.python} could not be started: ${(error as Error).message}`);
        settle(false);
        return;
      }
      this.process = child;
      child.on('error', (error: NodeJS.ErrnoException) => {
        this.fail(error.code === 'ENOENT' ? `${this.options.python} was not found` : `${this.options.python} could not be started: ${error.message}`);
        settle(false);
      });
      child.on('exit', (code, signal) => {
        if (!this.disposed && this.process === child) this.fail(`${this.options.python} exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').at(-1)}` : ''}`);
        settle(false);
      });
      child.stdin!.on('error', () => {
        // EPIPE when the process died: reported by 'exit'.
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        this.stderrTail = (this.stderrTail + chunk).slice(-2000);
      });
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        this.buffered += chunk;
        let newline: number;
        while ((newline = this.buffered.indexOf('\n')) >= 0) {
          const line = this.buffered.slice(0, newline);
          this.buffered = this.buffered.slice(newline + 1);
          if (this.onLine(line)) settle(true);
        }
      });
    });
    return this.started;
  }

  /** One line from the process; true when it is the "ready" line. */
  private onLine(line: string): boolean {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return false;
    }
    if (message.ready === true) {
      this.version = { python: String(message.python ?? '3'), ipython: typeof message.ipython === 'string' ? message.ipython : null };
      return true;
    }
    const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!pending) return false;
    this.pending.delete(message.id as number);
    const verdict = toVerdict(message);
    if (verdict) {
      if (this.verdicts.size >= VERDICT_CACHE_LIMIT) this.verdicts.delete(this.verdicts.keys().next().value!);
      this.verdicts.set(pending.source, verdict);
    } else this.unanswerable.add(pending.source);
    pending.resolve();
    return false;
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.stop();
  }

  private stop(): void {
    const child = this.process;
    this.process = null;
    if (child && child.exitCode === null) {
      child.stdin?.end();
      child.kill();
    }
    for (const pending of this.pending.values()) pending.resolve();
    this.pending.clear();
  }
}

function toVerdict(message: Record<string, unknown>): SyntaxVerdict | null {
  if (message.ok === true) return { ok: true };
  if (message.ok !== false) return null;
  const int = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isInteger(value) ? value : fallback);
  return {
    ok: false,
    error: typeof message.error === 'string' ? message.error : 'SyntaxError',
    message: typeof message.message === 'string' ? message.message : 'invalid syntax',
    line: int(message.line, -1),
    column: int(message.column, 0),
    endLine: int(message.endLine, -1),
    endColumn: int(message.endColumn, 0),
  };
}
