/**
 * `undefined-name`: a name a cell reads that no cell above defines. Either a cell below defines
 * it (the notebook only worked because that cell ran first) or no cell does (it lives only in
 * the kernel: hidden state from a deleted or edited cell). Either way Run All fails there.
 *
 * Reads inside function bodies happen when the function is called, so they only need a
 * definition somewhere in the notebook; module-level reads need one above.
 */
import { BUILTIN_NAMES } from '../model';
import { lineOfOffset } from '../positions';
import type { Rule } from '../rule';

export const undefinedName: Rule = {
  id: 'undefined-name',
  defaultSeverity: 'error',
  summary: 'A name used before any cell above defines it (hidden kernel state).',
  help: 'Define the name in a cell above its first use (move the defining cell up), or restore the cell that defined it.',
  appliesTo: ['notebook', 'script'],
  check({ model, target, report }) {
    const reported = new Set<string>();
    // `%run other.py` and `%store -r` define names nb2prod cannot see: do not guess.
    const opaque = model.hasStarImport || [...model.codeCells()].some(({ facts }) => facts.magics.some((m) => m.kind === 'line' && /^(run|store)\b/.test(m.command)));
    for (const { cell, facts } of model.codeCells()) {
      // A cell that does not parse would report its fragments; syntax-error covers it.
      if (facts.syntaxErrors.length) continue;
      for (const use of facts.uses) {
        if (BUILTIN_NAMES.has(use.name) || reported.has(use.name)) continue;
        const definitions = model.bindingsOf(use.name);
        if (use.timing === 'immediate') {
          // Bindings are in notebook order: the first one is the earliest.
          const first = definitions[0];
          if (first && (first.cell < cell || (first.cell === cell && first.item.boundAt <= use.span.from))) continue;
          // A definition later in the same statement's cell at module level but inside a loop etc.
          // is not modelled; a later one anywhere is reported as such.
        } else if (definitions.length) continue;
        const later = definitions[0];
        if (opaque && !later) continue;
        reported.add(use.name);
        let message: string;
        if (later && target.kind === 'notebook') {
          message = later.cell === cell
            ? `\`${use.name}\` is used before it is defined further down in this cell: move the definition above this line.`
            : `\`${use.name}\` is only defined in cell ${later.cell + 1}, below this one: the notebook only worked because that cell ran first. Move the definition above this cell.`;
        } else if (later) {
          message = `\`${use.name}\` is used before it is defined (line ${lineOfOffset(model.cells[later.cell]!.cell.source, later.item.span.from) + 1}): move the definition above this line.`;
        } else if (target.kind === 'notebook') {
          message = `\`${use.name}\` is not defined by any cell: it only exists in the kernel (hidden state from a deleted or edited cell). Define or import it in a cell above.`;
        } else {
          message = `\`${use.name}\` is not defined or imported anywhere in this file.`;
        }
        report({ cell, span: use.span, message });
      }
    }
  },
};
