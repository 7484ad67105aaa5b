/**
 * The Compare panel's page: draws the comparison the extension sends (tables, flags, vega-lite
 * charts, the envelope diff) and reports clicks. Charts go through vega's expression
 * interpreter, so the page runs under a CSP without 'unsafe-eval'; the canvas renderer needs no
 * inline styles either. Text goes in with textContent; the only HTML inserted is the diff,
 * rendered and escaped by the extension.
 *
 * Made to be read: each group has one colour and one point shape, the same in the legend, the
 * tables and every chart (colour-blind-safe, from the theme: shared/chart.ts); the verdict is the
 * first column and the tables wrap to the panel's width (the test's reasoning is a tooltip, and
 * narrow panels drop the effect and test columns); "What changed" names the two runs it diffs and
 * lets the user pick others. A theme change redraws the charts in the new colours.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { type CompareMessage, type CompareMetricRow, type CompareState, type CompareToPage, type CompareView, compareStateSchema, compareToPageSchema } from '../../src/protocol/compare';
import { drawChart, palette, SHAPES } from '../shared/chart';
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
        // The extension's state (runs, baseline, diff) with the page's own choices kept.
        state = { ...message.state, differencesOnly: state?.differencesOnly ?? true, metric: state?.metric ?? null };
        vscode.saveState(state);
        render();
        break;
    }
  },
  // Everything drawn with the old theme's colours (charts, swatches) is drawn again.
  onTheme: () => render(),
});
let state: CompareState | undefined = vscode.savedState;

/** A row with no test performed says so: it never reads "not significant". */
const VERDICTS: Record<CompareMetricRow['verdict'], string> = {
  baseline: 'baseline',
  'no-test': 'no test',
  'inside-noise': 'inside the noise',
  significant: 'real difference',
  'not-significant': 'not significant',
};

function render(): void {
  if (!view || !state) return;
  for (const chart of charts.splice(0)) chart.finalize();
  pendingCharts.length = 0;
  const metric = view.metrics.find((m) => m.name === state!.metric) ?? view.metrics[0];
  app.replaceChildren(
    header(view),
    flags(view),
    metricsSection(view),
    metric ? chartSection(view, metric.name) : el('p', { className: 'muted' }, 'These runs logged no metric in common.'),
    paramsTable(view),
    diffSection(view),
  );
  for (const draw of pendingCharts.splice(0)) void draw();
}

// ---- groups: one colour and shape each, everywhere ------------------------------------------

function groupStyle(v: CompareView): Map<string, { color: string; shape: string }> {
  const colors = palette();
  return new Map(v.groups.map((g, i) => [g.label, { color: colors[i % colors.length]!, shape: SHAPES[i % SHAPES.length]! }]));
}

/** A small SVG of the group's point shape in its colour (attributes, not inline styles: the CSP allows them). */
function swatch(v: CompareView, group: string): SVGSVGElement {
  const style = groupStyle(v).get(group) ?? { color: 'currentColor', shape: 'circle' };
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '12');
  svg.setAttribute('height', '12');
  svg.setAttribute('viewBox', '0 0 12 12');
  svg.setAttribute('class', 'swatch');
  svg.setAttribute('aria-hidden', 'true');
  const shapes: Record<string, string> = {
    circle: 'M6 1a5 5 0 1 1 0 10a5 5 0 1 1 0-10z',
    square: 'M1.5 1.5h9v9h-9z',
    'triangle-up': 'M6 1l5 9.5h-10z',
    diamond: 'M6 0.5l5.5 5.5l-5.5 5.5l-5.5-5.5z',
    cross: 'M4 1h4v3h3v4h-3v3h-4v-3h-3v-4h3z',
    'triangle-down': 'M1 1.5h10l-5 9.5z',
    wedge: 'M6 1l3 10h-6z',
  };
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', shapes[style.shape] ?? shapes.circle!);
  path.setAttribute('fill', style.color);
  svg.append(path);
  return svg;
}

function groupName(v: CompareView, group: string): HTMLElement {
  return el('span', { className: 'group-name' }, swatch(v, group), ` ${group}`);
}

// ---- header ----------------------------------------------------------------------------------

function header(v: CompareView): HTMLElement {
  const baseline = el('select', { id: 'baseline', title: 'The group the others are compared with' });
  v.groups.forEach((group, index) => {
    const option = el('option', { value: String(index) }, `${group.label} (${plural(group.runIds.length, 'run')})`);
    option.selected = group.isBaseline;
    baseline.append(option);
  });
  baseline.addEventListener('change', () => vscode.post({ type: 'setBaseline', index: Number(baseline.value) }));

  // The legend of every chart and table below.
  const legend = el('ul', { className: 'legend', ariaLabel: 'Groups' });
  for (const group of v.groups) {
    const extra = [plural(group.runIds.length, 'run'), group.duplicates ? `+${group.duplicates} duplicate${group.duplicates === 1 ? '' : 's'} counted once` : '', group.isBaseline ? 'baseline' : ''].filter(Boolean).join(', ');
    legend.append(el('li', {}, groupName(v, group.label), el('span', { className: 'muted' }, ` (${extra})`)));
  }

  const runs = el('details', {});
  runs.append(el('summary', {}, `${plural(v.runs.length, 'run')} in ${plural(v.groups.length, 'group')}`));
  const list = el('ul', {});
  for (const run of v.runs) {
    const link = el('a', { href: '#', title: run.id }, run.name);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      vscode.post({ type: 'showRun', runId: run.id });
    });
    list.append(el('li', {}, link, ` — ${[run.group, run.seeds].filter(Boolean).join(', ')}`));
  }
  runs.append(list);
  const title = v.groups.length <= 3 ? `Compare: ${v.groups.map((g) => g.label).join(' vs ')}` : `Compare: ${v.groups.length} groups`;
  return el('header', {}, el('h1', { title }, title), legend, el('label', {}, 'Baseline ', baseline), runs);
}

function flags(v: CompareView): HTMLElement {
  if (!v.flags.length) return el('section', { className: 'flags ok' }, el('p', {}, 'Nothing here looks like a trap: enough runs on each side, same data, code and packages.'));
  const list = el('ul', {});
  for (const flag of v.flags) list.append(el('li', { className: flag.severity }, flag.message));
  return el('section', { className: 'flags' }, el('h2', {}, 'Read with care'), list);
}

// ---- metrics ---------------------------------------------------------------------------------

const COLUMNS = ['verdict', 'group', 'n', 'mean', 'Δ vs baseline', 'p', 'effect', 'test'] as const;

function metricsSection(v: CompareView): HTMLElement {
  const level = `${Math.round(v.confidence * 100)}%`;
  const section = el('section', {}, el('h2', {}, 'Metrics'), el('p', { className: 'muted' }, `Means with their ${level} interval; differences from the baseline (${v.baseline}) with theirs. p is Holm-adjusted across the groups. Hover a test for why it was chosen.`));
  for (const metric of v.metrics) {
    const table = el('table', { className: 'metrics' });
    const head = document.createElement('tr');
    for (const title of COLUMNS) head.append(el('th', { className: `col-${slug(title)}` }, title === 'mean' ? `mean [${level}]` : title === 'Δ vs baseline' ? `Δ vs baseline [${level}]` : title));
    table.append(el('thead', {}, head));
    const body = el('tbody', {});
    for (const r of metric.rows) body.append(metricRow(v, r));
    table.append(body);
    section.append(el('h3', {}, metric.name), el('div', { className: 'table-wrap' }, table));
  }
  return section;
}

function metricRow(v: CompareView, r: CompareMetricRow): HTMLTableRowElement {
  const isBaseline = r.verdict === 'baseline';
  const tr = document.createElement('tr');
  const cell = (column: (typeof COLUMNS)[number], content: Node | string, title?: string) => {
    const td = el('td', { className: `col-${slug(column)}` }, content);
    if (title) td.title = title;
    tr.append(td);
    return td;
  };
  cell('verdict', VERDICTS[r.verdict], r.reason ?? undefined).classList.add('verdict', r.verdict);
  cell('group', groupName(v, r.group));
  cell('n', String(r.n));
  cell('mean', withInterval(num(r.mean), interval(r.low, r.high, false)));
  cell('Δ vs baseline', isBaseline ? '' : withInterval(signed(r.delta), interval(r.deltaLow, r.deltaHigh, true)));
  cell('p', isBaseline || r.p === null ? '' : r.p < 0.001 ? '< 0.001' : r.p.toFixed(3));
  cell('effect', r.effect ?? '');
  cell('test', r.test, r.reason ?? undefined);
  return tr;
}

function withInterval(value: string, range: string): Node {
  if (range === '—') return document.createTextNode(value);
  return el('span', {}, value, ' ', el('span', { className: 'interval' }, range));
}

// ---- charts ----------------------------------------------------------------------------------

function chartSection(v: CompareView, metric: string): HTMLElement {
  const select = el('select', { id: 'metric', title: 'Metric to chart' });
  for (const m of v.metrics) {
    const option = el('option', { value: m.name }, m.name);
    option.selected = m.name === metric;
    select.append(option);
  }
  select.addEventListener('change', () => {
    state = { ...state!, metric: select.value };
    vscode.saveState(state);
    render();
  });
  const level = `${Math.round(v.confidence * 100)}%`;
  const perRun = el('div', { className: 'chart', id: 'chart-runs', role: 'img', ariaLabel: `${metric} per run, with each group's mean and ${level} interval` });
  const section = el(
    'section',
    {},
    el('h2', {}, 'Chart'),
    el('label', {}, 'Metric ', select),
    perRun,
    el('p', { className: 'muted caption' }, `Each mark is a run, in its group's colour and shape; the thick bar is the group's mean and the line its ${level} interval.`),
  );
  const rows = v.metrics.find((m) => m.name === metric)!.rows;
  pendingCharts.push(() => draw(perRun, runsSpec(v, metric, rows)));
  const series = v.series.filter((s) => s.metric === metric);
  if (series.length) {
    const curves = el('div', { className: 'chart', id: 'chart-series', role: 'img', ariaLabel: `${metric} by step, one curve per run, coloured by group` });
    section.append(el('h3', {}, `${metric} by step`), curves);
    pendingCharts.push(() => draw(curves, seriesSpec(v, series, metric)));
  }
  return section;
}

function groupScales(v: CompareView): { color: Record<string, unknown>; shape: Record<string, unknown> } {
  const order = v.groups.map((g) => g.label);
  const styles = groupStyle(v);
  return {
    color: { field: 'group', type: 'nominal', scale: { domain: order, range: order.map((g) => styles.get(g)!.color) } },
    shape: { field: 'group', type: 'nominal', scale: { domain: order, range: order.map((g) => styles.get(g)!.shape) } },
  };
}

function runsSpec(v: CompareView, metric: string, rows: CompareMetricRow[]): TopLevelSpec {
  const points = v.points.filter((p) => p.metric === metric).map((p) => ({ ...p, seeds: v.runs.find((r) => r.id === p.runId)?.seeds ?? '' }));
  const order = v.groups.map((g) => g.label);
  const summaries = rows.filter((r) => r.mean !== null).map((r) => ({ group: r.group, mean: r.mean, low: r.low ?? r.mean, high: r.high ?? r.mean }));
  const { color, shape } = groupScales(v);
  // The group names on the y axis label the rows directly; the legend above names the colours.
  const y = { field: 'group', type: 'nominal' as const, sort: order, title: null, axis: { labelPadding: 8 } };
  const x = { type: 'quantitative' as const, title: metric, scale: { zero: false, nice: true }, axis: { tickCount: 5, format: '~r' } };
  return {
    width: 'container',
    height: Math.max(90, 44 * order.length),
    layer: [
      { data: { values: summaries }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'low', ...x }, x2: { field: 'high' }, color: { ...color, legend: null } } },
      { data: { values: summaries }, mark: { type: 'tick', thickness: 3, size: 22 }, encoding: { y, x: { field: 'mean', ...x }, color: { ...color, legend: null }, tooltip: [{ field: 'group' }, { field: 'mean', format: '.4~g' }, { field: 'low', format: '.4~g', title: 'interval low' }, { field: 'high', format: '.4~g', title: 'interval high' }] } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, opacity: 0.85, size: 70, yOffset: 0 },
        encoding: {
          y,
          x: { field: 'value', ...x },
          color: { ...color, legend: null },
          shape: { ...shape, legend: null },
          tooltip: [{ field: 'run' }, { field: 'seeds', title: 'seed' }, { field: 'group' }, { field: 'value', format: '.4~g', title: metric }],
        },
      },
    ],
  } as TopLevelSpec;
}

function seriesSpec(v: CompareView, series: CompareView['series'], metric: string): TopLevelSpec {
  const { color } = groupScales(v);
  return {
    width: 'container',
    height: 220,
    data: { values: series },
    mark: { type: 'line', point: series.length < 400, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', axis: { tickCount: 6 } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false, nice: true }, axis: { tickCount: 5, format: '~r' } },
      color: { ...color, legend: { orient: 'top', title: null } },
      detail: { field: 'run' },
      tooltip: [{ field: 'run' }, { field: 'group' }, { field: 'step' }, { field: 'value', format: '.4~g' }],
    },
  } as TopLevelSpec;
}

async function draw(container: HTMLElement, spec: TopLevelSpec): Promise<void> {
  const chart = await drawChart(container, spec);
  if (chart) charts.push(chart);
}

// ---- params ----------------------------------------------------------------------------------

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
  const head = document.createElement('tr');
  head.append(el('th', {}, 'param'));
  for (const g of v.groups) head.append(el('th', {}, groupName(v, g.label)));
  table.append(head);
  for (const param of shown) {
    const tr = document.createElement('tr');
    tr.append(el('td', {}, param.name + (param.seedLike ? ' (seed)' : '')));
    for (const value of param.values) tr.append(el('td', {}, value));
    if (param.differs) tr.className = 'differs';
    table.append(tr);
  }
  return el(
    'section',
    {},
    el('h2', {}, 'Params'),
    el('label', {}, toggle, ' Differences only'),
    shown.length ? el('div', { className: 'table-wrap' }, table) : el('p', { className: 'muted' }, toggle.checked ? 'No param differs between the groups.' : 'No params recorded.'),
  );
}

// ---- what changed ----------------------------------------------------------------------------

function diffSection(v: CompareView): HTMLElement {
  if (!v.diffRunIds || v.runs.length < 2) return el('section', {});
  const [leftId, rightId] = v.diffRunIds;
  const runLabel = (id: string) => {
    const run = v.runs.find((r) => r.id === id);
    return run ? `${run.name} (${[run.group, run.seeds].filter(Boolean).join(', ')})` : id;
  };
  const picker = (id: string, selected: string, title: string) => {
    const select = el('select', { id, title });
    for (const group of v.groups) {
      const optgroup = el('optgroup', { label: group.label });
      for (const run of v.runs.filter((r) => r.group === group.label)) {
        const option = el('option', { value: run.id }, `${run.name}${run.seeds ? ` — ${run.seeds}` : ''}`);
        option.selected = run.id === selected;
        optgroup.append(option);
      }
      select.append(optgroup);
    }
    return select;
  };
  const left = picker('diff-left', leftId, 'The run on the left of the diff');
  const right = picker('diff-right', rightId, 'The run on the right of the diff');
  const change = () => {
    if (left.value !== right.value) vscode.post({ type: 'setDiff', runIds: [left.value, right.value] });
  };
  left.addEventListener('change', change);
  right.addEventListener('change', change);
  const body = el('div', { className: 'diff' });
  // Rendered by the extension from the envelopes with every value escaped (core/render/runHtml).
  body.innerHTML = v.diffHtml ?? '';
  return el(
    'section',
    { id: 'what-changed' },
    el('h2', {}, 'What changed'),
    el('p', { id: 'diff-title' }, `Between ${runLabel(leftId)} and ${runLabel(rightId)}:`),
    el('div', { className: 'diff-pickers' }, el('label', {}, 'Run ', left), el('label', {}, '→ run ', right)),
    body,
  );
}

// ---- small helpers ---------------------------------------------------------------------------

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'delta';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
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
