/**
 * What the user's own kernel did to their notebooks, as the editor reports it: per notebook and
 * per cell, the last execution (its order, whether it succeeded, when it ended, and a hash of the
 * source as it ran) and whether the cell was edited since. From that it answers the questions a
 * reproducibility linter asks of a live session: which cells ran out of order, which were edited
 * after they ran, which never ran, and which were deleted after they changed the kernel's state.
 *
 * Pure data, no editor: the extension feeds it from notebook change events and persists
 * `toJSON()`; tests drive it directly.
 *
 * Kernel restarts are not reported by the editor. They are inferred from the execution counter
 * going back (a new kernel counts from 1 again): everything before belongs to an older *session*,
 * whose state the kernel no longer holds.
 */
import * as z from 'zod/mini';

export type CellKind = 'code' | 'markup';

/** A cell as the notebook holds it now. `id` must stay the same for the cell's lifetime. */
export interface CellSnapshot {
  id: string;
  kind: CellKind;
  /** sha256 (or any stable digest) of the cell's source. */
  sourceHash: string;
}

/** What the editor says about one execution (its `executionSummary`). */
export interface ExecutionReport {
  /** The kernel's execution count, the `[3]` beside the cell. */
  order: number;
  /** Undefined while the cell is still running. */
  success?: boolean;
  startTime?: number;
  endTime?: number;
}

export interface CellExecution {
  order: number;
  success: boolean | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
  /** Hash of the source when the execution was first reported (edits while it runs don't count). */
  sourceHashAtRun: string;
  /** The kernel session it ran in (see the file comment). */
  session: number;
}

export interface CellState {
  id: string;
  kind: CellKind;
  /** Position in the notebook; -1 once deleted (kept while its effects live on in the kernel). */
  index: number;
  sourceHash: string;
  lastRun: CellExecution | undefined;
  /** The source differs from what last ran; editing it back to that source clears it. */
  editedSinceRun: boolean;
}

/** A cell whose last execution came before that of a cell above it. */
export interface OutOfOrderCell {
  cell: CellState;
  /** The cell above it that ran later (the latest-run one, if several did). */
  ranBefore: CellState;
}

/** What `recordExecution` made of a report. */
export type ExecutionOutcome = 'new' | 'update' | 'restart';

interface CellRecord {
  id: string;
  kind: CellKind;
  index: number;
  sourceHash: string;
  lastRun: CellExecution | undefined;
}

interface NotebookRecord {
  session: number;
  /** Highest execution order seen in the current session. */
  maxOrder: number;
  /** When it was last fed, as a sequence number: the least recently used are pruned first. */
  touched: number;
  cells: Map<string, CellRecord>;
}

const executionSchema = z.object({
  order: z.number(),
  success: z.optional(z.boolean()),
  startTime: z.optional(z.number()),
  endTime: z.optional(z.number()),
  sourceHashAtRun: z.string(),
  session: z.number(),
});

const dataSchema = z.object({
  version: z.literal(1),
  notebooks: z.record(
    z.string(),
    z.object({
      session: z.number(),
      maxOrder: z.number(),
      touched: z.number(),
      cells: z.array(
        z.object({
          id: z.string(),
          kind: z.enum(['code', 'markup']),
          index: z.number(),
          sourceHash: z.string(),
          lastRun: z.optional(executionSchema),
        }),
      ),
    }),
  ),
});

/** The persisted form: plain JSON (undefined fields are dropped). */
export type ExecutionLogData = z.infer<typeof dataSchema>;

export class ExecutionLog {
  private readonly notebooks = new Map<string, NotebookRecord>();
  private clock = 0;

  /**
   * @param maxNotebooks how many notebooks `toJSON` keeps (the most recently fed), so a
   *   long-lived workspace does not grow its saved state without bound.
   */
  constructor(private readonly maxNotebooks = 100) {}

  /** Restores a log saved with `toJSON`. Anything unreadable (an older format) gives an empty log. */
  static fromJSON(data: unknown, maxNotebooks?: number): ExecutionLog {
    const log = new ExecutionLog(maxNotebooks);
    const parsed = dataSchema.safeParse(data);
    if (!parsed.success) return log;
    for (const [key, nb] of Object.entries(parsed.data.notebooks)) {
      const cells = new Map<string, CellRecord>();
      for (const c of nb.cells) {
        const lastRun = c.lastRun && {
          order: c.lastRun.order,
          success: c.lastRun.success,
          startTime: c.lastRun.startTime,
          endTime: c.lastRun.endTime,
          sourceHashAtRun: c.lastRun.sourceHashAtRun,
          session: c.lastRun.session,
        };
        cells.set(c.id, { id: c.id, kind: c.kind, index: c.index, sourceHash: c.sourceHash, lastRun });
      }
      log.notebooks.set(key, { session: nb.session, maxOrder: nb.maxOrder, touched: nb.touched, cells });
      log.clock = Math.max(log.clock, nb.touched);
    }
    return log;
  }

  toJSON(): ExecutionLogData {
    const kept = [...this.notebooks.entries()].sort((a, b) => b[1].touched - a[1].touched).slice(0, this.maxNotebooks);
    const notebooks: ExecutionLogData['notebooks'] = {};
    for (const [key, nb] of kept) {
      notebooks[key] = {
        session: nb.session,
        maxOrder: nb.maxOrder,
        touched: nb.touched,
        cells: [...nb.cells.values()].map((c) => ({
          id: c.id,
          kind: c.kind,
          index: c.index,
          sourceHash: c.sourceHash,
          ...(c.lastRun ? { lastRun: stripUndefined(c.lastRun) } : {}),
        })),
      };
    }
    return { version: 1, notebooks };
  }

  /**
   * Sets the notebook's cells, in order (on open, and after cells are added, removed or moved).
   * A deleted cell is kept, with index -1, while what it ran is still in the kernel.
   */
  setCells(notebook: string, cells: readonly CellSnapshot[]): void {
    const nb = this.touch(notebook);
    const present = new Set<string>();
    cells.forEach((snapshot, index) => {
      present.add(snapshot.id);
      const existing = nb.cells.get(snapshot.id);
      if (existing) {
        existing.index = index;
        existing.kind = snapshot.kind;
        existing.sourceHash = snapshot.sourceHash;
      } else {
        nb.cells.set(snapshot.id, { id: snapshot.id, kind: snapshot.kind, index, sourceHash: snapshot.sourceHash, lastRun: undefined });
      }
    });
    for (const [id, cell] of nb.cells) {
      if (present.has(id)) continue;
      if (cell.lastRun?.session === nb.session) cell.index = -1;
      else nb.cells.delete(id);
    }
  }

  /** The cell's source changed. A cell not seen before is added at the end until `setCells` places it. */
  recordEdit(notebook: string, cellId: string, sourceHash: string): void {
    const nb = this.touch(notebook);
    const cell = nb.cells.get(cellId);
    if (cell) cell.sourceHash = sourceHash;
    else nb.cells.set(cellId, { id: cellId, kind: 'code', index: nb.cells.size, sourceHash, lastRun: undefined });
  }

  /**
   * The editor reported an execution of a cell, with the cell's source hash now. The same
   * execution is usually reported twice (when it starts, and when it ends): a report with the
   * order (and start time) of the cell's last execution updates it rather than adding one.
   */
  recordExecution(notebook: string, cellId: string, report: ExecutionReport, sourceHash: string): ExecutionOutcome {
    const nb = this.touch(notebook);
    let cell = nb.cells.get(cellId);
    if (!cell) {
      cell = { id: cellId, kind: 'code', index: nb.cells.size, sourceHash, lastRun: undefined };
      nb.cells.set(cellId, cell);
    }
    const last = cell.lastRun;
    if (
      last &&
      last.session === nb.session &&
      last.order === report.order &&
      (last.startTime === undefined || report.startTime === undefined || last.startTime === report.startTime)
    ) {
      last.success = report.success ?? last.success;
      last.startTime = report.startTime ?? last.startTime;
      last.endTime = report.endTime ?? last.endTime;
      return 'update';
    }
    let outcome: ExecutionOutcome = 'new';
    // A counter that goes back (or repeats on another cell) means a new kernel.
    if (report.order <= nb.maxOrder) {
      nb.session += 1;
      nb.maxOrder = 0;
      outcome = 'restart';
      // Deleted cells only mattered for the state of the old kernel.
      for (const [id, c] of nb.cells) if (c.index === -1 && c !== cell) nb.cells.delete(id);
    }
    nb.maxOrder = Math.max(nb.maxOrder, report.order);
    cell.sourceHash = sourceHash;
    cell.lastRun = {
      order: report.order,
      success: report.success,
      startTime: report.startTime,
      endTime: report.endTime,
      sourceHashAtRun: sourceHash,
      session: nb.session,
    };
    return outcome;
  }

  /** Forgets a notebook (e.g. deleted from disk). */
  forget(notebook: string): void {
    this.notebooks.delete(notebook);
  }

  /** Keys of the notebooks the log knows. */
  notebookKeys(): string[] {
    return [...this.notebooks.keys()];
  }

  /** The kernel session counter of a notebook: 0 until the first restart is seen. */
  session(notebook: string): number {
    return this.notebooks.get(notebook)?.session ?? 0;
  }

  cell(notebook: string, cellId: string): CellState | undefined {
    const c = this.notebooks.get(notebook)?.cells.get(cellId);
    return c && toState(c);
  }

  /** The cells present in the notebook, in order. */
  cells(notebook: string): CellState[] {
    const nb = this.notebooks.get(notebook);
    if (!nb) return [];
    return [...nb.cells.values()].filter((c) => c.index >= 0).sort((a, b) => a.index - b.index).map(toState);
  }

  /**
   * Code cells whose last execution in the current kernel came before that of a cell above
   * them: top to bottom, the notebook would not compute what the kernel holds now.
   */
  outOfOrder(notebook: string): OutOfOrderCell[] {
    const nb = this.notebooks.get(notebook);
    if (!nb) return [];
    const out: OutOfOrderCell[] = [];
    let latest: CellState | undefined;
    for (const cell of this.cells(notebook)) {
      if (cell.kind !== 'code' || cell.lastRun?.session !== nb.session) continue;
      if (latest && cell.lastRun.order < latest.lastRun!.order) out.push({ cell, ranBefore: latest });
      else latest = cell;
    }
    return out;
  }

  /** Code cells whose source changed since they last ran (in any kernel session: their output is stale). */
  editedSinceRun(notebook: string): CellState[] {
    return this.cells(notebook).filter((c) => c.kind === 'code' && c.editedSinceRun);
  }

  /** Code cells the current kernel has not run (never, or only before a restart). */
  neverRun(notebook: string): CellState[] {
    const session = this.session(notebook);
    return this.cells(notebook).filter((c) => c.kind === 'code' && c.lastRun?.session !== session);
  }

  /** Cells deleted after they ran in the current kernel: their effects are hidden state. */
  deletedAfterRun(notebook: string): CellState[] {
    const nb = this.notebooks.get(notebook);
    if (!nb) return [];
    return [...nb.cells.values()].filter((c) => c.index === -1 && c.lastRun?.session === nb.session).map(toState);
  }

  private touch(notebook: string): NotebookRecord {
    let nb = this.notebooks.get(notebook);
    if (!nb) {
      nb = { session: 0, maxOrder: 0, touched: 0, cells: new Map() };
      this.notebooks.set(notebook, nb);
    }
    nb.touched = ++this.clock;
    return nb;
  }
}

function toState(c: CellRecord): CellState {
  return {
    id: c.id,
    kind: c.kind,
    index: c.index,
    sourceHash: c.sourceHash,
    lastRun: c.lastRun && { ...c.lastRun },
    editedSinceRun: c.lastRun !== undefined && c.lastRun.sourceHashAtRun !== c.sourceHash,
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
