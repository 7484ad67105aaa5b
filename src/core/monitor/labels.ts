/**
 * Feedback: labels and outcomes that become known after the prediction (a default is known months
 * later), joined to the audit log by request id (and the record's index in a batch).
 *
 * The feedback log is append-only (`POST /feedback`, `nb2prod monitor labels`): a correction is
 * a later entry, and the last entry for a prediction wins (duplicates are counted). Labels whose
 * request id matches no prediction read are counted as unknown.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { type LineProblems, readJsonLines } from './lines';
import { streamFiles } from './service';

export type FeedbackSource = 'explicit' | 'implicit';

/**
 * The labels, in typed arrays (so one index, built once, can be shared with worker threads
 * through SharedArrayBuffers, and a million labels take tens of megabytes, not hundreds):
 * an open-addressing table keyed by two independent 32-bit hashes of "request id#batch index"
 * (64 bits: a wrong join is about one in 10^7 at a million labels), and per slot the label and
 * outcome (a number, or the index of a value in `values`), when it became known, and whether a
 * prediction of the log read matched it.
 */
export interface LabelData {
  capacity: number;
  hashA: Uint32Array;
  hashB: Uint32Array;
  /** Table position → slot, -1 when empty. */
  table: Int32Array;
  labelNum: Float64Array;
  labelRef: Int32Array;
  outcomeNum: Float64Array;
  outcomeRef: Int32Array;
  knownAt: Float64Array;
  /** Set while reading the audit log (by any thread): the slot was joined to a prediction. */
  matched: Uint8Array;
  /** Labels and outcomes that are not numbers, deduplicated (JSON values). */
  values: unknown[];
  count: number;
  entries: number;
  duplicates: number;
  bySource: Record<FeedbackSource, number>;
}

const NONE = -1;
const MISSING = -2;

export class LabelIndex {
  constructor(readonly data: LabelData) {}

  get size(): number {
    return this.data.count;
  }

  get entries(): number {
    return this.data.entries;
  }

  get duplicates(): number {
    return this.data.duplicates;
  }

  get bySource(): Record<FeedbackSource, number> {
    return this.data.bySource;
  }

  get matched(): Uint8Array {
    return this.data.matched;
  }

  /** The slot of a prediction's feedback, or -1. */
  find(requestId: string, batchIndex: unknown): number {
    const d = this.data;
    if (!d.count) return -1;
    const key = labelKey(requestId, batchIndex);
    const a = hashA(key);
    const b = hashB(key);
    const mask = d.capacity - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const slot = d.table[i]!;
      if (slot === -1) return -1;
      if (d.hashA[i] === a && d.hashB[i] === b) return slot;
    }
  }

  label(slot: number): unknown {
    return valueAt(this.data, this.data.labelNum, this.data.labelRef, slot);
  }

  outcome(slot: number): unknown {
    return valueAt(this.data, this.data.outcomeNum, this.data.outcomeRef, slot);
  }

  knownAt(slot: number): number {
    return this.data.knownAt[slot]!;
  }
}

function valueAt(d: LabelData, numbers: Float64Array, refs: Int32Array, slot: number): unknown {
  const ref = refs[slot]!;
  if (ref === MISSING) return undefined;
  return ref === NONE ? numbers[slot] : d.values[ref];
}

export function labelKey(requestId: string, batchIndex: unknown): string {
  return typeof batchIndex === 'number' ? `${requestId}#${batchIndex}` : `${requestId}#`;
}

/** FNV-1a, 32 bits. */
function hashA(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A multiply-xorshift hash with other constants (murmur3's finaliser), independent of FNV. */
function hashB(text: string): number {
  let h = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Builds the index from feedback entries given in append order: the last entry per prediction wins. */
export class LabelCollector {
  private capacity = 1 << 12;
  private hashA = new Uint32Array(this.capacity);
  private hashB = new Uint32Array(this.capacity);
  private table = new Int32Array(this.capacity).fill(-1);
  private slotsCap = 1 << 11;
  private labelNum = new Float64Array(this.slotsCap);
  private labelRef = new Int32Array(this.slotsCap);
  private outcomeNum = new Float64Array(this.slotsCap);
  private outcomeRef = new Int32Array(this.slotsCap);
  private known = new Float64Array(this.slotsCap);
  private readonly values: unknown[] = [];
  private readonly valueIds = new Map<string, number>();
  private count = 0;
  private entries = 0;
  private duplicates = 0;
  private readonly bySource: Record<FeedbackSource, number> = { explicit: 0, implicit: 0 };

  add(entry: Record<string, unknown>): void {
    if (typeof entry.request_id !== 'string') return;
    this.entries++;
    const key = labelKey(entry.request_id, entry.batch_index);
    const kind: FeedbackSource = entry.source === 'implicit' ? 'implicit' : 'explicit';
    this.bySource[kind]++;
    let slot = this.lookup(key);
    if (slot < 0) slot = this.insert(key);
    else this.duplicates++;
    // the last entry wins, field by field: a later outcome does not erase an earlier label
    if (entry.label !== undefined && entry.label !== null) this.set(this.labelNum, this.labelRef, slot, entry.label);
    if (entry.outcome !== undefined && entry.outcome !== null) this.set(this.outcomeNum, this.outcomeRef, slot, entry.outcome);
    this.known[slot] = Date.parse(String(entry.known_at ?? entry.time ?? ''));
  }

  private set(numbers: Float64Array, refs: Int32Array, slot: number, value: unknown): void {
    if (typeof value === 'number') {
      numbers[slot] = value;
      refs[slot] = NONE;
      return;
    }
    const text = JSON.stringify(value);
    let id = this.valueIds.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.valueIds.set(text, id);
    }
    refs[slot] = id;
  }

  private lookup(key: string): number {
    const a = hashA(key);
    const b = hashB(key);
    const mask = this.capacity - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const slot = this.table[i]!;
      if (slot === -1) return -1;
      if (this.hashA[i] === a && this.hashB[i] === b) return slot;
    }
  }

  private insert(key: string): number {
    if ((this.count + 1) * 2 > this.capacity) this.grow();
    const slot = this.count++;
    if (slot >= this.slotsCap) this.growSlots();
    this.labelRef[slot] = MISSING;
    this.outcomeRef[slot] = MISSING;
    this.place(hashA(key), hashB(key), slot);
    return slot;
  }

  private place(a: number, b: number, slot: number): void {
    const mask = this.capacity - 1;
    let i = a & mask;
    while (this.table[i] !== -1) i = (i + 1) & mask;
    this.table[i] = slot;
    this.hashA[i] = a;
    this.hashB[i] = b;
  }

  private grow(): void {
    const old = { a: this.hashA, b: this.hashB, table: this.table };
    this.capacity *= 2;
    this.hashA = new Uint32Array(this.capacity);
    this.hashB = new Uint32Array(this.capacity);
    this.table = new Int32Array(this.capacity).fill(-1);
    for (let i = 0; i < old.table.length; i++) if (old.table[i] !== -1) this.place(old.a[i]!, old.b[i]!, old.table[i]!);
  }

  private growSlots(): void {
    this.slotsCap *= 2;
    const bigger = <T extends Float64Array | Int32Array>(array: T): T => {
      const next = new (array.constructor as new (n: number) => T)(this.slotsCap);
      next.set(array);
      return next;
    };
    this.labelNum = bigger(this.labelNum);
    this.labelRef = bigger(this.labelRef);
    this.outcomeNum = bigger(this.outcomeNum);
    this.outcomeRef = bigger(this.outcomeRef);
    this.known = bigger(this.known);
  }

  /** The index; `shared` puts its arrays in SharedArrayBuffers (for worker threads). */
  index(shared = false): LabelIndex {
    const copy = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(array: T, length: number): T => {
      const Kind = array.constructor as new (buffer: ArrayBufferLike | number) => T;
      const out = shared ? new Kind(new SharedArrayBuffer(length * array.BYTES_PER_ELEMENT)) : new Kind(length);
      out.set(array.subarray(0, length) as never);
      return out;
    };
    const n = this.count;
    return new LabelIndex({
      capacity: this.capacity,
      hashA: copy(this.hashA, this.capacity),
      hashB: copy(this.hashB, this.capacity),
      table: copy(this.table, this.capacity),
      labelNum: copy(this.labelNum, n),
      labelRef: copy(this.labelRef, n),
      outcomeNum: copy(this.outcomeNum, n),
      outcomeRef: copy(this.outcomeRef, n),
      knownAt: copy(this.known, n),
      matched: copy(new Uint8Array(n), n),
      values: this.values,
      count: n,
      entries: this.entries,
      duplicates: this.duplicates,
      bySource: { ...this.bySource },
    });
  }
}

/** Every feedback entry of the service's feedback files, last one per prediction kept. */
export async function loadLabels(feedbackBase: string, problems: LineProblems, shared = false): Promise<LabelIndex> {
  const collector = new LabelCollector();
  for (const file of streamFiles(feedbackBase)) await readJsonLines(file.path, (entry) => collector.add(entry), problems);
  return collector.index(shared);
}

// ---- importing a file of labels -------------------------------------------------------------

export interface ImportResult {
  file: string;
  /** Where the entries were appended. */
  target: string;
  imported: number;
  refused: Array<{ row: number; reason: string }>;
}

/**
 * Appends the labels of a CSV/TSV or JSON Lines file to the service's feedback log (the file
 * of today's UTC date, as the service writes it), in one write. Columns: request_id (required),
 * label and/or outcome, source (explicit|implicit), known_at (ISO time with a zone; default now),
 * batch_index. Rows without a request id, or with neither label nor outcome, are refused and listed.
 */
export async function importLabels(file: string, feedbackBase: string, now = new Date()): Promise<ImportResult> {
  const { entries, refused } = await labelEntries(file, now);
  const received = now.toISOString();
  const ext = path.extname(feedbackBase);
  const target = path.join(path.dirname(feedbackBase), `${path.basename(feedbackBase, ext)}-${received.slice(0, 10)}${ext}`);
  if (entries.length) {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const handle = await fs.open(target, 'a', 0o640);
    try {
      await handle.write(entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    } finally {
      await handle.close();
    }
  }
  return { file, target, imported: entries.length, refused };
}

/** The feedback entries of a file of labels (as the service writes them), and the rows refused. */
export async function labelEntries(file: string, now = new Date()): Promise<{ entries: Array<Record<string, unknown>>; refused: ImportResult['refused'] }> {
  const rows = await readRows(file);
  const names = new Set(rows.flatMap((r) => Object.keys(r)));
  if (!names.has('request_id')) throw new UserError('invalid-labels', `${file} has no request_id column (columns: ${[...names].join(', ') || 'none'}): each label names the request_id the prediction's answer gave.`);
  if (!names.has('label') && !names.has('outcome')) throw new UserError('invalid-labels', `${file} has neither a label nor an outcome column (columns: ${[...names].join(', ')}).`);
  const value = (name: string, row: number): unknown => rows[row]![name];
  const received = now.toISOString();
  const entries: Array<Record<string, unknown>> = [];
  const refused: ImportResult['refused'] = [];
  for (let row = 0; row < rows.length; row++) {
    const requestId = value('request_id', row);
    const label = value('label', row);
    const outcome = value('outcome', row);
    const sourceValue = value('source', row);
    const knownAt = value('known_at', row);
    const batchIndex = value('batch_index', row);
    const where = row + 2;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') { refused.push({ row: where, reason: 'no request_id' }); continue; }
    if ((label === null || label === undefined) && (outcome === null || outcome === undefined)) { refused.push({ row: where, reason: 'neither label nor outcome' }); continue; }
    if (sourceValue !== undefined && sourceValue !== null && sourceValue !== 'explicit' && sourceValue !== 'implicit') { refused.push({ row: where, reason: `source "${String(sourceValue)}" is not explicit or implicit` }); continue; }
    if (knownAt !== undefined && knownAt !== null && (typeof knownAt !== 'string' || !/(Z|[+-]\d\d:?\d\d)$/.test(knownAt) || Number.isNaN(Date.parse(knownAt)))) {
      refused.push({ row: where, reason: `known_at "${String(knownAt)}" is not an ISO time with a zone (e.g. 2025-03-01T09:30:00Z)` });
      continue;
    }
    if (batchIndex !== undefined && batchIndex !== null && !(typeof batchIndex === 'number' && Number.isInteger(batchIndex) && batchIndex >= 0)) { refused.push({ row: where, reason: `batch_index "${String(batchIndex)}" is not a whole number ≥ 0` }); continue; }
    entries.push({
      type: 'feedback',
      time: received,
      feedback_id: randomUUID().replace(/-/g, ''),
      request_id: String(requestId),
      batch_index: batchIndex ?? null,
      label: label ?? null,
      outcome: outcome ?? null,
      source: sourceValue ?? 'explicit',
      known_at: knownAt ?? received,
      imported_from: path.basename(file),
    });
  }
  return { entries, refused };
}

/** The rows of a JSON Lines file (objects) or a CSV/TSV file with a header (cells typed: numbers, true/false, empty = null). */
async function readRows(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError('source-not-found', `Cannot read ${file}: ${error.code ?? error.message}`);
  });
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') {
    const rows: Array<Record<string, unknown>> = [];
    text.split('\n').forEach((line, index) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new UserError('invalid-labels', `${file}:${index + 1} is not JSON`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError('invalid-labels', `${file}:${index + 1} is not a JSON object`);
      rows.push(value as Record<string, unknown>);
    });
    return rows;
  }
  const delimiter = ext === '.tsv' || ext === '.tab' ? '\t' : ',';
  const table = parseDelimited(text.replace(/^\uFEFF/, ''), delimiter);
  const header = table.shift() ?? [];
  return table.filter((cells) => cells.some((c) => c !== '')).map((cells) => Object.fromEntries(header.map((name, i) => [name.trim(), typed(cells[i] ?? '')])));
}

function typed(cell: string): unknown {
  const text = cell.trim();
  if (text === '' || text === 'NA' || text === 'null' || text === 'None') return null;
  if (text === 'true' || text === 'True') return true;
  if (text === 'false' || text === 'False') return false;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return cell;
}

/** RFC 4180 fields: quoted fields may hold the delimiter, newlines and doubled quotes. */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
