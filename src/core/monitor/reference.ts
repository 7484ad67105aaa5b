/**
 * PSI of live values against the training profile, computed as the generated service's own live
 * drift does (templates/service/drift.py) and as `nb2prod drift` does against a run's profile:
 * numeric columns on the profile's decile bins (psiCuts: the outer bins open-ended, collapsed
 * deciles become below / within / above), categorical ones on the profile's top values plus an
 * "other" bucket when the profile did not keep them all (each unseen value its own bin
 * otherwise). Counts accumulate value by value, so a window costs a few numbers per column.
 */
import type { ColumnProfile } from '../envelope';
import { psi, psiCuts } from '../drift/statistics';

export interface NumericReference {
  kind: 'numeric';
  cuts: number[];
  counts: number[];
}

export interface CategoricalReference {
  kind: 'categorical';
  top: Map<string, number>;
  /** Rows of the values the profile did not keep (0: it kept them all). */
  other: number;
}

export type Reference = NumericReference | CategoricalReference;

export function referenceFor(column: ColumnProfile | undefined): Reference | null {
  if (!column) return null;
  const c = column as ColumnProfile & { error?: unknown };
  if (c.error || c.type === 'datetime') return null;
  if (c.type === 'numeric') {
    const edges = c.bins?.edges ?? [];
    const counts = c.bins?.counts ?? [];
    if (edges.length < 2 || counts.length !== edges.length - 1) return null;
    const total = counts.reduce((a, b) => a + b, 0);
    return { kind: 'numeric', cuts: psiCuts(edges), counts: edges.length <= 2 ? [0, total, 0] : [...counts] };
  }
  if (!c.top) return null;
  const top = new Map<string, number>();
  for (const item of c.top) top.set(categoryKey(item.value), (top.get(categoryKey(item.value)) ?? 0) + item.count);
  const kept = [...top.values()].reduce((a, b) => a + b, 0);
  return { kind: 'categorical', top, other: Math.max((c.count ?? 0) - kept, 0) };
}

/** A value as the profile wrote it (Python's str, pandas' True/False; integral numbers without ".0"). */
export function categoryKey(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  return String(value);
}

/** The live counts of one column in one window. */
export class ColumnCounts {
  readonly numeric: Float64Array | null;
  readonly categories: Map<string, number> | null;
  n = 0;

  constructor(readonly reference: Reference) {
    this.numeric = reference.kind === 'numeric' ? new Float64Array(reference.cuts.length + 1) : null;
    this.categories = reference.kind === 'categorical' ? new Map() : null;
  }

  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (this.numeric) {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const cuts = (this.reference as NumericReference).cuts;
      let lo = 0;
      let hi = cuts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cuts[mid]! <= value) lo = mid + 1;
        else hi = mid;
      }
      this.numeric[lo]!++;
      this.n++;
      return;
    }
    if (typeof value === 'number' && Number.isNaN(value)) return;
    const key = categoryKey(value);
    this.categories!.set(key, (this.categories!.get(key) ?? 0) + 1);
    this.n++;
  }

  psi(): number | null {
    if (!this.n) return null;
    if (this.numeric) return psi((this.reference as NumericReference).counts, Array.from(this.numeric));
    return categoricalPsi(this.reference as CategoricalReference, this.categories!);
  }
}

const BOOLEAN_TEXT = /^(true|false)$/i;
const OTHER = '\u0000other';

function categoricalPsi(reference: CategoricalReference, current: Map<string, number>): number {
  let ref = reference.top;
  let cur = current;
  if ([...ref.keys()].every((k) => BOOLEAN_TEXT.test(k)) && [...cur.keys()].every((k) => BOOLEAN_TEXT.test(k))) {
    ref = lowered(ref);
    cur = lowered(cur);
  }
  if (reference.other > 0) {
    const merged = new Map<string, number>();
    let other = 0;
    for (const [key, count] of cur) {
      if (ref.has(key)) merged.set(key, count);
      else other += count;
    }
    merged.set(OTHER, other);
    cur = merged;
    ref = new Map([...ref, [OTHER, reference.other]]);
  }
  const labels = [...ref.keys(), ...[...cur.keys()].filter((k) => !ref.has(k))];
  return psi(labels.map((k) => ref.get(k) ?? 0), labels.map((k) => cur.get(k) ?? 0));
}

function lowered(counts: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, count] of counts) out.set(key.toLowerCase(), (out.get(key.toLowerCase()) ?? 0) + count);
  return out;
}

/** PSI between two sets of class counts (the prediction distribution). */
export function classPsi(reference: Map<string, number>, current: Map<string, number>): number | null {
  let n = 0;
  for (const v of current.values()) n += v;
  if (!n || !reference.size) return null;
  const labels = [...reference.keys(), ...[...current.keys()].filter((k) => !reference.has(k))];
  return psi(labels.map((k) => reference.get(k) ?? 0), labels.map((k) => current.get(k) ?? 0));
}
