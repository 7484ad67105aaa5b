/**
 * Numeric or categorical: decides which drift statistics a column gets. A column of numbers is
 * numeric, except integer codes with few distinct values (ratings, counts of children, class
 * labels 0/1/2): their deciles collapse and a KS test on them is mostly ties, so they are
 * compared as categories. Booleans and text are categorical.
 */
import type { ColumnData } from '../data/dataset';

export type ColumnKind = 'numeric' | 'categorical';

/** Integer columns with at most this many distinct values are categorical… */
export const FEW_DISTINCT = 10;
/** …and so are those with at most this many, when that is under 1% of their non-missing values. */
export const SOME_DISTINCT = 20;
export const SOME_DISTINCT_SHARE = 0.01;

/** The number of distinct values, counting stops above `limit` (returns limit + 1). */
export function distinctUpTo(values: Float64Array, limit: number): number {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v) || seen.has(v)) continue;
    seen.add(v);
    if (seen.size > limit) break;
  }
  return seen.size;
}

/** The kind a column's own values suggest (see the file comment for the rule). */
export function inferColumnKind(column: ColumnData): ColumnKind {
  const numbers = column.numbers;
  if (!numbers) return 'categorical';
  if (!column.integral) return 'numeric';
  const distinct = distinctUpTo(numbers, SOME_DISTINCT);
  if (distinct <= FEW_DISTINCT) return 'categorical';
  const present = column.count - column.missing;
  if (distinct <= SOME_DISTINCT && distinct < SOME_DISTINCT_SHARE * present) return 'categorical';
  return 'numeric';
}
