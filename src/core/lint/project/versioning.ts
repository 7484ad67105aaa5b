/**
 * How each file of a project is versioned: tracked by DVC (a `.dvc` file, or an out of a
 * `dvc.lock`/`dvc.yaml` stage), stored in git LFS (a `filter=lfs` pattern in `.gitattributes`
 * on a file git tracks), committed to git, or none of those. Gathered once per scan and then
 * answered synchronously for the lint rules.
 *
 * Git is asked with `git ls-files` only when allowed (a trusted workspace: a repository's config
 * can make git run programs); without git, DVC and LFS declarations still answer, and anything
 * else is `unknown`.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DataVersioning } from '../project';

const exec = promisify(execFile);

/** Folders never holding the `.gitattributes`, `.dvc` and `dvc.lock` files the scan looks for. */
const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', '.ipynb_checkpoints', '.mypy_cache', '.pytest_cache', '.tox', '.nb2prod']);
const MAX_DEPTH = 12;
const MAX_ENTRIES = 200_000;

interface AttributeRule {
  /** Folder of the .gitattributes, relative to the root ('' for the root), posix separators. */
  base: string;
  pattern: RegExp;
  /** True: `filter=lfs`; false: the filter is unset or set to something else. */
  lfs: boolean;
}

export interface DataVersionScanOptions {
  useGit: boolean;
}

export class DataVersionIndex {
  private constructor(
    readonly root: string,
    /** Files git tracks (root-relative, posix), or null when git could not be asked. */
    private readonly gitFiles: ReadonlySet<string> | null,
    /** Folders holding a tracked file. */
    private readonly gitDirs: ReadonlySet<string>,
    /** Files and folders DVC tracks (root-relative, posix). */
    private readonly dvcPaths: ReadonlySet<string>,
    /** .gitattributes rules, shallow folders first, in file order (later rules win). */
    private readonly attributes: readonly AttributeRule[],
  ) {}

  static async scan(root: string, options: DataVersionScanOptions): Promise<DataVersionIndex> {
    const absoluteRoot = path.resolve(root);
    const [gitFiles, meta] = await Promise.all([options.useGit ? gitTrackedFiles(absoluteRoot) : Promise.resolve(null), findMetaFiles(absoluteRoot)]);
    const gitDirs = new Set<string>();
    for (const file of gitFiles ?? []) for (let dir = path.posix.dirname(file); dir !== '.' && !gitDirs.has(dir); dir = path.posix.dirname(dir)) gitDirs.add(dir);

    const dvcPaths = new Set<string>();
    const attributes: AttributeRule[] = [];
    await Promise.all([
      ...meta.dvcFiles.map(async (file) => {
        const dir = path.posix.dirname(file);
        const outs = parseDvcOuts(await readText(path.join(absoluteRoot, file)));
        // `foo.csv.dvc` pins `foo.csv` even when its outs cannot be read.
        if (!outs.length) outs.push(path.posix.basename(file).slice(0, -'.dvc'.length));
        for (const out of outs) addDvcPath(dvcPaths, dir, out);
      }),
      ...meta.dvcPipelines.map(async (file) => {
        const dir = path.posix.dirname(file);
        for (const out of parseDvcOuts(await readText(path.join(absoluteRoot, file)))) addDvcPath(dvcPaths, dir, out);
      }),
    ]);
    const attributeFiles = [...meta.gitattributes].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
    for (const file of attributeFiles) {
      const base = path.posix.dirname(file) === '.' ? '' : path.posix.dirname(file);
      attributes.push(...parseGitattributes(await readText(path.join(absoluteRoot, file)), base));
    }
    // .git/info/attributes has the highest precedence.
    attributes.push(...parseGitattributes(await readText(path.join(absoluteRoot, '.git', 'info', 'attributes')), ''));
    return new DataVersionIndex(absoluteRoot, gitFiles, gitDirs, dvcPaths, attributes);
  }

  versioning(absolutePath: string): DataVersioning {
    const relative = path.relative(this.root, path.resolve(absolutePath));
    if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return 'unknown';
    const file = relative.split(path.sep).join('/');
    for (let current = file; current !== '.'; current = path.posix.dirname(current)) if (this.dvcPaths.has(current)) return 'dvc';
    const tracked = this.gitFiles === null ? null : this.gitFiles.has(file) || this.gitDirs.has(file);
    // An LFS pattern only pins a file that is committed (or when git cannot be asked).
    if (tracked !== false && this.isLfs(file)) return 'lfs';
    if (tracked === null) return 'unknown';
    return tracked ? 'git' : 'untracked';
  }

  private isLfs(file: string): boolean {
    let lfs = false;
    for (const rule of this.attributes) {
      if (rule.base && !file.startsWith(rule.base + '/')) continue;
      const relative = rule.base ? file.slice(rule.base.length + 1) : file;
      if (rule.pattern.test(relative)) lfs = rule.lfs;
    }
    return lfs;
  }
}

/** Tracked files, relative to `root`; null when git is missing or `root` is not in a work tree. */
async function gitTrackedFiles(root: string): Promise<Set<string> | null> {
  try {
    const { stdout } = await exec('git', ['-c', 'core.fsmonitor=false', 'ls-files', '-z'], {
      cwd: root,
      maxBuffer: 512 * 1024 * 1024,
      timeout: 60_000,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
    });
    return new Set(stdout.split('\0').filter(Boolean));
  } catch {
    return null;
  }
}

interface MetaFiles {
  gitattributes: string[];
  dvcFiles: string[];
  dvcPipelines: string[];
}

/** The versioning declarations under `root` (root-relative, posix), walking a bounded tree. */
async function findMetaFiles(root: string): Promise<MetaFiles> {
  const found: MetaFiles = { gitattributes: [], dvcFiles: [], dvcPipelines: [] };
  let entries = 0;
  const walk = async (relativeDir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || entries > MAX_ENTRIES) return;
    let children;
    try {
      children = await readdir(path.join(root, relativeDir), { withFileTypes: true });
    } catch {
      return;
    }
    entries += children.length;
    const subdirs: string[] = [];
    for (const child of children) {
      const relative = relativeDir ? `${relativeDir}/${child.name}` : child.name;
      if (child.isDirectory()) {
        // .dvc holds DVC's cache and config, not declarations.
        if (!SKIPPED_DIRS.has(child.name) && child.name !== '.dvc') subdirs.push(relative);
      } else if (child.isFile()) {
        if (child.name === '.gitattributes') found.gitattributes.push(relative);
        else if (child.name === 'dvc.lock' || child.name === 'dvc.yaml') found.dvcPipelines.push(relative);
        else if (child.name.endsWith('.dvc') && child.name.length > 4) found.dvcFiles.push(relative);
      }
    }
    await Promise.all(subdirs.map((dir) => walk(dir, depth + 1)));
  };
  await walk('', 0);
  return found;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

function addDvcPath(into: Set<string>, dir: string, out: string): void {
  const joined = path.posix.normalize(path.posix.join(dir === '.' ? '' : dir, out.replace(/\\/g, '/'))).replace(/\/+$/, '');
  if (joined && joined !== '.' && !joined.startsWith('..')) into.add(joined);
}

/**
 * The `path`s listed under `outs:` in a `.dvc`, `dvc.lock` or `dvc.yaml` file. These are data
 * files in a regular shape, so a line reader does: `- path: x` entries (`.dvc`, `dvc.lock`),
 * and `- x` or `- x:` entries (`dvc.yaml`).
 */
export function parseDvcOuts(text: string): string[] {
  const outs: string[] = [];
  let outsIndent = -1;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine);
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    if (outsIndent >= 0) {
      const inside = indent > outsIndent || (indent === outsIndent && trimmed.startsWith('- '));
      if (!inside) outsIndent = -1;
    }
    const key = /^(?:-\s+)?outs\s*:\s*$/.exec(trimmed);
    if (key) {
      // Indentation of the `outs` key itself, after any `- ` list marker.
      outsIndent = indent + (trimmed.startsWith('-') ? trimmed.indexOf('outs') : 0);
      continue;
    }
    if (outsIndent < 0) continue;
    const pathEntry = /^(?:-\s+)?path\s*:\s*(.+)$/.exec(trimmed);
    if (pathEntry) {
      outs.push(yamlScalar(pathEntry[1]!));
      continue;
    }
    // dvc.yaml: `- data/out.csv` or `- data/out.csv:` (with options below), directly in the list.
    const item = /^-\s+(.+?)(\s*:)?$/.exec(trimmed);
    if (item && !/^[\w-]+\s*:\s/.test(item[1]!) && !item[1]!.includes(': ')) outs.push(yamlScalar(item[1]!));
  }
  return outs.filter(Boolean);
}

function stripComment(line: string): string {
  const at = line.search(/(^|\s)#/);
  return at < 0 ? line : line.slice(0, at);
}

function yamlScalar(value: string): string {
  const trimmed = value.trim();
  if ((trimmed.startsWith('"') && trimmed.endsWith('"')) || (trimmed.startsWith("'") && trimmed.endsWith("'"))) return trimmed.slice(1, -1);
  return trimmed;
}

/** The lines of a .gitattributes that set or unset `filter`, as matchers relative to `base`. */
export function parseGitattributes(text: string, base: string): AttributeRule[] {
  const rules: AttributeRule[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#') || line.startsWith('[attr]') || line.startsWith('"')) continue;
    const [pattern, ...attrs] = line.split(/\s+/);
    if (!pattern || pattern.startsWith('!')) continue;
    let lfs: boolean | null = null;
    for (const attr of attrs) {
      if (attr === 'filter=lfs') lfs = true;
      else if (attr === '-filter' || attr === '!filter' || (attr.startsWith('filter=') && attr !== 'filter=lfs')) lfs = false;
    }
    if (lfs === null) continue;
    const matcher = gitattributesPattern(pattern);
    if (matcher) rules.push({ base, pattern: matcher, lfs });
  }
  return rules;
}

/**
 * A gitattributes pattern as a regular expression over a path relative to its folder: without
 * a slash it matches the base name at any depth; with one it is anchored there. `*` and `?` stay
 * within a path segment, `**` crosses them. Patterns ending in `/` never match files.
 */
export function gitattributesPattern(pattern: string): RegExp | null {
  if (pattern.endsWith('/')) return null;
  const anchored = pattern.includes('/');
  const body = pattern.startsWith('/') ? pattern.slice(1) : pattern;
  let source = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '*') {
      if (body[i + 1] === '*') {
        const atStart = i === 0 || body[i - 1] === '/';
        const atEnd = i + 2 === body.length || body[i + 2] === '/';
        if (atStart && atEnd) {
          // `**/` is zero or more folders; a trailing `/**` is everything inside.
          if (i + 2 === body.length) source += '.*';
          else {
            source += '(?:.*/)?';
            i++;
          }
          i++;
          continue;
        }
        source += '[^/]*';
        i++;
        continue;
      }
      source += '[^/]*';
    } else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const close = body.indexOf(']', i + 2);
      if (close < 0) source += '\\[';
      else {
        const set = body.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${set}]`;
        i = close;
      }
    } else if (ch === '\\' && i + 1 < body.length) source += escapeRegExp(body[++i]!);
    else source += escapeRegExp(ch);
  }
  return new RegExp(anchored ? `^${source}$` : `(?:^|/)${source}$`);
}

function escapeRegExp(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}
