/**
 * `nb2prod monitor SERVICE_DIR`: the feedback is read first (labels are few beside predictions),
 * then the audit log streams through the engine file by file, skipping the daily files that end
 * before --since. What the CLI and the editor's panel both call.
 */
import { promises as fs } from 'node:fs';
import { type MonitorConfig } from './config';
import { MonitorEngine, type MonitorResult } from './engine';
import { LabelCollector, loadLabels } from './labels';
import { readPostgresEntries } from './postgres';
import { noProblems, readJsonLines } from './lines';
import { type ServiceInfo, streamFiles } from './service';

export interface MonitorRunOptions {
  windowMs: number;
  since: number | null;
  until?: number | null;
  config: MonitorConfig;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export async function monitorService(service: ServiceInfo, options: MonitorRunOptions): Promise<MonitorResult> {
  if (service.auditDsn) return monitorPostgres(service, service.auditDsn, options);
  const problems = noProblems();
  const labels = await loadLabels(service.feedbackLog, problems);
  const engine = new MonitorEngine(service, labels, { windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config });
  const sinceDay = options.since === null ? null : new Date(options.since - 86_400_000).toISOString().slice(0, 10);
  // a day's file holds entries of that UTC day only; one day of margin for entries near midnight
  const files = streamFiles(service.auditLog).filter((f) => f.day === null || sinceDay === null || f.day >= sinceDay);
  let total = 0;
  for (const file of files) total += (await fs.stat(file.path)).size;
  let read = 0;
  let lines = 0;
  for (const file of files) {
    lines += await readJsonLines(file.path, (entry) => engine.add(entry), problems, (bytes) => {
      read += bytes;
      options.onProgress?.(read, total);
    });
  }
  return engine.result({ files: files.length, lines, bytes: read, invalid: problems.invalid, invalidExamples: problems.examples, torn: problems.torn });
}

/** The same pass over the service's PostgreSQL tables (AUDIT_DSN). */
async function monitorPostgres(service: ServiceInfo, dsn: string, options: MonitorRunOptions): Promise<MonitorResult> {
  const problems = noProblems();
  const collector = new LabelCollector();
  await readPostgresEntries(dsn, `${service.auditTable}_feedback`, null, (entry) => collector.add(entry), problems);
  const engine = new MonitorEngine(service, collector.index(), { windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config });
  let read = 0;
  const { lines, bytes } = await readPostgresEntries(dsn, service.auditTable, options.since, (entry) => engine.add(entry), problems, (n) => {
    read += n;
    options.onProgress?.(read, 0);
  });
  return engine.result({ files: 0, lines, bytes, invalid: problems.invalid, invalidExamples: problems.examples, torn: problems.torn });
}
