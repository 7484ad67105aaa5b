/**
 * A generated service as the monitor sees it: its configuration (service/config.json), its
 * training profile (contracts/profile.json) and where its state lives (var/, or
 * NB2PROD_STATE_DIR, or --state): the audit log and the feedback as JSON Lines files, one per
 * UTC day (service/sink.py of the scaffold templates), and the monitor's own alert history.
 */
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TableProfile } from '../drift/profileReference';
import { UserError } from '../errors';
import { readDeploymentFile, servedModel } from '../registry/deploy';

export interface ServiceInfo {
  /** The project root (the folder holding service/config.json). */
  root: string;
  name: string;
  task: 'classification' | 'regression';
  target: string | null;
  inputColumns: string[];
  idColumn: string | null;
  /** The training run's metrics (held-out), the baseline of performance alerts. */
  runMetrics: Record<string, number>;
  /** PSI thresholds of the service's live drift (config.json `drift`). */
  drift: { monitor: number; retrain: number };
  /** What it serves: service/deployment.json's champion when one was deployed, else config.json's model. */
  model: { sha256: string; name: string; version: number | string | null };
  /** Models it served before (config.json's, earlier deployments): their audit lines are not from an unknown model. */
  servedBefore: Array<{ sha256: string; version: number | string | null }>;
  challenger: { sha256: string; version: number | string | null; mode: string } | null;
  /** The kill switch's answer: for a classifier, the training data's majority class and its share. */
  fallback: { prediction: unknown; probability: number | null };
  /** The training profile (null when contracts/profile.json is missing). */
  profile: TableProfile | null;
  /** The base names of the audit log and the feedback log (files are base-YYYY-MM-DD.jsonl). */
  auditLog: string;
  feedbackLog: string;
  stateDir: string;
  /** PostgreSQL instead of the files (what AUDIT_DSN is for the service), and the audit table. */
  auditDsn: string | null;
  auditTable: string;
}

const STATE_PREFIX = 'var/';

/**
 * Reads the service at `root`. `stateDir` replaces the leading var/ of the configured paths,
 * as NB2PROD_STATE_DIR does for the service itself.
 */
export async function loadService(root: string, stateDir?: string | null, auditDsn?: string | null): Promise<ServiceInfo> {
  const configPath = path.join(root, 'service', 'config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await fs.readFile(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UserError('not-a-service', `${root} is not a generated service: no service/config.json (generate one with nb2prod scaffold, or give the folder that holds service/).`);
    }
    throw new UserError('invalid-service', `${configPath} is not valid JSON: ${(error as Error).message}`);
  }
  const model = (config.model ?? {}) as Record<string, unknown>;
  const drift = (config.drift ?? {}) as Record<string, unknown>;
  const state = stateDir ?? null;
  const resolve = (configured: unknown, fallback: string) => statePath(root, typeof configured === 'string' && configured ? configured : fallback, state);
  let profile: TableProfile | null = null;
  const profilePath = path.join(root, 'contracts', 'profile.json');
  if (existsSync(profilePath)) {
    try {
      profile = JSON.parse(await fs.readFile(profilePath, 'utf8')) as TableProfile;
    } catch {
      profile = null;
    }
  }
  const deployment = await readDeployment(root);
  const deployed = await readDeploymentFile(root).catch(() => null);
  const configModel = { sha256: String(model.sha256 ?? ''), name: String(model.name ?? config.name ?? ''), version: (model.version as number | string | null) ?? null };
  const served = servedModel({ configModel }, deployed);
  const runMetrics = served.metrics ?? ((config.run_metrics ?? {}) as Record<string, unknown>);
  return {
    root,
    name: String(config.name ?? path.basename(root)),
    task: config.task === 'regression' ? 'regression' : 'classification',
    target: typeof config.target === 'string' ? config.target : null,
    inputColumns: Array.isArray(config.input_columns) ? config.input_columns.map(String) : [],
    idColumn: typeof config.id_column === 'string' ? config.id_column : null,
    runMetrics: Object.fromEntries(Object.entries(runMetrics).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
    drift: { monitor: typeof drift.monitor === 'number' ? drift.monitor : 0.1, retrain: typeof drift.retrain === 'number' ? drift.retrain : 0.2 },
    model: { sha256: served.sha256, name: served.name, version: served.version },
    servedBefore: [...new Map([configModel, ...(deployed?.history ?? [])].filter((m) => m.sha256 && m.sha256 !== served.sha256).map((m) => [m.sha256, { sha256: m.sha256, version: m.version ?? null }])).values()],
    challenger: deployment,
    fallback: { prediction: (config.fallback as Record<string, unknown> | undefined)?.prediction ?? null, probability: typeof (config.fallback as Record<string, unknown> | undefined)?.probability === 'number' ? ((config.fallback as Record<string, unknown>).probability as number) : null },
    profile,
    auditLog: resolve(config.audit_log, 'var/audit/predictions.jsonl'),
    feedbackLog: resolve(config.feedback_log, 'var/feedback/labels.jsonl'),
    stateDir: state ? path.resolve(state) : path.join(root, 'var'),
    auditDsn: auditDsn ?? null,
    auditTable: typeof (config.audit as Record<string, unknown> | undefined)?.table === 'string' ? String((config.audit as Record<string, unknown>).table) : 'nb2prod_audit',
  };
}

/** The challenger the service loads beside the champion (service/deployment.json), if any. */
async function readDeployment(root: string): Promise<ServiceInfo['challenger']> {
  try {
    const data = JSON.parse(await fs.readFile(path.join(root, 'service', 'deployment.json'), 'utf8')) as { challenger?: Record<string, unknown> | null };
    const c = data.challenger;
    if (!c || typeof c.sha256 !== 'string') return null;
    return { sha256: c.sha256, version: (c.version as number | string | null) ?? null, mode: String(c.mode ?? 'shadow') };
  } catch {
    return null;
  }
}

/** `relative` under the root, its leading var/ replaced by `stateDir` when given. */
export function statePath(root: string, relative: string, stateDir: string | null): string {
  const normalized = relative.replace(/\\/g, '/');
  if (stateDir && normalized.startsWith(STATE_PREFIX)) return path.join(path.resolve(stateDir), normalized.slice(STATE_PREFIX.length));
  return path.isAbsolute(normalized) ? normalized : path.join(root, normalized);
}

export interface StreamFile {
  path: string;
  /** The UTC day of a rotated file (YYYY-MM-DD); null for the base file. */
  day: string | null;
}

/** The files of a stream: the base file (written with rotate = "none"), then one per day, oldest first. */
export function streamFiles(base: string): StreamFile[] {
  const dir = path.dirname(base);
  const ext = path.extname(base);
  const stem = path.basename(base, ext);
  const out: StreamFile[] = [];
  if (existsSync(base)) out.push({ path: base, day: null });
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  const pattern = new RegExp(`^${escapeRegExp(stem)}-(\\d{4}-\\d{2}-\\d{2})${escapeRegExp(ext)}$`);
  const days = names.flatMap((name) => {
    const match = pattern.exec(name);
    return match ? [{ path: path.join(dir, name), day: match[1]! }] : [];
  });
  days.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return [...out, ...days];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
