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
 */
import path from 'node:path';
import type { ImportFact, Span } from '../python/analyze';
import type { DeclaredRequirements, ProjectInfo } from '../project';
import { distributionsFor, type ImportedDistribution, isEnvironmentModule, isStdlibModule, moduleOfImport } from '../project/pythonModules';
import type { Rule } from '../rule';

/** At most this many packages are named in the "no requirements file" message. */
const LISTED = 8;

interface ThirdPartyImport {
  cell: number;
  span: Span;
  /** The top-level module as imported (`sklearn`), or the namespace module (`google.cloud.storage`). */
  imported: string;
  distribution: ImportedDistribution;
}

export const missingRequirements: Rule = {
  id: 'missing-requirements',
  defaultSeverity: 'warning',
  summary: 'A third-party package imported but not declared in requirements.txt, pyproject.toml or a lock file.',
  help: 'List every package the code imports, with its exact version, in requirements.txt (or pyproject.toml / a lock file): `pip freeze > requirements.txt` pins what is installed.',
  appliesTo: ['notebook', 'script'],
  check({ model, project, target, report }) {
    const fromDir = path.dirname(target.path);
    const found: ThirdPartyImport[] = [];
    const seen = new Set<string>();
    for (const { cell, item } of model.imports()) {
      if (item.level > 0 || item.optional) continue;
      const top = item.module.split('.')[0]!;
      // nb2prod's capture module is injected by the run tracker (and imported under a guard):
      // it is tooling around the notebook, not one of its requirements.
      if (!top || top === 'nb2prod' || isStdlibModule(top)) continue;
      // `from x import name`: the path is `x.name` (for `import x.y` it is shorter: just `x`).
      const importedName = item.path.length > item.module.length ? item.path.slice(item.module.length + 1) : undefined;
      const dotted = moduleOfImport(item.module, importedName);
      const distribution = distributionsFor(dotted);
      if (!distribution || seen.has(distribution.key)) continue;
      seen.add(distribution.key);
      // After the de-duplication: the local-module check looks at the file system.
      if (isEnvironmentModule(dotted) || project.isLocalModule(top, fromDir)) continue;
      const source = model.cells[cell]!.cell.source;
      found.push({ cell, span: moduleSpan(source, item), imported: distribution.key, distribution });
    }
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
