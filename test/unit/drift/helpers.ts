import type { ColumnData, Dataset } from '../../../src/core/data/dataset';

/** A column as a reader would produce it: numbers when every value is a number, category counts always. */
export function col(name: string, values: ReadonlyArray<number | string | boolean | null>): ColumnData {
  const present = values.filter((v): v is number | string | boolean => v !== null);
  const allNumbers = present.every((v) => typeof v === 'number');
  const categories = new Map<string, number>();
  for (const v of present) categories.set(String(v), (categories.get(String(v)) ?? 0) + 1);
  return {
    name,
    count: values.length,
    missing: values.length - present.length,
    numbers: allNumbers ? Float64Array.from(present as number[]) : null,
    categories,
    integral: allNumbers && present.every((v) => Number.isInteger(v)),
    sampled: false,
  };
}

export function numericCol(name: string, values: ArrayLike<number>): ColumnData {
  const numbers = Float64Array.from(values);
  return { name, count: numbers.length, missing: 0, numbers, categories: null, integral: false, sampled: false };
}

export function countsCol(name: string, counts: Record<string, number>): ColumnData {
  const map = new Map(Object.entries(counts));
  const total = [...map.values()].reduce((s, c) => s + c, 0);
  return { name, count: total, missing: 0, numbers: null, categories: map, integral: false, sampled: false };
}

export function dataset(source: string, columns: ColumnData[]): Dataset {
  return { source, format: 'csv', rows: Math.max(0, ...columns.map((c) => c.count)), columns, problems: [] };
}
