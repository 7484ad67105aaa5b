/**
 * The Drift panel's page: the choice of reference and current data, then the report — a summary
 * line with the thresholds, the schema changes, the columns by severity, and an overlaid histogram of the selected
 * column (vega-lite through the interpreter: no eval under the CSP). Text via textContent only.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { type DriftMessage, type DriftPageReport, type DriftState, type DriftToPage, driftStateSchema, driftToPageSchema } from '../../src/protocol/drift';
import { drawChart } from '../shared/chart';
import { el } from '../shared/dom';
import { connectPage } from '../shared/host';

type Column = DriftPageReport['columns'][number];

const app = document.getElementById('app')!;
let report: DriftPageReport | undefined;
let labels = { reference: '', current: '' };
let chart: View | undefined;

const vscode = connectPage<DriftMessage, DriftToPage, DriftState>({
  toPage: driftToPageSchema,
  state: driftStateSchema,
  onMessage(message) {
    switch (message.type) {
      case 'choose':
        save(message.state);
        app.replaceChildren(chooser(message.referenceLabel, message.currentLabel));
        break;
      case 'computing':
        app.replaceChildren(chooser(null, null, true), el('p', { className: 'muted', role: 'status' }, message.what));
        break;
      case 'error':
        save(message.state);
        app.replaceChildren(chooser(null, null), el('div', { className: 'error', role: 'alert' }, message.message));
        break;
      case 'report':
        save({ ...message.state, column: state.column ?? null });
        report = message.report;
        labels = { reference: message.referenceLabel, current: message.currentLabel };
        render();
        break;
    }
  },
  // The histogram was drawn in the old theme's colours.
  onTheme: () => render(),
});
let state: DriftState = vscode.savedState ?? {};

function save(next: DriftState): void {
  state = { ...next, column: next.column ?? state.column ?? null };
  vscode.saveState(state);
}

function chooser(referenceLabel: string | null, currentLabel: string | null, busy = false): HTMLElement {
  const reference = el('button', { id: 'pick-reference', disabled: busy }, referenceLabel ? `Reference: ${referenceLabel}` : 'Choose the reference data…');
  reference.addEventListener('click', () => vscode.post({ type: 'pickReference' }));
  const current = el('button', { id: 'pick-current', disabled: busy }, currentLabel ? `Current: ${currentLabel}` : 'Choose the current data…');
  current.addEventListener('click', () => vscode.post({ type: 'pickCurrent' }));
  return el(
    'section',
    { className: 'chooser' },
    el('h1', {}, 'Data drift'),
    el('p', { className: 'muted' }, 'Compare the data a model sees now with the data it was trained on: a CSV, TSV, JSON Lines or Parquet file, or the profile a tracked run captured.'),
    reference,
    ' ',
    current,
  );
}

function render(): void {
  if (!report) return;
  chart?.finalize();
  chart = undefined;
  const r = report;
  const selected = r.columns.find((c) => c.name === state.column) ?? r.columns.find((c) => c.histogram) ?? r.columns[0];
  const exportButtons = (['html', 'md', 'json'] as const).map((format) => {
    const button = el('button', { className: 'export' }, `Export ${format === 'md' ? 'Markdown' : format.toUpperCase()}`);
    button.addEventListener('click', () => vscode.post({ type: 'export', format }));
    return button;
  });
  const chartBox = el('div', { className: 'chart', id: 'histogram', role: 'img', ariaLabel: selected ? `Distribution of ${selected.name}, reference and current` : '' });
  app.replaceChildren(
    chooser(labels.reference, labels.current),
    el('p', { className: `summary ${r.datasetDrift.drifted || r.schema.length ? 'drifted' : 'stable'}`, id: 'summary' }, summary(r)),
    el('p', { className: 'muted' }, `PSI < ${r.thresholds.monitor} stable · ${r.thresholds.monitor}–${r.thresholds.retrain} monitor · > ${r.thresholds.retrain} retrain. With many rows any difference gets a tiny p-value: read the PSI and the effect size.`),
    el('div', {}, ...exportButtons),
    schemaChanges(r),
    columnsTable(r, selected),
    el('h2', {}, selected ? `${selected.name}: reference vs current` : 'Distribution'),
    chartBox,
    problems(r),
  );
  if (selected?.histogram) void draw(chartBox, histogramSpec(selected));
  else chartBox.replaceChildren(el('p', { className: 'muted' }, 'No distribution to draw for this column.'));
}

function summary(r: DriftPageReport): string {
  const { drifted, total, share } = r.datasetDrift;
  const schema = r.schema.length ? `, ${r.schema.length} schema change${r.schema.length === 1 ? '' : 's'}` : '';
  return `${total ? `${drifted} of ${total} columns drifted (${Math.round(share * 100)}%)` : 'No column could be compared'}${schema} — reference ${r.reference.rows.toLocaleString()} rows${r.reference.type === 'profile' ? ' (a run\u2019s profile)' : ''}, current ${r.current.rows.toLocaleString()} rows.`;
}

/** Columns dropped, added, renamed, entirely missing or of another type, and files that are not text: findings of their own. */
function schemaChanges(r: DriftPageReport): HTMLElement {
  if (!r.schema.length) return el('section', {});
  const table = el('table', { className: 'metrics schema-changes', id: 'schema-changes' });
  const head = document.createElement('tr');
  for (const title of ['severity', 'change', 'column', 'what']) head.append(el('th', {}, title));
  table.append(head);
  for (const change of r.schema) {
    const tr = document.createElement('tr');
    tr.className = `severity-${change.severity}`;
    const column = change.column === null ? '—' : change.to ? `${change.column} → ${change.to}` : change.column;
    for (const value of [change.severity, change.kind, column, change.message]) tr.append(el('td', {}, value));
    table.append(tr);
  }
  return el('section', {}, el('h2', {}, 'Schema changes'), table);
}

function columnsTable(r: DriftPageReport, selected: Column | undefined): HTMLElement {
  const table = el('table', { className: 'metrics drift' });
  const head = document.createElement('tr');
  for (const title of ['column', 'kind', 'PSI', 'severity', 'test', 'p-value', 'effect size', 'missing (ref → cur)']) head.append(el('th', {}, title));
  table.append(head);
  for (const column of r.columns) {
    const tr = document.createElement('tr');
    tr.className = `severity-${column.severity}${column === selected ? ' selected' : ''}`;
    tr.tabIndex = 0;
    const cells = [
      column.name,
      column.kind,
      column.psi === null ? '—' : fmt(column.psi),
      column.severity,
      column.test ? `${column.test.name === 'ks' ? 'KS' : 'χ²'} ${fmt(column.test.statistic)}${column.test.approximate ? ' ~' : ''}` : '—',
      column.test ? pValue(column.test.pValue) : '—',
      column.effect?.value === null || !column.effect ? '—' : `${column.effect.name === 'wasserstein' ? 'W' : 'JS'} ${fmt(column.effect.value)}${column.effect.approximate ? ' ~' : ''}`,
      `${share(column.reference)} → ${share(column.current)}`,
    ];
    for (const value of cells) tr.append(el('td', {}, value));
    const choose = () => {
      save({ ...state, column: column.name });
      render();
    };
    tr.addEventListener('click', choose);
    tr.addEventListener('keydown', (event) => event.key === 'Enter' && choose());
    table.append(tr);
  }
  return el('section', {}, el('h2', {}, 'Columns, most drifted first'), table);
}

function problems(r: DriftPageReport): HTMLElement {
  if (!r.problems.length) return el('section', {});
  const list = el('ul', {});
  for (const problem of r.problems) list.append(el('li', {}, problem));
  return el('section', { className: 'flags' }, el('h2', {}, 'Notes'), list);
}

/**
 * Reference and current side by side, never overlaid (an overlap would blend into a third colour
 * no legend explains). Numeric bins keep their real widths — a run profile's bins are the
 * reference deciles, uneven — so each side's bar is half its bin and the height is the share of
 * rows per unit of the column (area = share); equal-width bins show the share itself.
 */
function histogramSpec(column: Column): TopLevelSpec {
  const h = column.histogram!;
  const color = { field: 'side', type: 'nominal', title: null, scale: { domain: ['reference', 'current'] }, legend: { orient: 'top', direction: 'horizontal' } };
  if (h.type === 'categories') {
    const values = h.labels.flatMap((label, i) => [
      { bin: label, order: i, side: 'reference', fraction: h.reference[i] ?? 0 },
      { bin: label, order: i, side: 'current', fraction: h.current[i] ?? 0 },
    ]);
    return {
      width: 'container',
      height: 240,
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: column.name, axis: { labelAngle: -40 } },
        xOffset: { field: 'side', scale: { domain: ['reference', 'current'] } },
        y: { field: 'fraction', type: 'quantitative', title: 'share of rows', axis: { format: '%', tickCount: 5 } },
        color,
        tooltip: [{ field: 'side' }, { field: 'bin', title: column.name }, { field: 'fraction', format: '.1%', title: 'share' }],
      },
    } as TopLevelSpec;
  }
  const bins = mergeEmptyWidths(h.edges, h.reference, h.current);
  const widths = bins.map((b) => b.hi - b.lo);
  const uneven = Math.max(...widths) - Math.min(...widths) > 1e-9 * Math.max(...widths.map(Math.abs), 1);
  const values = bins.flatMap((b) => {
    const mid = (b.lo + b.hi) / 2;
    const width = b.hi - b.lo;
    const range = `${fmt(b.lo)}–${fmt(b.hi)}`;
    return [
      { side: 'reference', x0: b.lo, x1: mid, y: uneven ? b.reference / width : b.reference, fraction: b.reference, range },
      { side: 'current', x0: mid, x1: b.hi, y: uneven ? b.current / width : b.current, fraction: b.current, range },
    ];
  });
  return {
    width: 'container',
    height: 240,
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: column.name, scale: { zero: false, nice: false }, axis: { tickCount: 6 } },
      x2: { field: 'x1' },
      y: { field: 'y', type: 'quantitative', title: uneven ? 'share of rows per unit (bins of unequal width)' : 'share of rows', axis: uneven ? { tickCount: 5 } : { format: '%', tickCount: 5 } },
      y2: { datum: 0 },
      color,
      tooltip: [{ field: 'side' }, { field: 'range', title: column.name }, { field: 'fraction', format: '.1%', title: 'share' }],
    },
  } as TopLevelSpec;
}

/** Bins of zero width (repeated decile edges: many equal values) are folded into their neighbour. */
function mergeEmptyWidths(edges: number[], reference: number[], current: number[]): Array<{ lo: number; hi: number; reference: number; current: number }> {
  const bins: Array<{ lo: number; hi: number; reference: number; current: number }> = [];
  let carry = { reference: 0, current: 0 };
  for (let i = 0; i + 1 < edges.length; i++) {
    const lo = edges[i]!;
    const hi = edges[i + 1]!;
    const ref = (reference[i] ?? 0) + carry.reference;
    const cur = (current[i] ?? 0) + carry.current;
    if (!(hi > lo)) {
      carry = { reference: ref, current: cur };
      continue;
    }
    carry = { reference: 0, current: 0 };
    bins.push({ lo, hi, reference: ref, current: cur });
  }
  const last = bins.at(-1);
  if (last) {
    last.reference += carry.reference;
    last.current += carry.current;
  } else if (edges.length) {
    // Every value equal: one bar a unit wide around it.
    const v = edges[0]!;
    bins.push({ lo: v - 0.5, hi: v + 0.5, reference: carry.reference, current: carry.current });
  }
  return bins;
}

async function draw(container: HTMLElement, spec: TopLevelSpec): Promise<void> {
  chart = await drawChart(container, spec);
}

function share(side: { count: number; missing: number }): string {
  const total = side.count + side.missing;
  return total ? `${((side.missing / total) * 100).toFixed(1)}%` : '—';
}

function pValue(p: number): string {
  if (p < 1e-300) return '< 1e-300';
  if (p < 0.001) return p.toExponential(1);
  return p.toFixed(3);
}

function fmt(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}
