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

export interface LabelIndex {
  /** request id + "#" + batch index (empty for a single /predict) → slot. */
  slots: Map<string, number>;
  label: unknown[];
  outcome: unknown[];
  source: FeedbackSource[];
  knownAt: Float64Array;
  /** Set while reading the audit log: the slot was joined to a prediction. */
  matched: Uint8Array;
  entries: number;
  duplicates: number;
  bySource: Record<FeedbackSource, number>;
}

export function labelKey(requestId: string, batchIndex: unknown): string {
  return typeof batchIndex === 'number' ? `${requestId}#${batchIndex}` : `${requestId}#`;
}

/** Builds the index from feedback entries given in append order. */
export class LabelCollector {
  private readonly slots = new Map<string, number>();
  private readonly label: unknown[] = [];
  private readonly outcome: unknown[] = [];
  private readonly source: FeedbackSource[] = [];
  private readonly known: number[] = [];
  private entries = 0;
  private duplicates = 0;
  private readonly bySource: Record<FeedbackSource, number> = { explicit: 0, implicit: 0 };

  add(entry: Record<string, unknown>): void {
    if (typeof entry.request_id !== 'string') return;
    this.entries++;
    const key = labelKey(entry.request_id, entry.batch_index);
    const kind: FeedbackSource = entry.source === 'implicit' ? 'implicit' : 'explicit';
    this.bySource[kind]++;
    const knownAt = Date.parse(String(entry.known_at ?? entry.time ?? ''));
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.label.length;
      this.slots.set(key, slot);
      this.label.push(undefined);
      this.outcome.push(undefined);
      this.source.push(kind);
      this.known.push(NaN);
    } else this.duplicates++;
    // the last entry wins, field by field: a later outcome does not erase an earlier label
    if (entry.label !== undefined && entry.label !== null) this.label[slot] = entry.label;
    if (entry.outcome !== undefined && entry.outcome !== null) this.outcome[slot] = entry.outcome;
    this.source[slot] = kind;
    this.known[slot] = knownAt;
  }

  index(): LabelIndex {
    return {
      slots: this.slots, label: this.label, outcome: this.outcome, source: this.source, knownAt: Float64Array.from(this.known),
      matched: new Uint8Array(this.label.length), entries: this.entries, duplicates: this.duplicates, bySource: this.bySource,
    };
  }
}

/** Every feedback entry of the service's feedback files, last one per prediction kept. */
export async function loadLabels(feedbackBase: string, problems: LineProblems): Promise<LabelIndex> {
  const collector = new LabelCollector();
  for (const file of streamFiles(feedbackBase)) await readJsonLines(file.path, (entry) => collector.add(entry), problems);
  return collector.index();
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
