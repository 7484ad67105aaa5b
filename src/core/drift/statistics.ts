/**
 * The drift statistics on plain arrays: deciles, PSI, the two-sample Kolmogorov–Smirnov
 * statistic, the Wasserstein-1 distance, the chi-square test of homogeneity and the
 * Jensen–Shannon distance, plus their approximations against a binned reference (a run's
 * captured input profile). Numeric functions take arrays sorted ascending with finite values
 * only: a column is sorted once and every statistic reuses it (sorting is the costly part on
 * a million rows). Checked against numpy/scipy in test/unit/drift (reference values from
 * test/fixtures/stats/drift_reference.py).
 */
import { chiSquareSurvival } from '../stats/special';

/** Fraction used in place of an empty bin in PSI, so that ln(a/e) stays finite (as Evidently does). */
export const PSI_EPSILON = 1e-4;

/** The finite values of `values`, sorted ascending, in a new array. */
export function sortedFinite(values: Float64Array): Float64Array {
  let finite = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) finite++;
  let out: Float64Array;
  if (finite === values.length) out = values.slice();
  else {
    out = new Float64Array(finite);
    let k = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) out[k++] = v;
    }
  }
  return sortFloat64(out);
}

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const RADIX_FROM = 4096;

/**
 * Sorts finite doubles ascending in place. Large arrays get an LSD radix sort (six 11-bit
 * passes over the IEEE bits, passes where every value shares the digit skipped): about 3× faster
 * than the native TypedArray sort on a million values, and sorting is most of a drift report's
 * time. -0 sorts before 0 (they compare equal, so no statistic sees it).
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_FROM || !LITTLE_ENDIAN) return values.sort();
  let keys: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  // Map each double to an unsigned 64-bit key with the same order: flip the sign bit of
  // positives, every bit of negatives. Words: [2i] low, [2i + 1] high.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = keys[i + 1]!;
    if (hi & 0x80000000) {
      keys[i] = ~keys[i]!;
      keys[i + 1] = ~hi;
    } else keys[i + 1] = hi | 0x80000000;
  }
  // Six passes of 11, 11 and 10 bits per 32-bit word: 2048 buckets stay in cache.
  const counts = new Uint32Array(6 * 2048);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = keys[i]!;
    const hi = keys[i + 1]!;
    counts[lo & 0x7ff]!++;
    counts[2048 + ((lo >>> 11) & 0x7ff)]!++;
    counts[4096 + (lo >>> 22)]!++;
    counts[6144 + (hi & 0x7ff)]!++;
    counts[8192 + ((hi >>> 11) & 0x7ff)]!++;
    counts[10240 + (hi >>> 22)]!++;
  }
  let spare: Uint32Array = new Uint32Array(2 * n);
  for (let pass = 0; pass < 6; pass++) {
    const base = pass * 2048;
    let single = false;
    let offset = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[base + d]!;
      if (c === n) single = true;
      counts[base + d] = offset;
      offset += c;
    }
    if (single) continue;
    const word = pass < 3 ? 0 : 1;
    const shift = (pass % 3) * 11;
    for (let i = 0; i < 2 * n; i += 2) {
      const digit = (keys[i + word]! >>> shift) & 0x7ff;
      const to = 2 * counts[base + digit]!++;
      spare[to] = keys[i]!;
      spare[to + 1] = keys[i + 1]!;
    }
    const t = keys;
    keys = spare;
    spare = t;
  }
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = keys[i + 1]!;
    if (hi & 0x80000000) keys[i + 1] = hi & 0x7fffffff;
    else {
      keys[i] = ~keys[i]!;
      keys[i + 1] = ~hi;
    }
  }
  if (keys.buffer !== values.buffer) values.set(new Float64Array(keys.buffer, keys.byteOffset, n));
  return values;
}

/** numpy's default ("linear") quantile of sorted values, bit for bit: same index and lerp. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const index = q * (n - 1);
  const below = Math.floor(index);
  const a = sorted[Math.min(below, n - 1)]!;
  const b = sorted[Math.min(below + 1, n - 1)]!;
  const t = index - below;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The reference deciles with duplicates collapsed, as the capture's profile records them
 * (`np.unique(np.quantile(x, np.linspace(0, 1, 11)))`); a constant column gives [v, v].
 */
export function decileEdges(sorted: Float64Array): number[] {
  const edges: number[] = [];
  for (let i = 0; i <= 10; i++) {
    const v = quantileSorted(sorted, i * 0.1); // i * 0.1, as np.linspace computes it
    if (edges.length === 0 || v !== edges[edges.length - 1]) edges.push(v);
  }
  if (edges.length === 1) edges.push(edges[0]!);
  return edges;
}

/** The smallest double above x. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/**
 * The cut points of the PSI bins from the reference decile edges. Bin i holds
 * cuts[i-1] ≤ x < cuts[i]; the outer bins are open-ended, so current values outside the
 * reference range land in the first or last decile. When the deciles collapse to one or two
 * distinct values (a constant or nearly constant column) the bins are: below the reference
 * range, the range itself, above it — otherwise there would be a single bin and PSI would be
 * 0 whatever the current data.
 */
export function psiCuts(edges: readonly number[]): number[] {
  if (edges.length <= 2) return [edges[0]!, nextUp(edges[edges.length - 1]!)];
  return edges.slice(1, -1);
}

/** Number of values < x in sorted values. */
export function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of values ≤ x in sorted values. */
export function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of sorted values in the cuts.length + 1 bins [cuts[i-1], cuts[i]), outer bins open. */
export function binCounts(sorted: Float64Array, cuts: readonly number[]): number[] {
  const counts: number[] = [];
  let previous = 0;
  for (const cut of cuts) {
    const below = lowerBound(sorted, cut);
    counts.push(below - previous);
    previous = below;
  }
  counts.push(sorted.length - previous);
  return counts;
}

/**
 * Population stability index Σ (a − e)·ln(a / e) over bins, e and a the reference and current
 * fractions; a fraction of exactly 0 counts as PSI_EPSILON.
 */
export function psi(reference: readonly number[], current: readonly number[]): number {
  const n = sum(reference);
  const m = sum(current);
  let total = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = reference[i]! / n || PSI_EPSILON;
    const a = (current[i] ?? 0) / m || PSI_EPSILON;
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Mean and sample standard deviation (ddof = 1; 0 for a single value). */
export function meanStd(values: Float64Array): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    ss += d * d;
  }
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** Two-sample KS statistic sup |F_a − F_b| of two sorted samples, by a merge walk. */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const ai = a[i]!;
    const bj = b[j]!;
    const x = ai <= bj ? ai : bj;
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  return d;
}

/** Wasserstein-1 distance ∫|F_a − F_b| dx of two sorted samples, by a merge walk over both ECDFs. */
export function wasserstein1(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let total = 0;
  let previous = Math.min(a[0]!, b[0]!);
  while (i < n || j < m) {
    const x = j >= m || (i < n && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    total += Math.abs(i / n - j / m) * (x - previous);
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    previous = x;
  }
  return total;
}

/**
 * Fractions of both samples in `bins` equal-width bins over their pooled range (the last bin
 * closed), for the chart. A pooled range of one value gives a single bin.
 */
export function sharedHistogram(
  a: Float64Array,
  b: Float64Array,
  bins = 20,
): { edges: number[]; reference: number[]; current: number[] } {
  const lo = Math.min(a[0] ?? Infinity, b[0] ?? Infinity);
  const hi = Math.max(a[a.length - 1] ?? -Infinity, b[b.length - 1] ?? -Infinity);
  if (!(hi > lo)) return { edges: [lo, hi], reference: [a.length ? 1 : 0], current: [b.length ? 1 : 0] };
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(i === bins ? hi : lo + ((hi - lo) * i) / bins);
  const cuts = edges.slice(1, -1);
  const fractions = (s: Float64Array) => binCounts(s, cuts).map((c) => (s.length ? c / s.length : 0));
  return { edges, reference: fractions(a), current: fractions(b) };
}

/**
 * Chi-square test of homogeneity of a 2×k table (no continuity correction), df = k − 1.
 * `smallExpected` is the share of cells with an expected count below 5, where the chi-square
 * approximation of the p-value gets poor.
 */
export function chiSquareHomogeneity(
  reference: readonly number[],
  current: readonly number[],
): { statistic: number; pValue: number; df: number; smallExpected: number } {
  const n = sum(reference);
  const m = sum(current);
  const total = n + m;
  let statistic = 0;
  let k = 0;
  let small = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const c = current[i] ?? 0;
    const column = r + c;
    if (column === 0) continue;
    k++;
    const er = (n * column) / total;
    const ec = (m * column) / total;
    statistic += ((r - er) * (r - er)) / er + ((c - ec) * (c - ec)) / ec;
    if (er < 5) small++;
    if (ec < 5) small++;
  }
  const df = Math.max(k - 1, 0);
  return { statistic, pValue: df === 0 ? 1 : chiSquareSurvival(statistic, df), df, smallExpected: k ? small / (2 * k) : 0 };
}

/** Jensen–Shannon distance in base 2 (the square root of the divergence; 0 to 1), as scipy's jensenshannon(base=2). */
export function jensenShannonDistance(reference: readonly number[], current: readonly number[]): number {
  const n = sum(reference);
  const m = sum(current);
  let divergence = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i]! / n;
    const q = (current[i] ?? 0) / m;
    const mid = (p + q) / 2;
    if (p > 0) divergence += p * Math.log(p / mid);
    if (q > 0) divergence += q * Math.log(q / mid);
  }
  return Math.sqrt(Math.max(divergence / (2 * Math.LN2), 0));
}

/**
 * Against a binned reference (a run profile: edges e0..ek, counts per bin [e_i, e_i+1), the
 * last bin closed) the exact CDF is known only at the edges. Both statistics therefore look at
 * the current sample at the same resolution, so that identical distributions give ~0:
 * - KS: the largest CDF gap at the edges (left limits, and at e_k the full CDF) — a lower
 *   bound of the exact statistic, so its p-value errs on the side of "no drift";
 * - Wasserstein: ∫|F_cur − F_ref| with both CDFs linear inside each bin (through their
 *   values at the edges) and the current values outside [e0, e_k] taken exactly.
 */
function edgeCdfs(edges: readonly number[], counts: readonly number[], b: Float64Array): { reference: number[]; current: number[] } {
  const n = counts.reduce((s, c) => s + c, 0);
  const m = b.length;
  const k = edges.length - 1;
  const reference: number[] = [];
  const current: number[] = [];
  let cumulative = 0;
  for (let i = 0; i < k; i++) {
    reference.push(cumulative / n);
    current.push(lowerBound(b, edges[i]!) / m);
    cumulative += counts[i]!;
  }
  reference.push(1);
  current.push(upperBound(b, edges[k]!) / m);
  return { reference, current };
}

/** KS statistic at the edges of a binned reference (see above). */
export function ksStatisticBinned(edges: readonly number[], counts: readonly number[], b: Float64Array): number {
  const { reference, current } = edgeCdfs(edges, counts, b);
  let d = 0;
  for (let i = 0; i < reference.length; i++) d = Math.max(d, Math.abs(current[i]! - reference[i]!));
  return d;
}

/** Wasserstein-1 distance to a binned reference, both sides linear inside the bins (see above). */
export function wasserstein1Binned(edges: readonly number[], counts: readonly number[], b: Float64Array): number {
  const m = b.length;
  if (m === 0) return Number.NaN;
  const { reference, current } = edgeCdfs(edges, counts, b);
  const first = edges[0]!;
  const last = edges[edges.length - 1]!;
  let total = 0;
  for (let j = 0; j < m && b[j]! < first; j++) total += (first - b[j]!) / m;
  for (let j = m - 1; j >= 0 && b[j]! > last; j--) total += (b[j]! - last) / m;
  for (let i = 0; i + 1 < edges.length; i++) {
    const width = edges[i + 1]! - edges[i]!;
    const g0 = current[i]! - reference[i]!;
    const g1 = current[i + 1]! - reference[i + 1]!;
    // |g| of a linear g: a trapezoid, or two triangles when g changes sign inside the bin.
    total += g0 * g1 >= 0 ? (Math.abs(g0 + g1) / 2) * width : (width * (g0 * g0 + g1 * g1)) / (2 * Math.abs(g1 - g0));
  }
  return total;
}
