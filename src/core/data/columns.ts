/**
 * Column accumulators shared by the readers: a bounded numeric sample (growable, then a seeded
 * reservoir), category counts that stop at a limit, and the `ColumnData` they produce. The CSV
 * reader has its own byte-level variant (csv.ts) for speed; JSON Lines and Parquet feed JS values
 * into `ValueColumn`.
 */

export interface ColumnData {
  name: string;
  /** Rows seen, missing included. */
  count: number;
  /** Empty cells, NA/NaN/null/None/"" (CSV), JSON null/absent (JSONL), nulls (Parquet). */
  missing: number;
  /** Non-missing values as numbers when every non-missing value parsed as a finite number; else null. */
  numbers: Float64Array | null;
  /** Non-missing value (as text) → count, while distinct values ≤ options.maxCategories (default 10,000); null beyond that. */
  categories: Map<string, number> | null;
  /** Every non-missing value was an integer (for "few distinct integers are categorical"). */
  integral: boolean;
  /** True when `numbers` holds a deterministic uniform sample (reservoir, fixed seed) because the column exceeded options.maxValues. */
  sampled: boolean;
}

/** Text cells that mean "no value" in CSV/TSV (exact, case-sensitive match, after unquoting). */
export const DEFAULT_MISSING_MARKERS: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None'];
export const DEFAULT_MAX_CATEGORIES = 10_000;
/** Numbers kept per column before switching to a reservoir sample: 8 MB per column. */
export const DEFAULT_MAX_VALUES = 1_000_000;

const RESERVOIR_SEED = 0x2545f491;

/** Non-missing numbers of one column: all of them up to `max`, then a uniform reservoir sample (Algorithm R). */
export class NumberSample {
  values: Float64Array;
  length = 0;
  /** Numbers offered so far (all of them, not only those kept). */
  seen = 0;
  private state = RESERVOIR_SEED;

  constructor(private readonly max: number) {
    this.values = new Float64Array(Math.min(max, 1024));
  }

  push(value: number): void {
    // Small enough to be inlined into the parsers' loops; the rest is in pushSlow.
    if (this.length < this.values.length) {
      this.values[this.length++] = value;
      this.seen++;
    } else {
      this.pushSlow(value);
    }
  }

  private pushSlow(value: number): void {
    const seen = ++this.seen;
    if (this.length < this.max) {
      const grown = new Float64Array(Math.min(this.max, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
      this.values[this.length++] = value;
      return;
    }
    const slot = Math.floor(this.random() * seen);
    if (slot < this.max) this.values[slot] = value;
  }

  get sampled(): boolean {
    return this.seen > this.max;
  }

  result(): Float64Array {
    // A view, not a copy: the spare capacity (under half) is cheaper than copying a million numbers.
    return this.length === this.values.length ? this.values : this.values.subarray(0, this.length);
  }

  /** mulberry32, two draws for 53 random bits: deterministic, and fine-grained enough for billions of rows. */
  private random(): number {
    const high = this.next() >>> 5;
    const low = this.next() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  private next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

/** Accumulates JS values (JSON Lines, Parquet) for one column. */
export class ValueColumn {
  /** Values and nulls seen; rows where the column was absent are added in `finish`. */
  seen = 0;
  missing = 0;
  private sample: NumberSample | null;
  private categories: Map<string, number> | null = new Map();
  private integral = true;

  constructor(
    readonly name: string,
    private readonly maxCategories: number,
    maxValues: number,
  ) {
    this.sample = new NumberSample(maxValues);
  }

  addMissing(): void {
    this.seen++;
    this.missing++;
  }

  /** A finite number; `text` is its category key. */
  addNumber(value: number, text: string): void {
    this.seen++;
    if (this.sample) {
      this.sample.push(value);
      if (this.integral && !Number.isInteger(value)) this.integral = false;
    }
    this.count(text);
  }

  addText(text: string): void {
    this.seen++;
    this.sample = null;
    this.integral = false;
    this.count(text);
  }

  finish(rows: number): ColumnData {
    const sample = this.sample;
    return {
      name: this.name,
      count: rows,
      missing: this.missing + (rows - this.seen),
      numbers: sample ? sample.result() : null,
      categories: this.categories,
      integral: sample !== null && this.integral,
      sampled: sample !== null && sample.sampled,
    };
  }

  private count(text: string): void {
    const categories = this.categories;
    if (!categories) return;
    const before = categories.get(text);
    if (before !== undefined) {
      categories.set(text, before + 1);
    } else if (categories.size < this.maxCategories) {
      categories.set(text, 1);
    } else {
      this.categories = null;
    }
  }
}

/**
 * Category keys of a numeric column in one canonical form (`String(number)`), so that "1", "1.0"
 * and " 1" are one category and CSV, JSON Lines and Parquet agree. Counts merge; first-seen order kept.
 */
export function canonicalNumberKeys(categories: Map<string, number>): Map<string, number> {
  const result = new Map<string, number>();
  for (const [text, count] of categories) {
    const key = String(Number(text));
    result.set(key, (result.get(key) ?? 0) + count);
  }
  return result;
}

export function checkLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
