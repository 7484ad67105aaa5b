/**
 * How a notebook cell is named to a person: "cell N", where N is the number Jupyter and VS Code
 * would give it counting from 1 at the top, markdown and raw cells included (the editors count
 * every cell; the `[n]` beside a code cell is its execution count, not its number). Where the
 * notebook has nbformat 4.5 cell ids, the id follows, because it survives cells being moved.
 *
 * Inside nb2prod cells are 0-based indices (the lint model, run envelopes, the runner's
 * protocol, recorded locations). Every report, message and page turns an index into a number
 * here and nowhere else, so text, JSON, SARIF, tracking and the editor all say the same thing.
 */

/** The 1-based number of the cell at 0-based `index`. */
export function cellNumber(index: number): number {
  return index + 1;
}

/** "cell 5", or "cell 5 (id 7b582097)" when the cell has an nbformat id. */
export function cellLabel(index: number, id?: string | null): string {
  return id ? `cell ${cellNumber(index)} (id ${id})` : `cell ${cellNumber(index)}`;
}

/** A run-time location as the capture records it: `cell I, line L` with I the 0-based index. */
const RECORDED_CELL_LOCATION = /^cell (\d+), line (\d+)$/;

/**
 * A location recorded by the capture (a seed, an unseeded draw) as a person reads it: the
 * recorded `cell 2, line 3` (0-based index, kept as is in run envelopes so older runs still
 * compare and replay) becomes `cell 3, line 3`, with the cell id when `idOf` knows it.
 * Script locations (`train.py:14`) and the unknown `cell ?` are returned unchanged.
 */
export function locationLabel(location: string, idOf?: (index: number) => string | null | undefined): string {
  const match = RECORDED_CELL_LOCATION.exec(location);
  if (!match) return location;
  const index = Number(match[1]);
  return `${cellLabel(index, idOf?.(index))}, line ${match[2]}`;
}

/** Cell ids by index from a run's cell records, for `locationLabel`. */
export function cellIdsOf(cells: ReadonlyArray<{ index: number; id: string | null }>): (index: number) => string | null {
  const ids = new Map(cells.map((cell) => [cell.index, cell.id]));
  return (index) => ids.get(index) ?? null;
}
