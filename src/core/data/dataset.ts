/**
 * Reads a data file (CSV, TSV, JSON Lines, Parquet) into per-column accumulations for drift
 * statistics, streaming: memory is bounded by the chunk size plus what the columns keep
 * (at most `maxValues` numbers and `maxCategories` categories each).
 * Text formats may be gzip-compressed (`.csv.gz`, `.tsv.gz`, `.jsonl.gz`, ...); their encoding is
 * detected (UTF-8, UTF-16 with or without BOM, a Latin-1 fallback that is reported; encoding.ts),
 * and a file that is not text at all is returned empty with `undecodable` set.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors';
import { type ColumnData, DEFAULT_MAX_CATEGORIES, DEFAULT_MAX_VALUES, DEFAULT_MISSING_MARKERS, checkLimit } from './columns';
import { DelimitedParser } from './csv';
import { type EncodingVerdict, sniffEncoding, type TextEncoding, Utf16Transcoder, Utf8Validator } from './encoding';
import { JsonLinesParser } from './jsonl';
import { readParquet } from './parquet';
import { type DataProblem } from './problems';

export type { ColumnData } from './columns';
export type { DataProblem } from './problems';
export type { TextEncoding } from './encoding';
export { DEFAULT_MAX_CATEGORIES, DEFAULT_MAX_VALUES, DEFAULT_MISSING_MARKERS } from './columns';

export interface Dataset {
  /** The path as given. */
  source: string;
  format: 'csv' | 'tsv' | 'jsonl' | 'parquet';
  rows: number;
  columns: ColumnData[];
  /** E.g. ragged rows: "line 17: 5 fields, the header has 6" — at most 20 listed, plus a count line. */
  problems: DataProblem[];
  /** Text formats: what the text was decoded as (see encoding.ts); absent for Parquet. */
  encoding?: TextEncoding;
  /** Set when the text was not all UTF-8 and Latin-1 was used: how much, for the report. */
  encodingNote?: string;
  /** Why the file cannot be read as text at all (then it has no rows and no columns): a drift finding, not an error. */
  undecodable?: string;
}

export interface ReadOptions {
  format?: Dataset['format'];
  maxCategories?: number;
  maxValues?: number;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** CSV/TSV cells that mean "missing" (exact match); default `DEFAULT_MISSING_MARKERS`. */
  missingMarkers?: readonly string[];
}

/** Bytes per read: large enough that per-chunk overhead vanishes, small enough to stay cache-friendly. */
export const CHUNK_BYTES = 1 << 20;

const EXTENSIONS: Record<string, Dataset['format']> = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
};

/** The format from the file name (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.parquet`, each optionally `.gz` except Parquet), or null. */
export function formatFromPath(path: string): { format: Dataset['format']; gzip: boolean } | null {
  const lower = path.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const name = gzip ? lower.slice(0, -3) : lower;
  const dot = name.lastIndexOf('.');
  const format = dot < 0 ? undefined : EXTENSIONS[name.slice(dot + 1)];
  if (format === undefined || (gzip && format === 'parquet')) return null;
  return { format, gzip };
}

export async function readDataset(path: string, options: ReadOptions = {}): Promise<Dataset> {
  const detected = formatFromPath(path);
  const format = options.format ?? detected?.format;
  if (format === undefined) {
    throw new UserError(
      'invalid-data',
      `Cannot tell the format of ${path} from its name: use .csv, .tsv, .jsonl, .ndjson or .parquet (text formats may end in .gz), or give the format.`,
    );
  }
  const gzip = detected?.gzip ?? path.toLowerCase().endsWith('.gz');
  if (gzip && format === 'parquet') throw new UserError('invalid-data', `${path}: Parquet files are compressed inside; read it without .gz.`);
  const maxCategories = checkLimit(options.maxCategories, DEFAULT_MAX_CATEGORIES, 'maxCategories');
  const maxValues = checkLimit(options.maxValues, DEFAULT_MAX_VALUES, 'maxValues');
  options.signal?.throwIfAborted();

  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError('source-not-found', `Cannot read the data file ${path}: it is not a file.`);
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('source-not-found', `Cannot read the data file ${path}: no such file.`);
    throw error;
  }
  if (size === 0) throw new UserError('invalid-data', `${path} is empty.`);

  if (format === 'parquet') {
    const result = await readParquet(path, size, { maxCategories, maxValues, signal: options.signal, onProgress: options.onProgress });
    return { source: path, format, ...result };
  }

  const jsonl = format === 'jsonl' ? new JsonLinesParser({ source: path, maxCategories, maxValues }) : null;
  const parser =
    jsonl ??
    new DelimitedParser({
      source: path,
      delimiter: format === 'tsv' ? '\t' : ',',
      maxCategories,
      maxValues,
      missingMarkers: options.missingMarkers ?? DEFAULT_MISSING_MARKERS,
    });
  // The encoding is decided from the first chunk and checked as the rest streams (encoding.ts).
  let verdict: EncodingVerdict | null = null;
  let transcoder: Utf16Transcoder | null = null;
  const validator = new Utf8Validator();
  try {
    for await (const chunk of gzip ? gunzipChunks(path) : fileChunks(path)) {
      options.signal?.throwIfAborted();
      if (!verdict) {
        verdict = sniffEncoding(chunk.bytes);
        if (!verdict.encoding) break;
        if (verdict.encoding === 'utf-16le' || verdict.encoding === 'utf-16be') transcoder = new Utf16Transcoder(verdict.encoding);
      }
      if (transcoder) parser.push(transcoder.push(chunk.bytes));
      else {
        validator.push(chunk.bytes);
        parser.push(chunk.bytes);
      }
      options.onProgress?.(chunk.position, size);
    }
  } catch (error) {
    if (gzip && (error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new UserError('invalid-data', `${path} is not a readable gzip file (${(error as Error).message}).`);
    }
    throw error;
  }
  if (verdict && !verdict.encoding) return { source: path, format, rows: 0, columns: [], problems: [], undecodable: verdict.undecodable ?? 'it is not text' };
  if (transcoder) parser.push(transcoder.finish());
  if (jsonl) {
    const result = jsonl.finish();
    const lines = jsonl.latin1Lines;
    const encoding: TextEncoding = transcoder ? verdict!.encoding! : lines ? 'windows-1252' : 'utf-8';
    return { source: path, format, ...result, encoding, ...(lines ? { encodingNote: `${lines.toLocaleString('en-US')} line${lines === 1 ? ' was' : 's were'} read as Latin-1 (Windows-1252)` } : {}) };
  }
  const encoding: TextEncoding = transcoder ? verdict!.encoding! : validator.finish() ? 'utf-8' : 'windows-1252';
  const result = (parser as DelimitedParser).finish(encoding);
  return { source: path, format, ...result, encoding, ...(encoding === 'windows-1252' ? { encodingNote: 'it was read as Latin-1 (Windows-1252)' } : {}) };
}

interface Chunk {
  /** Valid until the next chunk is requested. */
  bytes: Buffer;
  /** Bytes of the file read so far (compressed bytes for gzip). */
  position: number;
}

/**
 * The file in chunks, read into two reused buffers: the next chunk is read while the caller works
 * on this one, nothing is allocated per chunk and nothing is held beyond two chunks.
 */
async function* fileChunks(path: string): AsyncGenerator<Chunk> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
  let position = 0;
  let pending: Promise<{ bytesRead: number }> | null = null;
  try {
    let turn = 0;
    pending = handle.read(buffers[0], 0, CHUNK_BYTES, 0);
    for (;;) {
      const { bytesRead } = await pending;
      pending = null;
      if (bytesRead === 0) return;
      const buffer = buffers[turn]!;
      position += bytesRead;
      turn = 1 - turn;
      pending = handle.read(buffers[turn]!, 0, CHUNK_BYTES, position);
      yield { bytes: buffer.subarray(0, bytesRead), position };
    }
  } finally {
    // A read still in flight must finish before the handle closes.
    if (pending) await pending.catch(() => undefined);
    await handle.close();
  }
}

async function* gunzipChunks(path: string): AsyncGenerator<Chunk> {
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const stream = file.pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  file.on('error', (error) => stream.destroy(error));
  try {
    for await (const bytes of stream as AsyncIterable<Buffer>) yield { bytes, position: file.bytesRead };
  } finally {
    file.destroy();
    stream.destroy();
  }
}
