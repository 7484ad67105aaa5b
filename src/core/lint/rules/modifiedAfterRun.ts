/**
 * `modified-after-run`: in the editor, a cell edited after it last ran. Its outputs (and the
 * kernel's state) come from code that is no longer in the notebook. Known only from the
 * execution record the extension keeps, so the CLI never reports it.
 */
import type { Rule } from '../rule';
import { firstLine } from './executionOrder';

export const modifiedAfterRun: Rule = {
  id: 'modified-after-run',
  defaultSeverity: 'warning',
  summary: 'A cell edited after it last ran: its outputs are stale.',
  help: 'Run the cell again (and the cells that depend on it), or undo the edit.',
  appliesTo: ['notebook'],
  check({ model, session, report }) {
    if (!session) return;
    model.cells.forEach((entry, cell) => {
      if (!entry.facts || !session.editedSinceRun.has(cell)) return;
      report({
        cell,
        span: firstLine(entry),
        message: 'This cell was edited after it last ran: its outputs, and what it left in the kernel, come from the old code. Run it again (and the cells below that use its results).',
      });
    });
  },
};
