/**
 * What the rules need to know about the project around a file, answered synchronously from
 * facts gathered beforehand (git's tracked files, DVC and LFS declarations, requirement files).
 * `StaticProjectInfo` is the plain-data implementation used by tests; the CLI and the editor
 * build one with `scanProject` (project/scan.ts).
 */

export type DataVersioning = 'git' | 'dvc' | 'lfs' | 'untracked' | 'unknown';

export interface DeclaredRequirements {
  /** Files the declarations came from, relative to the project root. */
  files: string[];
  /** Normalised distribution names (PEP 503: lower case, runs of -_. as -). */
  names: ReadonlySet<string>;
}

export interface ProjectInfo {
  /** Absolute path of the project root: the workspace folder, else the git root, else the file's folder. */
  readonly root: string;
  /** How a file (absolute path) is versioned. `unknown` when it cannot be told (no git, untrusted). */
  versioning(absolutePath: string): DataVersioning;
  /** Requirement or lock files of the project and what they declare; null when there are none. */
  requirements(): DeclaredRequirements | null;
  /** A top-level module name that is the project's own code (`utils` for utils.py or utils/). */
  isLocalModule(name: string, fromDir: string): boolean;
  /** Version of an installed distribution in the project's interpreter, when known. */
  installedVersion(distribution: string): string | undefined;
  /**
   * One of the project's own Python files, read without running anything: a local module
   * (`{ module: 'pkg.mod' }` → pkg/mod.py or pkg/mod/__init__.py, where `import` finds the
   * project's code) or a file as `%run` names it (`{ file: '../setup.py' }`, relative to
   * `fromDir`). Null when there is no such file. For names that `from helpers import *` and
   * `%run setup.py` bring into a notebook.
   */
  readPython?(request: PythonFileRequest, fromDir: string): PythonFile | null;
  /**
   * The installed distributions that provide a top-level module (from their `top_level.txt` or
   * RECORD), when the interpreter was asked; undefined when unknown.
   */
  distributionsProviding?(topLevelModule: string): readonly string[] | undefined;
}

export type PythonFileRequest = { module: string } | { file: string };

export interface PythonFile {
  /** Absolute path. */
  path: string;
  text: string;
}

/** Files larger than this are not read for names (generated code, vendored libraries). */
export const MAX_PYTHON_FILE_BYTES = 2 * 1024 * 1024;

/** Where a module would be, relative to a folder `import` searches: `a/b.py`, then `a/b/__init__.py`. */
export function moduleFileCandidates(module: string): string[] {
  const base = module.split('.').join('/');
  return [`${base}.py`, `${base}/__init__.py`];
}

export function normalizeDistributionName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

export interface StaticProjectFacts {
  root: string;
  versioned?: Record<string, DataVersioning>;
  defaultVersioning?: DataVersioning;
  requirements?: DeclaredRequirements | null;
  localModules?: string[];
  installed?: Record<string, string>;
  /** Python files of the project, by path relative to the root (for `readPython`). */
  files?: Record<string, string>;
  /** Top-level module → installed distributions providing it. */
  providedBy?: Record<string, string[]>;
}

export class StaticProjectInfo implements ProjectInfo {
  readonly root: string;
  constructor(private readonly facts: StaticProjectFacts) {
    this.root = facts.root;
  }
  versioning(absolutePath: string): DataVersioning {
    return this.facts.versioned?.[absolutePath] ?? this.facts.defaultVersioning ?? 'unknown';
  }
  requirements(): DeclaredRequirements | null {
    return this.facts.requirements ?? null;
  }
  isLocalModule(name: string): boolean {
    if (this.facts.localModules?.includes(name)) return true;
    return moduleFileCandidates(name).some((candidate) => candidate in (this.facts.files ?? {}));
  }
  installedVersion(distribution: string): string | undefined {
    const installed = this.facts.installed ?? {};
    const wanted = normalizeDistributionName(distribution);
    for (const [name, version] of Object.entries(installed)) if (normalizeDistributionName(name) === wanted) return version;
    return undefined;
  }
  readPython(request: PythonFileRequest, fromDir: string): PythonFile | null {
    const files = this.facts.files ?? {};
    const root = this.facts.root.replace(/\/+$/, '');
    const relative = (absolute: string): string => (absolute.startsWith(`${root}/`) ? absolute.slice(root.length + 1) : absolute);
    const candidates = 'module' in request ? moduleFileCandidates(request.module).flatMap((c) => [relative(`${fromDir}/${c}`), c]) : [relative(normalizePosix(request.file.startsWith('/') ? request.file : `${fromDir}/${request.file}`))];
    for (const candidate of candidates) if (candidate in files) return { path: `${root}/${candidate}`, text: files[candidate]! };
    return null;
  }
  distributionsProviding(topLevelModule: string): readonly string[] | undefined {
    return this.facts.providedBy?.[topLevelModule];
  }
}

function normalizePosix(file: string): string {
  const parts: string[] = [];
  for (const part of file.split('/')) {
    if (part === '..') parts.pop();
    else if (part && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
}
