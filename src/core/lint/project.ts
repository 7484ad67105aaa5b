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
   * The installed distributions that provide a top-level module (from their `top_level.txt` or
   * RECORD), when the interpreter was asked; undefined when unknown.
   */
  distributionsProviding?(topLevelModule: string): readonly string[] | undefined;
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
    return this.facts.localModules?.includes(name) ?? false;
  }
  installedVersion(distribution: string): string | undefined {
    const installed = this.facts.installed ?? {};
    const wanted = normalizeDistributionName(distribution);
    for (const [name, version] of Object.entries(installed)) if (normalizeDistributionName(name) === wanted) return version;
    return undefined;
  }
  distributionsProviding(topLevelModule: string): readonly string[] | undefined {
    return this.facts.providedBy?.[topLevelModule];
  }
}
