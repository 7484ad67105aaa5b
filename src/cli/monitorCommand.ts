/**
 * `nb2prod monitor …`: reads a generated service's audit log and feedback back (see
 * docs/monitoring.md): per-window volume, errors, latency, drift, performance as labels arrive,
 * estimates before they do, alerts with an append-only history, and a check for cron and CI.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors';
import { printable } from '../core/printable';
import { resolveActor } from '../core/registry/actor';
import { type Alert, alertHistoryPath, annotateAlert, evaluateAlerts, foldAlerts, readAlertEvents, recordEvaluation } from '../core/monitor/alerts';
import { loadMonitorConfig, parseDuration } from '../core/monitor/config';
import { importLabels, labelEntries } from '../core/monitor/labels';
import { insertFeedback, redactDsn } from '../core/monitor/postgres';
import { monitorService } from '../core/monitor/monitor';
import { type MonitorFormat, renderMonitorReport } from '../core/monitor/report';
import { loadService, type ServiceInfo } from '../core/monitor/service';
import type { CliIo, Command, ParsedArgs } from './command';

const FORMATS: readonly MonitorFormat[] = ['text', 'json', 'md', 'html'];
const SUBCOMMANDS = ['labels', 'alerts', 'ack', 'resolve'] as const;

const USAGE = `nb2prod monitor SERVICE_DIR|DSN [--service DIR] [--dsn URL] [--window 1d] [--since T] [--until T] [--format text|json|md|html] [--output FILE] [--check] [--on-alert CMD]
       nb2prod monitor labels SERVICE_DIR FILE
       nb2prod monitor alerts SERVICE_DIR [--all] [--json]
       nb2prod monitor ack SERVICE_DIR ALERT_ID --reason WHY [--by WHO]
       nb2prod monitor resolve SERVICE_DIR ALERT_ID --reason WHY [--by WHO]
       (every form takes --state DIR)`;

type Values = ParsedArgs['values'];

function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export const monitorCommands: Record<string, Command> = {
  monitor: {
    summary: "read a generated service's audit log back: drift, latency, accuracy as labels arrive, alerts",
    usage: USAGE,
    details: `SERVICE_DIR is a project nb2prod scaffold generated (the folder holding service/). Its state
is read from var/ there, or from --state DIR (what NB2PROD_STATE_DIR was for the service).

Per window (--window, default [monitoring] window or 1d): volume; error, fallback and kill-switch
rates; latency p50/p95/p99; the prediction distribution and its PSI against training; PSI per
input against the training profile (contracts/profile.json) with the stable / monitor / retrain
bands; accuracy, precision, recall, AUC (or MAE, RMSE) of the predictions whose label arrived,
with the label coverage and delay; before labels, the performance estimated from the model's
confidence (an estimate, and its assumption is printed); business metrics of
[monitoring.business].

Alerts: the rules of [monitoring.alerts] (defaults: feature or prediction PSI above 0.2,
accuracy 3 points below the training run's, error rate above 1%, p95 above the SLA of
[monitoring.sla] (200 ms), any kill-switch answer). --check records what opened and what
cleared in the alert history (STATE/monitor/alerts.jsonl, append-only) and exits 1 while an
alert is open; --on-alert CMD then runs CMD (sh -c, in SERVICE_DIR) for every check that opens
alerts, with NB2PROD_ALERTS holding them as JSON (e.g. --on-alert "make train").

  labels FILE     append the labels of a CSV or JSON Lines file (request_id, label and/or
                  outcome, source explicit|implicit, known_at, batch_index) to the feedback log
  alerts          the alert history's open (--all: every) alerts
  ack, resolve    a person acknowledges (still open) or resolves an alert: --reason, --by

Options:
  --window D      window length: 15m, 6h, 1d, 1w
  --since T       from this time: an ISO date or time, or a duration back from now (7d)
  --until T       up to this time (exclusive)
  --format F      text (default), json, md or html
  --output FILE   write the report there (a summary line goes to stderr)
  --check         record alerts in the history; exit 1 while one is open
  --on-alert CMD  with --check: run CMD when alerts open
  --state DIR     the service's state folder (default SERVICE_DIR/var)
  --dsn URL       read (and, for labels, write) PostgreSQL: the service's AUDIT_DSN (default:
                  $AUDIT_DSN); or give the DSN instead of SERVICE_DIR with --service SERVICE_DIR
  --by WHO        who acknowledges or resolves (default: git user.email, else the login)
  --reason WHY    why`,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      window: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      check: { type: 'boolean' },
      'on-alert': { type: 'string' },
      state: { type: 'string' },
      dsn: { type: 'string' },
      service: { type: 'string' },
      by: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
    },
    async run({ values, positionals }, _store, io) {
      const first = positionals[0];
      if (first === undefined) throw new UserError('usage', 'monitor needs a SERVICE_DIR (the generated project)');
      if ((SUBCOMMANDS as readonly string[]).includes(first) && positionals.length >= 2) return subcommand(first as (typeof SUBCOMMANDS)[number], values, positionals.slice(1), io);
      if (positionals.length !== 1) throw new UserError('usage', `monitor takes one SERVICE_DIR, got ${positionals.length} arguments`);
      return report(first, values, io);
    },
  },
};

const DSN = /^postgres(ql)?:\/\//;

/**
 * The service: SERVICE_DIR (its files, or PostgreSQL with --dsn or AUDIT_DSN), or a DSN with
 * --service SERVICE_DIR (the folder still gives the configuration and the training profile).
 */
async function serviceAt(target: string, values: Values, io: CliIo): Promise<ServiceInfo> {
  let dir = target;
  let dsn = str(values, 'dsn') ?? (io.env.AUDIT_DSN || undefined);
  if (DSN.test(target)) {
    dsn = target;
    const folder = str(values, 'service');
    if (folder === undefined) throw new UserError('usage', 'with a DSN, name the generated service with --service SERVICE_DIR: its configuration and training profile are read from there');
    dir = folder;
  }
  if (dsn !== undefined && !DSN.test(dsn)) throw new UserError('usage', `--dsn must be a postgresql:// URL, not "${redactDsn(dsn)}"`);
  const root = path.resolve(io.cwd, dir);
  const state = str(values, 'state');
  return loadService(root, state === undefined ? null : path.resolve(io.cwd, state), dsn ?? null);
}

async function report(dir: string, values: Values, io: CliIo): Promise<number> {
  const service = await serviceAt(dir, values, io);
  const config = loadMonitorConfig(service.root);
  const format = (str(values, 'format') ?? 'text') as MonitorFormat;
  if (!FORMATS.includes(format)) throw new UserError('usage', `--format must be one of ${FORMATS.join(', ')}`);
  const windowMs = parseDuration(str(values, 'window') ?? config.window ?? '1d');
  const now = Date.now();
  const since = timeArg(str(values, 'since'), '--since', now);
  const until = timeArg(str(values, 'until'), '--until', now);
  if (values['on-alert'] !== undefined && !values.check) throw new UserError('usage', '--on-alert goes with --check');
  let shown = false;
  const threadsEnv = io.env.NB2PROD_MONITOR_THREADS;
  const threads = threadsEnv ? Number(threadsEnv) : undefined;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UserError('usage', `NB2PROD_MONITOR_THREADS must be a whole number ≥ 1, not "${threadsEnv}"`);
  const result = await monitorService(service, {
    windowMs,
    since,
    until,
    config,
    ...(threads !== undefined ? { threads } : {}),
    ...(io.monitorWorker ? { workerScript: io.monitorWorker } : {}),
    onProgress: (read, total) => {
      if (!io.isTTY || !total) return;
      shown = true;
      io.stderr(`\rreading the audit log: ${Math.floor((read / total) * 100)}%   `);
    },
  });
  if (shown) io.stderr('\r\x1b[K');
  const evaluation = evaluateAlerts(result, config.alerts);
  const historyFile = alertHistoryPath(service.stateDir);
  let open: Alert[];
  let opened: Alert[] = [];
  if (values.check) {
    const by = await resolveActor(str(values, 'by') ?? 'nb2prod monitor --check', io.cwd, io.env, io.identity ? { system: io.identity } : {});
    ({ open, opened } = await recordEvaluation(historyFile, evaluation, by.by));
  } else {
    open = foldAlerts((await readAlertEvents(historyFile)).events).filter((a) => a.status !== 'resolved');
  }
  const source = (path.relative(io.cwd, service.root) || '.') + (service.auditDsn ? ` (audit log in ${redactDsn(service.auditDsn)}, table ${service.auditTable})` : '');
  const rendered = renderMonitorReport({ result, evaluation, alerts: open, source }, format);
  const output = str(values, 'output');
  if (output !== undefined) {
    await fs.writeFile(path.resolve(io.cwd, output), rendered);
    io.stderr(`${result.read.lines} audit lines, ${result.windows.length} windows, ${evaluation.breaches.length} rule${evaluation.breaches.length === 1 ? '' : 's'} breached${values.check ? `, ${open.length} open alert${open.length === 1 ? '' : 's'}` : ''}: ${output}\n`);
  } else io.stdout(rendered);
  if (!values.check) return 0;
  const command = str(values, 'on-alert');
  if (command && opened.length) await runOnAlert(command, opened, service.root, io);
  return open.length ? 1 : 0;
}

function timeArg(value: string | undefined, option: string, now: number): number | null {
  if (value === undefined) return null;
  if (/^\d+(\.\d+)?\s*[mhdw]$/.test(value.trim())) return now - parseDuration(value, option);
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UserError('usage', `${option} must be an ISO date or time (2025-03-01, 2025-03-01T09:00:00Z) or a duration back from now (7d), not "${value}"`);
  return time;
}

async function runOnAlert(command: string, opened: Alert[], cwd: string, io: CliIo): Promise<void> {
  io.stderr(`nb2prod monitor: ${opened.length} alert${opened.length === 1 ? '' : 's'} opened: running ${printable(command)}\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env: { ...process.env, ...io.env, NB2PROD_ALERTS: JSON.stringify(opened), NB2PROD_SERVICE: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (io.raw ?? io).stdout(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (io.raw ?? io).stderr(chunk.toString()));
    child.on('error', () => resolve(127));
    child.on('close', (status) => resolve(status ?? 1));
  });
  io.stderr(`nb2prod monitor: --on-alert command exited ${code}\n`);
}

async function subcommand(sub: (typeof SUBCOMMANDS)[number], values: Values, args: string[], io: CliIo): Promise<number> {
  const service = await serviceAt(args[0]!, values, io);
  const historyFile = alertHistoryPath(service.stateDir);
  switch (sub) {
    case 'labels': {
      const file = args[1];
      if (file === undefined || args.length !== 2) throw new UserError('usage', 'monitor labels takes SERVICE_DIR FILE (a CSV or JSON Lines file of labels)');
      const result = service.auditDsn
        ? await importToPostgres(path.resolve(io.cwd, file), service.auditDsn, service.auditTable)
        : await importLabels(path.resolve(io.cwd, file), service.feedbackLog);
      if (values.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else {
        io.stdout(`${result.imported} label${result.imported === 1 ? '' : 's'} appended to ${DSN.test(result.target) ? result.target : path.relative(io.cwd, result.target)}${result.refused.length ? `; ${result.refused.length} row${result.refused.length === 1 ? '' : 's'} refused:` : '.'}\n`);
        for (const r of result.refused.slice(0, 20)) io.stdout(`  row ${r.row}: ${printable(r.reason)}\n`);
        if (result.refused.length > 20) io.stdout(`  … and ${result.refused.length - 20} more\n`);
        io.stdout('Run nb2prod monitor on the service to see them joined to the predictions (unknown request ids and duplicates are counted there).\n');
      }
      return result.refused.length && !result.imported ? 1 : 0;
    }
    case 'alerts': {
      if (args.length !== 1) throw new UserError('usage', 'monitor alerts takes SERVICE_DIR');
      const { events, problems } = await readAlertEvents(historyFile);
      for (const p of problems) io.stderr(`nb2prod monitor: warning: ${historyFile} ${p}\n`);
      const alerts = foldAlerts(events).filter((a) => values.all || a.status !== 'resolved');
      if (values.json) {
        io.stdout(`${JSON.stringify(alerts, null, 2)}\n`);
        return 0;
      }
      if (!alerts.length) io.stdout(values.all ? 'No alert was ever opened.\n' : 'No open alert.\n');
      for (const a of alerts) {
        io.stdout(`${a.id}  ${a.status.toUpperCase()}  ${a.severity}  ${a.rule} ${printable(a.subject)}  opened ${a.openedAt}\n  ${printable(a.message)}\n`);
        for (const ack of a.acknowledged) io.stdout(`  acknowledged ${ack.at} by ${printable(ack.by)}${ack.reason ? `: ${printable(ack.reason)}` : ''}\n`);
        if (a.resolved) io.stdout(`  resolved ${a.resolved.at} by ${printable(a.resolved.by)}${a.resolved.reason ? `: ${printable(a.resolved.reason)}` : ''}\n`);
      }
      return 0;
    }
    case 'ack':
    case 'resolve': {
      if (args.length !== 2) throw new UserError('usage', `monitor ${sub} takes SERVICE_DIR ALERT_ID`);
      const reason = str(values, 'reason');
      if (!reason?.trim()) throw new UserError('usage', `monitor ${sub} needs --reason (why: it is recorded with who and when)`);
      const by = await resolveActor(str(values, 'by'), io.cwd, io.env, io.identity ? { system: io.identity } : {});
      const alert = await annotateAlert(historyFile, sub === 'ack' ? 'acknowledge' : 'resolve', args[1]!, by.by, reason);
      if (values.json) io.stdout(`${JSON.stringify(alert, null, 2)}\n`);
      else io.stdout(`Alert ${alert.id} (${alert.rule} ${printable(alert.subject)}) ${sub === 'ack' ? 'acknowledged' : 'resolved'} by ${printable(by.by)}: ${printable(reason)}\n`);
      return 0;
    }
  }
}

async function importToPostgres(file: string, dsn: string, table: string) {
  const { entries, refused } = await labelEntries(file);
  await insertFeedback(dsn, table, entries);
  return { file, target: `${redactDsn(dsn)} ${table}_feedback`, imported: entries.length, refused };
}
