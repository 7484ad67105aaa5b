/**
 * The project around linted files, gathered once and answered synchronously: how data files are
 * versioned (git, DVC, LFS), which requirement files declare packages, which modules are the
 * project's own, and (when the caller knows) installed versions. The CLI scans per lint; the
 * editor keeps a scanner per workspace folder and invalidates it when a relevant file changes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataVersioning, DeclaredRequirements, ProjectInfo, PythonFile, PythonFileRequest } from '../project';
import { MAX_PYTHON_FILE_BYTES, moduleFileCandidates, normalizeDistributionName } from '../project';
import { isLocalModuleIn, readDeclaredRequirements } from './requirements';
import { DataVersionIndex } from './versioning';

export interface ProjectScannerOptions {
  /**
   * Whether git may be run in the project. False in an untrusted workspace: a repository's
   * config can make git run programs (core.fsmonitor), so versioning falls back to DVC and LFS
   * files and reports git status as unknown.
   */
  useGit: boolean;
  /** Installed distributions (name → version) of the project's interpreter, when known. */
  installed?: ReadonlyMap<string, string>;
  /** Top-level module → installed distributions providing it, when known. */
  modules?: ReadonlyMap<string, readonly string[]>;
}

export class ProjectScanner {
  private versionIndex: Promise<DataVersionIndex> | undefined;
  private readonly requirementsByDir = new Map<string, Promise<DeclaredRequirements | null>>();
  /** `name\0fromDir` → is it the project's own module: file-system checks, asked per keystroke. */
  private readonly localModules = new Map<string, boolean>();
  /** Python files read for names, by absolute path, with the modification time they were read at. */
  private readonly pythonFiles = new Map<string, { mtimeMs: number; text: string }>();

  constructor(
    readonly root: string,
    private options: ProjectScannerOptions,
  ) {}

  /** Forget what was scanned (a requirements file, .gitattributes, a .dvc file or git's index changed). */
  invalidate(): void {
    this.versionIndex = undefined;
    this.requirementsByDir.clear();
    this.localModules.clear();
    this.pythonFiles.clear();
  }

  setInstalled(installed: ReadonlyMap<string, string> | undefined, modules?: ReadonlyMap<string, readonly string[]>): void {
    this.options = { ...this.options, installed, modules };
  }

  /** Project facts as seen from `file` (requirement files are looked up from its folder). */
  async forFile(file: string): Promise<ProjectInfo> {
    const fileDir = path.dirname(path.resolve(file));
    this.versionIndex ??= DataVersionIndex.scan(this.root, { useGit: this.options.useGit });
    let requirements = this.requirementsByDir.get(fileDir);
    if (!requirements) {
      requirements = readDeclaredRequirements(this.root, isInside(this.root, fileDir) ? fileDir : this.root);
      this.requirementsByDir.set(fileDir, requirements);
    }
    const [index, declared] = await Promise.all([this.versionIndex, requirements]);
    const installed = this.options.installed;
    const modules = this.options.modules;
    const root = this.root;
    return {
      root,
      versioning: (absolutePath: string): DataVersioning => index.versioning(absolutePath),
      requirements: () => declared,
      isLocalModule: (name: string, fromDir: string) => {
        const key = `${name}\0${fromDir}`;
        let local = this.localModules.get(key);
        if (local === undefined) {
          local = isLocalModuleIn(localModuleDirs(root, fromDir), name);
          this.localModules.set(key, local);
        }
        return local;
      },
      installedVersion: (distribution: string) => {
        if (!installed) return undefined;
        const wanted = normalizeDistributionName(distribution);
        for (const [name, version] of installed) if (normalizeDistributionName(name) === wanted) return version;
        return undefined;
      },
      readPython: (request: PythonFileRequest, fromDir: string) => {
        const candidates = 'module' in request ? localModuleDirs(root, fromDir).flatMap((dir) => moduleFileCandidates(request.module).map((c) => path.join(dir, c))) : [path.resolve(fromDir, request.file)];
        for (const candidate of candidates) {
          const file = this.readPythonFile(candidate);
          if (file) return file;
        }
        return null;
      },
      distributionsProviding: (topLevelModule: string) => modules?.get(topLevelModule),
    };
  }

  /**
   * A regular file's text, re-read when it changed (a helper module edited beside the
   * notebook); null for anything else (missing, a device or FIFO, too large, unreadable).
   */
  private readPythonFile(file: string): PythonFile | null {
    try {
      const stat = statSync(file);
      if (!stat.isFile() || stat.size > MAX_PYTHON_FILE_BYTES) return null;
      const known = this.pythonFiles.get(file);
      if (known && known.mtimeMs === stat.mtimeMs) return { path: file, text: known.text };
      const text = readFileSync(file, 'utf8');
      this.pythonFiles.set(file, { mtimeMs: stat.mtimeMs, text });
      return { path: file, text };
    } catch {
      return null;
    }
  }
}

/**
 * The root of the project holding `dir`: the nearest folder above with a `.git`, else
 * `fallback` when `dir` is inside it, else `dir` itself.
 */
export function findProjectRoot(dir: string, fallback?: string): string {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(path.join(current, '.git'))) return current;
    if (path.dirname(current) === current) break;
  }
  if (fallback && isInside(path.resolve(fallback), path.resolve(dir))) return path.resolve(fallback);
  return path.resolve(dir);
}

/** Where `import x` finds the project's own modules: the file's folder, the root, and `src/`. */
function localModuleDirs(root: string, fromDir: string): string[] {
  return [...new Set([fromDir, root, path.join(root, 'src')])];
}

export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
