/**
 * Streaming CSV/TSV parser that works on the bytes: cells are never turned into strings unless
 * they are a new category or an unusual number (about 220 MB/s on a 1M-row × 20-column file).
 *
 * Dialect (RFC 4180, with pandas' leniencies):
 * - The first non-blank record is the header. Empty names become `Unnamed: N` (0-based), repeated
 *   names get `.1`, `.2`, ... (as pandas does).
 * - A field is quoted only when it starts with `"`; inside, `""` is a quote and delimiters and
 *   newlines are data. Text after the closing quote is kept as is; a `"` inside an unquoted field is
 *   an ordinary character. Quotes work the same in TSV files.
 * - Records end with LF, CRLF or a lone CR. Blank lines are skipped (not rows). A UTF-8 BOM is dropped.
 * - A row with fewer fields than the header: the absent cells count as missing. With more: the
 *   extra cells are ignored. Both are reported as problems with the row's first physical line.
 * - A quoted field still open at the end of the file is an error naming the line it started on.
 * - Missing: cells equal to one of the markers (default `DEFAULT_MISSING_MARKERS`), compared
 *   after unquoting, case-sensitive, no trimming.
 * - Numbers: decimal forms (`-1.5`, `.5`, `1e-3`, surrounding spaces allowed). `inf`, hex, `1,000`
 *   and anything that is not finite make the column non-numeric. Category keys of a numeric column
 *   are canonical (`String(number)`), so `1` and `1.0` are one category.
 */
import { UserError } from '../errors';
import { type ColumnData, NumberSample, canonicalNumberKeys } from './columns';
import { type TextEncoding, textDecoder } from './encoding';
import { type DataProblem, ProblemList } from './problems';

const LF = 10;
const CR = 13;
const QUOTE = 34;

// Byte classes; DELIMITER and LINE_END share the ENDS_FIELD bit.
const ORDINARY = 0;
const DELIMITER = 1 | 4;
const LINE_END = 2 | 4;
const QUOTE_CHAR = 8;
const ENDS_FIELD = 4;

export interface DelimitedOptions {
  /** The path as given, for messages. */
  source: string;
  /** `,` or `\t` (any single ASCII byte other than `"`, CR and LF). */
  delimiter: string;
  maxCategories: number;
  maxValues: number;
  missingMarkers: readonly string[];
}

export interface DelimitedResult {
  rows: number;
  columns: ColumnData[];
  problems: DataProblem[];
}

const utf8 = new TextDecoder();

/** 10^0 … 10^22: exactly representable, so `mantissa / 10^k` rounds correctly (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Where the last `scanNumber` stopped. Module state instead of a returned pair: this is the hottest loop. */
let scanEnd = 0;

/**
 * Reads a plain decimal (`[+-]digits[.digits][(e|E)[+-]digits]`) starting at `start`, stopping at
 * the first byte that cannot continue it (left in `scanEnd`). Returns the value when it has at most
 * 15 significant digits and a small exponent (then it is exactly what `Number()` gives), else NaN
 * ("use the slow path"; also for no digits at all).
 */
function scanNumber(buf: Buffer, start: number, end: number): number {
  let i = start;
  let c = buf[i];
  let negative = false;
  if (c === 45) {
    negative = true;
    i++;
  } else if (c === 43) {
    i++;
  }
  // At most 15 digits in all (leading zeros included) keep the mantissa below 2^53, hence exact.
  let mantissa = 0;
  let exponent = 0;
  const digitsStart = i;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  let digits = i - digitsStart;
  if (i < end && buf[i] === 46) {
    const fractionStart = ++i;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    exponent = fractionStart - i;
    digits -= exponent;
  }
  if (i < end && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let negativeExponent = false;
    c = buf[i];
    if (c === 45) {
      negativeExponent = true;
      i++;
    } else if (c === 43) {
      i++;
    }
    let e = 0;
    const exponentStart = i;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      if (e < 10000) e = e * 10 + d;
    }
    if (i === exponentStart) digits = 0;
    exponent += negativeExponent ? -e : e;
  }
  scanEnd = i;
  if (digits === 0 || digits > 15) return NaN;
  let value: number;
  if (exponent === 0 || mantissa === 0) value = mantissa;
  else if (exponent < 0 && exponent >= -22) value = mantissa / POW10[-exponent]!;
  else if (exponent > 0 && exponent <= 22) value = mantissa * POW10[exponent]!;
  else return NaN;
  return negative ? -value : value;
}

/** The number in buf[start, end) when the fast path covers it, else NaN (see `scanNumber`). */
export function parseNumberFast(buf: Buffer, start: number, end: number): number {
  const value = scanNumber(buf, start, end);
  return scanEnd === end ? value : NaN;
}

const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Everything the fast path declines: long mantissas, big exponents, surrounding spaces. NaN when not a finite decimal. */
export function parseNumberSlow(buf: Uint8Array, start: number, end: number): number {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  if (!DECIMAL.test(text)) return NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : NaN;
}

/** Distinct byte strings → counts, in an open-addressing table; text is decoded once per distinct value. */
export class ByteCategories {
  size = 0;
  private slots = new Int32Array(64);
  private hashes = new Int32Array(32);
  private starts = new Int32Array(32);
  private lengths = new Int32Array(32);
  private counts = new Float64Array(32);
  private pool = new Uint8Array(1024);
  private poolLength = 0;

  constructor(private readonly limit: number) {}

  /** Counts buf[start, end); false when that would pass the limit of distinct values (the table is then useless). */
  add(buf: Uint8Array, start: number, end: number): boolean {
    let hash = 0x811c9dc5 | 0;
    for (let k = start; k < end; k++) hash = Math.imul(hash ^ buf[k]!, 16777619);
    const length = end - start;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === 0) break;
      const index = entry - 1;
      if (this.hashes[index] === hash && this.lengths[index] === length && this.same(index, buf, start, length)) {
        this.counts[index] = this.counts[index]! + 1;
        return true;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.limit) return false;
    const index = this.size++;
    if (index === this.hashes.length) this.growEntries();
    if (this.poolLength + length > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, this.poolLength + length));
      pool.set(this.pool.subarray(0, this.poolLength));
      this.pool = pool;
    }
    this.pool.set(buf.subarray(start, end), this.poolLength);
    this.hashes[index] = hash;
    this.starts[index] = this.poolLength;
    this.lengths[index] = length;
    this.counts[index] = 1;
    this.poolLength += length;
    this.slots[slot] = index + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return true;
  }

  /** Text → count in first-seen order, decoded with `decoder` (the file's encoding: see encoding.ts). */
  toMap(decoder: TextDecoder = utf8): Map<string, number> {
    const map = new Map<string, number>();
    for (let index = 0; index < this.size; index++) {
      const start = this.starts[index]!;
      const text = decoder.decode(this.pool.subarray(start, start + this.lengths[index]!));
      map.set(text, (map.get(text) ?? 0) + this.counts[index]!);
    }
    return map;
  }

  private same(index: number, buf: Uint8Array, start: number, length: number): boolean {
    const pool = this.pool;
    const at = this.starts[index]!;
    for (let k = 0; k < length; k++) if (pool[at + k] !== buf[start + k]) return false;
    return true;
  }

  private growEntries(): void {
    const size = this.hashes.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.hashes = grow(this.hashes, (n) => new Int32Array(n));
    this.starts = grow(this.starts, (n) => new Int32Array(n));
    this.lengths = grow(this.lengths, (n) => new Int32Array(n));
    this.counts = grow(this.counts, (n) => new Float64Array(n));
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.size; index++) {
      let slot = this.hashes[index]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}

/** One CSV column: missing count, numbers while they all parse, categories while few. */
class ByteColumn {
  missing = 0;
  /** From the header; re-decoded at the end when the file turns out not to be UTF-8. */
  name: string;
  sample: NumberSample | null;
  categories: ByteCategories | null;
  integral = true;

  constructor(
    name: string,
    private readonly markers: Array<Uint8Array[] | undefined>,
    /** Some marker reads as a number (say `-999`): parsed cells must be checked against the markers too. */
    private readonly numericMarkers: boolean,
    maxCategories: number,
    maxValues: number,
  ) {
    this.name = name;
    this.sample = new NumberSample(maxValues);
    this.categories = new ByteCategories(maxCategories);
  }

  add(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length < this.markers.length) {
      const candidates = this.markers[length];
      if (candidates !== undefined && matchesAny(candidates, buf, start)) {
        this.missing++;
        return;
      }
    }
    const sample = this.sample;
    if (sample !== null) {
      let value = parseNumberFast(buf, start, end);
      if (value !== value) value = parseNumberSlow(buf, start, end);
      if (value === value) {
        sample.push(value);
        if (this.integral && Math.floor(value) !== value) this.integral = false;
      } else {
        this.sample = null;
        this.integral = false;
      }
    }
    if (this.categories !== null && !this.categories.add(buf, start, end)) this.categories = null;
  }

  /** A cell the scanner already parsed as `value` (the column is still numeric). */
  addNumber(value: number, buf: Buffer, start: number, end: number): void {
    if (this.numericMarkers) {
      const length = end - start;
      const candidates = length < this.markers.length ? this.markers[length] : undefined;
      if (candidates !== undefined && matchesAny(candidates, buf, start)) {
        this.missing++;
        return;
      }
    }
    this.sample!.push(value);
    if (this.integral && Math.floor(value) !== value) this.integral = false;
    if (this.categories !== null && !this.categories.add(buf, start, end)) this.categories = null;
  }

  finish(rows: number, decoder: TextDecoder): ColumnData {
    const sample = this.sample;
    const categories = this.categories ? this.categories.toMap(decoder) : null;
    return {
      name: this.name,
      count: rows,
      missing: this.missing,
      numbers: sample ? sample.result() : null,
      categories: categories && sample ? canonicalNumberKeys(categories) : categories,
      integral: sample !== null && this.integral,
      sampled: sample !== null && sample.sampled,
    };
  }
}

function matchesAny(candidates: Uint8Array[], buf: Uint8Array, start: number): boolean {
  outer: for (const marker of candidates) {
    for (let k = 0; k < marker.length; k++) if (buf[start + k] !== marker[k]) continue outer;
    return true;
  }
  return false;
}

/** Markers grouped by byte length, so most cells are ruled out by their length alone. */
function markersByLength(markers: readonly string[]): Array<Uint8Array[] | undefined> {
  const byLength: Array<Uint8Array[] | undefined> = [];
  for (const marker of markers) {
    const bytes = Buffer.from(marker, 'utf8');
    (byLength[bytes.length] ??= []).push(bytes);
  }
  for (let k = 0; k < byLength.length; k++) byLength[k] ??= undefined;
  return byLength;
}

/**
 * Push chunks of bytes in file order, then call `finish`. Only the unfinished last field of a
 * chunk is carried over to the next one, so memory stays at about one chunk.
 */
export class DelimitedParser {
  private readonly table = new Uint8Array(256);
  private readonly markers: Array<Uint8Array[] | undefined>;
  private readonly numericMarkers: boolean;
  private columns: ByteColumn[] | null = null;
  private readonly headerCells: string[] = [];
  /** The header's cells as bytes, to decode again if the file is not UTF-8 after all. */
  private readonly headerBytes: Buffer[] = [];
  private readonly problems = new ProblemList();
  private rows = 0;
  private sawBytes = false;

  /** Bytes of the field being scanned when a chunk ended; scanning resumes at `resume` inside it. */
  private carry: Buffer | null = null;
  private resume = 0;
  private inQuote = false;
  /** The current field started with a quote. */
  private quoted = false;
  /** Index of the current field in its record. */
  private field = 0;
  /** Physical line at the scan position, and where the current record and quoted field started. */
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** The last chunk ended with CR: an LF starting the next one belongs to it. */
  private skipLF = false;
  private bomChecked = false;
  private scratch: Buffer = Buffer.allocUnsafe(256);
  /** Carry + next chunk, reused. */
  private work: Buffer = Buffer.allocUnsafe(0);

  constructor(private readonly options: DelimitedOptions) {
    const delimiter = Buffer.from(options.delimiter, 'latin1');
    const byte = delimiter[0];
    if (delimiter.length !== 1 || byte === undefined || byte === QUOTE || byte === LF || byte === CR) {
      throw new RangeError(`Unusable delimiter ${JSON.stringify(options.delimiter)}`);
    }
    this.table[byte] = DELIMITER;
    this.table[LF] = LINE_END;
    this.table[CR] = LINE_END;
    this.table[QUOTE] = QUOTE_CHAR;
    this.markers = markersByLength(options.missingMarkers);
    this.numericMarkers = options.missingMarkers.some((marker) => {
      const bytes = Buffer.from(marker, 'utf8');
      return parseNumberFast(bytes, 0, bytes.length) === parseNumberFast(bytes, 0, bytes.length);
    });
  }

  /** `chunk` may be reused by the caller once this returns. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.sawBytes = true;
    let buf = chunk;
    const carry = this.carry;
    if (carry) {
      const length = carry.length + chunk.length;
      if (this.work.length < length) this.work = Buffer.allocUnsafe(Math.max(length, this.work.length * 2));
      carry.copy(this.work, 0);
      chunk.copy(this.work, carry.length);
      buf = this.work.subarray(0, length);
    }
    this.scan(buf, false);
    // The carry outlives this call, its bytes must not.
    if (this.carry) this.carry = Buffer.from(this.carry);
  }

  /** `encoding`: what the text of the file is (see encoding.ts); numbers do not depend on it. */
  finish(encoding: TextEncoding = 'utf-8'): DelimitedResult {
    this.scan(this.carry ?? Buffer.alloc(0), true);
    const columns = this.columns;
    if (columns === null) {
      const why = this.sawBytes ? 'it has only blank lines, not even a header row' : 'it has no bytes';
      throw new UserError('invalid-data', `${this.options.source} is empty: ${why}.`);
    }
    const decoder = encoding === 'utf-8' ? utf8 : textDecoder(encoding);
    if (encoding !== 'utf-8') headerNames(this.headerBytes.map((b) => decoder.decode(b))).forEach((name, i) => columns[i] && (columns[i].name = name));
    return { rows: this.rows, columns: columns.map((column) => column.finish(this.rows, decoder)), problems: this.problems.finish() };
  }

  private scan(buf: Buffer, final: boolean): void {
    const n = buf.length;
    const table = this.table;
    let i = this.resume;
    let fieldStart = 0;
    if (!this.bomChecked) {
      if (n < 3 && !final) {
        this.carry = buf.subarray(0);
        return;
      }
      this.bomChecked = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = fieldStart = 3;
    }
    if (this.skipLF) {
      this.skipLF = false;
      if (i < n && buf[i] === LF) i = fieldStart = i + 1;
    }
    // Hot state lives in locals; it goes back to `this` before anything else reads it.
    let inQuote = this.inQuote;
    let field = this.field;
    let columns = this.columns;
    while (i < n) {
      if (inQuote) {
        const quote = buf.indexOf(QUOTE, i);
        const stop = quote < 0 ? n : quote;
        for (let k = i; k < stop; k++) if (buf[k] === LF) this.line++;
        if (quote < 0) {
          i = n;
          break;
        }
        if (quote + 1 === n && !final) {
          // Is it `""` or the closing quote? The next chunk tells.
          i = quote;
          break;
        }
        if (buf[quote + 1] === QUOTE) {
          i = quote + 2;
        } else {
          inQuote = false;
          i = quote + 1;
        }
        continue;
      }
      let c = 0;
      let committed = false;
      if (i === fieldStart && columns !== null) {
        const column = columns[field];
        if (column !== undefined && column.sample !== null) {
          // Fast path for a still-numeric column: `[-]digits[.digits]` parsed while scanned. Other
          // forms (exponents, spaces, long mantissas) take the general path below.
          let j = i;
          const negative = buf[j] === 45;
          if (negative) j++;
          // Integer and fraction digits in int32 (at most 9 each, else the general path): int32
          // multiply-adds are cheaper than double ones in this, the hottest loop.
          let whole = 0;
          const wholeStart = j;
          for (; j < n; j++) {
            const d = buf[j]! - 48;
            if (d < 0 || d > 9) break;
            whole = (whole * 10 + d) | 0;
          }
          const wholeDigits = j - wholeStart;
          let fraction = 0;
          let fractionDigits = 0;
          if (j < n && buf[j] === 46) {
            const fractionStart = ++j;
            for (; j < n; j++) {
              const d = buf[j]! - 48;
              if (d < 0 || d > 9) break;
              fraction = (fraction * 10 + d) | 0;
            }
            fractionDigits = j - fractionStart;
          }
          // Up to 9 + 9 digits and at most 15 in all: whole·10^k + fraction is exact below 2^53, and one
          // division by the exact 10^k rounds once, as Number() does.
          const digits = wholeDigits + fractionDigits;
          if (j < n && digits > 0 && wholeDigits <= 9 && fractionDigits <= 9 && digits <= 15 && table[(c = buf[j]!)]! & ENDS_FIELD) {
            let value = fractionDigits === 0 ? whole : (whole * POW10[fractionDigits]! + fraction) / POW10[fractionDigits]!;
            if (negative) value = -value;
            column.addNumber(value, buf, i, j);
            field++;
            committed = true;
            i = j;
          }
        }
      }
      if (!committed) {
        while (i < n && table[(c = buf[i]!)] === ORDINARY) i++;
        if (i === n) break;
      }
      const kind = table[c];
      if (kind === QUOTE_CHAR) {
        if (i === fieldStart) {
          inQuote = true;
          this.quoted = true;
          this.quoteLine = this.line;
        }
        i++;
        continue;
      }
      if (kind === DELIMITER) {
        if (!committed) this.endField(field++, buf, fieldStart, i);
        fieldStart = ++i;
        continue;
      }
      // Line end. A record that is one empty unquoted field is a blank line: skipped.
      if (committed || field !== 0 || i !== fieldStart || this.quoted) {
        if (!committed) this.endField(field++, buf, fieldStart, i);
        this.endRecord(field);
        field = 0;
        columns = this.columns;
      }
      this.line++;
      if (c === CR) {
        if (i + 1 < n) {
          if (buf[i + 1] === LF) i++;
        } else if (!final) {
          this.skipLF = true;
        }
      }
      fieldStart = ++i;
      this.recordLine = this.line;
    }
    this.inQuote = inQuote;
    this.field = field;
    if (!final) {
      this.carry = fieldStart < n ? buf.subarray(fieldStart) : null;
      this.resume = i - fieldStart;
      return;
    }
    if (inQuote) {
      throw new UserError(
        'invalid-data',
        `${this.options.source}: the quoted field that starts on line ${this.quoteLine} is never closed (a closing " is missing).`,
      );
    }
    if (field !== 0 || fieldStart < n || this.quoted) {
      this.endField(field++, buf, fieldStart, n);
      this.endRecord(field);
    }
    this.field = 0;
    this.carry = null;
    this.resume = 0;
  }

  private endField(index: number, buf: Buffer, start: number, end: number): void {
    let bytes = buf;
    if (this.quoted) {
      end = this.unquote(buf, start, end);
      start = 0;
      bytes = this.scratch;
      this.quoted = false;
    }
    const columns = this.columns;
    if (columns === null) {
      this.headerCells.push(utf8.decode(bytes.subarray(start, end)));
      this.headerBytes.push(Buffer.from(bytes.subarray(start, end)));
      return;
    }
    const column = columns[index];
    if (column !== undefined) column.add(bytes, start, end);
  }

  private endRecord(fields: number): void {
    const columns = this.columns;
    if (columns === null) {
      this.columns = headerNames(this.headerCells).map(
        (name) => new ByteColumn(name, this.markers, this.numericMarkers, this.options.maxCategories, this.options.maxValues),
      );
      return;
    }
    if (fields !== columns.length) {
      if (fields < columns.length) {
        for (let k = fields; k < columns.length; k++) columns[k]!.missing++;
        this.problems.add(this.recordLine, `${fields} fields, the header has ${columns.length}; the absent cells count as missing.`);
      } else {
        this.problems.add(this.recordLine, `${fields} fields, the header has ${columns.length}; the extra cells are ignored.`);
      }
    }
    this.rows++;
  }

  /** Copies the field without its quotes (`""` → `"`) to `scratch`; returns its length there. */
  private unquote(buf: Buffer, start: number, end: number): number {
    if (this.scratch.length < end - start) this.scratch = Buffer.allocUnsafe(Math.max(end - start, this.scratch.length * 2));
    const out = this.scratch;
    let length = 0;
    let i = start + 1;
    while (i < end) {
      const c = buf[i]!;
      if (c === QUOTE) {
        if (i + 1 < end && buf[i + 1] === QUOTE) {
          out[length++] = QUOTE;
          i += 2;
          continue;
        }
        i++;
        break;
      }
      out[length++] = c;
      i++;
    }
    while (i < end) out[length++] = buf[i++]!;
    return length;
  }
}

/** pandas' rules: empty names become `Unnamed: N`, repeats get `.1`, `.2`, ... skipping names the header already has. */
export function headerNames(cells: readonly string[]): string[] {
  const names = cells.map((cell, index) => (cell === '' ? `Unnamed: ${index}` : cell));
  const inHeader = new Set(names);
  const used = new Set<string>();
  return names.map((base) => {
    let name = base;
    if (used.has(name)) {
      let k = 1;
      while (used.has(`${base}.${k}`) || inHeader.has(`${base}.${k}`)) k++;
      name = `${base}.${k}`;
    }
    used.add(name);
    return name;
  });
}
