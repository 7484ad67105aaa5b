/**
 * Alerts: the rules of `[monitoring.alerts]` judged on the latest windows, and their history.
 *
 * A rule is judged on the latest window with enough predictions (`min_rows`); performance rules on
 * the latest window with enough labels (`min_labels`), which is older when labels come late. An
 * alert is identified by its rule and subject (`feature_psi` of `tenure_months`): it opens when
 * the rule is breached, stays open while it is, and is resolved when a later check finds it back
 * under its threshold — or by a person, with who, when and why. Acknowledging records that
 * someone is on it; the alert stays open.
 *
 * The history is append-only JSON Lines (`<state>/monitor/alerts.jsonl`, schema
 * nb2prod.alert/1): open, acknowledge and resolve events, never rewritten; the state is folded
 * from it, like the registry's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { newRunId } from '../ids';
import type { AlertThresholds } from './config';
import type { MonitorResult, WindowReport } from './engine';

export const ALERT_SCHEMA = 'nb2prod.alert/1';

export interface Breach {
  rule: string;
  subject: string;
  severity: 'critical' | 'warning';
  value: number;
  threshold: number;
  window: string;
  message: string;
  /** The value comes from the confidence-based estimate, not from labels. */
  estimate?: boolean;
}

export interface Evaluation {
  breaches: Breach[];
  /** (rule, subject) pairs that were judged and are within their threshold. */
  clear: Array<{ rule: string; subject: string; window: string; value: number | null }>;
  /** Rules that could not be judged, and why (too few rows or labels, no SLA...). */
  notJudged: Array<{ rule: string; why: string }>;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

export function evaluateAlerts(result: MonitorResult, rules: AlertThresholds): Evaluation {
  const breaches: Breach[] = [];
  const clear: Evaluation['clear'] = [];
  const notJudged: Evaluation['notJudged'] = [];
  const windows = result.windows;
  const latest = [...windows].reverse().find((w) => w.volume >= rules.minRows) ?? null;
  const check = (rule: string, subject: string, value: number | null, threshold: number | null, severity: Breach['severity'], window: WindowReport, message: (v: number) => string, estimate = false) => {
    if (threshold === null) return;
    if (value === null) return;
    if (value > threshold) breaches.push({ rule, subject, severity, value, threshold, window: window.start, message: message(value), ...(estimate ? { estimate } : {}) });
    else clear.push({ rule, subject, window: window.start, value });
  };
  if (!latest) {
    notJudged.push({ rule: 'all', why: windows.length ? `no window has ${rules.minRows} predictions (min_rows) yet` : 'no predictions in the range read' });
  } else {
    for (const feature of latest.features) {
      check('feature_psi', feature.name, feature.psi, rules.featurePsi, 'critical', latest, (v) => `input ${feature.name}: PSI ${fmt(v)} against the training data (above ${rules.featurePsi}: retrain)`);
    }
    check('prediction_psi', 'predictions', latest.predictions.psi, rules.predictionPsi, 'critical', latest, (v) => `the prediction distribution moved: PSI ${fmt(v)} against training (above ${rules.predictionPsi})`);
    check('error_rate', 'errors', latest.errorRate, rules.errorRate, 'critical', latest, (v) => `${pct(v)} of predictions failed (above ${pct(rules.errorRate ?? 0)})`);
    if (rules.killSwitch) check('kill_switch', 'kill switch', latest.killSwitchRate, 0, 'warning', latest, (v) => `the kill switch answered ${pct(v)} of requests with the fallback`);
    for (const q of ['p50', 'p95', 'p99'] as const) {
      const sla = rules.latency[q];
      if (sla === null) continue;
      check(`latency_${q}`, `latency ${q}`, latest.latency[q], sla, 'critical', latest, (v) => `${q} latency ${fmt(v)} ms is above the SLA of ${sla} ms`);
    }
  }
  // performance: the latest window with enough labels
  const labelled = [...windows].reverse().find((w) => w.performance.n >= rules.minLabels) ?? null;
  const task = result.service.task;
  const metric = task === 'classification' ? 'accuracy' : result.baseline.rmse !== undefined ? 'rmse' : result.baseline.mae !== undefined ? 'mae' : null;
  const baseline = metric ? result.baseline[metric] ?? result.baseline[`holdout_${metric}`] : undefined;
  if (rules.accuracyDrop !== null) {
    if (!metric || baseline === undefined) notJudged.push({ rule: 'accuracy_drop', why: `the training run logged no ${metric ?? 'accuracy, rmse or mae'} to compare with` });
    else if (!labelled) notJudged.push({ rule: 'accuracy_drop', why: `no window has ${rules.minLabels} labels (min_labels) yet` });
    else {
      const current = labelled.performance[metric] ?? null;
      if (current !== null) {
        // accuracy: absolute drop in points; an error metric: relative rise
        const change = metric === 'accuracy' ? baseline - current : (current - baseline) / Math.max(Math.abs(baseline), 1e-12);
        check('accuracy_drop', metric, change, rules.accuracyDrop, 'critical', labelled, (v) =>
          metric === 'accuracy'
            ? `accuracy ${pct(current)} on ${labelled.performance.n} labelled predictions is ${pct(v)} below training's ${pct(baseline)} (more than ${pct(rules.accuracyDrop!)}: investigate)`
            : `${metric} ${fmt(current)} is ${pct(v)} above training's ${fmt(baseline)}`);
      }
    }
  }
  if (rules.estimatedAccuracyDrop !== null && task === 'classification' && baseline !== undefined && latest?.estimated && (!labelled || labelled.start < latest.start)) {
    const estimate = latest.estimated.accuracy;
    if (estimate !== null) {
      check('estimated_accuracy_drop', 'accuracy (estimate)', baseline - estimate, rules.estimatedAccuracyDrop, 'warning', latest, (v) => `estimated accuracy ${pct(estimate)} (no labels yet: from the model's confidence) is ${pct(v)} below training's ${pct(baseline)}`, true);
    }
  }
  return { breaches, clear, notJudged };
}

// ---- history ---------------------------------------------------------------------------------

export interface AlertEvent {
  schema: typeof ALERT_SCHEMA;
  id: string;
  at: string;
  type: 'open' | 'acknowledge' | 'resolve';
  /** The alert an acknowledge or resolve is about (the id of its open event). */
  alert?: string;
  rule?: string;
  subject?: string;
  severity?: string;
  value?: number;
  threshold?: number;
  window?: string;
  message?: string;
  estimate?: boolean;
  by: string;
  reason?: string | null;
}

export interface Alert {
  id: string;
  rule: string;
  subject: string;
  severity: string;
  openedAt: string;
  window: string;
  value: number;
  threshold: number;
  message: string;
  estimate: boolean;
  status: 'open' | 'acknowledged' | 'resolved';
  acknowledged: Array<{ at: string; by: string; reason: string | null }>;
  resolved: { at: string; by: string; reason: string | null } | null;
}

export function alertHistoryPath(stateDir: string): string {
  return path.join(stateDir, 'monitor', 'alerts.jsonl');
}

export async function readAlertEvents(file: string): Promise<{ events: AlertEvent[]; problems: string[] }> {
  let text = '';
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], problems: [] };
    throw error;
  }
  const events: AlertEvent[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    if (index === lines.length - 1) {
      problems.push(`line ${index + 1}: torn (no newline), skipped`);
      return;
    }
    try {
      const event = JSON.parse(line) as AlertEvent;
      if (event.schema !== ALERT_SCHEMA || !['open', 'acknowledge', 'resolve'].includes(event.type)) throw new Error('not an alert event');
      events.push(event);
    } catch (error) {
      problems.push(`line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return { events, problems };
}

export function foldAlerts(events: readonly AlertEvent[]): Alert[] {
  const alerts = new Map<string, Alert>();
  for (const event of events) {
    if (event.type === 'open') {
      alerts.set(event.id, {
        id: event.id, rule: event.rule ?? '', subject: event.subject ?? '', severity: event.severity ?? 'critical', openedAt: event.at,
        window: event.window ?? '', value: event.value ?? NaN, threshold: event.threshold ?? NaN, message: event.message ?? '', estimate: event.estimate === true,
        status: 'open', acknowledged: [], resolved: null,
      });
      continue;
    }
    const alert = event.alert ? alerts.get(event.alert) : undefined;
    if (!alert || alert.status === 'resolved') continue;
    if (event.type === 'acknowledge') {
      alert.acknowledged.push({ at: event.at, by: event.by, reason: event.reason ?? null });
      alert.status = 'acknowledged';
    } else {
      alert.resolved = { at: event.at, by: event.by, reason: event.reason ?? null };
      alert.status = 'resolved';
    }
  }
  return [...alerts.values()];
}

/** Appends events, one line each, in one write (O_APPEND: several writers never interleave). */
export async function appendAlertEvents(file: string, events: readonly AlertEvent[]): Promise<void> {
  if (!events.length) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(file, 'a', 0o640);
  try {
    await handle.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function event(type: AlertEvent['type'], by: string, now: Date, fields: Partial<AlertEvent>): AlertEvent {
  return { schema: ALERT_SCHEMA, id: newRunId(now.getTime()), at: now.toISOString(), type, by, ...fields };
}

/**
 * Records what an evaluation found: an open event for each breach without an open alert, a
 * resolve event for each open alert whose rule and subject were judged clear. Returns the new
 * alerts and those resolved.
 */
export async function recordEvaluation(file: string, evaluation: Evaluation, by: string, now = new Date()): Promise<{ opened: Alert[]; resolved: Alert[]; open: Alert[] }> {
  const { events } = await readAlertEvents(file);
  const current = foldAlerts(events).filter((a) => a.status !== 'resolved');
  const key = (rule: string, subject: string) => `${rule}\u0000${subject}`;
  const openKeys = new Map(current.map((a) => [key(a.rule, a.subject), a]));
  const added: AlertEvent[] = [];
  for (const breach of evaluation.breaches) {
    if (openKeys.has(key(breach.rule, breach.subject))) continue;
    const { rule, subject, severity, value, threshold, window, message, estimate } = breach;
    added.push(event('open', by, now, { rule, subject, severity, value, threshold, window, message, ...(estimate ? { estimate } : {}) }));
  }
  for (const ok of evaluation.clear) {
    const alert = openKeys.get(key(ok.rule, ok.subject));
    if (!alert) continue;
    added.push(event('resolve', by, now, { alert: alert.id, reason: `back within its threshold in the window of ${ok.window}${ok.value === null ? '' : ` (${fmt(ok.value)})`}` }));
  }
  await appendAlertEvents(file, added);
  const after = foldAlerts([...events, ...added]);
  const openedIds = new Set(added.filter((e) => e.type === 'open').map((e) => e.id));
  const resolvedIds = new Set(added.filter((e) => e.type === 'resolve').map((e) => e.alert!));
  return {
    opened: after.filter((a) => openedIds.has(a.id)),
    resolved: after.filter((a) => resolvedIds.has(a.id)),
    open: after.filter((a) => a.status !== 'resolved'),
  };
}

/** A person acknowledges or resolves an alert: who, when and why, appended. */
export async function annotateAlert(file: string, type: 'acknowledge' | 'resolve', alertId: string, by: string, reason: string | null, now = new Date()): Promise<Alert> {
  const { events } = await readAlertEvents(file);
  const alerts = foldAlerts(events);
  const matches = alerts.filter((a) => a.id === alertId || a.id.startsWith(alertId));
  if (matches.length !== 1) {
    throw new UserError('alert-not-found', matches.length ? `"${alertId}" names ${matches.length} alerts: give more of the id.` : `No alert "${alertId}" in ${file} (nb2prod monitor alerts SERVICE lists them).`);
  }
  const alert = matches[0]!;
  if (alert.status === 'resolved') throw new UserError('usage', `alert ${alert.id} was resolved at ${alert.resolved!.at} by ${alert.resolved!.by}: nothing to ${type === 'acknowledge' ? 'acknowledge' : 'resolve'}.`);
  const added = event(type, by, now, { alert: alert.id, reason });
  await appendAlertEvents(file, [added]);
  return foldAlerts([...events, added]).find((a) => a.id === alert.id)!;
}
