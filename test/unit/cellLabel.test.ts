/**
 * One cell numbering everywhere: the helper that turns a 0-based index into the number Jupyter
 * and VS Code show, and the places that name cells to people through it (recorded locations,
 * run errors, tracking progress).
 */
import { describe, expect, it } from 'vitest';
import { progressText } from '../../src/core/capture/tracker';
import { cellIdsOf, cellLabel, cellNumber, locationLabel } from '../../src/core/notebook/cellLabel';
import { runErrorText } from '../../src/core/render/format';

describe('cellLabel', () => {
  it('numbers cells from 1, as the editors do, with the nbformat id when there is one', () => {
    expect(cellNumber(0)).toBe(1);
    expect(cellLabel(4)).toBe('cell 5');
    expect(cellLabel(4, null)).toBe('cell 5');
    expect(cellLabel(4, '7b582097')).toBe('cell 5 (id 7b582097)');
  });

  it('shows a recorded `cell I, line L` (0-based index) as the cell a person finds', () => {
    const idOf = cellIdsOf([
      { index: 2, id: 'abc' },
      { index: 3, id: null },
    ]);
    expect(locationLabel('cell 2, line 3', idOf)).toBe('cell 3 (id abc), line 3');
    expect(locationLabel('cell 3, line 1', idOf)).toBe('cell 4, line 1');
    expect(locationLabel('cell 0, line 1')).toBe('cell 1, line 1');
    // Scripts and unknown cells are left as recorded.
    expect(locationLabel('train.py:14', idOf)).toBe('train.py:14');
    expect(locationLabel('cell ?, line 2', idOf)).toBe('cell ?, line 2');
  });

  it('names the failing cell of a run and the running cell of a tracked notebook the same way', () => {
    const source = { cells: [{ index: 4, id: 'f00d', sha256: 'a'.repeat(64), durationMs: 1, status: 'failed' as const }] } as never;
    expect(runErrorText({ error: { message: 'ValueError: bad', cell: 4 }, source })).toBe('in cell 5 (id f00d): ValueError: bad');
    expect(runErrorText({ error: { message: 'The kernel died' }, source })).toBe('The kernel died');
    expect(runErrorText({ error: null, source })).toBe('');
    expect(progressText({ position: 3, total: 6, cellIndex: 11, cellId: null })).toBe('cell 12, 3 of 6 code cells');
    expect(progressText({ position: 1, total: 2, cellIndex: 0, cellId: 'x1' })).toBe('cell 1 (id x1), 1 of 2 code cells');
  });
});
