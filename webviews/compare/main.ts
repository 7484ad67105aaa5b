/**
 * The Compare panel's page: draws the comparison the extension sends (tables, flags, vega-lite
 * charts, the envelope diff) and reports clicks. Charts go through vega's expression
 * interpreter, so the page runs under a CSP without 'unsafe-eval'; the canvas renderer needs no
 * inline styles either. Text goes in with textContent; the only HTML inserted is the diff,
 * rendered and escaped by the extension.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { type CompareMessage, type CompareMetricRow, type CompareState, type CompareToPage, type CompareView, compareStateSchema, compareToPageSchema } from '../../src/protocol/compare';
import { drawChart } from '../shared/chart';
import { el } from '../shared/dom';
import { connectPage } from '../shared/host';

const app = document.getElementById('app')!;
let view: CompareView | undefined;
const charts: View[] = [];
/** Charts to draw once their containers are in the document (vega sizes them from the container). */
const pendingCharts: Array<() => Promise<void>> = [];

const vscode = connectPage<CompareMessage, CompareToPage, CompareState>({
  toPage: compareToPageSchema,
  state: compareStateSchema,
  onMessage(message) {
    switch (message.type) {
      case 'computing':
        if (!view) app.replaceChildren(el('p', { className: 'muted' }, `Comparing ${message.runs} runs…`));
        break;
      case 'error':
        app.replaceChildren(el('div', { className: 'error', role: 'alert' }, message.message));
        break;
      case 'comparison':
        view = message.view;
        // The extension's state (runs, baseline) with the page's own choices kept.
        state = { ...message.state, differencesOnly: state?.differencesOnly ?? true, metric: state?.metric ?? null };
        vscode.saveState(state);
        render();
        break;
    }
  },
  // The charts were drawn with the old theme's colours.
  onTheme: () => render(),
});
let state: CompareState | undefined = vscode.savedState;

function render(): void {
  if (!view || !state) return;
  for (const chart of charts.splice(0)) chart.finalize();
  const metric = view.metrics.find((m) => m.name === state!.metric) ?? view.metrics[0];
  app.replaceChildren(
    header(view),
    flags(view),
    metricsTable(view),
    metric ? chartSection(view, metric.name) : el('p', { className: 'muted' }, 'These runs logged no metric in common.'),
    paramsTable(view),
    diffSection(view),
  );
  for (const drawChart of pendingCharts.splice(0)) void drawChart();
}

function header(v: CompareView): HTMLElement {
  const baseline = el('select', { id: 'baseline', title: 'The group the others are compared with' });
  v.groups.forEach((group, index) => {
    const option = el('option', { value: String(index) }, `${group.label} (${group.runIds.length} run${group.runIds.length === 1 ? '' : 's'})`);
    option.selected = group.isBaseline;
    baseline.append(option);
  });
  baseline.addEventListener('change', () => vscode.post({ type: 'setBaseline', index: Number(baseline.value) }));
  const runs = el('details', {});
  runs.append(el('summary', {}, `${v.runs.length} runs in ${v.groups.length} group${v.groups.length === 1 ? '' : 's'}`));
  const list = el('ul', {});
  for (const run of v.runs) {
    const link = el('a', { href: '#' }, run.name);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      vscode.post({ type: 'showRun', runId: run.id });
    });
    list.append(el('li', {}, link, ` — ${run.group}`));
  }
  runs.append(list);
  return el('header', {}, el('h1', {}, `Compare: ${v.groups.map((g) => g.label).join(' vs ')}`), el('label', {}, 'Baseline ', baseline), runs);
}

function flags(v: CompareView): HTMLElement {
  if (!v.flags.length) return el('section', { className: 'flags ok' }, el('p', {}, 'Nothing here looks like a trap: enough runs on each side, same data, code and packages.'));
  const list = el('ul', {});
  for (const flag of v.flags) list.append(el('li', { className: flag.severity }, flag.message));
  return el('section', { className: 'flags' }, el('h2', {}, 'Read with care'), list);
}

function metricsTable(v: CompareView): HTMLElement {
  const level = `${Math.round(v.confidence * 100)}%`;
  const section = el('section', {}, el('h2', {}, 'Metrics'));
  for (const metric of v.metrics) {
    const table = el('table', { className: 'metrics' });
    table.append(row('th', ['group', 'n', 'mean', `${level} interval`, `Δ vs ${v.baseline}`, `${level} interval`, 'p', 'effect', 'test', '']));
    for (const r of metric.rows) table.append(metricRow(r));
    section.append(el('h3', {}, metric.name), table);
  }
  return section;
}

function metricRow(r: CompareMetricRow): HTMLTableRowElement {
  const isBaseline = r.verdict === 'baseline';
  const verdict = VERDICTS[r.verdict];
  const tr = row('td', [
    r.group,
    String(r.n),
    num(r.mean),
    interval(r.low, r.high, false),
    isBaseline ? '' : signed(r.delta),
    isBaseline ? '' : interval(r.deltaLow, r.deltaHigh, true),
    isBaseline || r.p === null ? '' : r.p < 0.001 ? '< 0.001' : r.p.toFixed(3),
    r.effect ?? '',
    r.test,
    verdict,
  ]);
  tr.lastElementChild!.className = `verdict ${verdict.replace(/ /g, '-')}`;
  return tr;
}

/** A row with no test performed says so: it never reads "not significant". */
const VERDICTS: Record<CompareMetricRow['verdict'], string> = {
  baseline: 'baseline',
  'no-test': 'no test',
  'inside-noise': 'inside the noise',
  significant: 'real difference',
  'not-significant': 'not significant',
};

function chartSection(v: CompareView, metric: string): HTMLElement {
  const select = el('select', { id: 'metric', title: 'Metric to chart' });
  for (const m of v.metrics) {
    const option = el('option', { value: m.name }, m.name);
    option.selected = m.name === metric;
    select.append(option);
  }
  select.addEventListener('change', () => {
    state = { ...state!, metric: select.value };
    pendingCharts.length = 0;
    vscode.saveState(state);
    render();
  });
  const perRun = el('div', { className: 'chart', id: 'chart-runs', role: 'img', ariaLabel: `${metric} per run, with each group's mean and interval` });
  const section = el('section', {}, el('h2', {}, 'Chart'), el('label', {}, 'Metric ', select), perRun);
  const rows = v.metrics.find((m) => m.name === metric)!.rows;
  pendingCharts.push(() => draw(perRun, runsSpec(v, metric, rows)));
  const series = v.series.filter((s) => s.metric === metric);
  if (series.length) {
    const curves = el('div', { className: 'chart', id: 'chart-series', role: 'img', ariaLabel: `${metric} by step, one curve per run` });
    section.append(el('h3', {}, `${metric} by step`), curves);
    pendingCharts.push(() => draw(curves, seriesSpec(series, metric)));
  }
  return section;
}

function runsSpec(v: CompareView, metric: string, rows: CompareMetricRow[]): TopLevelSpec {
  const points = v.points.filter((p) => p.metric === metric);
  const order = v.groups.map((g) => g.label);
  const summaries = rows.filter((r) => r.mean !== null).map((r) => ({ group: r.group, mean: r.mean, low: r.low ?? r.mean, high: r.high ?? r.mean }));
  const y = { field: 'group', type: 'nominal' as const, sort: order, title: null };
  return {
    width: 'container',
    height: Math.max(80, 36 * order.length),
    layer: [
      { data: { values: summaries }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'low', type: 'quantitative', title: metric, scale: { zero: false } }, x2: { field: 'high' } } },
      { data: { values: summaries }, mark: { type: 'tick', thickness: 3, size: 18 }, encoding: { y, x: { field: 'mean', type: 'quantitative' } } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, opacity: 0.7, size: 50 },
        encoding: { y, x: { field: 'value', type: 'quantitative' }, color: { field: 'group', type: 'nominal', legend: null }, tooltip: [{ field: 'run' }, { field: 'value', format: '.4~g' }] },
      },
    ],
  } as TopLevelSpec;
}

function seriesSpec(series: CompareView['series'], metric: string): TopLevelSpec {
  return {
    width: 'container',
    height: 220,
    data: { values: series },
    mark: { type: 'line', point: series.length < 400 },
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'run', type: 'nominal' },
      tooltip: [{ field: 'run' }, { field: 'step' }, { field: 'value', format: '.4~g' }],
    },
  } as TopLevelSpec;
}

async function draw(container: HTMLElement, spec: TopLevelSpec): Promise<void> {
  const chart = await drawChart(container, spec);
  if (chart) charts.push(chart);
}

function paramsTable(v: CompareView): HTMLElement {
  const toggle = el('input', { type: 'checkbox', id: 'differences-only' });
  toggle.checked = state?.differencesOnly ?? true;
  toggle.addEventListener('change', () => {
    state = { ...state!, differencesOnly: toggle.checked };
    vscode.saveState(state);
    render();
  });
  const shown = v.params.filter((p) => !toggle.checked || p.differs);
  const table = el('table', { className: 'params' });
  table.append(row('th', ['param', ...v.groups.map((g) => g.label)]));
  for (const param of shown) {
    const tr = row('td', [param.name + (param.seedLike ? ' (seed)' : ''), ...param.values]);
    if (param.differs) tr.className = 'differs';
    table.append(tr);
  }
  return el(
    'section',
    {},
    el('h2', {}, 'Params'),
    el('label', {}, toggle, ' Differences only'),
    shown.length ? table : el('p', { className: 'muted' }, toggle.checked ? 'No param differs between the groups.' : 'No params recorded.'),
  );
}

function diffSection(v: CompareView): HTMLElement {
  if (!v.diffHtml) return el('section', {});
  const body = el('div', { className: 'diff' });
  // Rendered by the extension from the envelopes with every value escaped (core/render/runHtml).
  body.innerHTML = v.diffHtml;
  return el('section', {}, el('h2', {}, `What changed: ${v.diffTitle ?? ''}`), body);
}

// ---- small DOM helpers -------------------------------------------------------------------

function row(cell: 'td' | 'th', values: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const value of values) tr.append(el(cell, {}, value));
  return tr;
}

function num(value: number | null): string {
  if (value === null) return '—';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function signed(value: number | null): string {
  if (value === null) return '—';
  return `${value > 0 ? '+' : ''}${num(value)}`;
}

function interval(low: number | null, high: number | null, withSign: boolean): string {
  if (low === null || high === null) return '—';
  const show = withSign ? signed : num;
  return `[${show(low)}, ${show(high)}]`;
}
