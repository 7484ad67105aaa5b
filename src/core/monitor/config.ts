/**
 * What `nb2prod monitor` reads from the project configuration: the `[monitoring]` section of
 * nb2prod.toml (or `[tool.nb2prod.monitoring]` of pyproject.toml), the one the readiness
 * checklist reads too. Every key is optional; the defaults are the thresholds of the brief:
 *
 *   [monitoring]
 *   window = "1d"                 # default --window
 *   positive_label = 1            # precision/recall/AUC of this class (default: training's minority class)
 *   [monitoring.drift]            # PSI bands: stable < monitor ≤ watch ≤ retrain < alert
 *   monitor = 0.1
 *   retrain = 0.2
 *   [monitoring.sla]
 *   p95_ms = 200                  # latency alert above it (p50_ms, p99_ms too)
 *   [monitoring.alerts]           # a number sets the threshold, false turns a rule off
 *   feature_psi = 0.2             # default: [monitoring.drift] retrain
 *   prediction_psi = 0.2
 *   accuracy_drop = 0.03          # below the training run's accuracy (absolute); RMSE/MAE: relative rise
 *   error_rate = 0.01
 *   kill_switch = true            # any answer from the fallback while the switch was on
 *   estimated_accuracy_drop = 0.03  # confidence-based estimate, before labels arrive
 *   min_rows = 100                # a window needs this many predictions to be judged
 *   min_labels = 50               # and this many labels for performance
 *   [monitoring.business.approval_rate]
 *   share_of = "prediction"       # prediction, probability, score, outcome or input.COLUMN
 *   op = "=="                     # == != < <= > >=
 *   value = 0
 *   description = "share of applications approved"
 *   [monitoring.business.mean_repaid]
 *   mean_of = "outcome"
 */
import { UserError } from '../errors';
import { isTable, loadProjectConfig, sectionName } from '../project/config';

export type BusinessOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface BusinessMetric {
  name: string;
  kind: 'share' | 'mean';
  field: string;
  op: BusinessOp | null;
  value: unknown;
  description: string | null;
}

export interface AlertThresholds {
  featurePsi: number | null;
  predictionPsi: number | null;
  accuracyDrop: number | null;
  errorRate: number | null;
  killSwitch: boolean;
  estimatedAccuracyDrop: number | null;
  latency: { p50: number | null; p95: number | null; p99: number | null };
  minRows: number;
  minLabels: number;
}

export interface MonitorConfig {
  file: string | null;
  window: string | null;
  positiveLabel: unknown;
  psi: { monitor: number; retrain: number } | null;
  alerts: AlertThresholds;
  business: BusinessMetric[];
}

export const DEFAULT_SLA_P95_MS = 200;

export function defaultAlerts(retrain = 0.2): AlertThresholds {
  return {
    featurePsi: retrain,
    predictionPsi: retrain,
    accuracyDrop: 0.03,
    errorRate: 0.01,
    killSwitch: true,
    estimatedAccuracyDrop: 0.03,
    latency: { p50: null, p95: DEFAULT_SLA_P95_MS, p99: null },
    minRows: 100,
    minLabels: 50,
  };
}

function invalid(origin: string, what: string): UserError {
  return new UserError('invalid-config', `${origin}: ${what}.`);
}

const OPS: readonly BusinessOp[] = ['==', '!=', '<', '<=', '>', '>='];

/** The monitoring configuration governing `dir` (defaults without a file). */
export function loadMonitorConfig(dir: string): MonitorConfig {
  const project = loadProjectConfig(dir);
  const section = project.sections.monitoring;
  const origin = `${project.file ?? 'nb2prod.toml'} ${sectionName(project, 'monitoring')}`;
  return parseMonitorConfig(section, origin, project.file, project.sections.drift);
}

export function parseMonitorConfig(section: unknown, origin: string, file: string | null = null, driftSection?: unknown): MonitorConfig {
  const config: MonitorConfig = { file, window: null, positiveLabel: undefined, psi: null, alerts: defaultAlerts(), business: [] };
  if (section !== undefined && !isTable(section)) throw invalid(origin, 'must be a table');
  const table = (section ?? {}) as Record<string, unknown>;
  if (table.window !== undefined) {
    if (typeof table.window !== 'string') throw invalid(origin, '`window` must be a duration such as "1d", "6h" or "15m"');
    parseDuration(table.window, `${origin} window`);
    config.window = table.window;
  }
  if (table.positive_label !== undefined) config.positiveLabel = table.positive_label;
  const drift = table.drift ?? driftSection;
  if (drift !== undefined) {
    if (!isTable(drift) || typeof drift.monitor !== 'number' || typeof drift.retrain !== 'number' || !(drift.monitor >= 0 && drift.retrain >= drift.monitor)) {
      throw invalid(`${origin} drift`, 'needs monitor and retrain PSI thresholds with 0 ≤ monitor ≤ retrain');
    }
    config.psi = { monitor: drift.monitor, retrain: drift.retrain };
    config.alerts = defaultAlerts(drift.retrain);
  }
  if (table.sla !== undefined) {
    const sla = table.sla;
    const at = `${origin} sla`;
    if (!isTable(sla)) throw invalid(at, 'must be a table such as { p95_ms = 200 }');
    for (const key of Object.keys(sla)) if (!['p50_ms', 'p95_ms', 'p99_ms'].includes(key)) throw invalid(at, `unknown key \`${key}\` (expected p50_ms, p95_ms, p99_ms)`);
    config.alerts.latency = { p50: positive(sla.p50_ms, `${at} p50_ms`), p95: positive(sla.p95_ms, `${at} p95_ms`), p99: positive(sla.p99_ms, `${at} p99_ms`) };
  }
  if (table.alerts !== undefined) {
    const alerts = table.alerts;
    const at = `${origin} alerts`;
    if (!isTable(alerts)) throw invalid(at, 'must be a table');
    const keys = ['feature_psi', 'prediction_psi', 'accuracy_drop', 'error_rate', 'kill_switch', 'estimated_accuracy_drop', 'min_rows', 'min_labels'];
    for (const key of Object.keys(alerts)) if (!keys.includes(key)) throw invalid(at, `unknown key \`${key}\` (expected ${keys.join(', ')})`);
    const threshold = (key: string, current: number | null) => (alerts[key] === undefined ? current : alerts[key] === false ? null : nonNegative(alerts[key], `${at} ${key}`));
    config.alerts.featurePsi = threshold('feature_psi', config.alerts.featurePsi);
    config.alerts.predictionPsi = threshold('prediction_psi', config.alerts.predictionPsi);
    config.alerts.accuracyDrop = threshold('accuracy_drop', config.alerts.accuracyDrop);
    config.alerts.errorRate = threshold('error_rate', config.alerts.errorRate);
    config.alerts.estimatedAccuracyDrop = threshold('estimated_accuracy_drop', config.alerts.estimatedAccuracyDrop);
    if (alerts.kill_switch !== undefined) {
      if (typeof alerts.kill_switch !== 'boolean') throw invalid(at, '`kill_switch` must be true or false');
      config.alerts.killSwitch = alerts.kill_switch;
    }
    for (const [key, field] of [['min_rows', 'minRows'], ['min_labels', 'minLabels']] as const) {
      if (alerts[key] === undefined) continue;
      const value = alerts[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(at, `\`${key}\` must be a whole number ≥ 1`);
      config.alerts[field] = value;
    }
  }
  if (table.business !== undefined) {
    const business = table.business;
    const at = `${origin} business`;
    if (!isTable(business)) throw invalid(at, 'must be a table of metrics, e.g. [monitoring.business.approval_rate]');
    for (const [name, spec] of Object.entries(business)) {
      const where = `${at}.${name}`;
      if (!isTable(spec)) throw invalid(where, 'must be a table with share_of (and op, value) or mean_of');
      const description = typeof spec.description === 'string' ? spec.description : null;
      if (typeof spec.share_of === 'string') {
        const op = (spec.op ?? '==') as BusinessOp;
        if (!OPS.includes(op)) throw invalid(where, `\`op\` must be one of ${OPS.join(' ')}`);
        if (spec.value === undefined) throw invalid(where, '`share_of` needs a `value` to compare with');
        config.business.push({ name, kind: 'share', field: checkField(spec.share_of, where), op, value: spec.value, description });
      } else if (typeof spec.mean_of === 'string') {
        config.business.push({ name, kind: 'mean', field: checkField(spec.mean_of, where), op: null, value: null, description });
      } else throw invalid(where, 'needs share_of = "FIELD" (with op and value) or mean_of = "FIELD"');
    }
  }
  return config;
}

function checkField(field: string, where: string): string {
  if (['prediction', 'probability', 'score', 'outcome', 'label'].includes(field) || /^input\..+/.test(field)) return field;
  throw invalid(where, `field "${field}" must be prediction, probability, score, outcome, label or input.COLUMN`);
}

function positive(value: unknown, where: string): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !(value > 0)) throw invalid(where, 'must be a number of milliseconds > 0');
  return value;
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0)) throw invalid(where, 'must be a number ≥ 0, or false to turn the rule off');
  return value;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "1d", "6h", "15m", "2w" in milliseconds. */
export function parseDuration(text: string, what = '--window'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : NaN;
  if (!(ms >= 60_000)) throw new UserError('usage', `${what} must be a duration of at least a minute, such as 15m, 6h, 1d or 1w (got "${text}")`);
  return ms;
}
