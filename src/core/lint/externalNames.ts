/**
 * Names a notebook gets without a statement that names them: `from helpers import *`,
 * `%run setup.py`, `%store -r`, `%pylab`. They are resolved where that needs no execution —
 * the project's own files are parsed like cells (`__all__`, else the public top-level names;
 * for `%run`, every global) — or, for installed modules, from the interpreter when it was
 * allowed to import them (pythonOracle.ts). Anything else is unknown (null): the
 * `undefined-name` rule then stays quiet about names read after it.
 */
import path from 'node:path';
import { parseNotebook } from '../notebook/ipynb';
import { cachedAnalyze, type NotebookModel } from './model';
import type { ProjectInfo } from './project';
import type { CellFacts } from './python/analyze';
import type { PythonKnowledge } from './pythonOracle';

export interface NameProvider {
  /** How the notebook says it, for messages: "`from helpers import *`", "`%run setup.py`". */
  label: string;
  cell: number;
  /** Offset in the cell from which the names exist (the end of the statement or magic). */
  at: number;
  /** The names it brings in; null when they cannot be known without running code. */
  names: ReadonlySet<string> | null;
}

/** Names `%pylab` puts in the namespace besides `from pylab import *`. */
const PYLAB_EXTRAS = ['np', 'plt', 'numpy', 'matplotlib', 'mlab', 'pyplot', 'display', 'figsize'];

/** How deep star imports and `%run`s of the project's files are followed. */
const MAX_DEPTH = 6;

/** Every name provider of a notebook, in notebook order. */
export function nameProviders(model: NotebookModel, project: ProjectInfo, python: PythonKnowledge | null, fromDir: string): NameProvider[] {
  const resolver = new NameResolver(project, python);
  const providers: NameProvider[] = [];
  for (const { cell, facts } of model.codeCells()) {
    for (const item of facts.imports) {
      if (!item.star) continue;
      providers.push({ label: `\`from ${item.module} import *\``, cell, at: item.statementSpan.to, names: resolver.starImport(item.module, item.level, fromDir, 0) });
    }
    for (const source of facts.nameSources) {
      const text = facts.source.slice(source.span.from, source.span.to).trim();
      const names = source.kind === 'run' ? resolver.run(source.target, fromDir, 0) : source.kind === 'pylab' ? resolver.pylab() : null;
      providers.push({ label: `\`${text}\``, cell, at: source.span.to, names });
    }
  }
  return providers.sort((a, b) => a.cell - b.cell || a.at - b.at);
}

/**
 * Installed modules whose names only the interpreter can tell: those the cells star-import
 * (directly, or through the project's own files) that are not the project's own.
 */
export function installedStarModules(cells: readonly CellFacts[], project: ProjectInfo, fromDir: string): string[] {
  const wanted = new Set<string>();
  const seen = new Set<string>();
  const visit = (facts: CellFacts, dir: string, depth: number): void => {
    if (facts.nameSources.some((s) => s.kind === 'pylab')) wanted.add('pylab');
    for (const item of facts.imports) {
      if (!item.star) continue;
      const local = item.level > 0 ? readRelative(project, item.module, item.level, dir) : project.readPython?.({ module: item.module }, dir);
      if (local) {
        if (depth < MAX_DEPTH && !seen.has(local.path)) {
          seen.add(local.path);
          visit(cachedAnalyze(local.text), path.dirname(local.path), depth + 1);
        }
      } else if (item.level === 0 && !project.isLocalModule(item.module.split('.')[0]!, dir)) wanted.add(item.module);
    }
  };
  for (const facts of cells) visit(facts, fromDir, 0);
  return [...wanted];
}

class NameResolver {
  private readonly byFile = new Map<string, ReadonlySet<string> | null>();
  /** Files being resolved: a cycle (a imports * from b, b from a) adds nothing. */
  private readonly active = new Set<string>();

  constructor(
    private readonly project: ProjectInfo,
    private readonly python: PythonKnowledge | null,
  ) {}

  /** What `from module import *` binds, seen from a file in `fromDir`. */
  starImport(module: string, level: number, fromDir: string, depth: number): ReadonlySet<string> | null {
    const local = level > 0 ? readRelative(this.project, module, level, fromDir) : this.project.readPython?.({ module }, fromDir);
    if (local) return this.fileGlobals(local.path, () => [cachedAnalyze(local.text)], true, depth);
    if (level > 0 || this.project.isLocalModule(module.split('.')[0]!, fromDir)) return null;
    return this.python?.moduleNames(module) ?? null;
  }

  /** The globals `%run target` leaves in the notebook: a script, a notebook, or `-m module`. */
  run(target: string, fromDir: string, depth: number): ReadonlySet<string> | null {
    if (!target) return null;
    if (target.startsWith('-m ')) {
      const local = this.project.readPython?.({ module: target.slice(3).trim() }, fromDir);
      return local ? this.fileGlobals(local.path, () => [cachedAnalyze(local.text)], false, depth) : null;
    }
    const unquoted = target.replace(/^(['"])(.*)\1$/, '$2');
    // IPython tries the name as given, then with `.py` (and `.ipy`).
    const file = this.project.readPython?.({ file: unquoted }, fromDir) ?? (path.extname(unquoted) ? null : this.project.readPython?.({ file: `${unquoted}.py` }, fromDir));
    if (!file) return null;
    if (file.path.endsWith('.ipynb')) {
      return this.fileGlobals(file.path, () => notebookFacts(file.text), false, depth);
    }
    return this.fileGlobals(file.path, () => [cachedAnalyze(file.text)], false, depth);
  }

  pylab(): ReadonlySet<string> | null {
    const names = this.python?.moduleNames('pylab');
    return names ? new Set([...names, ...PYLAB_EXTRAS]) : null;
  }

  /**
   * The names a file defines at module level: all of them for `%run`, its `__all__` or public
   * ones for `import *`. Null when that includes something unknown (an `__all__` that is not a
   * literal list, a star import that cannot be resolved, a file that does not parse).
   */
  private fileGlobals(file: string, facts: () => CellFacts[] | null, publicOnly: boolean, depth: number): ReadonlySet<string> | null {
    const key = `${publicOnly ? 'public' : 'all'}:${file}`;
    if (this.byFile.has(key)) return this.byFile.get(key)!;
    if (this.active.has(key)) return new Set();
    if (depth >= MAX_DEPTH) return null;
    this.active.add(key);
    try {
      const cells = facts();
      const names = cells ? this.globalsOf(cells, path.dirname(file), publicOnly, depth + 1) : null;
      this.byFile.set(key, names);
      return names;
    } finally {
      this.active.delete(key);
    }
  }

  private globalsOf(cells: readonly CellFacts[], dir: string, publicOnly: boolean, depth: number): ReadonlySet<string> | null {
    if (cells.some((facts) => facts.syntaxErrors.length)) return null;
    if (publicOnly) {
      const declared = cells.flatMap((facts) => facts.bindings.filter((b) => b.name === '__all__'));
      if (declared.length) {
        const names = new Set<string>();
        for (const binding of declared) {
          const value = binding.value;
          if (binding.kind !== 'assign' || value?.kind !== 'sequence' || !value.items.every((item) => item.kind === 'string')) return null;
          for (const item of value.items) if (item.kind === 'string') names.add(item.value);
        }
        return names;
      }
    }
    const names = new Set<string>();
    const add = (name: string): void => {
      if (!publicOnly || !name.startsWith('_')) names.add(name);
    };
    for (const facts of cells) {
      for (const binding of facts.bindings) add(binding.name);
      for (const item of facts.imports) {
        if (!item.star) continue;
        const more = this.starImport(item.module, item.level, dir, depth);
        if (!more) return null;
        more.forEach(add);
      }
      for (const source of facts.nameSources) {
        const more = source.kind === 'run' ? this.run(source.target, dir, depth) : source.kind === 'pylab' ? this.pylab() : null;
        if (!more) return null;
        more.forEach(add);
      }
    }
    return names;
  }
}

/** `from .x import *` (level 1: beside the file; 2: one folder up). */
function readRelative(project: ProjectInfo, module: string, level: number, fromDir: string): ReturnType<NonNullable<ProjectInfo['readPython']>> {
  const base = path.join(fromDir, ...Array<string>(Math.max(0, level - 1)).fill('..'));
  const relative = module ? module.split('.').join('/') : '__init__';
  return project.readPython?.({ file: path.join(base, `${relative}.py`) }, fromDir) ?? (module ? (project.readPython?.({ file: path.join(base, relative, '__init__.py') }, fromDir) ?? null) : null);
}

function notebookFacts(text: string): CellFacts[] | null {
  try {
    return parseNotebook(text, 'notebook')
      .cells.filter((cell) => cell.kind === 'code')
      .map((cell) => cachedAnalyze(cell.source));
  } catch {
    return null;
  }
}
