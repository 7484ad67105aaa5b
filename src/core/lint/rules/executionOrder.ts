/**
 * Rules over the execution counts saved in a notebook (or reported by the editor's kernel):
 * `out-of-order-execution` and `unexecuted-cell`. The outputs a reader sees were produced by
 * that order, not by running the notebook top to bottom.
 *
 * Both are about the notebook as a whole, so each says it once: out-of-order execution is one
 * finding per notebook naming the cells, a block of cells at the end that never ran is one
 * finding. The other cells are related locations, so the editor still links to each.
 */
import { cellNumber } from '../../notebook/cellLabel';
import type { ModelCell } from '../model';
import type { RelatedLocation, Rule } from '../rule';
import type { Span } from '../python/analyze';

/** How many out-of-order cells the message spells out; the rest are counted. */
const LISTED = 3;

interface Ran {
  cell: number;
  count: number;
}

export const outOfOrderExecution: Rule = {
  id: 'out-of-order-execution',
  defaultSeverity: 'warning',
  summary: 'Execution counts that do not increase from top to bottom.',
  help: 'Restart the kernel and run all cells from the top, so the saved outputs are what the code produces in order.',
  appliesTo: ['notebook'],
  check({ model, report }) {
    const ran: Ran[] = [];
    model.cells.forEach((entry, cell) => {
      const count = entry.facts ? entry.cell.executionCount : null;
      if (count !== null) ran.push({ cell, count });
    });
    const inOrder = longestInOrder(ran);
    const late = ran.flatMap((entry, i) => (inOrder.has(i) ? [] : [{ entry, clause: outOfOrderClause(i, ran, inOrder) }]));
    if (!late.length) return;
    const first = late[0]!;
    const tail = 'the saved outputs come from that order, not from top to bottom. Restart the kernel and Run All.';
    const message =
      late.length === 1
        ? `${capitalize(first.clause)}: ${tail}`
        : `Cells ran out of order (${late.length} cells): ${late
            .slice(0, LISTED)
            .map((l) => l.clause)
            .join('; ')}${late.length > LISTED ? `; and ${late.length - LISTED} more` : ''}. ${capitalize(tail)}`;
    const related: RelatedLocation[] = late.slice(1).map(({ entry, clause }) => ({ cell: entry.cell, span: firstLine(model.cells[entry.cell]!), message: capitalize(clause) }));
    report({ cell: first.entry.cell, span: firstLine(model.cells[first.entry.cell]!), message, related });
  },
};

/**
 * Indices (into `ran`) of the longest run of cells whose counts never decrease from top to
 * bottom: the order the notebook mostly ran in. The cells outside it are the fewest that ran
 * out of order — one cell re-run at the end is that one cell, not every cell below it. Where
 * two such runs are as long, the one keeping the cells higher up wins, so the cell reported is
 * the lower one (`[1] [5] [3]` reports the `[3]`, which ran before the `[5]` above it).
 */
export function longestInOrder(ran: readonly Ran[]): Set<number> {
  // Patience sorting from the bottom up over non-increasing counts; tails[k] is the index that
  // starts the best run of length k+1 found so far (on ties the higher cell replaces it).
  const tails: number[] = [];
  const next = new Array<number>(ran.length).fill(-1);
  for (let i = ran.length - 1; i >= 0; i--) {
    const count = ran[i]!.count;
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (ran[tails[mid]!]!.count >= count) low = mid + 1;
      else high = mid;
    }
    if (low > 0) next[i] = tails[low - 1]!;
    tails[low] = i;
  }
  const kept = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i !== -1; i = next[i]!) kept.add(i);
  return kept;
}

/** "cell 21 ran as [9], before cell 20 above it ran as [11]" (or the cell below it ran before it). */
function outOfOrderClause(position: number, ran: readonly Ran[], inOrder: ReadonlySet<number>): string {
  const entry = ran[position]!;
  // The nearest in-order cell above that ran later, else the nearest below that ran earlier
  // (one of them exists, or the cell would be in the longest in-order run).
  for (let i = position - 1; i >= 0; i--) {
    const other = ran[i]!;
    if (inOrder.has(i) && other.count > entry.count) {
      return `cell ${cellNumber(entry.cell)} ran as [${entry.count}], before cell ${cellNumber(other.cell)} above it ran as [${other.count}]`;
    }
  }
  for (let i = position + 1; i < ran.length; i++) {
    const other = ran[i]!;
    if (inOrder.has(i) && other.count < entry.count) {
      return `cell ${cellNumber(entry.cell)} ran as [${entry.count}], after cell ${cellNumber(other.cell)} below it ran as [${other.count}]`;
    }
  }
  return `cell ${cellNumber(entry.cell)} ran as [${entry.count}], out of order`;
}

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
    // A cell that never ran among cells that did is its own decision (run it or delete it).
    for (const { entry, cell } of code) {
      if (entry.cell.executionCount !== null || cell > lastRan) continue;
      report({
        cell,
        span: firstLine(entry),
        message: 'This cell never ran, above cells that did: the saved outputs were produced without it. Run All from a fresh kernel, or delete it if it is not needed.',
      });
    }
    // The cells below the last one that ran are one thing: the notebook was not run to the end.
    const after = code.filter(({ cell }) => cell > lastRan);
    if (!after.length) return;
    const [first, ...rest] = after;
    const message = rest.length
      ? `This cell and the ${rest.length} code cell${rest.length === 1 ? '' : 's'} below it (cells ${cellNumber(first!.cell)}–${cellNumber(after.at(-1)!.cell)}) never ran, below the cells that did: the notebook was saved before it ran to the end, so its outputs were produced without them. Run All from a fresh kernel, or delete them if they are not needed.`
      : 'This cell never ran, below the cells that did: the saved outputs were produced without it. Run All from a fresh kernel, or delete it if it is not needed.';
    report({
      cell: first!.cell,
      span: firstLine(first!.entry),
      message,
      related: rest.map(({ entry, cell }) => ({ cell, span: firstLine(entry), message: `Cell ${cellNumber(cell)} never ran.` })),
    });
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

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
