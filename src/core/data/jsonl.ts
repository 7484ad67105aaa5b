/**
 * Streaming JSON Lines: one JSON object per line. Columns are the union of keys in first-seen
 * order; a key absent from a row, or null, is missing. JSON numbers are numbers (their category key
 * is `String(n)`); strings, booleans (`true`/`false`) and nested values (their JSON text) are text —
 * a string such as "3" or "NA" stays text. Blank lines are skipped; a line that is not a JSON object
 * is reported with its line number and skipped (not a row). A line that is not valid UTF-8 is
 * decoded as Latin-1 (Windows-1252) and counted (`latin1Lines`), so the report can say so.
 */
import { isUtf8 } from 'node:buffer';
import { UserError } from '../errors';
import { MAX_JSON_DEPTH, jsonSyntaxMessage, nestsDeeperThan } from '../jsonText';
import { type ColumnData, ValueColumn } from './columns';
import { type DataProblem, ProblemList } from './problems';

const LF = 10;
const windows1252 = new TextDecoder('windows-1252');

export interface JsonLinesOptions {
  source: string;
  maxCategories: number;
  maxValues: number;
}

export class JsonLinesParser {
  private readonly columns = new Map<string, ValueColumn>();
  private readonly problems = new ProblemList();
  private rows = 0;
  private line = 0;
  private carry: Buffer | null = null;
  private sawBytes = false;
  private sawContent = false;
  private bomChecked = false;
  /** Lines that were not valid UTF-8 and were decoded as Latin-1 (Windows-1252) instead. */
  latin1Lines = 0;

  constructor(private readonly options: JsonLinesOptions) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.sawBytes = true;
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    if (!this.bomChecked) {
      if (buf.length < 3) {
        this.carry = Buffer.from(buf);
        return;
      }
      this.bomChecked = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    let start = 0;
    for (let end = buf.indexOf(LF, start); end >= 0; end = buf.indexOf(LF, start)) {
      this.handleLine(buf, start, end);
      start = end + 1;
    }
    // A copy: the caller may reuse the chunk's buffer.
    this.carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }

  finish(): { rows: number; columns: ColumnData[]; problems: DataProblem[] } {
    let rest = this.carry;
    if (rest && !this.bomChecked && rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf) rest = rest.subarray(3);
    if (rest && rest.length > 0) this.handleLine(rest, 0, rest.length);
    this.carry = null;
    if (!this.sawContent) {
      const why = this.sawBytes ? 'it has only blank lines' : 'it has no bytes';
      throw new UserError('invalid-data', `${this.options.source} is empty: ${why}.`);
    }
    return { rows: this.rows, columns: [...this.columns.values()].map((column) => column.finish(this.rows)), problems: this.problems.finish() };
  }

  private handleLine(buf: Buffer, start: number, end: number): void {
    this.line++;
    const bytes = buf.subarray(start, end);
    let text: string;
    if (isUtf8(bytes)) text = bytes.toString('utf8');
    else {
      // JSON is UTF-8 by definition, but files written by hand or by old tools are often Latin-1.
      text = windows1252.decode(bytes);
      this.latin1Lines++;
    }
    if (text.trim() === '') return;
    this.sawContent = true;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (error) {
      this.problems.add(this.line, `not valid JSON (${jsonSyntaxMessage(error)}); the line is skipped.`);
      return;
    }
    // Its nested values become their JSON text, which a value thousands deep cannot be.
    if (nestsDeeperThan(row)) {
      this.problems.add(this.line, `values nested more than ${MAX_JSON_DEPTH} levels deep; the line is skipped.`);
      return;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      const what = row === null ? 'null' : Array.isArray(row) ? 'an array' : `a ${typeof row}`;
      this.problems.add(this.line, `${what}, not a JSON object; the line is skipped.`);
      return;
    }
    this.rows++;
    for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
      let column = this.columns.get(key);
      if (column === undefined) {
        column = new ValueColumn(key, this.options.maxCategories, this.options.maxValues);
        // Rows before this key first appeared lack it: finish() counts them as missing.
        this.columns.set(key, column);
      }
      addValue(column, value);
    }
  }
}

/** A JS value into a column: null/undefined missing, finite numbers numeric, everything else text. */
export function addValue(column: ValueColumn, value: unknown): void {
  if (value === null || value === undefined) {
    column.addMissing();
  } else if (typeof value === 'number') {
    if (Number.isFinite(value)) column.addNumber(value, String(value));
    else column.addText(String(value));
  } else if (typeof value === 'string') {
    column.addText(value);
  } else if (typeof value === 'boolean' || typeof value === 'bigint') {
    column.addText(String(value));
  } else {
    column.addText(jsonText(value));
  }
}

/** JSON text that survives bigints (Parquet int64 inside nested values). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner)) ?? String(value);
}
