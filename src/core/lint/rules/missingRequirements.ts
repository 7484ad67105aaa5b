/**
 * `missing-requirements`: third-party packages the code imports that no requirement, project or
 * lock file of the project declares (or a project with no such file at all). Whoever runs the
 * notebook next has to guess which packages, and which versions, it needs.
 *
 * Imports are read from the model; the standard library, relative imports, the project's own
 * modules and modules the environment provides (Colab, Kaggle) are not requirements. Import
 * names are mapped to distribution names (`sklearn` is scikit-learn) by pythonModules.ts.
 *
 * Optional imports — inside `try:` with an `except ImportError` (or ModuleNotFoundError) — are
 * not requirements: the code runs without them.
 *
 * Modules the notebook makes itself are its own: a `%%writefile helpers.py` (or `%%file`) cell,
 * a `.py` written with `open(..., "w")`, and protoc's `*_pb2`/`*_pb2_grpc` modules when the
 * notebook writes the `.proto` or runs protoc. A `*_pb2` module nothing generates is reported as
 * what it is (generated code to add), not as a package to install. Python 2's standard library
 * (`urllib2`, `cPickle`, `StringIO`, ...) is not a requirement either: such code is Python 2,
 * which is reported once per notebook elsewhere.
 *
 * When the project's interpreter was asked, the distributions installed there that provide a
 * module (their `top_level.txt` or RECORD) name it first (`import ignite` is pytorch-ignite).
 */
import path from 'node:path';
import type { ImportFact, Span } from '../python/analyze';
import type { NotebookModel } from '../model';
import { type DeclaredRequirements, normalizeDistributionName, type ProjectInfo } from '../project';
import { distributionsFor, type ImportedDistribution, isEnvironmentModule, isPython2StdlibModule, isStdlibModule, moduleOfImport } from '../project/pythonModules';
import type { Rule } from '../rule';
import { pathUses } from './dataPaths';
import { program, shellCommands } from './shellCommands';

/** At most this many packages are named in the "no requirements file" message. */
const LISTED = 8;

interface ThirdPartyImport {
  cell: number;
  span: Span;
  /** The top-level module as imported (`sklearn`), or the namespace module (`google.cloud.storage`). */
  imported: string;
  distribution: ImportedDistribution;
  /** A protoc-generated module (`person_pb2`) that nothing here generates. */
  generated: boolean;
}

export const missingRequirements: Rule = {
  id: 'missing-requirements',
  defaultSeverity: 'warning',
  summary: 'A third-party package imported but not declared in requirements.txt, pyproject.toml or a lock file.',
  help: 'List every package the code imports, with its exact version, in requirements.txt (or pyproject.toml / a lock file): `pip freeze > requirements.txt` pins what is installed.',
  appliesTo: ['notebook', 'script'],
  check({ model, project, target, report }) {
    const fromDir = path.dirname(target.path);
    const own = ownModules(model);
    const found: ThirdPartyImport[] = [];
    const seen = new Set<string>();
    for (const { cell, item } of model.imports()) {
      if (item.level > 0 || item.optional) continue;
      const top = item.module.split('.')[0]!;
      // nb2prod's capture module is injected by the run tracker (and imported under a guard):
      // it is tooling around the notebook, not one of its requirements.
      if (!top || top === 'nb2prod' || isStdlibModule(top) || isPython2StdlibModule(top) || own.written.has(top)) continue;
      const pb2 = /^(\w+?)_pb2(_grpc)?$/.exec(top);
      if (pb2 && (own.protos === 'any' || own.protos.has(pb2[1]!))) continue;
      // `from x import name`: the path is `x.name` (for `import x.y` it is shorter: just `x`).
      const importedName = item.path.length > item.module.length ? item.path.slice(item.module.length + 1) : undefined;
      const dotted = moduleOfImport(item.module, importedName);
      const known = distributionsFor(dotted);
      if (!known || seen.has(known.key)) continue;
      seen.add(known.key);
      // After the de-duplication: the local-module check looks at the file system.
      if (isEnvironmentModule(dotted) || project.isLocalModule(top, fromDir)) continue;
      const source = model.cells[cell]!.cell.source;
      found.push({ cell, span: moduleSpan(source, item), imported: known.key, distribution: withInstalled(project, known, dotted), generated: !!pb2 });
    }
    if (!found.length) return;
    // Generated code is not a package: say what it is.
    for (const entry of found.filter((f) => f.generated)) {
      const proto = entry.imported.replace(/_pb2(_grpc)?$/, '');
      report({
        cell: entry.cell,
        span: entry.span,
        message: `\`${entry.imported}\` is code protoc generates from ${proto}.proto, and neither the project nor the notebook has it: commit the generated ${entry.imported}.py, or generate it in the notebook (\`!protoc --python_out=. ${proto}.proto\`); it is not a package to install.`,
      });
    }
    found.splice(0, found.length, ...found.filter((f) => !f.generated));
    if (!found.length) return;

    const declared = project.requirements();
    if (!declared) {
      const names = found.map((entry) => suggestion(project, entry.distribution).name);
      const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
      const first = found[0]!;
      report({
        cell: first.cell,
        span: first.span,
        message: `No requirements.txt, pyproject.toml or lock file declares this project's packages: add one listing ${listed} (\`pip freeze > requirements.txt\` pins what is installed)`,
      });
      return;
    }
    for (const entry of found) {
      if (entry.distribution.candidates.some((name) => declared.names.has(name))) continue;
      const { name, version } = suggestion(project, entry.distribution);
      const what = entry.imported === name ? `\`${name}\`` : `\`${entry.imported}\` (${name})`;
      const add = version ? `add \`${name}==${version}\`` : `add \`${name}\` with an exact version (\`${name}==<version>\`)`;
      report({ cell: entry.cell, span: entry.span, message: `${what} is imported but not declared in ${fileList(declared)}: ${add}` });
    }
  },
};

/**
 * The installed distributions providing the module come first, when the interpreter was asked
 * (namespace packages such as `google` are provided by many: the usual mapping decides there).
 */
function withInstalled(project: ProjectInfo, known: ImportedDistribution, dotted: string): ImportedDistribution {
  if (known.key.includes('.')) return known;
  const providers = project.distributionsProviding?.(dotted.split('.')[0]!);
  if (!providers?.length) return known;
  const candidates = [...new Set([...providers.map(normalizeDistributionName), ...known.candidates])];
  return { key: known.key, candidates };
}

/**
 * Modules the notebook makes itself: `.py` files it writes (a `%%writefile`/`%%file` cell, an
 * `open(..., "w")`), and the `.proto` files whose `_pb2` modules it generates ('any' when protoc
 * runs on files not named here).
 */
function ownModules(model: NotebookModel): { written: Set<string>; protos: Set<string> | 'any' } {
  const written = new Set<string>();
  const protos = new Set<string>();
  let anyProto = false;
  let protoc = false;
  const wrote = (file: string): void => {
    const parts = file.replace(/\\/g, '/').split('/');
    const base = parts.at(-1)!;
    if (base === '__init__.py' && parts.length > 1) written.add(parts.at(-2)!);
    else if (base.endsWith('.py')) written.add(base.slice(0, -3));
    else if (base.endsWith('.proto')) protos.add(base.slice(0, -'.proto'.length));
  };
  for (const { facts } of model.codeCells()) {
    for (const magic of facts.magics) {
      const target = magic.kind === 'cell' ? /^(?:writefile|file)\s+(?:-a\s+)?(\S+)/.exec(magic.command)?.[1] : undefined;
      if (target) wrote(target.replace(/^(['"])(.*)\1$/, '$2'));
    }
  }
  for (const use of pathUses(model)) {
    if (use.kind !== 'write') continue;
    const value = model.stringValue(use.path, use.at);
    if (value && !value.includes('{}')) wrote(value);
  }
  for (const command of shellCommands(model)) {
    const run = program(command);
    if (!run) continue;
    const args = run.args.map((w) => w.text);
    const isProtoc = run.name === 'protoc' || (/^python[\d.]*$/.test(run.name) && args[0] === '-m' && args[1] === 'grpc_tools.protoc');
    if (!isProtoc) continue;
    protoc = true;
    for (const arg of args) {
      if (!arg.endsWith('.proto')) continue;
      if (/[*?{$]/.test(arg)) anyProto = true;
      else protos.add(path.posix.basename(arg, '.proto'));
    }
  }
  for (const { call, at } of model.calls()) if (model.calleePath(call, at)?.startsWith('grpc_tools.protoc')) protoc = anyProto = true;
  // protoc run on files the notebook does not name (`protoc -I. --python_out=. $PROTO`).
  if (protoc && !protos.size) anyProto = true;
  return { written, protos: anyProto ? 'any' : protos };
}

/** The distribution to suggest: the first candidate that is installed, else the usual one. */
function suggestion(project: ProjectInfo, distribution: ImportedDistribution): { name: string; version: string | undefined } {
  for (const name of distribution.candidates) {
    const version = project.installedVersion(name);
    if (version) return { name, version };
  }
  return { name: distribution.candidates[0]!, version: undefined };
}

function fileList(declared: DeclaredRequirements): string {
  const files = declared.files;
  if (files.length <= 1) return files[0] ?? 'the requirements files';
  if (files.length <= 3) return `${files.slice(0, -1).join(', ')} or ${files.at(-1)!}`;
  return `${files.slice(0, 2).join(', ')} or the other ${files.length - 2} requirement files`;
}

/**
 * The module's name in the import statement (`numpy` in `import numpy as np`,
 * `sklearn.model_selection` in `from sklearn.model_selection import ...`), found at the
 * positions the facts give and checked against the module's text; the facts' name span
 * otherwise.
 */
function moduleSpan(source: string, item: ImportFact): Span {
  const { statementSpan, nameSpan, module } = item;
  if (source.startsWith('from', statementSpan.from)) {
    let at = statementSpan.from + 4;
    while (at < statementSpan.to && /[\s\\]/.test(source[at]!)) at++;
    if (source.startsWith(module, at)) return { from: at, to: at + module.length };
    return nameSpan;
  }
  if (source.startsWith(module, nameSpan.from)) return { from: nameSpan.from, to: nameSpan.from + module.length };
  return nameSpan;
}
