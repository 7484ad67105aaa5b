/**
 * The Monitor panel's page: draws the view the extension sends (core/monitor/panelView.ts) —
 * the latest window as figures, the alerts (breached now, open with Acknowledge and Resolve, the
 * history with who, when and why), time series per window (volume and rates, latency against the
 * SLA, PSI of the predictions and of each input with the stable / monitor / retrain bands,
 * the prediction distribution, performance as labels arrive beside the confidence-based
 * estimate and the training baseline, label coverage, business metrics), the shadow comparison
 * and what was read (a torn last line, unreadable lines). Charts are vega-lite through the
 * interpreter (no eval under the CSP), in the theme's colours, redrawn when the theme changes.
 * Text goes in with textContent only. Every action is a message; the extension asks for reasons
 * and confirmations in VS Code's own input box and dialogs.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { type MonitorAlertView, type MonitorMessage, type MonitorState, type MonitorToPage, type MonitorView, monitorStateSchema, monitorToPageSchema } from '../../src/protocol/monitor';
import { drawChart } from '../shared/chart';
import { el } from '../shared/dom';
import { connectPage } from '../shared/host';

const app = document.getElementById('app')!;
let view: MonitorView | undefined;
let busy = false;
const charts: View[] = [];

const vscode = connectPage<MonitorMessage, MonitorToPage, MonitorState>({
  toPage: monitorToPageSchema,
  state: monitorStateSchema,
  onMessage(message) {
    switch (message.type) {
      case 'loading':
        vscode.saveState(message.state);
        if (!view) app.replaceChildren(el('p', { className: 'muted', role: 'status' }, message.what));
        else status(message.what);
        break;
      case 'error':
        vscode.saveState(message.state);
        app.replaceChildren(toolbar(null), el('div', { className: 'error', role: 'alert', id: 'error' }, message.message));
        view = undefined;
        break;
      case 'view':
        vscode.saveState(message.state);
        view = message.view;
        render();
        break;
      case 'busy':
        busy = message.busy;
        for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-action]')) button.disabled = busy;
        break;
    }
  },
  onTheme: () => render(),
});

function status(text: string): void {
  const line = document.getElementById('status');
  if (line) line.textContent = text;
}

function button(label: string, message: MonitorMessage, props: { id?: string; className?: string; title?: string } = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', disabled: busy, ...props }, label);
  b.dataset.action = message.type;
  b.addEventListener('click', () => vscode.post(message));
  return b;
}

function toolbar(v: MonitorView | null): HTMLElement {
  const nav = el('nav', { className: 'actions' }, button('Refresh', { type: 'refresh' }, { id: 'refresh' }));
  if (v?.unrecorded) nav.append(button(`Record ${v.unrecorded} alert${v.unrecorded === 1 ? '' : 's'}`, { type: 'recordAlerts' }, { id: 'record-alerts', title: 'Write the breached rules to the alert history, as nb2prod monitor --check does (no --on-alert command is run)' }));
  if (v?.rollback) {
    const r = v.rollback;
    nav.append(button(`Roll back ${r.model} ${r.alias} v${r.from} → v${r.to}…`, { type: 'rollback' }, { id: 'rollback', title: 'Move the registry alias back to the version promoted before (asks to confirm, then why)' }));
  }
  return nav;
}

let historyOpen = false;

function render(): void {
  for (const chart of charts.splice(0)) chart.finalize();
  if (!view) return;
  const v = view;
  // a refresh redraws everything: keep the reader where they were once the charts have their size
  const scroll = window.scrollY;
  const header = el(
    'header',
    {},
    el('h1', {}, `Monitor: ${v.service.name}`),
    el('p', { className: 'meta' }, `${v.service.task}${v.service.target ? `, target ${v.service.target}` : ''} · ${v.service.model}${v.service.challenger ? ` · challenger ${v.service.challenger}` : ''} · ${v.service.folder} · windows of ${v.windowText}`),
    toolbar(v),
    el('p', { className: 'muted', id: 'status', role: 'status' }, `Read ${new Date(v.generatedAt).toLocaleTimeString()}; refreshes when the audit files change.`),
  );
  const parts: HTMLElement[] = [header];
  if (v.warnings.length) parts.push(el('section', { className: 'flags', id: 'warnings' }, el('h2', {}, 'Read with problems'), list(v.warnings)));
  if (v.empty) {
    parts.push(el('section', { className: 'callout', id: 'empty' }, el('h2', {}, v.empty.title), list(v.empty.steps, 'ol')));
    parts.push(alertsSection(v), readSection(v));
    app.replaceChildren(...parts);
    return;
  }
  if (v.latest) parts.push(cardsSection(v));
  parts.push(alertsSection(v));
  const pending: Array<[HTMLElement, TopLevelSpec]> = [];
  const chart = (id: string, title: string, spec: TopLevelSpec | null, caption?: string): HTMLElement => {
    const box = el('div', { className: 'chart', id, role: 'img', ariaLabel: title });
    if (spec) pending.push([box, spec]);
    else box.append(el('p', { className: 'muted' }, 'Nothing to draw yet.'));
    return el('section', {}, el('h2', {}, title), ...(caption ? [el('p', { className: 'muted caption' }, caption)] : []), box);
  };
  parts.push(chart('chart-volume', 'Volume and error rates', volumeSpec(v), v.captions.volume));
  parts.push(chart('chart-latency', 'Latency', latencySpec(v), v.captions.latency));
  parts.push(chart('chart-psi', 'Drift: PSI per input and of the predictions', psiSpec(v), v.captions.psi));
  parts.push(featuresTable(v));
  parts.push(chart('chart-distribution', 'Prediction distribution', distributionSpec(v)));
  parts.push(chart('chart-performance', 'Performance as labels arrive', performanceSpec(v), v.captions.performance));
  parts.push(chart('chart-coverage', 'Label coverage', coverageSpec(v), v.captions.coverage));
  if (v.businessMetrics.length) parts.push(chart('chart-business', 'Business metrics', businessSpec(v), v.captions.business));
  if (v.comparison) parts.push(comparisonSection(v));
  parts.push(windowsTable(v), readSection(v));
  app.replaceChildren(...parts);
  window.scrollTo(0, scroll);
  void Promise.all(pending.map(([box, spec]) => drawChart(box, spec).then((drawn) => drawn && charts.push(drawn)))).then(() => window.scrollTo(0, scroll));
}

function list(items: string[], tag: 'ul' | 'ol' = 'ul'): HTMLElement {
  const out = el(tag, {});
  for (const item of items) out.append(el('li', {}, item));
  return out;
}

function cardsSection(v: MonitorView): HTMLElement {
  const latest = v.latest!;
  const grid = el('div', { className: 'cards' });
  for (const card of latest.cards) {
    grid.append(el('div', { className: `card status-${card.status}` }, el('div', { className: 'card-name' }, card.name), el('div', { className: 'card-value' }, card.value), ...(card.detail ? [el('div', { className: 'card-detail muted' }, card.detail)] : [])));
  }
  return el('section', { id: 'latest' }, el('h2', {}, `Latest window: ${latest.label}`), grid);
}

function alertsSection(v: MonitorView): HTMLElement {
  const section = el('section', { id: 'alerts' }, el('h2', {}, 'Alerts'));
  if (v.breaches.length) {
    const ul = el('ul', { className: 'breaches' });
    for (const b of v.breaches) {
      const state = b.alertId ? (b.alertStatus === 'acknowledged' ? 'alert acknowledged' : 'alert open') : 'not recorded yet';
      ul.append(el('li', { className: `breach severity-${b.severity}` }, el('b', {}, `${b.severity.toUpperCase()} ${b.rule}`), ` ${b.message}${b.estimate ? ' (estimate)' : ''} — window ${b.window}; `, el('span', { className: 'muted' }, state)));
    }
    section.append(el('h3', {}, `Rules breached now (${v.breaches.length})`), ul);
  } else section.append(el('p', { className: 'ok-line' }, 'No rule breached in the latest windows.'));
  if (v.notJudged.length) section.append(el('p', { className: 'muted' }, `Not judged: ${v.notJudged.join('; ')}`));
  section.append(el('h3', {}, `Open alerts (${v.alerts.open.length})`));
  if (v.alerts.open.length) {
    const ul = el('ul', { className: 'alerts', id: 'open-alerts' });
    for (const a of v.alerts.open) ul.append(alertItem(a, true));
    section.append(ul);
  } else section.append(el('p', { className: 'muted' }, v.unrecorded ? 'None in the history: Record alerts writes the breached rules there, as nb2prod monitor --check does.' : 'None.'));
  if (v.alerts.closed.length) {
    const details = el('details', { id: 'alert-history', open: historyOpen }, el('summary', {}, `Resolved alerts (${v.alerts.closed.length})`));
    details.addEventListener('toggle', () => (historyOpen = details.open));
    const ul = el('ul', { className: 'alerts' });
    for (const a of v.alerts.closed) ul.append(alertItem(a, false));
    details.append(ul);
    section.append(details);
  }
  if (v.alerts.problems.length) section.append(el('div', { className: 'flags' }, list(v.alerts.problems)));
  return section;
}

function alertItem(a: MonitorAlertView, actions: boolean): HTMLElement {
  const li = el('li', { className: `alert status-${a.status}` });
  li.dataset.alertId = a.id;
  li.append(el('div', {}, el('b', {}, `${a.status.toUpperCase()}`), ` ${a.severity} · ${a.rule} ${a.subject}: ${a.message}${a.estimate ? ' (estimate)' : ''}`));
  const events = el('ul', { className: 'events muted' });
  for (const e of a.events) events.append(el('li', { className: `event-${e.what}` }, `${e.what} ${e.at.replace('T', ' ').slice(0, 19)}${e.by ? ` by ${e.by}` : ''}${e.reason ? `: ${e.reason}` : ''}`));
  li.append(events);
  if (actions) {
    li.append(
      el('div', { className: 'alert-actions' },
        button('Acknowledge…', { type: 'acknowledge', alertId: a.id }, { className: 'acknowledge', title: 'Someone is on it (the alert stays open): asks why' }),
        button('Resolve…', { type: 'resolve', alertId: a.id }, { className: 'resolve secondary', title: 'Close the alert: asks why' }),
      ),
    );
  }
  return li;
}

function featuresTable(v: MonitorView): HTMLElement {
  if (!v.features.length) return el('section', {}, el('p', { className: 'muted' }, 'No per-input PSI: the audit log has no inputs (audit.inputs = false) or the service has no training profile (contracts/profile.json).'));
  const table = el('table', { className: 'metrics features', id: 'features' });
  const head = document.createElement('tr');
  for (const title of ['input', 'PSI (latest window)', 'band', 'values']) head.append(el('th', {}, title));
  table.append(head);
  for (const f of v.features) {
    const tr = document.createElement('tr');
    tr.className = `severity-${f.severity ?? 'none'}`;
    for (const value of [f.name, f.psiText, f.severity ?? '—', f.n.toLocaleString()]) tr.append(el('td', {}, value));
    table.append(tr);
  }
  return el('section', {}, table);
}

function comparisonSection(v: MonitorView): HTMLElement {
  const c = v.comparison!;
  return el('section', { id: 'comparison' }, el('h2', {}, c.title), el('p', { className: `verdict verdict-${c.verdict.replace(/\s+/g, '-')}` }, `Verdict: ${c.verdict}`), list(c.lines));
}

function windowsTable(v: MonitorView): HTMLElement {
  const table = el('table', { className: 'metrics windows', id: 'windows' });
  const head = document.createElement('tr');
  for (const title of v.table.columns) head.append(el('th', {}, title));
  table.append(head);
  for (const row of v.table.rows) {
    const tr = document.createElement('tr');
    row.forEach((value, i) => tr.append(el('td', { className: i ? 'num' : '' }, value)));
    table.append(tr);
  }
  return el('section', {}, el('h2', {}, 'Windows, newest first'), el('div', { className: 'table-wrap' }, table));
}

function readSection(v: MonitorView): HTMLElement {
  const items = [...v.read];
  if (v.baselineText) items.push(v.baselineText);
  if (v.estimateAssumption) items.push(`Estimates: ${v.estimateAssumption}.`);
  return el('section', { id: 'read' }, el('h2', {}, 'What was read'), el('p', { className: 'muted' }, v.source), list(items));
}

// ---- charts ------------------------------------------------------------------------------------

/** Windows are discrete: one band per window on the x axis, in time order, labelled as the CLI prints them. */
function xAxis(v: MonitorView): object {
  return { field: 'label', type: 'ordinal', title: null, sort: v.windows.map((w) => w.label), axis: { labelOverlap: true, labelAngle: 0 } };
}

/** A dashed threshold line across the chart, named at its left end. */
function rule(value: number | null, label: string, below = false): object[] {
  if (value === null) return [];
  return [
    { data: { values: [{}] }, mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { datum: value } } },
    { data: { values: [{}] }, mark: { type: 'text', align: 'left', dx: 4, dy: below ? 3 : -3, baseline: below ? 'top' : 'bottom' }, encoding: { x: { value: 0 }, y: { datum: value }, text: { value: label } } },
  ];
}

function volumeSpec(v: MonitorView): TopLevelSpec | null {
  if (!v.windows.length) return null;
  const rates = v.windows.flatMap((w) => [
    { label: w.label, series: 'errors', rate: w.errorRate },
    { label: w.label, series: 'fallback', rate: w.fallbackRate },
    { label: w.label, series: 'kill switch', rate: w.killSwitchRate },
  ]).filter((r) => r.rate !== null);
  return {
    vconcat: [
      {
        width: 'container',
        height: 110,
        data: { values: v.windows.map((w) => ({ label: w.label, volume: w.volume })) },
        mark: { type: 'bar', tooltip: true },
        encoding: { x: xAxis(v), y: { field: 'volume', type: 'quantitative', title: 'predictions' }, tooltip: [{ field: 'label', title: 'window' }, { field: 'volume', format: ',' }] },
      },
      {
        width: 'container',
        height: 130,
        layer: [
          { data: { values: rates }, mark: { type: 'line', point: true }, encoding: { x: xAxis(v), y: { field: 'rate', type: 'quantitative', title: 'share of requests', axis: { format: '%' } }, color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' } }, tooltip: [{ field: 'series' }, { field: 'rate', format: '.2%' }] } },
          ...rule(v.thresholds.errorRate, 'error alert'),
        ],
      },
    ],
  } as unknown as TopLevelSpec;
}

function latencySpec(v: MonitorView): TopLevelSpec | null {
  const values = v.windows.flatMap((w) => (['p50', 'p95', 'p99'] as const).map((q) => ({ label: w.label, quantile: q, ms: w[q] }))).filter((r) => r.ms !== null);
  if (!values.length) return null;
  return {
    width: 'container',
    height: 180,
    layer: [
      { data: { values }, mark: { type: 'line', point: true }, encoding: { x: xAxis(v), y: { field: 'ms', type: 'quantitative', title: 'ms' }, color: { field: 'quantile', type: 'nominal', title: null, legend: { orient: 'top' } }, tooltip: [{ field: 'quantile' }, { field: 'ms', format: '.3~r' }] } },
      ...(['p50', 'p95', 'p99'] as const).flatMap((q) => rule(v.sla[q], `${q} SLA ${v.sla[q]} ms`)),
    ],
  } as unknown as TopLevelSpec;
}

/** The PSI bands as shaded areas behind the lines: stable, monitor, retrain. */
function bands(v: MonitorView, top: number, scale: object): object {
  return {
    data: { values: [
      { band: 'stable', y: 0, y2: v.bands.monitor },
      { band: 'monitor', y: v.bands.monitor, y2: v.bands.retrain },
      { band: 'retrain', y: v.bands.retrain, y2: top },
    ] },
    mark: { type: 'rect', opacity: 0.15 },
    encoding: {
      y: { field: 'y', type: 'quantitative', scale },
      y2: { field: 'y2' },
      fill: { field: 'band', type: 'nominal', title: 'band', scale: { domain: ['stable', 'monitor', 'retrain'], range: ['#009E73', '#E69F00', '#D55E00'] }, legend: { orient: 'top' } },
    },
  };
}

function psiSpec(v: MonitorView): TopLevelSpec | null {
  const values = [
    ...v.windows.map((w) => ({ label: w.label, series: 'predictions', psi: w.predictionPsi })),
    ...v.features.flatMap((f) => f.series.map((psi, i) => ({ label: v.windows[i]!.label, series: f.name, psi }))),
  ].filter((r) => r.psi !== null);
  if (!values.length) return null;
  const top = Math.max(v.bands.retrain * 1.5, ...values.map((r) => r.psi! * 1.1));
  // a PSI of 8 beside bands at 0.1 and 0.2: a symmetric log scale keeps the bands visible
  const scale = top > 1 ? { type: 'symlog', constant: 0.05, domain: [0, top], nice: false } : { domain: [0, top], nice: false };
  return {
    width: 'container',
    height: 220,
    layer: [
      bands(v, top, scale),
      { data: { values }, mark: { type: 'line', point: true }, encoding: { x: xAxis(v), y: { field: 'psi', type: 'quantitative', title: top > 1 ? 'PSI (symmetric log scale)' : 'PSI', scale }, color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' } }, tooltip: [{ field: 'series' }, { field: 'psi', format: '.3f' }] } },
      ...rule(v.thresholds.featurePsi, 'alert'),
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}

function distributionSpec(v: MonitorView): TopLevelSpec | null {
  if (v.classes.length) {
    const values = v.windows.flatMap((w) => Object.entries(w.distribution ?? {}).map(([cls, share]) => ({ label: w.label, class: cls, share })));
    if (!values.length) return null;
    return {
      width: 'container',
      height: 160,
      data: { values },
      mark: { type: 'bar' },
      encoding: { x: xAxis(v), y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share of predictions', axis: { format: '%' } }, color: { field: 'class', type: 'nominal', title: 'predicted', legend: { orient: 'top' } }, tooltip: [{ field: 'label', title: 'window' }, { field: 'class' }, { field: 'share', format: '.1%' }] },
    } as unknown as TopLevelSpec;
  }
  const values = v.windows.filter((w) => w.mean !== null).map((w) => ({ label: w.label, mean: w.mean, lo: w.mean! - (w.std ?? 0), hi: w.mean! + (w.std ?? 0) }));
  if (!values.length) return null;
  return {
    width: 'container',
    height: 160,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x: xAxis(v), y: { field: 'lo', type: 'quantitative', title: 'prediction (mean ± sd)' }, y2: { field: 'hi' } } },
      { mark: { type: 'line', point: true }, encoding: { x: xAxis(v), y: { field: 'mean', type: 'quantitative' }, tooltip: [{ field: 'mean', format: '.4~r' }] } },
    ],
  } as unknown as TopLevelSpec;
}

function performanceSpec(v: MonitorView): TopLevelSpec | null {
  const labelled = v.windows.flatMap((w) => v.performanceMetrics.map((m) => ({ label: w.label, metric: m, value: w.performance[m] ?? null, kind: 'from labels', n: w.labelled }))).filter((r) => r.value !== null);
  // the estimate of accuracy only (the metric the alerts judge): its precision, recall and AUC are in the table
  const estimated = v.windows.filter((w) => w.estimated?.accuracy != null).map((w) => ({ label: w.label, metric: 'accuracy', value: w.estimated!.accuracy, kind: 'estimate (no labels)', n: 0 }));
  const values = [...labelled, ...estimated];
  if (!values.length) return null;
  const share = v.performanceMetrics.every(isShareMetric) || !v.performanceMetrics.length;
  return {
    width: 'container',
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: xAxis(v),
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, ...(share ? { axis: { format: '%' } } : {}) },
          color: { field: 'metric', type: 'nominal', title: null, legend: { orient: 'top' } },
          strokeDash: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['from labels', 'estimate (no labels)'], range: [[1, 0], [5, 4]] }, legend: { orient: 'top' } },
          tooltip: [{ field: 'metric' }, { field: 'kind' }, { field: 'value', format: share ? '.1%' : '.4~r' }, { field: 'n', title: 'labels' }],
        },
      },
      ...rule(v.thresholds.baseline, `training ${v.thresholds.metric ?? ''}`),
      // the alert line sits on the far side of the baseline: its label goes there too
      ...rule(v.thresholds.alertAt, `${v.thresholds.metric ?? ''} alert`, v.thresholds.higherIsBetter),
    ],
  } as unknown as TopLevelSpec;
}

function coverageSpec(v: MonitorView): TopLevelSpec | null {
  if (!v.windows.length) return null;
  return {
    width: 'container',
    height: 110,
    data: { values: v.windows.map((w) => ({ label: w.label, coverage: w.coverage ?? 0, labelled: w.labelled, delay: w.medianDelayHours })) },
    mark: { type: 'bar' },
    encoding: { x: xAxis(v), y: { field: 'coverage', type: 'quantitative', title: 'labelled', axis: { format: '%' }, scale: { domain: [0, 1] } }, tooltip: [{ field: 'label', title: 'window' }, { field: 'coverage', format: '.1%' }, { field: 'labelled', title: 'labels' }, { field: 'delay', title: 'median delay (h)', format: '.3~r' }] },
  } as unknown as TopLevelSpec;
}

function businessSpec(v: MonitorView): TopLevelSpec | null {
  const values = v.windows.flatMap((w) => Object.entries(w.business).map(([metric, value]) => ({ label: w.label, metric, value }))).filter((r) => r.value !== null);
  if (!values.length) return null;
  return {
    width: 'container',
    height: 160,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: { x: xAxis(v), y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } }, color: { field: 'metric', type: 'nominal', title: null, legend: { orient: 'top' } }, tooltip: [{ field: 'metric' }, { field: 'value', format: '.4~r' }] },
  } as unknown as TopLevelSpec;
}

function isShareMetric(metric: string): boolean {
  return ['accuracy', 'precision', 'recall'].includes(metric);
}
