import { describe, expect, it } from 'vitest';
import { type CellSnapshot, ExecutionLog } from '../../src/core/session/executionLog';

const NB = 'file:///ws/churn.ipynb';

function code(id: string, sourceHash = `h-${id}`): CellSnapshot {
  return { id, kind: 'code', sourceHash };
}

function markup(id: string): CellSnapshot {
  return { id, kind: 'markup', sourceHash: `h-${id}` };
}

/** A notebook of code cells a, b, c (and a markdown cell m between a and b). */
function threeCells(log = new ExecutionLog()): ExecutionLog {
  log.setCells(NB, [code('a'), markup('m'), code('b'), code('c')]);
  return log;
}

let now = 1_000;

/** Runs cells in the given order with increasing execution counts starting at `from`, as a kernel would. */
function run(log: ExecutionLog, ids: string[], from = 1): void {
  ids.forEach((id, i) => {
    const hash = log.cell(NB, id)?.sourceHash ?? `h-${id}`;
    now += 10;
    log.recordExecution(NB, id, { order: from + i, success: true, startTime: now, endTime: now + 5 }, hash);
  });
}

const ids = (cells: Array<{ id: string }>) => cells.map((c) => c.id);

describe('ExecutionLog: executions', () => {
  it('records the last execution of a cell with its order, success, end time and source hash', () => {
    const log = threeCells();
    log.recordExecution(NB, 'b', { order: 1, success: false, startTime: 10, endTime: 20 }, 'h-b');
    expect(log.cell(NB, 'b')).toMatchObject({
      index: 2,
      lastRun: { order: 1, success: false, startTime: 10, endTime: 20, sourceHashAtRun: 'h-b', session: 0 },
      editedSinceRun: false,
    });
    expect(log.cell(NB, 'a')?.lastRun).toBeUndefined();
  });

  it('treats the start and end reports of one execution as one execution', () => {
    const log = threeCells();
    expect(log.recordExecution(NB, 'a', { order: 1, startTime: 10 }, 'h-a')).toBe('new');
    expect(log.cell(NB, 'a')?.lastRun?.success).toBeUndefined();
    // The user edits the cell while it runs: the hash at run stays the one it started with.
    log.recordEdit(NB, 'a', 'h-a2');
    expect(log.recordExecution(NB, 'a', { order: 1, startTime: 10, endTime: 30, success: true }, 'h-a2')).toBe('update');
    expect(log.cell(NB, 'a')).toMatchObject({ lastRun: { order: 1, success: true, endTime: 30, sourceHashAtRun: 'h-a' }, editedSinceRun: true });
    expect(log.session(NB)).toBe(0);
  });

  it('also merges reports without timing when the order matches', () => {
    const log = threeCells();
    log.recordExecution(NB, 'a', { order: 4 }, 'h-a');
    expect(log.recordExecution(NB, 'a', { order: 4, success: true }, 'h-a')).toBe('update');
    expect(log.cell(NB, 'a')?.lastRun).toMatchObject({ order: 4, success: true });
  });

  it('keeps only the last execution of a re-run cell', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'a']);
    expect(log.cell(NB, 'a')?.lastRun?.order).toBe(3);
    expect(log.cell(NB, 'b')?.lastRun?.order).toBe(2);
  });

  it('learns about a cell from its first execution when it did not know it', () => {
    const log = new ExecutionLog();
    log.recordExecution(NB, 'x', { order: 1, success: true }, 'h-x');
    expect(log.cells(NB)).toHaveLength(1);
    expect(log.cell(NB, 'x')).toMatchObject({ kind: 'code', lastRun: { order: 1 } });
  });

  it('keeps notebooks apart', () => {
    const log = threeCells();
    const other = 'file:///ws/other.ipynb';
    log.setCells(other, [code('a')]);
    run(log, ['a', 'b']);
    expect(log.cell(other, 'a')?.lastRun).toBeUndefined();
    expect(log.neverRun(other).map((c) => c.id)).toEqual(['a']);
    expect(log.notebookKeys().sort()).toEqual([NB, other].sort());
  });
});

describe('ExecutionLog: kernel restarts', () => {
  it('starts a new session when the execution counter goes back', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'c']);
    expect(log.recordExecution(NB, 'a', { order: 1, startTime: 99_000, success: true }, 'h-a')).toBe('restart');
    expect(log.session(NB)).toBe(1);
    // b and c ran in the old kernel only: the new kernel has not run them.
    expect(ids(log.neverRun(NB))).toEqual(['b', 'c']);
  });

  it('starts a new session when another cell gets a count already used', () => {
    const log = threeCells();
    run(log, ['a']);
    expect(log.recordExecution(NB, 'b', { order: 1, success: true }, 'h-b')).toBe('restart');
  });

  it('tells a re-run after a restart from an update of the same execution by its start time', () => {
    const log = threeCells();
    log.recordExecution(NB, 'a', { order: 1, startTime: 10, endTime: 11, success: true }, 'h-a');
    expect(log.recordExecution(NB, 'a', { order: 1, startTime: 500 }, 'h-a')).toBe('restart');
    expect(log.session(NB)).toBe(1);
  });

  it('does not compare the order of runs from different sessions', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'c'], 5); // orders 5, 6, 7
    run(log, ['c'], 1); // restart; c is the only cell the new kernel ran
    expect(log.outOfOrder(NB)).toEqual([]);
  });
});

describe('ExecutionLog: questions', () => {
  it('finds no hazards in a notebook run top to bottom', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'c']);
    expect(log.outOfOrder(NB)).toEqual([]);
    expect(log.editedSinceRun(NB)).toEqual([]);
    expect(log.neverRun(NB)).toEqual([]);
    expect(log.deletedAfterRun(NB)).toEqual([]);
  });

  it('reports cells that ran before a cell above them, naming that cell', () => {
    const log = threeCells();
    run(log, ['c', 'a', 'b']); // c=1, a=2, b=3
    const found = log.outOfOrder(NB);
    expect(found.map((f) => [f.cell.id, f.ranBefore.id])).toEqual([['c', 'b']]);
    expect(found[0]!.cell.lastRun?.order).toBe(1);
    expect(found[0]!.ranBefore.lastRun?.order).toBe(3);
  });

  it('compares each cell with the latest-run cell above it', () => {
    const log = threeCells();
    run(log, ['b', 'a', 'c']); // b=1, a=2, c=3: b ran before a (above it); c is fine
    expect(log.outOfOrder(NB).map((f) => [f.cell.id, f.ranBefore.id])).toEqual([['b', 'a']]);
  });

  it('reports a re-run of an upper cell as putting the cells below it out of order', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'c', 'a']); // a=4 now
    expect(log.outOfOrder(NB).map((f) => f.cell.id)).toEqual(['b', 'c']);
  });

  it('ignores cells that did not run when judging the order', () => {
    const log = threeCells();
    run(log, ['a', 'c']);
    expect(log.outOfOrder(NB)).toEqual([]);
    expect(ids(log.neverRun(NB))).toEqual(['b']);
  });

  it('reports code cells edited since they ran, and clears that when the edit is undone', () => {
    const log = threeCells();
    run(log, ['a', 'b']);
    log.recordEdit(NB, 'b', 'h-b-edited');
    log.recordEdit(NB, 'c', 'h-c-edited'); // never ran: not "edited since run"
    expect(ids(log.editedSinceRun(NB))).toEqual(['b']);
    log.recordEdit(NB, 'b', 'h-b');
    expect(log.editedSinceRun(NB)).toEqual([]);
  });

  it('clears "edited" when the edited cell runs again', () => {
    const log = threeCells();
    run(log, ['a']);
    log.recordEdit(NB, 'a', 'h-a2');
    log.recordExecution(NB, 'a', { order: 2, success: true }, 'h-a2');
    expect(log.editedSinceRun(NB)).toEqual([]);
  });

  it('still reports an edit of a cell that ran before a restart (its output is stale)', () => {
    const log = threeCells();
    run(log, ['a', 'b']);
    run(log, ['a'], 1); // restart
    log.recordEdit(NB, 'b', 'h-b2');
    expect(ids(log.editedSinceRun(NB))).toEqual(['b']);
  });

  it('never counts markdown cells as never-run or edited', () => {
    const log = threeCells();
    log.recordEdit(NB, 'm', 'h-m2');
    expect(ids(log.neverRun(NB))).toEqual(['a', 'b', 'c']);
    expect(log.editedSinceRun(NB)).toEqual([]);
  });

  it('answers with empty lists for an unknown notebook', () => {
    const log = new ExecutionLog();
    expect(log.cells('file:///nope.ipynb')).toEqual([]);
    expect(log.outOfOrder('file:///nope.ipynb')).toEqual([]);
    expect(log.neverRun('file:///nope.ipynb')).toEqual([]);
    expect(log.deletedAfterRun('file:///nope.ipynb')).toEqual([]);
    expect(log.cell('file:///nope.ipynb', 'a')).toBeUndefined();
  });
});

describe('ExecutionLog: structure changes', () => {
  it('follows moved cells: order questions use the new positions', () => {
    const log = threeCells();
    run(log, ['a', 'b', 'c']);
    log.setCells(NB, [code('c'), code('a'), markup('m'), code('b')]);
    expect(log.cells(NB).map((c) => [c.id, c.index])).toEqual([['c', 0], ['a', 1], ['m', 2], ['b', 3]]);
    expect(log.outOfOrder(NB).map((f) => [f.cell.id, f.ranBefore.id])).toEqual([['a', 'c'], ['b', 'c']]);
  });

  it('keeps a deleted cell that ran in the current kernel as hidden state, and forgets it after a restart', () => {
    const log = threeCells();
    run(log, ['a', 'b']);
    log.setCells(NB, [code('a'), markup('m'), code('c')]);
    expect(ids(log.deletedAfterRun(NB))).toEqual(['b']);
    expect(ids(log.cells(NB))).toEqual(['a', 'm', 'c']);
    run(log, ['a'], 1); // restart
    expect(log.deletedAfterRun(NB)).toEqual([]);
    expect(log.cell(NB, 'b')).toBeUndefined();
  });

  it('forgets a deleted cell that never ran', () => {
    const log = threeCells();
    log.setCells(NB, [code('a'), code('b')]);
    expect(log.cell(NB, 'c')).toBeUndefined();
    expect(log.deletedAfterRun(NB)).toEqual([]);
  });

  it('brings a cell back with its history when a deletion is undone', () => {
    const log = threeCells();
    run(log, ['a', 'b']);
    log.setCells(NB, [code('a')]);
    log.setCells(NB, [code('a'), code('b')]);
    expect(log.cell(NB, 'b')).toMatchObject({ index: 1, lastRun: { order: 2 } });
    expect(log.deletedAfterRun(NB)).toEqual([]);
  });

  it('takes the source hash from setCells (an edit made while the notebook was closed)', () => {
    const log = threeCells();
    run(log, ['a']);
    log.setCells(NB, [code('a', 'h-a-changed'), code('b'), code('c')]);
    expect(ids(log.editedSinceRun(NB))).toEqual(['a']);
  });

  it('forgets a notebook on request', () => {
    const log = threeCells();
    log.forget(NB);
    expect(log.notebookKeys()).toEqual([]);
  });
});

describe('ExecutionLog: persistence', () => {
  it('round-trips through JSON, so it survives a window reload', () => {
    const log = threeCells();
    run(log, ['c', 'a']);
    log.recordExecution(NB, 'b', { order: 3 }, 'h-b'); // still running: no success, no end time
    log.recordEdit(NB, 'a', 'h-a2');
    const restored = ExecutionLog.fromJSON(JSON.parse(JSON.stringify(log.toJSON())));
    expect(restored.cells(NB)).toEqual(log.cells(NB));
    expect(restored.outOfOrder(NB).map((f) => f.cell.id)).toEqual(['c']);
    expect(ids(restored.editedSinceRun(NB))).toEqual(['a']);
    expect(restored.cell(NB, 'b')?.lastRun).toMatchObject({ order: 3, success: undefined, endTime: undefined });
  });

  it('keeps sessions across a reload: a counter starting again at 1 is a restart', () => {
    const log = threeCells();
    run(log, ['a', 'b']);
    const restored = ExecutionLog.fromJSON(log.toJSON());
    expect(restored.recordExecution(NB, 'a', { order: 1, startTime: 1 }, 'h-a')).toBe('restart');
    expect(restored.session(NB)).toBe(1);
  });

  it('starts empty from missing, foreign or damaged data', () => {
    for (const data of [undefined, null, 42, 'x', {}, { version: 2, notebooks: {} }, { version: 1, notebooks: { [NB]: { cells: 'no' } } }]) {
      expect(ExecutionLog.fromJSON(data).notebookKeys()).toEqual([]);
    }
  });

  it('saves only the most recently used notebooks', () => {
    const log = new ExecutionLog(2);
    for (const n of ['one', 'two', 'three']) log.setCells(`file:///${n}.ipynb`, [code('a')]);
    log.recordEdit('file:///one.ipynb', 'a', 'h2'); // used last
    expect(Object.keys(log.toJSON().notebooks).sort()).toEqual(['file:///one.ipynb', 'file:///three.ipynb']);
  });

  it('keeps counting "most recent" after a restore', () => {
    const first = new ExecutionLog(2);
    first.setCells('file:///old.ipynb', [code('a')]);
    first.setCells('file:///mid.ipynb', [code('a')]);
    const log = ExecutionLog.fromJSON(first.toJSON(), 2);
    log.setCells('file:///new.ipynb', [code('a')]);
    expect(Object.keys(log.toJSON().notebooks).sort()).toEqual(['file:///mid.ipynb', 'file:///new.ipynb']);
  });

  it('writes plain JSON without undefined fields', () => {
    const log = threeCells();
    log.recordExecution(NB, 'a', { order: 1 }, 'h-a');
    const text = JSON.stringify(log.toJSON());
    expect(JSON.parse(text)).toEqual(log.toJSON());
    const a = log.toJSON().notebooks[NB]!.cells.find((c) => c.id === 'a')!;
    expect(Object.keys(a.lastRun!).sort()).toEqual(['order', 'session', 'sourceHashAtRun']);
  });
});
