/** Small formatters shared by the CLI text output, the Runs view and the run page. */
import type { CellChange } from '../diff';
import type { RunEnvelope } from '../envelope';
import { cellIdsOf, cellLabel } from '../notebook/cellLabel';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "3 min ago", "2 days ago": how long before `now` a time was. */
export function formatAge(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const units: Array<[number, string]> = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24 * 30, 'month'],
    [60 * 60 * 24 * 7, 'week'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'min'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${unit}${n > 1 && unit !== 'min' ? 's' : ''} ago`;
    }
  }
  return 'just now';
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Metric values: 4 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

export function formatSigned(value: number | null): string {
  if (value === null) return '—';
  return `${value > 0 ? '+' : ''}${formatNumber(value)}`;
}

export function formatPercent(value: number | null): string {
  if (value === null) return '';
  return `${value > 0 ? '+' : ''}${(value * 100).toFixed(Math.abs(value) < 0.1 ? 2 : 1)}%`;
}

export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : '—';
}

/** The metrics to show beside a run: the configured ones that it has, else its first two by name. */
export function keyMetrics(metrics: Record<string, number>, preferred: readonly string[] = [], count = 2): Array<[string, number]> {
  const chosen = preferred.filter((name) => name in metrics);
  const names = chosen.length ? chosen : Object.keys(metrics).sort().slice(0, count);
  return names.map((name) => [name, metrics[name]!]);
}

/** One changed code cell of a run diff: "cell 6 (id 1a2b) changed, was cell 5 in A". */
export function cellChangeText(change: CellChange): string {
  if (change.kind === 'added') return `${cellLabel(change.indexB!, change.id)} added in B`;
  if (change.kind === 'removed') return `${cellLabel(change.indexA!, change.id)} of A removed`;
  const moved = change.indexA !== change.indexB ? `, was ${cellLabel(change.indexA!)} in A` : '';
  return `${cellLabel(change.indexB!, change.id)} changed${moved}`;
}

/** Where a run failed and why, in one line: "in cell 5 (id 1a2b): ValueError: bad input". */
export function runErrorText(run: Pick<RunEnvelope, 'error' | 'source'>): string {
  if (!run.error) return '';
  const cell = run.error.cell;
  return cell === undefined ? run.error.message : `in ${cellLabel(cell, cellIdsOf(run.source.cells)(cell))}: ${run.error.message}`;
}
