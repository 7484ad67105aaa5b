/**
 * Rules over the execution counts saved in a notebook (or reported by the editor's kernel):
 * `out-of-order-execution` and `unexecuted-cell`. The outputs a reader sees were produced by
 * that order, not by running the notebook top to bottom.
 */
import type { ModelCell } from '../model';
import type { Rule } from '../rule';
import type { Span } from '../python/analyze';

export const outOfOrderExecution: Rule = {
  id: 'out-of-order-execution',
  defaultSeverity: 'warning',
  summary: 'Execution counts that do not increase from top to bottom.',
  help: 'Restart the kernel and run all cells from the top, so the saved outputs are what the code produces in order.',
  appliesTo: ['notebook'],
  check({ model, report }) {
    let highest: { count: number; cell: number } | null = null;
    model.cells.forEach((entry, cell) => {
      const count = entry.facts ? entry.cell.executionCount : null;
      if (count === null) return;
      if (highest && count < highest.count) {
        report({
          cell,
          span: firstLine(entry),
          message: `This cell ran as [${count}], before cell ${highest.cell + 1} above it ran as [${highest.count}]: the saved outputs come from that order, not from top to bottom. Restart the kernel and Run All.`,
        });
      }
      if (!highest || count > highest.count) highest = { count, cell };
    });
  },
};

export const unexecutedCell: Rule = {
  id: 'unexecuted-cell',
  defaultSeverity: 'info',
  summary: 'A code cell that never ran, among cells that did.',
  help: 'Run it (Run All from a fresh kernel), or delete it if it is not part of the analysis: the saved results did not include it.',
  appliesTo: ['notebook'],
  check({ model, report }) {
    const code = model.cells.map((entry, cell) => ({ entry, cell })).filter(({ entry }) => entry.facts && entry.cell.source.trim());
    const ran = code.filter(({ entry }) => entry.cell.executionCount !== null);
    if (!ran.length) return;
    const lastRan = ran.at(-1)!.cell;
    for (const { entry, cell } of code) {
      if (entry.cell.executionCount !== null) continue;
      const where = cell < lastRan ? 'above cells that did' : 'below the cells that did';
      report({
        cell,
        span: firstLine(entry),
        message: `This cell never ran, ${where}: the saved outputs were produced without it. Run All from a fresh kernel, or delete it if it is not needed.`,
      });
    }
  },
};

/** The first non-blank line of a cell: where cell-level findings are shown. */
export function firstLine(entry: ModelCell): Span {
  const source = entry.cell.source;
  const from = source.length - source.trimStart().length;
  const newline = source.indexOf('\n', from);
  const to = newline === -1 ? source.length : newline;
  return { from, to: Math.max(to, from) };
}
