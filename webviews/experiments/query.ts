/**
 * What the experiments table does with its rows — columns, the filter language, sorting and the
 * per-group rows — as plain functions over the columnar table, so the page stays a thin view and
 * this is unit-tested (test/unit/experiments.test.ts). No DOM. The t quantiles of the group
 * intervals come with the table, computed by the core's t distribution (webviews import only
 * the protocol).
 *
 * Filter language (terms are ANDed, separated by spaces or commas):
 *   accuracy > 0.8     a column compared with a number: > >= < <= = != (on metrics, params, duration in s, …)
 *   status=failed      a column equal to (=) or containing (~) a text; != for "not"
 *   max_depth=12       params by their short label (or full name)
 *   deep "max depth"   any other word or quoted phrase: found in the name, id, source, status,
 *                      tags, group, seeds, commit, data or a param's `name=value`
 */
import type { ExperimentTable, ParamCell } from '../../src/protocol/experiments';

export type CellValue = string | number | boolean | null;

export interface Column {
  /** Stable id: `name`, `status`, …, `param:KEY`, `metric:KEY`, `best:KEY`. */
  id: string;
  label: string;
  /** Names the filter accepts for it (lowercase). */
  aliases: string[];
  numeric: boolean;
  /** Sort descending on first click (metrics where higher is better, recent first). */
  descendingFirst: boolean;
  /** Shown unless the user chose otherwise. */
  byDefault: boolean;
  value(row: number): CellValue;
  text(row: number): string;
  title?(row: number): string;
}

export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e9) return String(value);
  if (abs >= 1e-3 && abs < 1e6) return String(Number(value.toPrecision(4)));
  return value.toExponential(2);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function paramText(value: ParamCell): string {
  if (value === null) return '—';
  return typeof value === 'string' ? value : String(value);
}

/**
 * Every column of a table, in the order they are shown by default: the run and its status, the
 * params that vary, the metrics — what a row is read for, first, in a narrow panel — then the
 * seed, when, how long, commit, data, tags; then the params that do not vary and the best values.
 */
export function columnsOf(table: ExperimentTable): Column[] {
  const text = (values: ReadonlyArray<string | null>) => (row: number) => values[row] ?? '';
  const facts: Column[] = [
    { id: 'name', label: 'run', aliases: ['name', 'run'], numeric: false, descendingFirst: false, byDefault: true, value: (r) => table.name[r]!, text: (r) => table.name[r]!, title: (r) => `${table.name[r]}\n${table.ids[r]}` },
    { id: 'status', label: 'status', aliases: ['status'], numeric: false, descendingFirst: false, byDefault: true, value: (r) => table.status[r]!, text: (r) => (table.duplicateOf[r] ? `${table.status[r]} (dup)` : table.status[r]!), title: (r) => (table.duplicateOf[r] ? `repeats run ${table.duplicateOf[r]} exactly (same code, params, seeds and data): counted once when grouped` : '') },
    { id: 'started', label: 'started', aliases: ['started', 'time', 'date'], numeric: false, descendingFirst: true, byDefault: true, value: (r) => table.startedAt[r]!, text: (r) => table.startedAt[r]!.slice(0, 16).replace('T', ' '), title: (r) => table.startedAt[r]! },
    { id: 'duration', label: 'duration', aliases: ['duration'], numeric: true, descendingFirst: true, byDefault: true, value: (r) => table.durationMs[r]! / 1000, text: (r) => formatDuration(table.durationMs[r]!) },
    { id: 'seeds', label: 'seed', aliases: ['seed', 'seeds'], numeric: false, descendingFirst: false, byDefault: true, value: text(table.seeds), text: text(table.seeds) },
    { id: 'source', label: 'source', aliases: ['source', 'notebook', 'script'], numeric: false, descendingFirst: false, byDefault: false, value: text(table.source), text: text(table.source) },
    { id: 'group', label: 'group', aliases: ['group'], numeric: false, descendingFirst: false, byDefault: false, value: text(table.group), text: text(table.group) },
    { id: 'commit', label: 'commit', aliases: ['commit', 'git'], numeric: false, descendingFirst: false, byDefault: true, value: text(table.commit), text: text(table.commit), title: (r) => (table.commit[r]?.endsWith('*') ? 'uncommitted changes when the run started' : '') },
    { id: 'data', label: 'data', aliases: ['data', 'dataset'], numeric: false, descendingFirst: false, byDefault: true, value: text(table.data), text: text(table.data), title: (r) => table.dataFiles[r]! },
    { id: 'tags', label: 'tags', aliases: ['tag', 'tags'], numeric: false, descendingFirst: false, byDefault: true, value: (r) => table.tags[r]!.join(', '), text: (r) => table.tags[r]!.join(', ') },
  ];
  const params: Column[] = [];
  const metrics: Column[] = [];
  const bests: Column[] = [];
  for (const param of table.params) {
    const numeric = param.values.every((v) => v === null || typeof v === 'number');
    params.push({
      id: `param:${param.key}`,
      label: param.label,
      aliases: [...new Set([param.label, param.key, ...param.also].map((n) => n.toLowerCase()))],
      numeric,
      descendingFirst: false,
      byDefault: param.varies && !param.seedLike,
      value: (r) => param.values[r] ?? null,
      text: (r) => paramText(param.values[r] ?? null),
      title: () => [param.key, ...param.also].filter((n) => n !== param.label).join(', '),
    });
  }
  for (const metric of table.metrics) {
    metrics.push({
      id: `metric:${metric.key}`,
      label: metric.key,
      aliases: [metric.key.toLowerCase(), `last:${metric.key.toLowerCase()}`],
      numeric: true,
      descendingFirst: !metric.lowerIsBetter,
      byDefault: true,
      value: (r) => metric.last[r] ?? null,
      text: (r) => formatNumber(metric.last[r] ?? null),
    });
    if (metric.steps.some((s) => s > 0)) {
      bests.push({
        id: `best:${metric.key}`,
        label: `best ${metric.key}`,
        aliases: [`best:${metric.key.toLowerCase()}`, `best_${metric.key.toLowerCase()}`],
        numeric: true,
        descendingFirst: !metric.lowerIsBetter,
        byDefault: false,
        value: (r) => metric.best[r] ?? null,
        text: (r) => formatNumber(metric.best[r] ?? null),
        title: (r) => `${metric.lowerIsBetter ? 'lowest' : 'highest'} of ${metric.steps[r]} logged steps`,
      });
    }
  }
  const byId = (id: string) => facts.find((c) => c.id === id)!;
  return [
    byId('name'),
    byId('status'),
    ...params.filter((c) => c.byDefault),
    ...metrics,
    ...['seeds', 'started', 'duration', 'commit', 'data', 'tags', 'source', 'group'].map(byId),
    ...params.filter((c) => !c.byDefault),
    ...bests,
  ];
}

// ---- filter -----------------------------------------------------------------------------------

export type Operator = '>' | '>=' | '<' | '<=' | '=' | '!=' | '~';

export type Term = { kind: 'text'; text: string } | { kind: 'compare'; column: Column; op: Operator; value: string; number: number | null };

export interface ParsedFilter {
  terms: Term[];
  /** What could not be understood, in words (the filter still applies the other terms). */
  problems: string[];
}

const COMPARISON = /^("[^"]*"|[^\s<>=!~"]+)\s*(>=|<=|!=|==|=|>|<|~)\s*("[^"]*"|[^\s,"]*)/;

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

export function parseFilter(input: string, columns: readonly Column[]): ParsedFilter {
  const terms: Term[] = [];
  const problems: string[] = [];
  // Params and metrics first: a param called `seed` or `status` is what the user means, before
  // the built-in column of that name.
  const byName = new Map<string, Column>();
  const ordered = [...columns.filter((c) => c.id.includes(':')), ...columns.filter((c) => !c.id.includes(':'))];
  for (const column of ordered) for (const alias of column.aliases) if (!byName.has(alias)) byName.set(alias, column);
  let rest = input.trim();
  while (rest.length) {
    rest = rest.replace(/^[\s,]+/, '');
    if (!rest) break;
    const comparison = COMPARISON.exec(rest);
    if (comparison) {
      const [whole, rawName, rawOp, rawValue] = comparison as unknown as [string, string, string, string];
      const nameText = unquote(rawName).toLowerCase();
      const column = byName.get(nameText);
      const op = (rawOp === '==' ? '=' : rawOp) as Operator;
      const value = unquote(rawValue);
      rest = rest.slice(whole.length);
      if (!column) {
        problems.push(`no column "${unquote(rawName)}"`);
        continue;
      }
      if (value === '') {
        problems.push(`"${unquote(rawName)} ${op}" needs a value`);
        continue;
      }
      const number = Number(value);
      const numeric = value !== '' && Number.isFinite(number);
      if (['>', '>=', '<', '<='].includes(op) && column.numeric && !numeric) {
        problems.push(`"${value}" is not a number (${column.label} ${op} …)`);
        continue;
      }
      terms.push({ kind: 'compare', column, op, value, number: numeric ? number : null });
      continue;
    }
    const word = /^("[^"]*"|[^\s,]+)/.exec(rest)!;
    rest = rest.slice(word[0].length);
    const text = unquote(word[0]).toLowerCase();
    if (text) terms.push({ kind: 'text', text });
  }
  return { terms, problems };
}

/** The text a free word is searched in: everything a person would recognise a run by. */
function haystack(table: ExperimentTable, row: number): string {
  const params = table.params.map((p) => `${p.label}=${paramText(p.values[row] ?? null)}`).join(' ');
  return [table.name[row], table.ids[row], table.source[row], table.status[row], table.tags[row]!.join(' '), table.group[row] ?? '', table.seeds[row], table.commit[row] ?? '', table.data[row] ?? '', params].join(' ').toLowerCase();
}

function compare(term: Extract<Term, { kind: 'compare' }>, value: CellValue): boolean {
  if (value === null || value === '') return term.op === '!=' ? true : false;
  if (typeof value === 'number' && term.number !== null) {
    switch (term.op) {
      case '>':
        return value > term.number;
      case '>=':
        return value >= term.number;
      case '<':
        return value < term.number;
      case '<=':
        return value <= term.number;
      case '=':
        return value === term.number;
      case '!=':
        return value !== term.number;
      case '~':
        return String(value).includes(term.value);
    }
  }
  const text = String(value).toLowerCase();
  const wanted = term.value.toLowerCase();
  switch (term.op) {
    case '=':
      return text === wanted || text.split(', ').includes(wanted);
    case '!=':
      return text !== wanted && !text.split(', ').includes(wanted);
    case '~':
      return text.includes(wanted);
    case '>':
      return text > wanted;
    case '>=':
      return text >= wanted;
    case '<':
      return text < wanted;
    case '<=':
      return text <= wanted;
  }
}

/** Indices of the rows every term accepts, in table order. */
export function filterRows(table: ExperimentTable, terms: readonly Term[]): number[] {
  const out: number[] = [];
  const texts = terms.filter((t): t is Extract<Term, { kind: 'text' }> => t.kind === 'text');
  const comparisons = terms.filter((t): t is Extract<Term, { kind: 'compare' }> => t.kind === 'compare');
  for (let row = 0; row < table.ids.length; row++) {
    if (!comparisons.every((t) => compare(t, t.column.value(row)))) continue;
    if (texts.length) {
      const hay = haystack(table, row);
      if (!texts.every((t) => hay.includes(t.text))) continue;
    }
    out.push(row);
  }
  return out;
}

/** Sorts row indices by a column; empty cells last whatever the direction; ties keep the older run first. */
export function sortRows<K>(rows: readonly K[], value: (row: K) => CellValue, descending: boolean): K[] {
  const keyed = rows.map((row, order) => ({ row, order, value: value(row) }));
  keyed.sort((a, b) => {
    const x = a.value;
    const y = b.value;
    const xEmpty = x === null || x === '';
    const yEmpty = y === null || y === '';
    if (xEmpty || yEmpty) return xEmpty === yEmpty ? a.order - b.order : xEmpty ? 1 : -1;
    let c: number;
    if (typeof x === 'number' && typeof y === 'number') c = x - y;
    else c = String(x).localeCompare(String(y), undefined, { numeric: true });
    return (descending ? -c : c) || a.order - b.order;
  });
  return keyed.map((k) => k.row);
}

// ---- groups -----------------------------------------------------------------------------------

export interface GroupRow {
  key: string;
  label: string;
  /** Table rows of the group, oldest first, duplicates included. */
  rows: number[];
  /** Rows counted: succeeded and not a duplicate of another run of the group. */
  counted: number[];
  duplicates: number;
  /** Per metric key: mean and t-interval over the counted runs (interval null below two). */
  metrics: Map<string, { n: number; mean: number | null; low: number | null; high: number | null }>;
}

/** The rows grouped by configuration (same code and params, seeds aside; or the same --group), in order of their oldest run. */
export function groupRows(table: ExperimentTable, rows: readonly number[]): GroupRow[] {
  const byKey = new Map<string, number[]>();
  for (const row of rows) {
    const key = table.configKey[row]!;
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const groups = [...byKey.entries()].map(([key, list]) => ({ key, rows: list.sort((a, b) => a - b) }));
  groups.sort((a, b) => a.rows[0]! - b.rows[0]!);
  // Labels: the group name, else the params that differ between the groups (short labels).
  const configParams = table.params.filter((p) => !p.seedLike);
  const varying = configParams.filter((p) => new Set(groups.map((g) => JSON.stringify(p.values[g.rows[0]!] ?? null))).size > 1);
  const used = new Set<string>();
  return groups.map(({ key, rows: list }) => {
    const first = list[0]!;
    let label = table.group[first] ?? '';
    if (!label) {
      const parts = varying.map((p) => `${p.label}=${paramText(p.values[first] ?? null)}`);
      label = parts.length ? parts.join(', ') : groups.length === 1 ? 'all runs' : table.source[first]!;
    }
    let unique = label;
    for (let i = 2; used.has(unique); i++) unique = `${label} (${i})`;
    used.add(unique);
    const inGroup = new Set(list.map((r) => table.ids[r]!));
    const counted = list.filter((r) => table.status[r] === 'succeeded' && !(table.duplicateOf[r] && inGroup.has(table.duplicateOf[r]!)));
    const metrics = new Map<string, { n: number; mean: number | null; low: number | null; high: number | null }>();
    for (const metric of table.metrics) {
      const values = counted.map((r) => metric.last[r]).filter((v): v is number => v !== null && v !== undefined);
      metrics.set(metric.key, meanInterval(values, table.t975));
    }
    return { key, label: unique, rows: list, counted, duplicates: list.filter((r) => table.duplicateOf[r] && inGroup.has(table.duplicateOf[r]!)).length, metrics };
  });
}

/**
 * Mean and 95% t-interval (as core/stats/describe.ts): `t975[df - 1]` is the t quantile for df
 * degrees of freedom; beyond the list, the normal quantile (the difference is under 0.2%).
 */
export function meanInterval(values: readonly number[], t975: readonly number[]): { n: number; mean: number | null; low: number | null; high: number | null } {
  const n = values.length;
  if (!n) return { n, mean: null, low: null, high: null };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  if (n < 2) return { n, mean, low: null, high: null };
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  const se = Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
  const half = (t975[n - 2] ?? 1.959963984540054) * se;
  return { n, mean, low: mean - half, high: mean + half };
}
