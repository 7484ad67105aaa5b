/**
 * The experiments table's plots, a bundle of their own (vega and vega-lite are most of its
 * weight) that the table's page loads after its first paint: parallel coordinates of the params
 * that vary and a metric, a param-vs-metric scatter, step curves of a few runs, and box plots of
 * a metric per group of repeats. Drawn with the interpreter and the canvas renderer (no eval, no
 * inline styles under the CSP), in the theme's colours (shared/chart.ts), again on a theme change.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { type ExperimentsState, type ExperimentTable, type PlotKind, PLOTS } from '../../src/protocol/experiments';
import { type CellValue, formatNumber, groupRows } from '../experiments/query';
import { drawChart, palette } from '../shared/chart';
import { el } from '../shared/dom';

export interface PlotRequest {
  pane: HTMLElement;
  table: ExperimentTable;
  /** Table rows to plot, in table order. */
  rows: number[];
  /** What the rows are, in words ("the 3 selected runs"). */
  scope: string;
  selection: boolean;
  kind: PlotKind;
  metric: string | null;
  param: string | null;
  series(metric: string): Map<string, Array<[number, number]>> | undefined;
  requestSeries(runIds: string[], metric: string): void;
  choose(patch: Pick<ExperimentsState, 'plot' | 'plotMetric' | 'plotParam'>): void;
}

export interface ExperimentPlots {
  render(request: PlotRequest): void;
}

const NAMES: Record<PlotKind, string> = { parallel: 'Parallel coordinates', scatter: 'Param vs metric', curves: 'Step curves', box: 'Box plots' };
const charts: View[] = [];
let drawing = 0;

function render(request: PlotRequest): void {
  const { pane, table } = request;
  for (const chart of charts.splice(0)) chart.finalize();
  const current = ++drawing;
  const tabs = el('div', { className: 'tabs', role: 'tablist' });
  for (const plot of PLOTS) {
    const tab = el('button', { className: `tab${plot === request.kind ? ' on' : ''}`, role: 'tab', id: `plot-${plot}` }, NAMES[plot]);
    tab.setAttribute('aria-selected', String(plot === request.kind));
    tab.addEventListener('click', () => request.choose({ plot }));
    tabs.append(tab);
  }
  const keys = table.metrics.map((m) => m.key);
  const metric = request.metric && keys.includes(request.metric) ? request.metric : (keys[0] ?? null);
  const metricSelect = el('select', { id: 'plot-metric', title: 'Metric' });
  for (const key of keys) {
    const option = el('option', { value: key }, key);
    option.selected = key === metric;
    metricSelect.append(option);
  }
  metricSelect.addEventListener('change', () => request.choose({ plotMetric: metricSelect.value }));
  const controls = el('div', { className: 'plot-controls' }, el('label', {}, 'Metric ', metricSelect));
  const chart = el('div', { className: 'chart', id: 'plot-chart', role: 'img' });
  const note = el('p', { className: 'muted caption', id: 'plot-note' });
  pane.replaceChildren(tabs, controls, chart, note);
  if (!metric) {
    chart.replaceChildren(el('p', { className: 'muted' }, 'No metric logged yet.'));
    return;
  }
  const { rows, scope } = request;
  let spec: TopLevelSpec | null = null;
  switch (request.kind) {
    case 'parallel':
      spec = parallelSpec(table, rows, metric);
      chart.setAttribute('aria-label', `Parallel coordinates of the params that vary and ${metric}`);
      note.textContent = `One line per run (${scope}), coloured by ${metric}; each axis spans its own range, its ends labelled. Select rows to show just them.`;
      break;
    case 'scatter': {
      const params = plotParams(table);
      const param = params.find((p) => p.key === request.param) ?? params[0];
      const paramSelect = el('select', { id: 'plot-param', title: 'Param on the x axis' });
      for (const p of params) {
        const option = el('option', { value: p.key }, p.label);
        option.selected = p === param;
        paramSelect.append(option);
      }
      paramSelect.addEventListener('change', () => request.choose({ plotParam: paramSelect.value }));
      controls.append(el('label', {}, 'Param ', paramSelect));
      spec = param ? scatterSpec(table, rows, param, metric) : null;
      chart.setAttribute('aria-label', `${metric} against ${param?.label ?? 'a param'}`);
      note.textContent = param ? `One point per run (${scope}), coloured by group of repeats.` : 'No param varies between these runs.';
      break;
    }
    case 'curves': {
      const steps = table.metrics.find((m) => m.key === metric)!.steps;
      const ids = rows.filter((r) => (steps[r] ?? 0) > 0).slice(0, 20).map((r) => table.ids[r]!);
      const cached = request.series(metric);
      const missing = ids.filter((id) => !cached?.has(id));
      if (missing.length) request.requestSeries(missing, metric);
      spec = ids.length ? curvesSpec(table, ids, metric, cached) : null;
      chart.setAttribute('aria-label', `${metric} by step`);
      note.textContent = ids.length
        ? `${metric} by step for ${ids.length} run${ids.length === 1 ? '' : 's'} (${request.selection ? 'selected' : 'the first shown'} with a logged series; at most 20).${missing.length ? ' Loading…' : ''}`
        : `No run here logged ${metric} step by step (nb2prod.log_metric(name, value, step=…)).`;
      break;
    }
    case 'box':
      spec = boxSpec(table, rows, metric);
      chart.setAttribute('aria-label', `${metric} per group of repeats`);
      note.textContent = `${metric} per group of repeats (same code and params, seeds aside; duplicates counted once), ${scope}.`;
      break;
  }
  if (!spec) {
    chart.replaceChildren(el('p', { className: 'muted' }, note.textContent ?? ''));
    return;
  }
  void drawChart(chart, spec).then((view) => {
    if (!view) return;
    if (current === drawing) charts.push(view);
    else view.finalize();
  });
}

function plotParams(table: ExperimentTable): ExperimentTable['params'] {
  return table.params.filter((p) => p.varies && !p.seedLike);
}

function runLabel(table: ExperimentTable, r: number): string {
  return `${table.name[r]}${table.seeds[r] ? ` (${table.seeds[r]})` : ''}`;
}

function parallelSpec(table: ExperimentTable, rows: number[], metric: string): TopLevelSpec | null {
  const m = table.metrics.find((x) => x.key === metric)!;
  const axes: Array<{ label: string; value: (r: number) => CellValue }> = [
    ...plotParams(table).map((p) => ({ label: p.label, value: (r: number) => p.values[r] ?? null })),
    { label: metric, value: (r: number) => m.last[r] ?? null },
  ];
  // Each axis normalised to its own range; text values placed in sorted order.
  const scales = axes.map((axis) => {
    const values = rows.map(axis.value).filter((v) => v !== null);
    if (values.every((v) => typeof v === 'number')) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values as number[]) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return { norm: (v: CellValue) => (typeof v === 'number' ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : null), lo: formatNumber(lo), hi: formatNumber(hi) };
    }
    const distinct = [...new Set(values.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const rank = new Map(distinct.map((v, i) => [v, i]));
    return { norm: (v: CellValue) => (v === null ? null : distinct.length > 1 ? rank.get(String(v))! / (distinct.length - 1) : 0.5), lo: distinct[0] ?? '', hi: distinct.at(-1) ?? '' };
  });
  const values: Array<Record<string, unknown>> = [];
  for (const r of rows) {
    const colour = m.last[r];
    const run = runLabel(table, r);
    axes.forEach((axis, i) => {
      const norm = scales[i]!.norm(axis.value(r));
      if (norm !== null) values.push({ run, axis: axis.label, y: norm, raw: String(axis.value(r)), colour });
    });
  }
  if (!values.length) return null;
  const ends = axes.flatMap((axis, i) => [
    { axis: axis.label, y: 1, text: scales[i]!.hi },
    { axis: axis.label, y: 0, text: scales[i]!.lo },
  ]);
  const x = { field: 'axis', type: 'ordinal', sort: axes.map((a) => a.label), title: null, axis: { orient: 'top', labelAngle: 0, domain: false, ticks: false, labelLimit: 140 } };
  const y = { field: 'y', type: 'quantitative', axis: null, scale: { domain: [0, 1] } };
  return {
    width: 'container',
    height: 300,
    layer: [
      { data: { values: ends }, mark: { type: 'rule', opacity: 0.5 }, encoding: { x } },
      {
        data: { values },
        mark: { type: 'line', opacity: rows.length > 300 ? 0.25 : 0.75, strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          detail: { field: 'run' },
          color: { field: 'colour', type: 'quantitative', title: metric, scale: { scheme: 'viridis', reverse: m.lowerIsBetter }, legend: { orient: 'bottom', direction: 'horizontal', gradientLength: 180 } },
          tooltip: [{ field: 'run' }, { field: 'axis' }, { field: 'raw', title: 'value' }],
        },
      },
      { data: { values: ends }, mark: { type: 'text', baseline: 'middle', align: 'left', dx: 4, fontSize: 10 }, encoding: { x, y, text: { field: 'text' } } },
    ],
  } as TopLevelSpec;
}

function groupOf(table: ExperimentTable, rows: number[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const g of groupRows(table, rows)) for (const r of g.rows) out.set(r, g.label);
  return out;
}

function scatterSpec(table: ExperimentTable, rows: number[], param: ExperimentTable['params'][number], metric: string): TopLevelSpec | null {
  const m = table.metrics.find((x) => x.key === metric)!;
  const groups = groupOf(table, rows);
  const labels = [...new Set(rows.map((r) => groups.get(r)!))];
  const values = rows.filter((r) => m.last[r] !== null && param.values[r] !== null).map((r) => ({ run: runLabel(table, r), x: param.values[r], y: m.last[r], group: groups.get(r) }));
  if (!values.length) return null;
  const numeric = values.every((v) => typeof v.x === 'number');
  const colours = palette();
  return {
    width: 'container',
    height: 280,
    data: { values },
    mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
    encoding: {
      x: numeric ? { field: 'x', type: 'quantitative', title: param.label, scale: { zero: false, nice: true }, axis: { tickCount: 5 } } : { field: 'x', type: 'ordinal', title: param.label, axis: { labelAngle: 0 } },
      y: { field: 'y', type: 'quantitative', title: metric, scale: { zero: false, nice: true }, axis: { tickCount: 5 } },
      ...(labels.length <= colours.length ? { color: { field: 'group', type: 'nominal', title: null, scale: { domain: labels, range: colours.slice(0, labels.length) }, legend: { orient: 'bottom', columns: 2 } } } : {}),
      tooltip: [{ field: 'run' }, { field: 'group' }, { field: 'x', title: param.label }, { field: 'y', title: metric, format: '.4~g' }],
    },
  } as TopLevelSpec;
}

function curvesSpec(table: ExperimentTable, ids: string[], metric: string, cached: Map<string, Array<[number, number]>> | undefined): TopLevelSpec | null {
  const byId = new Map(table.ids.map((id, r) => [id, r]));
  const values = ids.flatMap((id) => (cached?.get(id) ?? []).map(([step, value]) => ({ run: runLabel(table, byId.get(id)!), step, value })));
  if (!values.length) return null;
  return {
    width: 'container',
    height: 280,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, point: values.length < 300 },
    encoding: {
      x: { field: 'step', type: 'quantitative', axis: { tickCount: 6 } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false, nice: true }, axis: { tickCount: 5 } },
      color: { field: 'run', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 360 } },
      tooltip: [{ field: 'run' }, { field: 'step' }, { field: 'value', format: '.4~g' }],
    },
  } as TopLevelSpec;
}

function boxSpec(table: ExperimentTable, rows: number[], metric: string): TopLevelSpec | null {
  const m = table.metrics.find((x) => x.key === metric)!;
  const groups = groupRows(table, rows).slice(0, 24);
  const values = groups.flatMap((g) => g.counted.filter((r) => m.last[r] !== null).map((r) => ({ group: g.label, value: m.last[r], run: runLabel(table, r) })));
  if (!values.length) return null;
  const order = groups.map((g) => g.label);
  const colours = palette();
  const colour = order.length <= colours.length ? { field: 'group', type: 'nominal', scale: { domain: order, range: colours.slice(0, order.length) }, legend: null } : { value: colours[0] };
  const y = { field: 'group', type: 'nominal', sort: order, title: null };
  return {
    width: 'container',
    height: Math.max(120, 34 * order.length + 40),
    data: { values },
    layer: [
      { mark: { type: 'boxplot', extent: 1.5, size: 16 }, encoding: { y, x: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false, nice: true }, axis: { tickCount: 5 } }, color: colour } },
      { mark: { type: 'point', filled: true, size: 24, opacity: 0.6 }, encoding: { y, x: { field: 'value', type: 'quantitative' }, color: colour, tooltip: [{ field: 'run' }, { field: 'value', format: '.4~g', title: metric }] } },
    ],
  } as TopLevelSpec;
}

const plots: ExperimentPlots = { render };
(window as { nb2prodExperimentPlots?: ExperimentPlots }).nb2prodExperimentPlots = plots;
