/**
 * Data drift between a reference (a dataset, or a run's captured input profile) and current
 * data, per column and for the dataset.
 *
 * Numeric columns: PSI on the reference deciles, the two-sample KS test, and the Wasserstein-1
 * distance divided by the reference's population standard deviation (ddof = 0, as Evidently's
 * "normalised Wasserstein"). Categorical columns: PSI over the categories, the chi-square test
 * of homogeneity and the Jensen–Shannon distance (base 2). Statistics use the non-missing
 * values only; missing values are counted apart and a large change in their share is reported
 * as a problem. Severity comes from PSI (< monitor: stable, monitor–retrain: monitor,
 * > retrain: retrain); a column is "drifted" from "monitor" on, and dataset drift is the share
 * of drifted columns among those that could be compared.
 *
 * Choices worth knowing:
 * - Kinds: see columnKinds.ts (integers with ≤ 10 distinct values, or ≤ 20 and < 1% of the
 *   values, are categorical); `options.kinds` overrides.
 * - PSI bins: the reference deciles, outer bins open-ended; an empty bin counts as a fraction
 *   of 1e-4 (statistics.ts).
 * - Categories: the union of both sides; a category only in the current data is "unseen" and
 *   counted with examples. Missing values are not a category.
 * - A column missing on one side, all missing, or (for text) with too many distinct values for
 *   the reader to count gets severity "unavailable", no statistics, and a note saying why.
 * - Against a run profile, PSI and chi-square are exact on its bins and top-20 + "(other)";
 *   KS and Wasserstein are computed at the bins' resolution and marked `approximate`.
 */
import { UserError } from '../errors';
import type { ColumnProfile } from '../envelope';
import { kolmogorovSmirnovPValue } from '../stats/special';
import { type ColumnKind, inferColumnKind } from './columnKinds';
import { isProfileReference, type ProfileReference } from './profileReference';
import {
  binCounts,
  chiSquareHomogeneity,
  decileEdges,
  jensenShannonDistance,
  ksStatistic,
  ksStatisticBinned,
  meanStd,
  psi,
  psiCuts,
  sharedHistogram,
  sortedFinite,
  wasserstein1,
  wasserstein1Binned,
} from './statistics';
import type { ColumnData, Dataset } from '../data/dataset';

export type Severity = 'stable' | 'monitor' | 'retrain' | 'unavailable';

export interface DriftThresholds {
  /** PSI from which a column is worth watching (and counts as drifted). */
  monitor: number;
  /** PSI above which the model likely needs retraining. */
  retrain: number;
}

export const DEFAULT_THRESHOLDS: DriftThresholds = { monitor: 0.1, retrain: 0.2 };

/** A change of the data's shape rather than its distribution; each is a finding of its own. */
export const SCHEMA_CHANGE_KINDS = ['dropped', 'added', 'renamed', 'all-missing', 'type-changed', 'undecodable'] as const;
export type SchemaChangeKind = (typeof SCHEMA_CHANGE_KINDS)[number];
export type SchemaSeverity = 'monitor' | 'retrain' | 'off';

export interface SchemaChange {
  kind: SchemaChangeKind;
  /** The column (the reference's name for a rename); null for a whole file (undecodable). */
  column: string | null;
  /** renamed: the current data's name for it. */
  to?: string;
  severity: 'monitor' | 'retrain';
  message: string;
}

/** Every schema change is `retrain` unless configured otherwise: a pipeline fed another shape of data breaks or silently degrades. */
export const DEFAULT_SCHEMA_SEVERITY: SchemaSeverity = 'retrain';

export interface DriftOptions {
  /** Force a column's kind, by column name. */
  kinds?: Record<string, ColumnKind>;
  /** Severity of each kind of schema change (default `retrain`; `off` drops it from the report). */
  schemaSeverity?: Partial<Record<SchemaChangeKind, SchemaSeverity>>;
  thresholds?: Partial<DriftThresholds>;
  /** Bins of the numeric chart (equal width over both datasets' range). Default 20. */
  histogramBins?: number;
}

export interface DriftTest {
  name: 'ks' | 'chi-square';
  statistic: number;
  pValue: number;
  /** Degrees of freedom (chi-square). */
  df?: number;
  /** True when computed against binned reference data (a run profile): values assumed spread evenly inside each bin. */
  approximate?: boolean;
}

export interface DriftEffect {
  name: 'wasserstein' | 'jensen-shannon';
  /** Wasserstein: the distance in reference standard deviations (null for a constant reference). Jensen–Shannon: 0 to 1. */
  value: number | null;
  /** Wasserstein only: the distance in the column's own units. */
  raw?: number;
  approximate?: boolean;
}

export interface CategoryCount {
  value: string;
  count: number;
}

export interface SideSummary {
  /** Non-missing values (for a sampled column, of the whole column). */
  count: number;
  missing: number;
  min?: number;
  max?: number;
  mean?: number;
  /** Sample standard deviation (ddof = 1). */
  std?: number;
  /** Most frequent categories (at most 5). */
  top?: CategoryCount[];
  /** Distinct categories (for a profile: at least this many). */
  distinct?: number;
}

export type DriftHistogram =
  | {
      type: 'bins';
      /** Equal width over both ranges, or the reference deciles for a profile reference. */
      binning: 'equal-width' | 'reference-deciles';
      edges: number[];
      reference: number[];
      current: number[];
    }
  | {
      type: 'categories';
      /** The 20 largest categories, then "(other)" when there are more. */
      labels: string[];
      reference: number[];
      current: number[];
    };

export interface ColumnDrift {
  name: string;
  kind: ColumnKind;
  inferredKind: ColumnKind;
  severity: Severity;
  drifted: boolean;
  psi: number | null;
  test: DriftTest | null;
  effect: DriftEffect | null;
  reference: SideSummary;
  current: SideSummary;
  /** Categories in the current data that the reference never had; null when unknowable (numeric, or a profile that kept only its top 20). */
  unseenCategories: { count: number; examples: string[] } | null;
  histogram: DriftHistogram | null;
  /** Why statistics are missing or what to keep in mind (also listed in the report's problems). */
  notes: string[];
}

export interface DriftReport {
  /** `encoding`: what a text file was decoded as (absent for Parquet and run profiles). */
  reference: { source: string; type: 'dataset' | 'profile'; rows: number; encoding?: string };
  current: { source: string; rows: number; encoding?: string };
  thresholds: DriftThresholds;
  /** Schema changes, most severe first: counted by a drift gate like drifted columns. */
  schema: SchemaChange[];
  columns: ColumnDrift[];
  datasetDrift: { drifted: number; total: number; share: number };
  onlyInReference: string[];
  onlyInCurrent: string[];
  problems: string[];
}

/** Columns smaller than this get a note that their statistics say little. */
const FEW_VALUES = 30;
/** A change in the share of missing values above this is reported. */
const MISSING_SHIFT = 0.1;
const TOP_SUMMARY = 5;
const TOP_CHART = 20;
const UNSEEN_EXAMPLES = 5;
const OTHER = '(other)';
const MANY_CATEGORIES = 1000;

/**
 * Compare `current` with `reference` column by column.
 * @throws UserError 'empty-dataset' when either side has no rows or no columns; 'usage' for
 * thresholds that are not 0 ≤ monitor ≤ retrain.
 */
export function computeDrift(reference: Dataset | ProfileReference, current: Dataset, options: DriftOptions = {}): DriftReport {
  const thresholds = resolveThresholds(options.thresholds);
  const profile = isProfileReference(reference) ? reference : null;
  const referenceRows = profile ? profile.profile.rows : (reference as Dataset).rows;
  const referenceColumns = profile ? profile.profile.columns.length : (reference as Dataset).columns.length;
  const severityOfChange = (kind: SchemaChangeKind): SchemaSeverity => options.schemaSeverity?.[kind] ?? DEFAULT_SCHEMA_SEVERITY;
  const encodings = {
    reference: profile ? {} : encodingOf(reference as Dataset),
    current: encodingOf(current),
  };

  // A file that is not text cannot be compared at all: that is the finding.
  const undecodable = [profile ? null : (reference as Dataset), current].filter((d): d is Dataset => !!d?.undecodable);
  if (undecodable.length) {
    const schema: SchemaChange[] = [];
    const level = severityOfChange('undecodable');
    if (level !== 'off') for (const d of undecodable) schema.push({ kind: 'undecodable', column: null, severity: level, message: `${d.source} cannot be decoded as text: ${d.undecodable}.` });
    return {
      reference: { source: reference.source, type: profile ? 'profile' : 'dataset', rows: referenceRows, ...encodings.reference },
      current: { source: current.source, rows: current.rows, ...encodings.current },
      thresholds,
      schema,
      columns: [],
      datasetDrift: { drifted: 0, total: 0, share: 0 },
      onlyInReference: [],
      onlyInCurrent: [],
      problems: undecodable.map((d) => `${d.source} cannot be decoded as text (${d.undecodable}): nothing was compared.`),
    };
  }
  requireData(reference.source, 'reference', referenceRows, referenceColumns);
  requireData(current.source, 'current data', current.rows, current.columns.length);

  const problems: string[] = [];
  for (const d of profile ? [current] : [reference as Dataset, current]) {
    if (d.encodingNote) problems.push(`${d.source} is not valid UTF-8: ${d.encodingNote}; check that accented text looks right.`);
  }
  if (!profile) readerProblems(reference as Dataset, problems);
  readerProblems(current, problems);
  smallData(current.rows, 'current data', problems);
  if (!profile) smallData(referenceRows, 'reference', problems);
  if (profile?.profile.sampled) {
    problems.push(`The reference profile was computed on ${profile.profile.sampleRows ?? 'a sample of'} of its ${referenceRows} rows.`);
  }

  const currentByName = new Map(current.columns.map((c) => [c.name, c]));
  const referenceNames = profile ? profile.profile.columns.map((c) => c.name) : (reference as Dataset).columns.map((c) => c.name);
  const onlyInReference = referenceNames.filter((n) => !currentByName.has(n));
  const referenceSet = new Set(referenceNames);
  const onlyInCurrent = current.columns.map((c) => c.name).filter((n) => !referenceSet.has(n));
  if (onlyInReference.length) problems.push(`Only in the reference (not compared): ${onlyInReference.join(', ')}.`);
  if (onlyInCurrent.length) problems.push(`Only in the current data (not compared): ${onlyInCurrent.join(', ')}.`);
  const referenceByName = new Map<string, ColumnData | ColumnProfile>(profile ? profile.profile.columns.map((c) => [c.name, c]) : (reference as Dataset).columns.map((c) => [c.name, c]));
  for (const name of Object.keys(options.kinds ?? {})) {
    if (!referenceSet.has(name) && !currentByName.has(name)) problems.push(`A kind was set for "${name}", but no column has that name.`);
  }

  const bins = Math.max(1, Math.floor(options.histogramBins ?? 20));
  const columns: ColumnDrift[] = [];
  if (profile) {
    for (const ref of profile.profile.columns) {
      const cur = currentByName.get(ref.name);
      if (cur) columns.push(compareWithProfile(ref, cur, options.kinds?.[ref.name], thresholds));
    }
  } else {
    for (const ref of (reference as Dataset).columns) {
      const cur = currentByName.get(ref.name);
      if (cur) columns.push(compareWithData(ref, cur, options.kinds?.[ref.name], thresholds, bins));
    }
  }
  for (const column of columns) for (const note of column.notes) problems.push(`${column.name}: ${note}`);

  columns.sort(byConcern);
  const compared = columns.filter((c) => c.severity !== 'unavailable');
  const drifted = compared.filter((c) => c.drifted).length;
  const schema = schemaChanges({
    onlyInReference: onlyInReference.map((name) => referenceByName.get(name)!),
    onlyInCurrent: onlyInCurrent.map((name) => currentByName.get(name)!),
    both: [...referenceByName.values()].flatMap((ref) => (currentByName.has(ref.name) ? [[ref, currentByName.get(ref.name)!] as const] : [])),
    thresholds,
    kinds: options.kinds ?? {},
    severity: severityOfChange,
  });
  return {
    reference: { source: reference.source, type: profile ? 'profile' : 'dataset', rows: referenceRows, ...encodings.reference },
    current: { source: current.source, rows: current.rows, ...encodings.current },
    thresholds,
    schema,
    columns,
    datasetDrift: { drifted, total: compared.length, share: compared.length ? drifted / compared.length : 0 },
    onlyInReference,
    onlyInCurrent,
    problems,
  };
}

function encodingOf(dataset: Dataset): { encoding?: string } {
  return dataset.encoding ? { encoding: dataset.encoding } : {};
}

// ---- schema changes -----------------------------------------------------------------------

/** Dropped × added pairs compared for a rename, at most (each pair is a full column comparison). */
const MAX_RENAME_PAIRS = 2500;

interface SchemaInput {
  onlyInReference: Array<ColumnData | ColumnProfile>;
  onlyInCurrent: ColumnData[];
  both: ReadonlyArray<readonly [ColumnData | ColumnProfile, ColumnData]>;
  thresholds: DriftThresholds;
  kinds: Record<string, ColumnKind>;
  severity: (kind: SchemaChangeKind) => SchemaSeverity;
}

function isProfileColumn(column: ColumnData | ColumnProfile): column is ColumnProfile {
  return (column as ColumnProfile).type !== undefined;
}

/**
 * Dropped, added and renamed columns (a dropped and an added column whose distributions agree —
 * PSI below the monitor threshold — are taken as one column renamed), columns entirely missing
 * in the current data, and type changes (numbers became text, or text became numbers).
 */
function schemaChanges(input: SchemaInput): SchemaChange[] {
  const changes: Array<Omit<SchemaChange, 'severity'>> = [];
  // Renames: the closest pairs first, each column used once.
  const pairs: Array<{ ref: ColumnData | ColumnProfile; cur: ColumnData; psi: number }> = [];
  if (input.onlyInReference.length * input.onlyInCurrent.length <= MAX_RENAME_PAIRS) {
    for (const ref of input.onlyInReference) {
      for (const cur of input.onlyInCurrent) {
        const renamed = { ...cur, name: ref.name };
        const kind = input.kinds[ref.name];
        const compared = isProfileColumn(ref) ? compareWithProfile(ref, renamed, kind, input.thresholds) : compareWithData(ref, renamed, kind, input.thresholds, 1);
        if (compared.severity === 'stable' && compared.psi !== null && !isTypeChange(ref, cur)) pairs.push({ ref, cur, psi: compared.psi });
      }
    }
  }
  pairs.sort((a, b) => a.psi - b.psi);
  const renamedFrom = new Set<string>();
  const renamedTo = new Set<string>();
  for (const { ref, cur, psi: value } of pairs) {
    if (renamedFrom.has(ref.name) || renamedTo.has(cur.name)) continue;
    renamedFrom.add(ref.name);
    renamedTo.add(cur.name);
    changes.push({ kind: 'renamed', column: ref.name, to: cur.name, message: `"${ref.name}" seems renamed to "${cur.name}": "${ref.name}" is not in the current data and "${cur.name}", new in it, has the same distribution (PSI ${fixed3(value)}).` });
  }
  for (const ref of input.onlyInReference) {
    if (!renamedFrom.has(ref.name)) changes.push({ kind: 'dropped', column: ref.name, message: `"${ref.name}" is in the reference but not in the current data.` });
  }
  for (const cur of input.onlyInCurrent) {
    if (!renamedTo.has(cur.name)) changes.push({ kind: 'added', column: cur.name, message: `"${cur.name}" is new in the current data (not in the reference).` });
  }
  for (const [ref, cur] of input.both) {
    const refPresent = isProfileColumn(ref) ? ref.count : ref.count - ref.missing;
    if (cur.count > 0 && cur.missing === cur.count && refPresent > 0) {
      changes.push({ kind: 'all-missing', column: ref.name, message: `every value of "${ref.name}" is missing in the current data (${cur.count.toLocaleString('en-US')} rows), and the reference has ${refPresent.toLocaleString('en-US')} values.` });
      continue;
    }
    const change = isTypeChange(ref, cur);
    if (change) changes.push({ kind: 'type-changed', column: ref.name, message: `"${ref.name}" was ${change.from} in the reference and is ${change.to} in the current data${change.example === null ? '' : ` (e.g. ${JSON.stringify(change.example)})`}.` });
  }
  const out: SchemaChange[] = [];
  for (const change of changes) {
    const severity = input.severity(change.kind);
    if (severity !== 'off') out.push({ ...change, severity });
  }
  const rank = { retrain: 0, monitor: 1 };
  return out.sort((a, b) => rank[a.severity] - rank[b.severity] || SCHEMA_CHANGE_KINDS.indexOf(a.kind) - SCHEMA_CHANGE_KINDS.indexOf(b.kind));
}

function fixed3(value: number): string {
  return value !== 0 && value < 0.001 ? value.toExponential(1) : value.toFixed(3);
}

/** A value of the current column that is not a number, for the message. */
function nonNumericExample(column: ColumnData): string | null {
  for (const key of column.categories?.keys() ?? []) if (key.trim() === '' || !Number.isFinite(Number(key))) return key;
  return null;
}

/**
 * Numbers that became text, or text that became numbers; null when the kind of values did not
 * change (or one side has no values: that is "all missing", not a type change). Booleans and
 * numeric strings in a profile count as what they hold; dates are not compared.
 */
function isTypeChange(ref: ColumnData | ColumnProfile, cur: ColumnData): { from: string; to: string; example: string | null } | null {
  if (cur.count - cur.missing === 0) return null;
  const curNumeric = numbersOf(cur) !== null;
  let refNumeric: boolean;
  if (isProfileColumn(ref)) {
    if (ref.type === 'datetime' || ref.count === 0) return null;
    refNumeric = ref.type === 'numeric' || (ref.top?.length ? ref.top.every((t) => t.value.trim() !== '' && Number.isFinite(Number(t.value))) : false);
  } else {
    if (ref.count - ref.missing === 0) return null;
    refNumeric = numbersOf(ref) !== null;
  }
  if (refNumeric && !curNumeric) return { from: 'numeric', to: 'text', example: nonNumericExample(cur) };
  if (!refNumeric && curNumeric) return { from: 'text', to: 'numeric', example: cur.categories?.keys().next().value ?? null };
  return null;
}

function resolveThresholds(given: Partial<DriftThresholds> | undefined): DriftThresholds {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...given };
  const { monitor, retrain } = thresholds;
  if (!(Number.isFinite(monitor) && Number.isFinite(retrain) && monitor >= 0 && retrain >= monitor)) {
    throw new UserError('usage', `Drift thresholds need 0 ≤ monitor ≤ retrain (PSI values); got monitor ${monitor}, retrain ${retrain}.`);
  }
  return thresholds;
}

function requireData(source: string, role: string, rows: number, columns: number): void {
  if (rows === 0 || columns === 0) {
    throw new UserError('empty-dataset', `The ${role} (${source}) has no ${rows === 0 ? 'rows' : 'columns'}: there is nothing to compare.`);
  }
}

function readerProblems(dataset: Dataset, problems: string[]): void {
  const list = dataset.problems;
  if (!list.length) return;
  // The reader lists at most 20 (then a count line without a line number): show them all.
  for (const problem of list) problems.push(`${dataset.source}: ${problem.line === null ? '' : `line ${problem.line}: `}${problem.message}`);
}

function smallData(rows: number, role: string, problems: string[]): void {
  if (rows === 1) problems.push(`The ${role} has a single row: drift statistics on one row are not meaningful.`);
  else if (rows < FEW_VALUES) problems.push(`The ${role} has only ${rows} rows: drift statistics on so few rows say little.`);
}

const SEVERITY_RANK: Record<Severity, number> = { retrain: 3, monitor: 2, stable: 1, unavailable: 0 };

function byConcern(a: ColumnDrift, b: ColumnDrift): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (b.psi ?? -1) - (a.psi ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** PSI → severity: below monitor stable, up to retrain monitor, above retrain retrain. */
export function severityOf(value: number, thresholds: DriftThresholds): Severity {
  if (value > thresholds.retrain) return 'retrain';
  if (value >= thresholds.monitor) return 'monitor';
  return 'stable';
}

// ---- one column against a dataset ---------------------------------------------------------

interface Side {
  role: 'reference' | 'current';
  column: ColumnData;
}

function present(column: ColumnData): number {
  return column.count - column.missing;
}

function compareWithData(ref: ColumnData, cur: ColumnData, forced: ColumnKind | undefined, thresholds: DriftThresholds, bins: number): ColumnDrift {
  const notes: string[] = [];
  const both: Side[] = [
    { role: 'reference', column: ref },
    { role: 'current', column: cur },
  ];
  let inferred = inferColumnKind(present(ref) > 0 ? ref : cur);
  if (inferred === 'numeric') {
    for (const side of both) {
      if (!side.column.numbers && present(side.column) > 0) {
        notes.push(`not every value in the ${side.role} is a number: compared as categories.`);
        inferred = 'categorical';
      }
    }
  }
  let kind = forced ?? inferred;
  let numbers: [Float64Array, Float64Array] | null = null;
  if (kind === 'numeric') {
    const r = numbersOf(ref);
    const c = numbersOf(cur);
    if (r && c) numbers = [r, c];
    else {
      notes.push('set to numeric, but some values are not numbers: compared as categories.');
      kind = 'categorical';
    }
  }
  for (const side of both) {
    if (side.column.sampled && kind === 'numeric') {
      notes.push(`the ${side.role} statistics use a uniform sample of ${side.column.numbers?.length ?? 0} of its ${present(side.column)} values.`);
    }
  }
  missingShift(ref.missing, ref.count, cur.missing, cur.count, notes);

  if (kind === 'numeric' && numbers) {
    return numericWithData(ref, cur, numbers[0], numbers[1], inferred, thresholds, bins, notes);
  }
  const refCounts = categoriesOf(ref);
  const curCounts = categoriesOf(cur);
  const base = { name: ref.name, kind, inferredKind: inferred };
  const summaries = { reference: categorySummary(ref.count - ref.missing, ref.missing, refCounts), current: categorySummary(cur.count - cur.missing, cur.missing, curCounts) };
  if (!refCounts || !curCounts) {
    notes.push('too many distinct values to compare as categories (free text or identifiers): no statistics.');
    return unavailable(base, summaries, notes);
  }
  return categorical(base, refCounts, 0, curCounts, summaries, thresholds, notes);
}

/** A column's numbers, or its categories parsed as numbers when every one is a finite number. */
function numbersOf(column: ColumnData): Float64Array | null {
  if (column.numbers) return column.numbers;
  if (!column.categories) return null;
  let total = 0;
  for (const [key, count] of column.categories) {
    if (key.trim() === '' || !Number.isFinite(Number(key))) return null;
    total += count;
  }
  const out = new Float64Array(total);
  let k = 0;
  for (const [key, count] of column.categories) out.fill(Number(key), k, (k += count));
  return out;
}

/** Category counts: the reader's, else the numbers as text; null when the reader gave up (too many). */
function categoriesOf(column: ColumnData): Map<string, number> | null {
  if (column.categories) return column.categories;
  if (!column.numbers) return present(column) === 0 ? new Map() : null;
  const byValue = new Map<number, number>();
  const values = column.numbers;
  for (let i = 0; i < values.length; i++) byValue.set(values[i]!, (byValue.get(values[i]!) ?? 0) + 1);
  return new Map([...byValue].map(([v, c]) => [String(v), c]));
}

function missingShift(refMissing: number, refRows: number, curMissing: number, curRows: number, notes: string[]): void {
  if (refRows === 0 || curRows === 0) return;
  const a = refMissing / refRows;
  const b = curMissing / curRows;
  if (Math.abs(a - b) > MISSING_SHIFT) notes.push(`missing values went from ${percent(a)} of rows in the reference to ${percent(b)} in the current data.`);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

function numericWithData(
  ref: ColumnData,
  cur: ColumnData,
  refNumbers: Float64Array,
  curNumbers: Float64Array,
  inferred: ColumnKind,
  thresholds: DriftThresholds,
  bins: number,
  notes: string[],
): ColumnDrift {
  const a = sortedFinite(refNumbers);
  const b = sortedFinite(curNumbers);
  const base = { name: ref.name, kind: 'numeric' as const, inferredKind: inferred };
  const summaries = { reference: numericSummary(a, present(ref), ref.missing), current: numericSummary(b, present(cur), cur.missing) };
  if (!emptySides(a.length, b.length, notes)) return unavailable(base, summaries, notes);
  fewValues(a.length, b.length, notes);

  const cuts = psiCuts(decileEdges(a));
  const value = psi(binCounts(a, cuts), binCounts(b, cuts));
  const d = ksStatistic(a, b);
  const raw = wasserstein1(a, b);
  const scale = populationStd(summaries.reference.std ?? 0, a.length);
  if (scale === 0) notes.push('the reference is constant: the Wasserstein distance is given in the column’s units only.');
  return {
    ...base,
    ...judged(value, thresholds),
    test: { name: 'ks', statistic: d, pValue: kolmogorovSmirnovPValue(d, a.length, b.length) },
    effect: { name: 'wasserstein', value: scale > 0 ? raw / scale : null, raw },
    ...summaries,
    unseenCategories: null,
    histogram: { type: 'bins', binning: 'equal-width', ...sharedHistogram(a, b, bins) },
    notes,
  };
}

function populationStd(sampleStd: number, n: number): number {
  return n > 1 ? sampleStd * Math.sqrt((n - 1) / n) : 0;
}

function numericSummary(sorted: Float64Array, count: number, missing: number): SideSummary {
  if (sorted.length === 0) return { count, missing };
  const { mean, std } = meanStd(sorted);
  return { count, missing, min: sorted[0]!, max: sorted[sorted.length - 1]!, mean, std };
}

/** False (with a note) when a side has no values. */
function emptySides(n: number, m: number, notes: string[]): boolean {
  if (n > 0 && m > 0) return true;
  const where = n === 0 && m === 0 ? 'either dataset' : n === 0 ? 'the reference' : 'the current data';
  notes.push(`no values in ${where} (all missing): no statistics.`);
  return false;
}

function fewValues(n: number, m: number, notes: string[]): void {
  const least = Math.min(n, m);
  if (least < FEW_VALUES) notes.push(`only ${least} value${least === 1 ? '' : 's'} on one side: the statistics say little.`);
}

function judged(value: number, thresholds: DriftThresholds): { severity: Severity; drifted: boolean; psi: number } {
  const severity = severityOf(value, thresholds);
  return { severity, drifted: severity !== 'stable', psi: value };
}

type Base = Pick<ColumnDrift, 'name' | 'kind' | 'inferredKind'>;
type Summaries = Pick<ColumnDrift, 'reference' | 'current'>;

function unavailable(base: Base, summaries: Summaries, notes: string[]): ColumnDrift {
  return { ...base, severity: 'unavailable', drifted: false, psi: null, test: null, effect: null, ...summaries, unseenCategories: null, histogram: null, notes };
}

// ---- categories ---------------------------------------------------------------------------

/** Internal key of a profile's "(other)" bucket: cannot collide with a real value. */
const OTHER_KEY = '\u0000other';

function categorySummary(count: number, missing: number, counts: Map<string, number> | null): SideSummary {
  if (!counts) return { count, missing };
  const top = [...counts]
    .filter(([k]) => k !== OTHER_KEY)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, TOP_SUMMARY)
    .map(([value, c]) => ({ value, count: c }));
  const distinct = [...counts.keys()].filter((k) => k !== OTHER_KEY).length;
  return { count, missing, top, distinct };
}

/** "True"/"true"/"TRUE" are one value when both sides hold only booleans (pandas writes True, JSON true). */
function canonicalBooleans(a: Map<string, number>, b: Map<string, number>): [Map<string, number>, Map<string, number>] {
  const isBool = (m: Map<string, number>) => [...m.keys()].every((k) => k === OTHER_KEY || /^(true|false)$/i.test(k));
  if (!isBool(a) || !isBool(b)) return [a, b];
  const lower = (m: Map<string, number>) => {
    const out = new Map<string, number>();
    for (const [k, c] of m) {
      const key = k === OTHER_KEY ? k : k.toLowerCase();
      out.set(key, (out.get(key) ?? 0) + c);
    }
    return out;
  };
  return [lower(a), lower(b)];
}

/**
 * Categorical statistics. `refOther` > 0 means the reference kept only its top values (a
 * profile): current values outside them go to the same "(other)" bucket, and unseen
 * categories cannot be told apart from the reference's rare ones.
 */
function categorical(
  base: Base,
  refCountsIn: Map<string, number>,
  refOther: number,
  curCountsIn: Map<string, number>,
  summaries: Summaries,
  thresholds: DriftThresholds,
  notes: string[],
): ColumnDrift {
  const [refCounts, curCountsRaw] = canonicalBooleans(refCountsIn, curCountsIn);
  const refTotal = [...refCounts.values()].reduce((s, c) => s + c, 0) + refOther;
  const curTotalRaw = [...curCountsRaw.values()].reduce((s, c) => s + c, 0);
  if (!emptySides(refTotal, curTotalRaw, notes)) return unavailable(base, summaries, notes);
  fewValues(refTotal, curTotalRaw, notes);

  let curCounts = curCountsRaw;
  let unseen: ColumnDrift['unseenCategories'];
  const unseenList = [...curCountsRaw].filter(([k]) => !refCounts.has(k)).sort((x, y) => y[1] - x[1]);
  if (refOther > 0) {
    unseen = null;
    curCounts = new Map();
    let other = 0;
    for (const [k, c] of curCountsRaw) {
      if (refCounts.has(k)) curCounts.set(k, c);
      else other += c;
    }
    curCounts.set(OTHER_KEY, other);
  } else {
    unseen = { count: unseenList.length, examples: unseenList.slice(0, UNSEEN_EXAMPLES).map(([k]) => k) };
  }
  const refWith = refOther > 0 ? new Map([...refCounts, [OTHER_KEY, refOther]]) : refCounts;

  const labels = [...new Set([...refWith.keys(), ...curCounts.keys()])];
  const r = labels.map((k) => refWith.get(k) ?? 0);
  const c = labels.map((k) => curCounts.get(k) ?? 0);
  const chi = chiSquareHomogeneity(r, c);
  if (labels.length > MANY_CATEGORIES) notes.push(`${labels.length} distinct values: PSI and chi-square over so many rare categories mostly measure noise.`);
  else if (chi.smallExpected > 0.2) notes.push(`${percent(chi.smallExpected)} of the expected counts are below 5: the chi-square p-value is rough.`);
  if (unseen && unseen.count) notes.push(`${unseen.count} categor${unseen.count === 1 ? 'y' : 'ies'} not in the reference (e.g. ${unseen.examples.map((e) => JSON.stringify(e)).join(', ')}).`);

  return {
    ...base,
    ...judged(psi(r, c), thresholds),
    test: { name: 'chi-square', statistic: chi.statistic, pValue: chi.pValue, df: chi.df },
    effect: { name: 'jensen-shannon', value: jensenShannonDistance(r, c) },
    ...summaries,
    unseenCategories: unseen,
    histogram: categoryChart(labels, r, c),
    notes,
  };
}

function categoryChart(labels: string[], r: number[], c: number[]): DriftHistogram {
  const n = r.reduce((s, x) => s + x, 0) || 1;
  const m = c.reduce((s, x) => s + x, 0) || 1;
  const order = labels
    .map((label, i) => ({ label, rf: r[i]! / n, cf: c[i]! / m }))
    .filter((x) => x.label !== OTHER_KEY)
    .sort((x, y) => Math.max(y.rf, y.cf) - Math.max(x.rf, x.cf) || (x.label < y.label ? -1 : 1));
  const shown = order.slice(0, TOP_CHART);
  const out = { type: 'categories' as const, labels: shown.map((x) => x.label), reference: shown.map((x) => x.rf), current: shown.map((x) => x.cf) };
  const restR = 1 - out.reference.reduce((s, x) => s + x, 0);
  const restC = 1 - out.current.reduce((s, x) => s + x, 0);
  if (order.length > TOP_CHART || labels.includes(OTHER_KEY)) {
    out.labels.push(OTHER);
    out.reference.push(Math.max(restR, 0));
    out.current.push(Math.max(restC, 0));
  }
  return out;
}

// ---- one column against a run profile -----------------------------------------------------

function compareWithProfile(ref: ColumnProfile, cur: ColumnData, forced: ColumnKind | undefined, thresholds: DriftThresholds): ColumnDrift {
  const notes: string[] = [];
  const inferred: ColumnKind = ref.type === 'numeric' ? 'numeric' : 'categorical';
  const base: Base = { name: ref.name, kind: inferred, inferredKind: inferred };
  if (forced && forced !== inferred) {
    notes.push(`cannot be compared as ${forced}: the reference profile has ${inferred === 'numeric' ? 'only decile bins' : 'only category counts'} for it.`);
  }
  missingShift(ref.nulls, ref.count + ref.nulls, cur.missing, cur.count, notes);
  const curPresent = present(cur);

  if (ref.type === 'datetime' || (ref as { error?: boolean }).error) {
    notes.push(ref.type === 'datetime' ? 'date/time columns are not compared.' : 'the reference profile has no statistics for it.');
    return unavailable(base, { reference: { count: ref.count, missing: ref.nulls }, current: { count: curPresent, missing: cur.missing } }, notes);
  }

  if (inferred === 'categorical') {
    const top = new Map<string, number>();
    for (const t of ref.top ?? []) top.set(t.value, t.count);
    const listed = [...top.values()].reduce((s, c) => s + c, 0);
    const other = Math.max(ref.count - listed, 0);
    const curCounts = categoriesOf(cur);
    const reference: SideSummary = { ...categorySummary(ref.count, ref.nulls, top), ...(other > 0 ? { distinct: top.size + 1 } : {}) };
    const summaries = { reference, current: categorySummary(curPresent, cur.missing, curCounts) };
    if (!curCounts) {
      notes.push('too many distinct values in the current data to compare as categories: no statistics.');
      return unavailable(base, summaries, notes);
    }
    if (other > 0) notes.push(`the reference profile kept its ${top.size} most frequent values: the rest are compared as one "(other)" bucket.`);
    return categorical(base, top, other, curCounts, summaries, thresholds, notes);
  }

  const numbers = numbersOf(cur);
  const b = numbers ? sortedFinite(numbers) : new Float64Array(0);
  const nonFinite = (ref as { nonFinite?: number }).nonFinite ?? 0;
  const reference: SideSummary = {
    count: ref.count,
    missing: ref.nulls,
    ...(ref.min !== undefined ? { min: ref.min } : {}),
    ...(ref.max !== undefined ? { max: ref.max } : {}),
    ...(ref.mean !== undefined ? { mean: ref.mean } : {}),
    ...(ref.std !== undefined ? { std: ref.std } : {}),
  };
  const summaries = { reference, current: numericSummary(b, curPresent, cur.missing) };
  if (!numbers && curPresent > 0) {
    notes.push('not every current value is a number, and the reference profile has only numeric bins: no statistics.');
    return unavailable(base, summaries, notes);
  }
  const bins = ref.bins;
  if (!bins || bins.edges.length < 2 || bins.counts.length !== bins.edges.length - 1) {
    notes.push(bins || reference.count > nonFinite ? 'the reference profile has no usable bins: no statistics.' : 'no values in the reference (all missing): no statistics.');
    return unavailable(base, summaries, notes);
  }
  const n = bins.counts.reduce((s, c) => s + c, 0);
  if (!emptySides(n, b.length, notes)) return unavailable(base, summaries, notes);
  fewValues(n, b.length, notes);
  if (cur.sampled) notes.push(`the current statistics use a uniform sample of ${b.length} of its ${curPresent} values.`);

  const edges = bins.edges;
  const cuts = psiCuts(edges);
  const refCounts = edges.length <= 2 ? [0, n, 0] : bins.counts;
  const curCounts = binCounts(b, cuts);
  const d = ksStatisticBinned(edges, bins.counts, b);
  const raw = wasserstein1Binned(edges, bins.counts, b);
  const scale = populationStd(ref.std ?? 0, n);
  if (scale === 0) notes.push('the reference is constant: the Wasserstein distance is given in the column’s units only.');
  const lo = Math.min(edges[0]!, b[0]!);
  const hi = Math.max(edges[edges.length - 1]!, b[b.length - 1]!);
  return {
    ...base,
    ...judged(psi(refCounts, curCounts), thresholds),
    test: { name: 'ks', statistic: d, pValue: kolmogorovSmirnovPValue(d, n, b.length), approximate: true },
    effect: { name: 'wasserstein', value: scale > 0 ? raw / scale : null, raw, approximate: true },
    ...summaries,
    unseenCategories: null,
    histogram: {
      type: 'bins',
      binning: 'reference-deciles',
      edges: [lo, ...cuts, hi],
      reference: refCounts.map((x) => x / n),
      current: curCounts.map((x) => x / b.length),
    },
    notes,
  };
}
