/**
 * Parquet via hyparquet, one row group at a time (a row group's column chunks are the unit the
 * format compresses, so that is the least that must be in memory).
 *
 * Types: int32/int64/float/double/decimal → numbers (int64 beyond 2^53 loses precision);
 * boolean → text `true`/`false`; strings and un-annotated byte arrays → UTF-8 text; dates and
 * timestamps → numbers, milliseconds since 1970-01-01 UTC (category keys in ISO 8601, e.g.
 * `2024-01-31T00:00:00.000Z`); lists, structs and maps → their JSON text. Nulls are missing, and
 * so is a floating-point NaN (pandas writes missing floats as NaN). Compression: uncompressed and
 * snappy only; other codecs (gzip, zstd, brotli, lz4) need the hyparquet-compressors package.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { UserError } from '../errors';
import { type ColumnData, ValueColumn } from './columns';
import { addValue } from './jsonl';
import { type DataProblem } from './problems';

export interface ParquetOptions {
  maxCategories: number;
  maxValues: number;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export async function readParquet(
  path: string,
  size: number,
  options: ParquetOptions,
): Promise<{ rows: number; columns: ColumnData[]; problems: DataProblem[] }> {
  const handle = await open(path, 'r');
  try {
    let bytesRead = 0;
    const file: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end = size): Promise<ArrayBuffer> {
        const length = Math.max(0, Math.min(end, size) - start);
        const bytes = new Uint8Array(length);
        await readFully(handle, bytes, start);
        bytesRead += length;
        return bytes.buffer;
      },
    };
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw new UserError('invalid-data', `${path} is not a readable Parquet file (${(error as Error).message}).`);
    }
    const names = parquetSchema(metadata).children.map((child) => child.element.name);
    const columns = names.map((name) => new ValueColumn(name, options.maxCategories, options.maxValues));
    const byName = new Map(names.map((name, index) => [name, columns[index]!]));
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      options.signal?.throwIfAborted();
      const groupEnd = groupStart + Number(group.num_rows);
      try {
        await parquetRead({
          file,
          metadata,
          rowStart: groupStart,
          rowEnd: groupEnd,
          onChunk: (chunk) => {
            const column = byName.get(chunk.columnName);
            if (column === undefined) return;
            // Chunks may reach outside the requested rows: keep only this group's.
            const from = Math.max(groupStart, chunk.rowStart) - chunk.rowStart;
            const to = Math.min(groupEnd, chunk.rowEnd) - chunk.rowStart;
            addValues(column, chunk.columnData, from, to);
          },
        });
      } catch (error) {
        // hyparquet's errors are about the file (codec, unsupported type, corrupt page), not bugs here.
        const message = (error as Error).message;
        const hint = /compression codec/i.test(message) ? ' Only uncompressed and snappy-compressed Parquet files are supported.' : '';
        throw new UserError('invalid-data', `Cannot read ${path}: ${message}.${hint}`);
      }
      groupStart = groupEnd;
      options.onProgress?.(Math.min(bytesRead, size), size);
    }
    const rows = Number(metadata.num_rows);
    return { rows, columns: columns.map((column) => column.finish(rows)), problems: [] };
  } finally {
    await handle.close();
  }
}

async function readFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await handle.read(bytes, done, bytes.length - done, position + done);
    if (bytesRead === 0) throw new UserError('invalid-data', 'The Parquet file ended early (truncated?).');
    done += bytesRead;
  }
}

function addValues(column: ValueColumn, data: ArrayLike<unknown>, from: number, to: number): void {
  if (data instanceof Float64Array || data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array) {
    for (let i = from; i < to; i++) {
      const value = data[i]!;
      if (value !== value) column.addMissing();
      else addValue(column, value);
    }
    return;
  }
  for (let i = from; i < to; i++) {
    const value = data[i];
    if (typeof value === 'bigint') {
      const number = Number(value);
      column.addNumber(number, value.toString());
    } else if (typeof value === 'number' && value !== value) {
      column.addMissing();
    } else if (value instanceof Date) {
      const time = value.getTime();
      if (Number.isFinite(time)) column.addNumber(time, value.toISOString());
      else column.addText('Invalid Date');
    } else if (value instanceof Uint8Array) {
      column.addText(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
    } else {
      addValue(column, value);
    }
  }
}
