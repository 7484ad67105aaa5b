/**
 * `undefined-name`: a name a cell reads that no cell above defines. Either a cell below defines
 * it (the notebook only worked because that cell ran first) or no cell does (it lives only in
 * the kernel: hidden state from a deleted or edited cell). Either way Run All fails there.
 *
 * Names are resolved as Python does (see python/analyze.ts: scopes, `global`, comprehensions,
 * decorators, `;`-separated statements, magics that bind names) plus what a notebook gets
 * without naming it: builtins, IPython's own names, `from m import *` and `%run x.py` where the
 * names can be known without running code (externalNames.ts). Severity follows certainty: an
 * error only where a fresh Run All is certain to fail — no cell defines the name and nothing
 * could supply it, a definition only below the read, a `del` above it — otherwise a warning or
 * nothing.
 *
 * Reads inside function bodies happen when the function is called, so they only need a
 * definition somewhere in the notebook; module-level reads need one above.
 */
import { cellNumber } from '../../notebook/cellLabel';
import path from 'node:path';
import { BUILTIN_NAMES, type Located, type Position } from '../model';
import { type NameProvider, nameProviders } from '../externalNames';
import { lineOfOffset } from '../positions';
import type { Binding, CellFacts, NameUse } from '../python/analyze';
import type { Rule, RuleContext } from '../rule';

/** IPython's numbered history names: `_3` (output 3), `_i3` (input 3). */
const IPYTHON_HISTORY = /^_(?:i{1,3}|i?\d+|ih|oh|dh)$/;

/** Configuration files that traitlets loads with `c` (the config object) defined. */
const TRAITLETS_CONFIG = /(?:^|[\\/])(?:jupyter|ipython|jupyterhub|nbconvert|jupyter_server|jupyter_notebook|jupyter_lab)[\w-]*_config\.py$/;

export const undefinedName: Rule = {
  id: 'undefined-name',
  defaultSeverity: 'error',
  summary: 'A name used before any cell above defines it (hidden kernel state).',
  help: 'Define the name in a cell above its first use (move the defining cell up), or restore the cell that defined it.',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model, target, project, python } = context;
    const providers = nameProviders(model, project, python, path.dirname(target.path));
    const predefined = TRAITLETS_CONFIG.test(target.path) ? new Set(['c', 'get_config', 'load_subconfig']) : new Set<string>();
    // `del name` statements, by name, in notebook order (most notebooks have none).
    const deletions = new Map<string, Position[]>();
    for (const { cell, facts } of model.codeCells()) {
      for (const d of facts.deletions) deletions.set(d.name, [...(deletions.get(d.name) ?? []), { cell, offset: d.span.to }]);
    }
    const reported = new Set<string>();
    if (!providers.length && !deletions.size) {
      // The common case: what a read reports depends on its cell and the bindings of its name,
      // so each cell's reports are kept across edits of cells that bind other names. Only the
      // first read of a name is reported.
      const key = `undefined-name:${target.kind}:${predefined.size}`;
      for (const { cell } of model.codeCells()) {
        for (const { name, finding } of model.perCell(key, cell, (facts) => cellReports(context, predefined, cell, facts))) {
          if (reported.has(name)) continue;
          context.report(finding);
          reported.add(name);
        }
      }
      return;
    }
    for (const { cell, facts } of model.codeCells()) {
      // A cell nb2prod's parser cannot read would report its fragments; syntax-error covers it.
      if (facts.syntaxErrors.length) continue;
      for (const use of facts.uses) {
        const name = use.name;
        if (reported.has(name) || use.guard || BUILTIN_NAMES.has(name) || IPYTHON_HISTORY.test(name) || predefined.has(name)) continue;
        if (checkUse(context, providers, deletions.get(name) ?? [], cell, use)) reported.add(name);
      }
    }
  },
};

type Reported = Parameters<RuleContext['report']>[0];

/** What each read of a cell would report when nothing supplies names and nothing is deleted. */
function cellReports(context: RuleContext, predefined: ReadonlySet<string>, cell: number, facts: CellFacts): Array<{ name: string; finding: Reported }> {
  const out: Array<{ name: string; finding: Reported }> = [];
  if (facts.syntaxErrors.length) return out;
  let name = '';
  const collecting: RuleContext = { ...context, report: (finding) => out.push({ name, finding }) };
  for (const use of facts.uses) {
    name = use.name;
    if (use.guard || BUILTIN_NAMES.has(name) || IPYTHON_HISTORY.test(name) || predefined.has(name)) continue;
    checkUse(collecting, [], [], cell, use);
  }
  return out;
}

/** Reports the read if it fails on Run All (or may); true when it reported. */
function checkUse({ model, target, report }: RuleContext, providers: readonly NameProvider[], deletions: readonly Position[], cell: number, use: NameUse): boolean {
  const name = use.name;
  const at: Position = { cell, offset: use.span.from };
  const definitions = model.bindingsOf(name);
  const supplying = providers.filter((p) => p.names === null || p.names.has(name));
  const notebook = target.kind === 'notebook';

  if (use.timing === 'deferred') {
    if (definitions.length || supplying.length) return false;
    const where = notebook ? 'no cell defines it' : 'nothing in this file defines it';
    report({ cell, span: use.span, message: `\`${name}\` is read in a function but ${where}: calling the function fails with NameError. Define or import it.`, severity: 'warning' });
    return true;
  }

  const first = definitions[0];
  const definedAbove = first !== undefined && before({ cell: first.cell, offset: first.item.boundAt }, at, true);
  const providedAbove = supplying.some((p) => before({ cell: p.cell, offset: p.at }, at, true));
  if (definedAbove || providedAbove) return deletions.length > 0 && deletedAbove(deletions, definitions, supplying, at, name, cell, use, report, notebook);

  // Not defined above this read.
  if (first && first.cell === cell && use.loop && use.loop.from <= first.item.span.from && first.item.span.to <= use.loop.to) {
    // Bound later in the same loop: an earlier iteration may have bound it.
    return false;
  }
  const laterProvider = supplying.find((p) => !before({ cell: p.cell, offset: p.at }, at, true));
  let message: string;
  let severity: 'error' | 'warning' = 'error';
  if (first && (!laterProvider || comparePlaces({ cell: first.cell, offset: first.item.boundAt }, { cell: laterProvider.cell, offset: laterProvider.at }) <= 0)) {
    message = definedBelow(model, target.kind, name, cell, first);
  } else if (laterProvider) {
    const where = notebook ? `in cell ${cellNumber(laterProvider.cell)}, below this one` : 'further down';
    if (laterProvider.names) {
      message = `\`${name}\` only comes from ${laterProvider.label} ${where}: Run All reaches this line first. Move it above.`;
    } else {
      message = `\`${name}\` is not defined above this line; it may come from ${laterProvider.label} ${where}, which Run All reaches later. Move it above, or import \`${name}\` explicitly.`;
      severity = 'warning';
    }
  } else if (notebook) {
    message = `\`${name}\` is not defined by any cell: it only exists in the kernel (hidden state from a deleted or edited cell). Define or import it in a cell above.`;
  } else {
    message = `\`${name}\` is not defined or imported anywhere in this file.`;
  }
  report({ cell, span: use.span, message, severity });
  return true;
}

function definedBelow(model: RuleContext['model'], kind: string, name: string, cell: number, later: Located<Binding>): string {
  if (kind !== 'notebook') {
    return `\`${name}\` is used before it is defined (line ${lineOfOffset(model.cells[later.cell]!.cell.source, later.item.span.from) + 1}): move the definition above this line.`;
  }
  return later.cell === cell
    ? `\`${name}\` is used before it is defined further down in this cell: move the definition above this line.`
    : `\`${name}\` is only defined in cell ${cellNumber(later.cell)}, below this one: the notebook only worked because that cell ran first. Move the definition above this cell.`;
}

/**
 * `del name` at the top level of a cell above the read, with nothing binding the name again in
 * between: the read fails. Reports it; true when it did.
 */
function deletedAbove(
  deletions: readonly Position[],
  definitions: ReadonlyArray<Located<Binding>>,
  supplying: readonly NameProvider[],
  at: Position,
  name: string,
  cell: number,
  use: NameUse,
  report: RuleContext['report'],
  notebook: boolean,
): boolean {
  let deletion: Position | undefined;
  for (const place of deletions) if (before(place, at, false)) deletion = place;
  if (!deletion) return false;
  const rebound =
    definitions.some((d) => !before({ cell: d.cell, offset: d.item.boundAt }, deletion!, true) && before({ cell: d.cell, offset: d.item.boundAt }, at, true)) ||
    supplying.some((p) => !before({ cell: p.cell, offset: p.at }, deletion!, true) && before({ cell: p.cell, offset: p.at }, at, true));
  if (rebound) return false;
  const where = notebook ? (deletion.cell === cell ? 'above in this cell' : `in cell ${cellNumber(deletion.cell)}`) : 'above';
  report({ cell, span: use.span, message: `\`${name}\` was deleted (\`del ${name}\` ${where}) and nothing defines it again before this line: Run All fails here.` });
  return true;
}

function comparePlaces(a: Position, b: Position): number {
  return a.cell - b.cell || a.offset - b.offset;
}

/** Whether `a` comes before `b` in notebook order (`orSame`: or at the same offset). */
function before(a: Position, b: Position, orSame: boolean): boolean {
  const order = comparePlaces(a, b);
  return order < 0 || (orSame && order === 0);
}
