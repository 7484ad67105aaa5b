/**
 * The run index, `index.jsonl` in the store: one summary per run file, so that listing 10,000
 * runs reads one file instead of 10,000. It is a cache, never the source of truth (RunStore
 * decides when to trust it, see runStore.ts and docs/architecture.md "The store").
 *
 * Layout: every line is JSON.
 *   line 1   header {"format":"nb2prod.index/3","generation":G,"rows":N,"rowsBytes":B,"dir":D,"problems":[…]}
 *   N lines  one run each, sorted by start time then id: [size, mtimeMs, ctimeMs, racy, summary]
 *   tail     records appended since the file was written: {"run":…}, {"problem":…}, {"gone":F}, {"dir":D}
 * A reader parses the header and the tail, and only the run lines a query needs: the newest 20
 * runs are the last 20 lines. The tail is folded over the sorted runs; when it grows long, the
 * file is rewritten sorted again (temp file + rename). Records are appended only to the
 * generation (G) they were worked out from, through the descriptor it was read with, so an
 * append can never land on a rewritten file whose runs it does not describe.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { JsonValue, RunEnvelope } from '../envelope';
import { sha256Hex } from '../hash';
import type { RunStatus } from '../runStatus';
import { configurationKey, duplicateKey } from '../stats/repeats';

/** Bump when the layout or the summary changes: an index of another format is rebuilt. */
export const INDEX_FORMAT = 'nb2prod.index/3';

/** What a list query returns per run: enough for a list view without reading the envelope. */
export interface RunSummary {
  id: string;
  name: string;
  kind: RunEnvelope['kind'];
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  sourcePath: string;
  group: string | null;
  parent: string | null;
  tags: string[];
  /** Last value of every metric. */
  metrics: Record<string, number>;
  /** For the experiments table and the Runs view's tooltips, without reading the envelope: */
  params: Record<string, JsonValue>;
  paramSources: NonNullable<RunEnvelope['paramSources']>;
  /** sha256 of the code that ran. */
  code: string;
  git: { commit: string; dirty: boolean } | null;
  /** Input files and their sha256: the data version. */
  inputs: Array<{ path: string; sha256: string }>;
  /** Distinct values of the seeds the tracker recorded. */
  seeds: JsonValue[];
  /** Metrics logged as series: lowest and highest value and the number of steps. */
  series: Record<string, { min: number; max: number; steps: number }>;
  /** Runs with the same key repeat one configuration (core/stats/repeats.ts configurationKey), hashed. */
  configKey: string;
  /** Runs with the same key are exact duplicates (repeats.ts duplicateKey), hashed; null for a run with unseeded randomness. */
  duplicateKey: string | null;
  /** LLM calls and their cost (the Runs view shows it beside the key metrics); absent: none. */
  llm?: { calls: number; costUsd: number | null; costComplete: boolean };
}

export interface RunQuery {
  /** Runs of this source path (relative to the workspace). */
  source?: string;
  tag?: string;
  group?: string;
  status?: RunStatus;
  kind?: RunEnvelope['kind'];
  /** `time` (default) or a metric name; runs without the metric come last. */
  sortBy?: 'time' | { metric: string };
  /** Default: descending (newest or highest first). */
  order?: 'asc' | 'desc';
  limit?: number;
}

/** Size and times of a run file when it was read; any change means it must be read again. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** The `runs/` folder when its file names were last listed; any change means they must be listed again. */
export interface DirStamp {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/**
 * A run as indexed. `racy`: the file changed so shortly before it was read that a change in the
 * same clock tick would not show in its stamp, so it is read again when next checked (as git
 * does for its index).
 */
export interface IndexedRun {
  /** File name in `runs/` (`<id>.json`). */
  file: string;
  stamp: FileStamp;
  racy: boolean;
  run: RunSummary;
  /** Start time in ms since the epoch, the sort key (ties broken by id). */
  t: number;
}

/** A file in `runs/` that is not a valid run, remembered so it is not read again until it changes. */
export interface IndexedProblem {
  file: string;
  stamp: FileStamp;
  racy: boolean;
  field: string;
  message: string;
}

export type IndexRecord =
  | { kind: 'run'; entry: IndexedRun }
  | { kind: 'problem'; entry: IndexedProblem }
  | { kind: 'gone'; file: string }
  | { kind: 'dir'; dir: DirStamp };

/** Thrown when the index file's content is not what this module wrote: the caller rebuilds it. */
export class IndexCorrupt extends Error {
  override readonly name = 'IndexCorrupt';
}

export function summarize(envelope: RunEnvelope): RunSummary {
  return {
    id: envelope.id,
    name: envelope.name,
    kind: envelope.kind,
    status: envelope.status,
    startedAt: envelope.startedAt,
    endedAt: envelope.endedAt,
    durationMs: envelope.durationMs,
    sourcePath: envelope.source.path,
    group: envelope.group,
    parent: envelope.parent,
    tags: envelope.tags,
    metrics: Object.fromEntries(Object.entries(envelope.metrics).map(([name, metric]) => [name, metric.value])),
    params: envelope.params,
    paramSources: envelope.paramSources ?? {},
    code: envelope.source.sha256,
    git: envelope.git ? { commit: envelope.git.commit, dirty: envelope.git.dirty } : null,
    inputs: envelope.inputs.map((f) => ({ path: f.path, sha256: f.sha256 })),
    seeds: [...new Map(envelope.seeds.map((s) => [JSON.stringify(s.value), s.value])).values()],
    series: seriesStats(envelope),
    configKey: sha256Hex(configurationKey(envelope)).slice(0, 16),
    duplicateKey: ((key) => (key === null ? null : sha256Hex(key).slice(0, 16)))(duplicateKey(envelope)),
    ...(envelope.llm ? { llm: { calls: envelope.llm.summary.calls, costUsd: envelope.llm.summary.costUsd, costComplete: envelope.llm.summary.costComplete } } : {}),
  };
}

export function indexedRun(file: string, stamp: FileStamp, racy: boolean, run: RunSummary): IndexedRun {
  return { file, stamp, racy, run, t: Date.parse(run.startedAt) };
}

function seriesStats(envelope: RunEnvelope): RunSummary['series'] {
  const out: RunSummary['series'] = {};
  for (const [name, metric] of Object.entries(envelope.metrics)) {
    let min = Infinity;
    let max = -Infinity;
    for (const point of metric.series ?? []) {
      if (!Number.isFinite(point.value)) continue;
      if (point.value < min) min = point.value;
      if (point.value > max) max = point.value;
    }
    if (min <= max) out[name] = { min, max, steps: metric.series!.length };
  }
  return out;
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

export function sameDir(a: DirStamp | null, b: DirStamp): boolean {
  return a !== null && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** Oldest first by start time, then by id (ULIDs sort by creation). */
function compareTime(a: IndexedRun, b: IndexedRun): number {
  return a.t - b.t || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0);
}

// ---------------------------------------------------------------- shape checks of what we read back

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function asStamp(v: unknown): FileStamp {
  if (!Array.isArray(v) || v.length < 3 || !isNumber(v[0]) || !isNumber(v[1]) || !isNumber(v[2])) throw new IndexCorrupt('bad file stamp');
  return { size: v[0], mtimeMs: v[1], ctimeMs: v[2] };
}

function asDir(v: unknown): DirStamp | null {
  if (v === null || v === undefined) return null;
  const d = v as Partial<DirStamp>;
  if (typeof v !== 'object' || !isNumber(d.mtimeMs) || !isNumber(d.ctimeMs) || !isNumber(d.ino)) throw new IndexCorrupt('bad folder stamp');
  return { mtimeMs: d.mtimeMs, ctimeMs: d.ctimeMs, ino: d.ino };
}

/** The summary as written by `summarize`; anything else means the index was damaged. */
function asSummary(v: unknown): RunSummary {
  const s = v as RunSummary;
  if (
    typeof v !== 'object' ||
    v === null ||
    !isString(s.id) ||
    !isString(s.name) ||
    !isString(s.kind) ||
    !isString(s.status) ||
    !isString(s.startedAt) ||
    !isString(s.endedAt) ||
    !isNumber(s.durationMs) ||
    !isString(s.sourcePath) ||
    !(s.group === null || isString(s.group)) ||
    !(s.parent === null || isString(s.parent)) ||
    !Array.isArray(s.tags) ||
    !s.tags.every(isString) ||
    typeof s.metrics !== 'object' ||
    s.metrics === null ||
    !Object.values(s.metrics).every(isNumber) ||
    Number.isNaN(Date.parse(s.startedAt))
  ) {
    throw new IndexCorrupt('bad run summary');
  }
  return s;
}

function asProblem(v: unknown, stamp: FileStamp, racy: boolean): IndexedProblem {
  const p = v as { file?: unknown; field?: unknown; message?: unknown };
  if (typeof v !== 'object' || v === null || !isString(p.file) || !isString(p.field) || !isString(p.message)) throw new IndexCorrupt('bad problem');
  return { file: p.file, stamp, racy, field: p.field, message: p.message };
}

function rowFromLine(line: string): IndexedRun {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    throw new IndexCorrupt('a run line is not JSON');
  }
  if (!Array.isArray(row) || row.length !== 5) throw new IndexCorrupt('bad run line');
  const run = asSummary(row[4]);
  return indexedRun(`${run.id}.json`, asStamp(row), row[3] === 1, run);
}

function recordFromLine(line: string): IndexRecord {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new IndexCorrupt('a record is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new IndexCorrupt('bad record');
  if ('run' in value) {
    const run = asSummary(value.run);
    return { kind: 'run', entry: indexedRun(`${run.id}.json`, asStamp(value.stamp), value.racy === 1, run) };
  }
  if ('problem' in value) return { kind: 'problem', entry: asProblem(value.problem, asStamp(value.stamp), value.racy === 1) };
  if ('gone' in value && isString(value.gone)) return { kind: 'gone', file: value.gone };
  if ('dir' in value) {
    const dir = asDir(value.dir);
    if (dir) return { kind: 'dir', dir };
  }
  throw new IndexCorrupt('unknown record');
}

const stampArray = (s: FileStamp): [number, number, number] => [s.size, s.mtimeMs, s.ctimeMs];

function recordLine(record: IndexRecord): string {
  switch (record.kind) {
    case 'run':
      return JSON.stringify({ run: record.entry.run, stamp: stampArray(record.entry.stamp), racy: record.entry.racy ? 1 : 0 });
    case 'problem': {
      const { file, field, message } = record.entry;
      return JSON.stringify({ problem: { file, field, message }, stamp: stampArray(record.entry.stamp), racy: record.entry.racy ? 1 : 0 });
    }
    case 'gone':
      return JSON.stringify({ gone: record.file });
    case 'dir':
      return JSON.stringify({ dir: record.dir });
  }
}

// ---------------------------------------------------------------- queries

/** Where a query reads runs from: the index file (lazily) or an index held in memory. */
export interface RunSource {
  /** Runs in start-time order (oldest first for `asc`), produced lazily. */
  ordered(order: 'asc' | 'desc'): Iterable<IndexedRun>;
}

function matches(run: RunSummary, query: RunQuery): boolean {
  return (
    (query.source === undefined || run.sourcePath === query.source) &&
    (query.group === undefined || run.group === query.group) &&
    (query.status === undefined || run.status === query.status) &&
    (query.kind === undefined || run.kind === query.kind) &&
    (query.tag === undefined || run.tags.includes(query.tag))
  );
}

/**
 * Answers a query. Sorted by time, it stops after `limit` matches (the index keeps runs in time
 * order); sorted by a metric, every run is looked at. Runs without the metric (or with a value
 * that is not finite) come last either way; ties are broken by id, newest first.
 */
export function runQuery(source: RunSource, query: RunQuery): IndexedRun[] {
  const order = query.order === 'asc' ? 'asc' : 'desc';
  const limit = query.limit ?? Infinity;
  const sortBy = query.sortBy ?? 'time';
  if (limit <= 0) return [];
  if (sortBy === 'time') {
    const out: IndexedRun[] = [];
    for (const entry of source.ordered(order)) {
      if (!matches(entry.run, query)) continue;
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }
  const metric = sortBy.metric;
  const sign = order === 'asc' ? 1 : -1;
  const valueOf = (e: IndexedRun): number | null => {
    const v = Object.hasOwn(e.run.metrics, metric) ? e.run.metrics[metric] : undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const hits = [...source.ordered('desc')].filter((e) => matches(e.run, query)).map((e) => ({ e, v: valueOf(e) }));
  hits.sort((a, b) => {
    if (a.v === null || b.v === null) {
      if (a.v !== b.v) return a.v === null ? 1 : -1;
    } else if (a.v !== b.v) {
      return sign * (a.v - b.v);
    }
    return a.e.run.id < b.e.run.id ? 1 : a.e.run.id > b.e.run.id ? -1 : 0;
  });
  return hits.slice(0, limit).map((h) => h.e);
}

// ---------------------------------------------------------------- the index in memory

/** Every run and problem, held in memory: what a sweep works on and what the editor keeps. */
export class IndexState implements RunSource {
  readonly runs = new Map<string, IndexedRun>();
  readonly problems = new Map<string, IndexedProblem>();
  /** The folder stamp under which `runs` and `problems` name exactly the files in `runs/`. */
  dir: DirStamp | null = null;
  private sorted: IndexedRun[] | null = null;

  apply(record: IndexRecord): void {
    switch (record.kind) {
      case 'run':
        this.problems.delete(record.entry.file);
        this.runs.set(record.entry.file, record.entry);
        break;
      case 'problem':
        this.runs.delete(record.entry.file);
        this.problems.set(record.entry.file, record.entry);
        break;
      case 'gone':
        this.runs.delete(record.file);
        this.problems.delete(record.file);
        break;
      case 'dir':
        this.dir = record.dir;
        return;
    }
    this.sorted = null;
  }

  *ordered(order: 'asc' | 'desc'): Iterable<IndexedRun> {
    this.sorted ??= [...this.runs.values()].sort(compareTime);
    const sorted = this.sorted;
    if (order === 'asc') yield* sorted;
    else for (let i = sorted.length - 1; i >= 0; i--) yield sorted[i]!;
  }

  /** The whole index as file content (a new generation), claiming the folder stamp `dir`. */
  serialize(dir: DirStamp | null = this.dir): string {
    const rows = [...this.ordered('asc')].map((e) => JSON.stringify([e.stamp.size, e.stamp.mtimeMs, e.stamp.ctimeMs, e.racy ? 1 : 0, e.run]));
    const rowsText = rows.length ? `${rows.join('\n')}\n` : '';
    const problems = [...this.problems.values()].map((p) => ({ file: p.file, field: p.field, message: p.message, stamp: stampArray(p.stamp), racy: p.racy ? 1 : 0 }));
    const header = {
      format: INDEX_FORMAT,
      generation: randomBytes(8).toString('hex'),
      rows: rows.length,
      rowsBytes: Buffer.byteLength(rowsText),
      dir,
      problems,
    };
    return `${JSON.stringify(header)}\n${rowsText}`;
  }
}

// ---------------------------------------------------------------- the index file

interface Header {
  generation: string;
  rows: number;
  rowsBytes: number;
  dir: DirStamp | null;
  problems: IndexedProblem[];
}

function parseHeader(line: string): Header {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new IndexCorrupt('the header is not JSON');
  }
  if (typeof value !== 'object' || value === null || value.format !== INDEX_FORMAT) {
    throw new IndexCorrupt(`not an index of format ${INDEX_FORMAT}`);
  }
  if (!isString(value.generation) || !Number.isSafeInteger(value.rows) || !Number.isSafeInteger(value.rowsBytes) || !Array.isArray(value.problems)) {
    throw new IndexCorrupt('bad header');
  }
  const problems = value.problems.map((p: unknown) => {
    const q = p as { stamp?: unknown; racy?: unknown };
    return asProblem(p, asStamp(q?.stamp), q?.racy === 1);
  });
  return { generation: value.generation, rows: value.rows as number, rowsBytes: value.rowsBytes as number, dir: asDir(value.dir), problems };
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(Math.max(0, length));
  let read = 0;
  while (read < length) {
    const n = fs.readSync(fd, buffer, read, length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}

/** How much of the sorted part is read at first; more is read (doubling) only if a query needs it. */
const FIRST_READ = 64 * 1024;

/**
 * One generation of the index file as read, queried in place: only the header, the tail and the
 * run lines a query reaches are read from disk. Opened read-write (append) when the store allows
 * it; `close()` must be called.
 */
export class IndexFile implements RunSource {
  /** Files the tail says something about: their lines in the sorted part are out of date. */
  private readonly touched = new Set<string>();
  private readonly tailRuns: IndexedRun[] = [];
  private readonly tail: IndexRecord[] = [];

  private constructor(
    private fd: number | null,
    readonly writable: boolean,
    private readonly header: Header,
    private readonly rowsStart: number,
    private readonly rowsEnd: number,
    tailText: string,
  ) {
    const lines = tailText.split('\n');
    lines.pop(); // the text after the last newline: empty, or a line still being appended
    for (const line of lines) {
      if (!line) continue;
      const record = recordFromLine(line);
      this.tail.push(record);
      if (record.kind === 'run' || record.kind === 'problem') this.touched.add(record.entry.file);
      if (record.kind === 'gone') this.touched.add(record.file);
    }
    // The last record about a file wins.
    const lastRun = new Map<string, IndexedRun | null>();
    for (const r of this.tail) {
      if (r.kind === 'run') lastRun.set(r.entry.file, r.entry);
      else if (r.kind === 'problem') lastRun.set(r.entry.file, null);
      else if (r.kind === 'gone') lastRun.set(r.file, null);
    }
    for (const entry of lastRun.values()) if (entry) this.tailRuns.push(entry);
    this.tailRuns.sort(compareTime);
  }

  /**
   * Opens and reads the index. Returns a reason instead when there is no usable index (missing,
   * empty, a folder, unreadable, another format, damaged): the caller then rebuilds it.
   */
  static open(file: string): { index: IndexFile } | { index: null; reason: string; writable: boolean } {
    let fd: number;
    let writable = true;
    try {
      fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { index: null, reason: 'index file missing', writable: true };
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        writable = false;
        try {
          fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        } catch (again) {
          return { index: null, reason: `index unreadable (${(again as NodeJS.ErrnoException).code ?? 'error'})`, writable: false };
        }
      } else {
        return { index: null, reason: `index unreadable (${code ?? (error as Error).message})`, writable: code !== 'EISDIR' };
      }
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new IndexCorrupt('not a regular file');
      if (stat.size === 0) throw new IndexCorrupt('index file empty');
      let head = readAt(fd, 0, Math.min(stat.size, FIRST_READ));
      let headerEnd = head.indexOf(0x0a);
      if (headerEnd < 0 && head.length < stat.size) {
        head = readAt(fd, 0, stat.size);
        headerEnd = head.indexOf(0x0a);
      }
      if (headerEnd < 0) throw new IndexCorrupt('no header line');
      const header = parseHeader(head.toString('utf8', 0, headerEnd));
      const rowsStart = headerEnd + 1;
      const rowsEnd = rowsStart + header.rowsBytes;
      if (rowsEnd > stat.size) throw new IndexCorrupt('the index is truncated');
      if (header.rowsBytes > 0 && readAt(fd, rowsEnd - 1, 1)[0] !== 0x0a) throw new IndexCorrupt('the index is damaged');
      const tailText = readAt(fd, rowsEnd, stat.size - rowsEnd).toString('utf8');
      return { index: new IndexFile(fd, writable, header, rowsStart, rowsEnd, tailText) };
    } catch (error) {
      fs.closeSync(fd);
      if (error instanceof IndexCorrupt) return { index: null, reason: `index unusable (${error.message})`, writable };
      const code = (error as NodeJS.ErrnoException).code;
      if (code) return { index: null, reason: `index unreadable (${code})`, writable };
      throw error;
    }
  }

  get generation(): string {
    return this.header.generation;
  }

  get tailLength(): number {
    return this.tail.length;
  }

  /** The last folder stamp recorded: the header's, or a later one from the tail. */
  dir(): DirStamp | null {
    let dir = this.header.dir;
    for (const r of this.tail) if (r.kind === 'dir') dir = r.dir;
    return dir;
  }

  /** Current problems (header, then the tail's records in order). */
  problems(): IndexedProblem[] {
    const problems = new Map(this.header.problems.map((p) => [p.file, p]));
    for (const r of this.tail) {
      if (r.kind === 'problem') problems.set(r.entry.file, r.entry);
      else if (r.kind === 'run') problems.delete(r.entry.file);
      else if (r.kind === 'gone') problems.delete(r.file);
    }
    return [...problems.values()];
  }

  *ordered(order: 'asc' | 'desc'): Iterable<IndexedRun> {
    const tail = order === 'asc' ? this.tailRuns : [...this.tailRuns].reverse();
    let t = 0;
    const before = (a: IndexedRun, b: IndexedRun) => (order === 'asc' ? compareTime(a, b) < 0 : compareTime(a, b) > 0);
    for (const row of this.sortedRows(order)) {
      if (this.touched.has(row.file)) continue;
      while (t < tail.length && before(tail[t]!, row)) yield tail[t++]!;
      yield row;
    }
    while (t < tail.length) yield tail[t++]!;
  }

  /**
   * The runs of the sorted part, parsed one line at a time from the start or the end. The part
   * is read in growing windows from that end, so the newest 20 runs cost one small read.
   */
  private *sortedRows(order: 'asc' | 'desc'): Iterable<IndexedRun> {
    const { rowsStart, rowsEnd } = this;
    const fd = this.descriptor();
    let count = 0;
    if (order === 'asc') {
      let buffer: Buffer = Buffer.alloc(0);
      let bufferStart = rowsStart;
      let position = rowsStart;
      while (position < rowsEnd) {
        let end = buffer.indexOf(0x0a, position - bufferStart);
        while (end < 0) {
          const bufferEnd = bufferStart + buffer.length;
          if (bufferEnd >= rowsEnd) throw new IndexCorrupt('the last run line has no end');
          const more = readAt(fd, bufferEnd, Math.min(rowsEnd - bufferEnd, Math.max(FIRST_READ, buffer.length)));
          if (!more.length) throw new IndexCorrupt('the index is truncated');
          // Drop what was already parsed: the window only ever holds unread lines.
          buffer = Buffer.concat([buffer.subarray(position - bufferStart), more]);
          bufferStart = position;
          end = buffer.indexOf(0x0a, 0);
        }
        yield rowFromLine(buffer.toString('utf8', position - bufferStart, end));
        count++;
        position = bufferStart + end + 1;
      }
    } else {
      let bufferStart = rowsEnd;
      let buffer: Buffer = Buffer.alloc(0);
      // `end`: file offset of the newline that ends the next line to yield.
      for (let end = rowsEnd - 1; end >= rowsStart; ) {
        let newline = end > bufferStart ? buffer.lastIndexOf(0x0a, end - 1 - bufferStart) : -1;
        while (newline < 0 && bufferStart > rowsStart) {
          const from = Math.max(rowsStart, bufferStart - Math.max(FIRST_READ, buffer.length));
          buffer = Buffer.concat([readAt(fd, from, bufferStart - from), buffer.subarray(0, end + 1 - bufferStart)]);
          bufferStart = from;
          newline = end > bufferStart ? buffer.lastIndexOf(0x0a, end - 1 - bufferStart) : -1;
        }
        const start = newline < 0 ? rowsStart : bufferStart + newline + 1;
        if (start >= end) throw new IndexCorrupt('an empty run line');
        yield rowFromLine(buffer.toString('utf8', start - bufferStart, end - bufferStart));
        count++;
        end = start - 1;
      }
    }
    if (count !== this.header.rows) throw new IndexCorrupt(`the index has ${count} runs, its header says ${this.header.rows}`);
  }

  /** Everything, in memory, with the tail folded in. */
  materialize(): IndexState {
    const state = new IndexState();
    const bytes = readAt(this.descriptor(), this.rowsStart, this.rowsEnd - this.rowsStart);
    if (bytes.length !== this.rowsEnd - this.rowsStart) throw new IndexCorrupt('the index is truncated');
    const text = bytes.toString('utf8');
    const lines = text.split('\n');
    lines.pop();
    if (lines.length !== this.header.rows) throw new IndexCorrupt(`the index has ${lines.length} runs, its header says ${this.header.rows}`);
    for (const line of lines) {
      const entry = rowFromLine(line);
      state.runs.set(entry.file, entry);
    }
    for (const p of this.header.problems) state.problems.set(p.file, p);
    state.dir = this.header.dir;
    for (const r of this.tail) state.apply(r);
    return state;
  }

  private descriptor(): number {
    if (this.fd === null) throw new Error('the index file is closed');
    return this.fd;
  }

  /**
   * Appends records to this generation. Returns false when it cannot (read-only, closed): the
   * records are then simply not kept, which costs a later reader some work, nothing else.
   */
  append(records: IndexRecord[]): boolean {
    if (!records.length) return true;
    if (!this.writable || this.fd === null) return false;
    const text = `${records.map(recordLine).join('\n')}\n`;
    try {
      // One write: O_APPEND keeps concurrent appenders' lines whole on local file systems.
      fs.writeSync(this.fd, text);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
