/**
 * The checklist's configuration: `[readiness]` and `[monitoring]` of the project's nb2prod.toml
 * (or `[tool.nb2prod.readiness]` / `[tool.nb2prod.monitoring]` of pyproject.toml). Drift
 * thresholds may also come from a `[drift]` table (`monitor`, `retrain`).
 *
 *   [readiness]
 *   owner = "Dana Lee <dana@example.com>"
 *   human_review = "Scores between 0.4 and 0.6 go to the retention team's review queue."
 *
 *   [monitoring]
 *   reference = "data/customers.csv"   # or "run:01J…"
 *   schedule = "daily"
 *   [monitoring.drift]
 *   monitor = 0.1
 *   retrain = 0.2
 *   [monitoring.metrics]               # degradation: alert when a metric falls below
 *   roc_auc = 0.80
 */
import { invalidConfig, isTable, type ProjectConfig, sectionName } from '../project/config';

export interface ReadinessConfig {
  owner: string | null;
  humanReview: string | null;
  /** Sources (notebooks, scripts; relative to the project) the model comes from; empty: every tracked source. */
  sources: string[];
  /** The evaluation set, relative to the project; null: recognised by name. */
  evalSet: string | null;
  modelCard: string | null;
  /** The service manifest, relative to the project. */
  service: string;
  /** Metrics of a replay equal within this count as reproduced. */
  replayTolerance: number;
}

export interface MonitoringConfig {
  /** A data file (relative to the config file's folder) or `run:ID[:INPUT]`; null when not set. */
  reference: string | null;
  schedule: string | null;
  /** PSI thresholds; null when not configured. */
  drift: { monitor: number; retrain: number } | null;
  /** Where the thresholds were found, for the evidence: `monitoring.drift` or `drift`. */
  driftKey: string | null;
  /** Degradation alerts: metric name → minimum acceptable value. */
  metrics: Record<string, number>;
}

export const DEFAULT_SERVICE_MANIFEST = 'service/nb2prod-service.json';
export const DEFAULT_REPLAY_TOLERANCE = 1e-9;

export function parseReadinessConfig(config: ProjectConfig): ReadinessConfig {
  const section = config.sections.readiness;
  const origin = `${config.file ?? 'nb2prod.toml'} ${sectionName(config, 'readiness')}`;
  const result: ReadinessConfig = { owner: null, humanReview: null, sources: [], evalSet: null, modelCard: null, service: DEFAULT_SERVICE_MANIFEST, replayTolerance: DEFAULT_REPLAY_TOLERANCE };
  if (section === undefined) return result;
  if (!isTable(section)) throw invalidConfig(origin, 'must be a table');
  const text = (key: string): string | null => {
    const value = section[key];
    if (value === undefined) return null;
    if (typeof value !== 'string') throw invalidConfig(origin, `${key} must be a string`);
    return value.trim() || null;
  };
  result.owner = text('owner');
  result.humanReview = text('human_review');
  result.evalSet = text('eval_set');
  result.modelCard = text('model_card');
  result.service = text('service') ?? DEFAULT_SERVICE_MANIFEST;
  const sources = section.sources;
  if (sources !== undefined) {
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) throw invalidConfig(origin, 'sources must be a list of paths');
    result.sources = sources as string[];
  }
  const tolerance = section.replay_tolerance;
  if (tolerance !== undefined) {
    if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw invalidConfig(origin, 'replay_tolerance must be a number ≥ 0');
    result.replayTolerance = tolerance;
  }
  return result;
}

export function parseMonitoringConfig(config: ProjectConfig): MonitoringConfig | null {
  const section = config.sections.monitoring;
  const driftSection = config.sections.drift;
  if (section === undefined && driftSection === undefined) return null;
  const origin = `${config.file ?? 'nb2prod.toml'} ${sectionName(config, 'monitoring')}`;
  const result: MonitoringConfig = { reference: null, schedule: null, drift: null, driftKey: null, metrics: {} };
  if (section !== undefined) {
    if (!isTable(section)) throw invalidConfig(origin, 'must be a table');
    for (const key of ['reference', 'schedule'] as const) {
      const value = section[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw invalidConfig(origin, `${key} must be a string`);
      result[key] = value.trim() || null;
    }
    if (section.drift !== undefined) {
      result.drift = thresholds(section.drift, `${origin} drift`);
      result.driftKey = 'monitoring.drift';
    }
    const metrics = section.metrics;
    if (metrics !== undefined) {
      if (!isTable(metrics)) throw invalidConfig(origin, 'metrics must be a table of metric = minimum');
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidConfig(origin, `metrics.${name} must be a number (the minimum acceptable value)`);
        result.metrics[name] = value;
      }
    }
  }
  if (!result.drift && driftSection !== undefined) {
    result.drift = thresholds(driftSection, `${config.file ?? 'nb2prod.toml'} ${sectionName(config, 'drift')}`);
    result.driftKey = 'drift';
  }
  return result;
}

function thresholds(value: unknown, origin: string): { monitor: number; retrain: number } | null {
  if (!isTable(value)) throw invalidConfig(origin, 'must be a table with monitor and retrain');
  const { monitor, retrain } = value;
  if (monitor === undefined && retrain === undefined) return null;
  if (typeof monitor !== 'number' || typeof retrain !== 'number' || !(monitor >= 0 && retrain >= monitor)) {
    throw invalidConfig(origin, 'needs monitor and retrain PSI thresholds with 0 ≤ monitor ≤ retrain');
  }
  return { monitor, retrain };
}
