/**
 * Descriptive statistics of one sample: mean, sample standard deviation, standard error and the
 * t-interval of the mean. Plain loops over arrays; no allocation beyond the result.
 */
import { studentTQuantile } from './special';

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample variance (ddof = 1), two-pass so that values near a large mean keep their precision. */
export function sampleVariance(values: readonly number[], centre: number = mean(values)): number {
  if (values.length < 2) return NaN;
  let sum = 0;
  for (const v of values) sum += (v - centre) * (v - centre);
  return sum / (values.length - 1);
}

export interface SampleSummary {
  n: number;
  mean: number | null;
  /** Sample standard deviation (ddof = 1); null below two values. */
  sd: number | null;
  /** Standard error of the mean, sd/√n; null below two values. */
  se: number | null;
  /** t-interval of the mean at the requested confidence; null below two values (no noise estimate). */
  interval: [number, number] | null;
  min: number | null;
  max: number | null;
}

/** The two-sided t critical value, e.g. t(0.975, df) for 95 %. */
export function tCritical(confidence: number, df: number): number {
  return studentTQuantile(1 - (1 - confidence) / 2, df);
}

export function describeSample(values: readonly number[], confidence = 0.95): SampleSummary {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null, se: null, interval: null, min: null, max: null };
  const m = mean(values);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (n === 1) return { n, mean: m, sd: null, se: null, interval: null, min, max };
  const sd = Math.sqrt(sampleVariance(values, m));
  const se = sd / Math.sqrt(n);
  const half = tCritical(confidence, n - 1) * se;
  return { n, mean: m, sd, se, interval: [m - half, m + half], min, max };
}
