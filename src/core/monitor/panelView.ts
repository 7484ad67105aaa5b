/**
 * The Monitor panel's view of a monitor report: the same result, evaluation and alert history
 * as `nb2prod monitor --format json`, turned into what the page draws — rows per window for the
 * charts (nulls kept: a window without labels has no accuracy, not zero), the latest window as
 * figures with a status, features by PSI with their series, the breaches beside the alerts they
 * opened, the alert history with its events, the shadow comparison in words, the thresholds to
 * draw and, when there is nothing yet, what to do to get data. Pure and formatted here, so the
 * page holds no statistics and the wording is unit-tested.
 */
import type { MonitorAlertView, MonitorView } from '../../protocol/monitor';
import type { Alert, Evaluation } from './alerts';
import type { MonitorConfig } from './config';
import type { MonitorResult, WindowReport } from './engine';
import { summaryLines } from './report';

export interface PanelViewInput {
  result: MonitorResult;
  evaluation: Evaluation;
  /** Every alert of the history (open, acknowledged and resolved). */
  history: Alert[];
  historyProblems: string[];
  /** The [monitoring] configuration the report was computed with (thresholds, business metrics). */
  config: Pick<MonitorConfig, 'alerts' | 'business'>;
  /** How the folder is shown (relative to the workspace). */
  folder: string;
  source: string;
  /** The service's state folder as shown (where var/audit is). */
  stateFolder: string;
  /** The registry's alias serving this model, when it can be rolled back. */
  rollback: MonitorView['rollback'];
  now?: Date;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function formatNumber(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) < 1e-9) return '0';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

export function formatPercent(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${(n * 100).toFixed(1)}%`;
}

export function formatMs(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${formatNumber(n)} ms`;
}

export function windowLabel(iso: string, windowMs: number): string {
  return windowMs % DAY === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
}

export function durationText(ms: number): string {
  for (const [unit, size] of [['w', 7 * DAY], ['d', DAY], ['h', HOUR], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms} ms`;
}

/** PSI's band: stable < monitor ≤ watch ≤ retrain < retrain. */
export function psiSeverity(psi: number | null, bands: { monitor: number; retrain: number }): 'stable' | 'monitor' | 'retrain' | null {
  if (psi === null) return null;
  return psi > bands.retrain ? 'retrain' : psi >= bands.monitor ? 'monitor' : 'stable';
}

/** A summary line is a problem to show apart: unreadable or torn lines, lost entries, unknown models, clock skew. */
function isWarning(line: string): boolean {
  return /unreadable|torn last line|entries lost|does not serve|out of time order|known before their prediction/.test(line);
}

export function monitorPanelView(input: PanelViewInput): MonitorView {
  const { result, evaluation } = input;
  const thresholds = input.config.alerts;
  const bands = result.psiBands;
  const readLines = summaryLines({ result, evaluation, alerts: [], source: input.source });
  const windows = result.windows.map((w) => windowRow(w, result.windowMs));
  const task = result.service.task;
  const metric = task === 'classification' ? 'accuracy' : result.baseline.rmse !== undefined ? 'rmse' : result.baseline.mae !== undefined ? 'mae' : null;
  const baseline = metric ? (result.baseline[metric] ?? result.baseline[`holdout_${metric}`] ?? null) : null;
  const higherIsBetter = metric === 'accuracy' || metric === null;
  const alertAt = baseline === null || thresholds.accuracyDrop === null ? null : higherIsBetter ? baseline - thresholds.accuracyDrop : baseline * (1 + thresholds.accuracyDrop);

  const open = input.history.filter((a) => a.status !== 'resolved');
  const key = (rule: string, subject: string) => `${rule}\u0000${subject}`;
  const openByKey = new Map(open.map((a) => [key(a.rule, a.subject), a]));
  const breaches = evaluation.breaches.map((b) => {
    const alert = openByKey.get(key(b.rule, b.subject)) ?? null;
    return { rule: b.rule, subject: b.subject, severity: b.severity, message: b.message, estimate: b.estimate === true, window: windowLabel(b.window, result.windowMs), alertId: alert?.id ?? null, alertStatus: alert?.status ?? null };
  });

  const latestReport = [...result.windows].reverse().find((w) => w.volume > 0) ?? null;
  const features = featureRows(result, bands);
  const hasLines = result.read.lines > 0;
  const empty = hasLines && result.windows.length
    ? null
    : hasLines
      ? { title: 'No predictions in the range read', steps: [`${result.read.lines} audit lines were read, none of them a prediction in range${result.since ? ` (since ${result.since})` : ''}.`, 'Send the service traffic (POST /predict), then Refresh.'] }
      : {
          title: 'No audit log yet',
          steps: [
            `The service writes every answer to ${input.stateFolder}/audit/predictions-YYYY-MM-DD.jsonl; nothing is there yet.`,
            `Start it: in ${input.folder}, make install, then make serve (uvicorn on 127.0.0.1:8000), or make docker-build docker-run.`,
            'Send it traffic: POST /predict (or /predict/batch) with records, as the generated README shows; labels that arrive later go to POST /feedback or nb2prod monitor labels.',
            'The panel refreshes when the audit files change.',
          ],
        };

  return {
    service: {
      name: result.service.name,
      task,
      target: result.service.target,
      folder: input.folder,
      model: `${result.service.model.name || result.service.name} ${result.service.model.version === null ? '(unregistered)' : `v${String(result.service.model.version)}`}, sha256 ${result.service.model.sha256.slice(0, 12)}…`,
      challenger: result.comparison ? `${result.comparison.challenger} (${result.comparison.mode})` : null,
    },
    source: input.source,
    windowText: durationText(result.windowMs),
    generatedAt: (input.now ?? new Date()).toISOString(),
    empty,
    read: readLines,
    warnings: readLines.filter(isWarning),
    bands,
    sla: { ...thresholds.latency },
    thresholds: { errorRate: thresholds.errorRate, predictionPsi: thresholds.predictionPsi, featurePsi: thresholds.featurePsi, metric, baseline, alertAt, higherIsBetter },
    windows,
    latest: latestReport ? { label: windowLabel(latestReport.start, result.windowMs), cards: cards(latestReport, result, thresholds, features, metric, alertAt, higherIsBetter) } : null,
    features,
    classes: [...new Set(result.windows.flatMap((w) => Object.keys(w.predictions.distribution ?? {})))].sort(),
    performanceMetrics: [...new Set(result.windows.flatMap((w) => Object.keys(w.performance).filter((k) => k !== 'n' && w.performance[k] !== null)))],
    businessMetrics: [...new Set(result.windows.flatMap((w) => Object.keys(w.business)))].map((name) => ({ name, description: input.config.business.find((b) => b.name === name)?.description ?? null })),
    breaches,
    notJudged: evaluation.notJudged.map((n) => `${n.rule}: ${n.why}`),
    alerts: {
      open: open.map(alertView).sort((a, b) => (a.openedAt < b.openedAt ? 1 : -1)),
      closed: input.history.filter((a) => a.status === 'resolved').map(alertView).sort((a, b) => (a.openedAt < b.openedAt ? 1 : -1)),
      problems: input.historyProblems,
    },
    unrecorded: breaches.filter((b) => b.alertId === null).length,
    comparison: comparisonView(result),
    estimateAssumption: result.estimateAssumption,
    baselineText: Object.keys(result.baseline).length ? `Training run: ${Object.entries(result.baseline).map(([k, v]) => `${k} ${formatNumber(v, 4)}`).join(', ')}` : null,
    rollback: input.rollback,
    captions: captions(result, thresholds, input.config.business, metric, baseline, alertAt),
    table: windowsTable(result),
  };
}

function fmtMetric(metric: string, value: number | null): string {
  return ['accuracy', 'precision', 'recall'].includes(metric) ? formatPercent(value) : formatNumber(value, 4);
}

function captions(result: MonitorResult, t: MonitorConfig['alerts'], business: MonitorConfig['business'], metric: string | null, baseline: number | null, alertAt: number | null): MonitorView['captions'] {
  const slas = (['p50', 'p95', 'p99'] as const).filter((q) => t.latency[q] !== null).map((q) => `${q} ${formatNumber(t.latency[q])} ms`);
  const performance: string[] = [];
  if (metric && baseline !== null) performance.push(`Dashed rules: training's ${metric} ${fmtMetric(metric, baseline)}${alertAt !== null ? ` and the alert at ${fmtMetric(metric, alertAt)}` : ''}.`);
  else performance.push(`No training ${metric ?? 'metric'} to compare with (run_metrics in service/config.json).`);
  if (result.windows.some((w) => w.estimated)) performance.push('Dashed lines are estimates from the model\u2019s confidence, not measurements (their assumption is under "What was read").');
  if (!result.windows.some((w) => w.performance.n > 0)) performance.push('No label has arrived yet: POST /feedback or nb2prod monitor labels.');
  return {
    volume: t.errorRate !== null ? `Error-rate alert above ${formatPercent(t.errorRate)} (dashed).` : 'No error-rate alert.',
    latency: slas.length ? `SLA (dashed): ${slas.join(', ')}, from [monitoring.sla].` : 'No SLA set ([monitoring.sla] p95_ms).',
    psi: `Bands: stable < ${result.psiBands.monitor} ≤ monitor ≤ ${result.psiBands.retrain} < retrain${t.featurePsi !== null ? `; the alert at ${formatNumber(t.featurePsi)} (dashed)` : ''}.`,
    performance: performance.join(' '),
    coverage: 'Share of each window\u2019s predictions whose label has arrived: a recent window with low coverage is one whose labels have not come yet.',
    business: business.map((b) => `${b.name}${b.description ? `: ${b.description}` : ''}`).join(' · '),
  };
}

function windowsTable(result: MonitorResult): MonitorView['table'] {
  const metrics = [...new Set(result.windows.flatMap((w) => Object.keys(w.performance).filter((k) => k !== 'n' && w.performance[k] !== null)))];
  const columns = ['window', 'volume', 'errors', 'fallback', 'kill switch', 'p50', 'p95', 'p99', 'prediction PSI', 'labels', 'coverage', ...metrics, 'estimated accuracy'];
  const rows = [...result.windows].reverse().map((w) => [
    windowLabel(w.start, result.windowMs),
    w.volume.toLocaleString('en-US'),
    formatPercent(w.errorRate),
    formatPercent(w.fallbackRate),
    formatPercent(w.killSwitchRate),
    formatMs(w.latency.p50),
    formatMs(w.latency.p95),
    formatMs(w.latency.p99),
    formatNumber(w.predictions.psi),
    w.labels.count.toLocaleString('en-US'),
    formatPercent(w.labels.coverage),
    ...metrics.map((m) => fmtMetric(m, w.performance[m] ?? null)),
    w.estimated ? `${formatPercent(w.estimated.accuracy)} (estimate)` : '—',
  ]);
  return { columns, rows };
}

function windowRow(w: WindowReport, windowMs: number): MonitorView['windows'][number] {
  const performance: Record<string, number | null> = {};
  for (const [name, v] of Object.entries(w.performance)) if (name !== 'n') performance[name] = finite(v);
  return {
    start: w.start,
    label: windowLabel(w.start, windowMs),
    volume: w.volume,
    errorRate: finite(w.errorRate),
    fallbackRate: finite(w.fallbackRate),
    killSwitchRate: finite(w.killSwitchRate),
    p50: finite(w.latency.p50),
    p95: finite(w.latency.p95),
    p99: finite(w.latency.p99),
    predictionPsi: finite(w.predictions.psi),
    predictionSeverity: w.predictions.severity,
    distribution: w.predictions.distribution,
    mean: finite(w.predictions.mean),
    std: finite(w.predictions.std),
    labelled: w.labels.count,
    coverage: finite(w.labels.coverage),
    medianDelayHours: finite(w.labels.medianDelayHours),
    performance,
    estimated: w.estimated ? { accuracy: finite(w.estimated.accuracy), precision: finite(w.estimated.precision), recall: finite(w.estimated.recall), auc: finite(w.estimated.auc) } : null,
    business: Object.fromEntries(Object.entries(w.business).map(([k, v]) => [k, finite(v)])),
  };
}

function finite(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
}

/** Features by their PSI in the latest window with data, most drifted first, with the series over every window. */
function featureRows(result: MonitorResult, bands: { monitor: number; retrain: number }): MonitorView['features'] {
  const names = [...new Set(result.windows.flatMap((w) => w.features.map((f) => f.name)))];
  const latestWithFeatures = [...result.windows].reverse().find((w) => w.features.some((f) => f.psi !== null));
  return names
    .map((name) => {
      const latest = latestWithFeatures?.features.find((f) => f.name === name);
      const psi = finite(latest?.psi ?? null);
      return {
        name,
        psi,
        psiText: formatNumber(psi),
        severity: latest?.severity ?? psiSeverity(psi, bands),
        n: latest?.n ?? 0,
        series: result.windows.map((w) => finite(w.features.find((f) => f.name === name)?.psi ?? null)),
      };
    })
    .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1) || a.name.localeCompare(b.name));
}

function cards(
  w: WindowReport,
  result: MonitorResult,
  thresholds: MonitorConfig['alerts'],
  features: MonitorView['features'],
  metric: string | null,
  alertAt: number | null,
  higherIsBetter: boolean,
): NonNullable<MonitorView['latest']>['cards'] {
  const out: NonNullable<MonitorView['latest']>['cards'] = [];
  out.push({ name: 'Volume', value: w.volume.toLocaleString('en-US'), detail: w.volume < thresholds.minRows ? `below min_rows (${thresholds.minRows}): not judged` : null, status: 'none' });
  const errorRate = finite(w.errorRate);
  out.push({
    name: 'Errors',
    value: formatPercent(errorRate),
    detail: `fallback ${formatPercent(w.fallbackRate)}, kill switch ${formatPercent(w.killSwitchRate)}`,
    status: errorRate === null ? 'none' : thresholds.errorRate !== null && errorRate > thresholds.errorRate ? 'alert' : (w.killSwitchRate ?? 0) > 0 && thresholds.killSwitch ? 'watch' : 'ok',
  });
  const p95 = finite(w.latency.p95);
  const sla = thresholds.latency.p95;
  out.push({ name: 'Latency p95', value: formatMs(p95), detail: `p50 ${formatMs(w.latency.p50)}, p99 ${formatMs(w.latency.p99)}${sla !== null ? `; SLA ${formatNumber(sla)} ms` : ''}`, status: p95 === null ? 'none' : sla !== null && p95 > sla ? 'alert' : 'ok' });
  const psi = finite(w.predictions.psi);
  out.push({ name: 'Prediction PSI', value: formatNumber(psi), detail: w.predictions.severity, status: statusOf(psi, result.psiBands) });
  const top = features[0];
  if (top) out.push({ name: 'Max feature PSI', value: top.psiText, detail: `${top.name}${top.severity ? ` (${top.severity})` : ''}`, status: statusOf(top.psi, result.psiBands) });
  // the latest window with labels: performance comes late
  const labelled = [...result.windows].reverse().find((x) => x.performance.n > 0) ?? null;
  if (metric && labelled) {
    const current = finite(labelled.performance[metric]);
    const bad = current !== null && alertAt !== null && (higherIsBetter ? current < alertAt : current > alertAt);
    out.push({
      name: metric === 'accuracy' ? 'Accuracy' : metric.toUpperCase(),
      value: metric === 'accuracy' ? formatPercent(current) : formatNumber(current),
      detail: `${labelled.performance.n.toLocaleString('en-US')} labels, window ${windowLabel(labelled.start, result.windowMs)}${labelled.performance.n < thresholds.minLabels ? ` (below min_labels ${thresholds.minLabels})` : ''}`,
      status: current === null ? 'none' : bad ? 'alert' : 'ok',
    });
  } else if (metric) out.push({ name: metric === 'accuracy' ? 'Accuracy' : metric.toUpperCase(), value: '—', detail: 'no labels yet', status: 'none' });
  out.push({ name: 'Label coverage', value: formatPercent(w.labels.coverage), detail: w.labels.medianDelayHours !== null ? `median delay ${formatNumber(w.labels.medianDelayHours)} h` : w.labels.count ? null : 'no label has arrived for this window yet', status: 'none' });
  if (w.estimated) {
    out.push({ name: 'Estimated accuracy', value: formatPercent(w.estimated.accuracy), detail: 'an estimate from the model\u2019s confidence, not from labels', status: 'none' });
  }
  return out;
}

function statusOf(psi: number | null, bands: { monitor: number; retrain: number }): 'ok' | 'watch' | 'alert' | 'none' {
  const s = psiSeverity(psi, bands);
  return s === null ? 'none' : s === 'retrain' ? 'alert' : s === 'monitor' ? 'watch' : 'ok';
}

function alertView(alert: Alert): MonitorAlertView {
  const events: MonitorAlertView['events'] = [{ what: 'opened', at: alert.openedAt, by: '', reason: null }];
  for (const a of alert.acknowledged) events.push({ what: 'acknowledged', at: a.at, by: a.by, reason: a.reason });
  if (alert.resolved) events.push({ what: 'resolved', at: alert.resolved.at, by: alert.resolved.by, reason: alert.resolved.reason });
  return {
    id: alert.id,
    rule: alert.rule,
    subject: alert.subject,
    severity: alert.severity,
    status: alert.status,
    openedAt: alert.openedAt,
    window: alert.window,
    message: alert.message,
    estimate: alert.estimate,
    events,
  };
}

function comparisonView(result: MonitorResult): MonitorView['comparison'] {
  const c = result.comparison;
  if (!c) return null;
  const lines = [`${c.pairs.toLocaleString('en-US')} requests scored by both, agreement ${formatPercent(c.agreement)}.`];
  if (c.labelledPairs >= 2) {
    lines.push(`${c.metric} on ${c.labelledPairs.toLocaleString('en-US')} labelled pairs: champion ${formatNumber(c.championValue)}, challenger ${formatNumber(c.challengerValue)}.`);
    lines.push(`Difference (challenger − champion) ${formatNumber(c.difference)}, 95% interval [${formatNumber(c.interval?.[0])}, ${formatNumber(c.interval?.[1])}], p = ${formatNumber(c.p)} (${c.test}). Negative is better.`);
  } else lines.push(`${c.labelledPairs} labelled pair${c.labelledPairs === 1 ? '' : 's'}: not enough to compare their performance yet.`);
  if (c.mode === 'canary') lines.push('A canary splits the traffic: the two answer different requests, so this comparison is not paired.');
  return { title: `Champion ${c.champion} vs challenger ${c.challenger} (${c.mode})`, lines, verdict: c.verdict };
}
