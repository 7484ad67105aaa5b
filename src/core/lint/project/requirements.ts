/**
 * Which packages a project declares, read from its requirement, project and lock files in the
 * folder of the linted file and every folder above it up to the project root:
 *
 * - `requirements*.txt` / `*-requirements.txt` / `.in` and `requirements/*.txt`, following
 *   `-r other.txt` includes (once each);
 * - `pyproject.toml`: `[project]` dependencies and optional dependencies (and requirement files
 *   named by setuptools' dynamic dependencies), Poetry's dependencies and groups, PEP 735
 *   `[dependency-groups]`, uv's and PDM's dev dependencies, pixi's tables;
 * - conda `environment.yml` / `.yaml`, with its nested `pip:` list;
 * - `Pipfile` and `Pipfile.lock`, `setup.cfg` (`install_requires`, `extras_require`);
 * - lock files: `poetry.lock`, `uv.lock`, `pdm.lock`, `pylock.toml`, `pixi.toml`.
 *
 * Only names matter here (normalised per PEP 503), not versions. A file that cannot be read or
 * parsed is skipped silently: a broken pyproject.toml must not break linting, and the file's
 * own tooling reports it better. A pyproject.toml that only configures tools (no dependency
 * table) declares nothing and is not listed. `setup.py` is not read: it is code, not data.
 */
import { statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { type DeclaredRequirements, normalizeDistributionName } from '../project';

/** A distribution name at the start of a PEP 508 requirement or conda spec. */
const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;

/** Fixed file names, in the order they are listed in messages. */
const NAMED_FILES = ['pyproject.toml', 'environment.yml', 'environment.yaml', 'Pipfile', 'Pipfile.lock', 'setup.cfg', 'pixi.toml', 'poetry.lock', 'uv.lock', 'pdm.lock', 'pylock.toml'];

export async function readDeclaredRequirements(root: string, fromDir: string): Promise<DeclaredRequirements | null> {
  const reader = new RequirementsReader(path.resolve(root));
  for (const dir of foldersUpTo(path.resolve(root), path.resolve(fromDir))) await reader.readFolder(dir);
  return reader.files.length ? { files: reader.files, names: reader.names } : null;
}

/**
 * Whether `name` is a module of the project's own in one of `dirs`: `name.py`, or a folder
 * `name/` (a package, or a namespace package without `__init__.py`).
 */
export function isLocalModuleIn(dirs: string[], name: string): boolean {
  if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name)) return false;
  for (const dir of dirs) {
    if (isFile(path.join(dir, `${name}.py`))) return true;
    try {
      if (statSync(path.join(dir, name)).isDirectory()) return true;
    } catch {
      // Not there.
    }
  }
  return false;
}

/** `fromDir`, its parents up to `root` (inclusive); just `fromDir` when it is outside `root`. */
function foldersUpTo(root: string, fromDir: string): string[] {
  const relative = path.relative(root, fromDir);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return [fromDir];
  const dirs: string[] = [];
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === root || path.dirname(dir) === dir) break;
  }
  return dirs;
}

class RequirementsReader {
  readonly files: string[] = [];
  readonly names = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly root: string) {}

  async readFolder(dir: string): Promise<void> {
    const entries = await listFolder(dir);
    const requirementFiles = entries.filter((entry) => entry.file && isRequirementsFileName(entry.name)).map((entry) => entry.name);
    // requirements.txt first, then its variants (requirements-dev.txt, ...) alphabetically.
    requirementFiles.sort((a, b) => Number(b === 'requirements.txt') - Number(a === 'requirements.txt') || a.localeCompare(b));
    for (const name of requirementFiles) await this.readRequirementsFile(path.join(dir, name));
    if (entries.some((entry) => !entry.file && entry.name === 'requirements')) {
      const nested = (await listFolder(path.join(dir, 'requirements'))).filter((entry) => entry.file && /\.(txt|in)$/i.test(entry.name));
      for (const entry of nested.sort((a, b) => a.name.localeCompare(b.name))) await this.readRequirementsFile(path.join(dir, 'requirements', entry.name));
    }
    const present = new Set(entries.filter((entry) => entry.file).map((entry) => entry.name));
    for (const name of NAMED_FILES) {
      if (!present.has(name)) continue;
      const file = path.join(dir, name);
      if (this.seen.has(file)) continue;
      this.seen.add(file);
      const text = await readText(file);
      if (text === null) continue;
      let declared: string[] | null;
      try {
        declared = await this.parseNamedFile(name, text, dir);
      } catch {
        // Malformed: skipped (see the module comment).
        continue;
      }
      if (declared) this.add(file, declared);
    }
  }

  /** Names a fixed-name file declares; null when it declares no dependencies at all. */
  private async parseNamedFile(name: string, text: string, dir: string): Promise<string[] | null> {
    switch (name) {
      case 'pyproject.toml':
        return this.parsePyproject(text, dir);
      case 'environment.yml':
      case 'environment.yaml':
        return parseCondaEnvironment(text);
      case 'Pipfile': {
        const toml = parseToml(text) as Table;
        return tableKeys(toml['packages'], toml['dev-packages']);
      }
      case 'Pipfile.lock': {
        const json = JSON.parse(text) as Table;
        return tableKeys(json['default'], json['develop']);
      }
      case 'setup.cfg':
        return parseSetupCfg(text);
      case 'pixi.toml':
        return parsePixi(parseToml(text) as Table);
      default:
        // poetry.lock, uv.lock, pdm.lock: [[package]]; pylock.toml (PEP 751): [[packages]].
        return parseLockFile(parseToml(text) as Table);
    }
  }

  private async parsePyproject(text: string, dir: string): Promise<string[] | null> {
    const toml = parseToml(text) as Table;
    const names: string[] = [];
    let declares = false;
    const project = asTable(toml['project']);
    if (project) {
      const dynamic = asArray(project['dynamic']) ?? [];
      // The project itself: `import mypackage` of its own code is declared.
      if (typeof project['name'] === 'string') names.push(project['name']);
      if (!dynamic.includes('dependencies') || project['dependencies']) declares = true;
      names.push(...requirementNames(project['dependencies']));
      for (const list of Object.values(asTable(project['optional-dependencies']) ?? {})) names.push(...requirementNames(list));
      // setuptools reading dependencies from requirement files: [tool.setuptools.dynamic].
      const dynamicFiles = asTable(asTable(asTable(toml['tool'])?.['setuptools'])?.['dynamic']);
      if (dynamicFiles) {
        const specs = [dynamicFiles['dependencies'], ...Object.values(asTable(dynamicFiles['optional-dependencies']) ?? {})];
        for (const spec of specs) {
          const file = asTable(spec)?.['file'];
          for (const relative of typeof file === 'string' ? [file] : (asArray(file) ?? [])) {
            if (typeof relative !== 'string') continue;
            declares = true;
            await this.readRequirementsFile(path.resolve(dir, relative));
          }
        }
      }
    }
    const tool = asTable(toml['tool']);
    const poetry = asTable(tool?.['poetry']);
    if (poetry) {
      if (typeof poetry['name'] === 'string') names.push(poetry['name']);
      const tables = [poetry['dependencies'], poetry['dev-dependencies'], ...Object.values(asTable(poetry['group']) ?? {}).map((group) => asTable(group)?.['dependencies'])];
      for (const table of tables) {
        if (!asTable(table)) continue;
        declares = true;
        names.push(...Object.keys(asTable(table)!).filter((key) => key !== 'python'));
      }
    }
    const groups = asTable(toml['dependency-groups']);
    if (groups) {
      declares = true;
      for (const list of Object.values(groups)) names.push(...requirementNames(list));
    }
    const uvDev = asTable(tool?.['uv'])?.['dev-dependencies'];
    if (asArray(uvDev)) {
      declares = true;
      names.push(...requirementNames(uvDev));
    }
    const pdmDev = asTable(asTable(tool?.['pdm'])?.['dev-dependencies']);
    if (pdmDev) {
      declares = true;
      for (const list of Object.values(pdmDev)) names.push(...requirementNames(list));
    }
    const pixi = asTable(tool?.['pixi']);
    if (pixi) {
      const pixiNames = parsePixi(pixi);
      if (pixiNames) {
        declares = true;
        names.push(...pixiNames);
      }
    }
    return declares ? names : null;
  }

  /** A pip requirements file, and the files it includes with `-r`. */
  private async readRequirementsFile(file: string): Promise<void> {
    if (this.seen.has(file)) return;
    this.seen.add(file);
    const text = await readText(file);
    if (text === null) return;
    const names: string[] = [];
    const includes: string[] = [];
    for (const line of logicalLines(text)) {
      const include = /^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)/.exec(line);
      if (include) {
        includes.push(path.resolve(path.dirname(file), include[1]!));
        continue;
      }
      const editable = /^(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)/.exec(line);
      if (editable) {
        const egg = eggName(editable[1]!);
        if (egg) names.push(egg);
        continue;
      }
      if (line.startsWith('-')) continue;
      const name = requirementName(line);
      if (name) names.push(name);
    }
    this.add(file, names);
    for (const included of includes) await this.readRequirementsFile(included);
  }

  private add(file: string, names: string[]): void {
    this.files.push(path.relative(this.root, file).split(path.sep).join('/'));
    for (const name of names) this.names.add(normalizeDistributionName(name));
  }
}

type Table = Record<string, unknown>;

function asTable(value: unknown): Table | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : undefined;
}

function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function tableKeys(...tables: unknown[]): string[] | null {
  const present = tables.map(asTable).filter((table): table is Table => !!table);
  return present.length ? present.flatMap((table) => Object.keys(table)) : null;
}

/** Names of a list of PEP 508 strings (other entries, such as `{include-group = ...}`, skipped). */
function requirementNames(list: unknown): string[] {
  const names: string[] = [];
  for (const item of asArray(list) ?? []) {
    if (typeof item !== 'string') continue;
    const name = requirementName(item.trim());
    if (name) names.push(name);
  }
  return names;
}

/**
 * The distribution a requirement names: `pandas[parquet]>=2; python_version>"3.9"` → pandas,
 * `name @ https://...` → name, a wheel URL or path → its file's distribution, a VCS URL → its
 * `#egg=`. Null for a local path or anything unrecognisable.
 */
export function requirementName(requirement: string): string | null {
  if (requirement.startsWith('${')) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(requirement) || /^[./~\\]/.test(requirement) || /^[A-Za-z]:[\\/]/.test(requirement)) {
    return eggName(requirement) ?? archiveName(requirement);
  }
  const match = NAME.exec(requirement);
  if (!match) return null;
  const rest = requirement.slice(match[1]!.length);
  // `foo/bar` and `foo:bar` are paths or URLs, not names.
  if (/^[/\\:]/.test(rest)) return eggName(requirement) ?? archiveName(requirement);
  return match[1]!;
}

function eggName(url: string): string | null {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(url);
  return egg ? egg[1]! : null;
}

/** `.../pandas-2.2.2-cp311-...whl` and `pkg-1.0.tar.gz` name their distribution before the version. */
function archiveName(location: string): string | null {
  const file = location.split(/[#?]/)[0]!.split(/[/\\]/).pop() ?? '';
  const match = /^([A-Za-z0-9][A-Za-z0-9._]*?(?:-[A-Za-z][A-Za-z0-9._]*)*)-\d[^/]*\.(?:whl|tar\.gz|tgz|zip|tar\.bz2)$/i.exec(file);
  return match ? match[1]! : null;
}

/** The lines of a requirements file: continuations joined, comments and blank lines dropped. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    if (raw.endsWith('\\')) {
      pending += raw.slice(0, -1) + ' ';
      continue;
    }
    const line = (pending + raw).replace(/(^|\s)#.*$/, '').trim();
    pending = '';
    if (line) lines.push(line);
  }
  const last = pending.replace(/(^|\s)#.*$/, '').trim();
  if (last) lines.push(last);
  return lines;
}

/**
 * A conda environment file's `dependencies:` (conda specs: `numpy`, `numpy=1.26`,
 * `conda-forge::numpy>=1.2`, `numpy 1.26.*`) and the pip requirements nested under `- pip:`.
 * A line reader, not a YAML parser: environment files are written in one simple shape.
 */
function parseCondaEnvironment(text: string): string[] | null {
  const names: string[] = [];
  let inDependencies = false;
  let found = false;
  let pipIndent = -1;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trimEnd();
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    if (indent === 0 && !trimmed.startsWith('-')) {
      const inline = /^dependencies\s*:\s*(.*)$/.exec(trimmed);
      inDependencies = !!inline;
      pipIndent = -1;
      if (inline) {
        found = true;
        // Flow style: `dependencies: [numpy, pandas]`.
        const flow = /^\[(.*)\]$/.exec(inline[1]!.trim());
        if (flow) for (const item of flow[1]!.split(',')) pushConda(names, unquote(item.trim()));
      }
      continue;
    }
    if (!inDependencies) continue;
    const item = /^-\s*(.*)$/.exec(trimmed);
    if (!item) continue;
    const value = unquote(item[1]!.trim());
    if (pipIndent >= 0 && indent > pipIndent) {
      if (!value.startsWith('-')) {
        const name = requirementName(value);
        if (name) names.push(name);
      }
      continue;
    }
    pipIndent = -1;
    if (/^pip\s*:$/.test(value)) {
      pipIndent = indent;
      continue;
    }
    pushConda(names, value);
  }
  return found ? names : null;
}

function pushConda(names: string[], spec: string): void {
  const withoutChannel = spec.includes('::') ? spec.slice(spec.lastIndexOf('::') + 2) : spec;
  const match = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)/.exec(withoutChannel);
  if (match) names.push(match[1]!.replace(/[.-]+$/, ''));
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}

/** `[options] install_requires` and `[options.extras_require]` of a setup.cfg (INI, multi-line values). */
function parseSetupCfg(text: string): string[] | null {
  const names: string[] = [];
  let found = false;
  let section = '';
  let collecting = false;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || !raw.trim()) continue;
    const header = /^\[([^\]]+)\]/.exec(raw);
    if (header) {
      section = header[1]!.trim();
      collecting = false;
      continue;
    }
    let value: string;
    if (/^\s/.test(raw)) {
      if (!collecting) continue;
      value = raw.trim();
    } else {
      const entry = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
      if (!entry) continue;
      collecting = (section === 'options' && entry[1] === 'install_requires') || section === 'options.extras_require';
      if (!collecting) continue;
      found = true;
      value = entry[2]!.trim();
    }
    const name = value ? requirementName(value.replace(/\s[#;].*$/, '')) : null;
    if (name) names.push(name);
  }
  return found ? names : null;
}

/** pixi's `[dependencies]`, `[pypi-dependencies]` and the same tables of each `[feature.*]`. */
function parsePixi(toml: Table): string[] | null {
  const tables = [toml, ...Object.values(asTable(toml['feature']) ?? {})].flatMap((scope) => [asTable(scope)?.['dependencies'], asTable(scope)?.['pypi-dependencies']]);
  const names = tableKeys(...tables);
  return names && names.filter((name) => name !== 'python');
}

function parseLockFile(toml: Table): string[] | null {
  const packages = asArray(toml['package']) ?? asArray(toml['packages']);
  if (!packages) return null;
  return packages.map((entry) => asTable(entry)?.['name']).filter((name): name is string => typeof name === 'string');
}

/** requirements.txt, requirements-dev.txt, requirements_test.in, dev-requirements.txt, ... */
function isRequirementsFileName(name: string): boolean {
  return /^(?:[\w.-]*[-_.])?requirements(?:[-_.][\w.-]*)?\.(?:txt|in)$/i.test(name);
}

async function listFolder(dir: string): Promise<Array<{ name: string; file: boolean }>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, file: entry.isFile() || (entry.isSymbolicLink() && isFile(path.join(dir, entry.name))) }));
  } catch {
    return [];
  }
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

