/**
 * `nb2prod monitor SERVICE_DIR`: the feedback is read first (labels are few beside predictions),
 * then the audit log streams through the engine file by file, skipping the daily files that end
 * before --since. What the CLI and the editor's panel both call.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { type MonitorConfig } from './config';
import { type EngineState, MonitorEngine, type MonitorResult } from './engine';
import { LabelCollector, type LabelIndex, loadLabels } from './labels';
import { readPostgresEntries } from './postgres';
import { type LineProblems, noProblems, readJsonLines } from './lines';
import { type ServiceInfo, streamFiles } from './service';

export interface MonitorRunOptions {
  windowMs: number;
  since: number | null;
  until?: number | null;
  config: MonitorConfig;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Cancels the read (the editor's progress notification): the files between chunks, workers terminated. */
  signal?: AbortSignal;
  /**
   * Worker threads to read the audit files with (each takes a share of the files, balanced by
   * size); 1 reads in this thread. Needs `workerScript` (dist/monitorWorker.js).
   */
  threads?: number;
  workerScript?: string;
}

/** Each worker's old generation: the label index (about 130 MB per million labels) and the windows fit. */
const WORKER_OLD_SPACE_MB = Number(process.env.NB2PROD_MONITOR_WORKER_MB ?? 200);

/** Below this much audit log, one thread reads it faster than starting workers. */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;

export async function monitorService(service: ServiceInfo, options: MonitorRunOptions): Promise<MonitorResult> {
  if (service.auditDsn) return monitorPostgres(service, service.auditDsn, options);
  const problems = noProblems();
  const sinceDay = options.since === null ? null : new Date(options.since - 86_400_000).toISOString().slice(0, 10);
  // a day's file holds entries of that UTC day only; one day of margin for entries near midnight
  const files = streamFiles(service.auditLog).filter((f) => f.day === null || sinceDay === null || f.day >= sinceDay);
  let total = 0;
  const sizes = new Map<string, number>();
  for (const file of files) {
    const size = (await fs.stat(file.path)).size;
    sizes.set(file.path, size);
    total += size;
  }
  const threads = Math.min(options.threads ?? (total >= PARALLEL_MIN_BYTES ? Math.min(os.availableParallelism(), 4) : 1), files.length);
  const parallel = threads > 1 && options.workerScript !== undefined && existsSync(options.workerScript);
  const labels = await loadLabels(service.feedbackLog, problems, parallel);
  if (parallel) {
    try {
      return await monitorInWorkers(service, options, labels, problems, files.map((f) => f.path), sizes, total, threads, options.workerScript!);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // a worker that ran out of its heap (very many windows) or failed: read it all in this thread
      labels.matched.fill(0);
    }
  }
  const engine = new MonitorEngine(service, labels, { windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config });
  let read = 0;
  let lines = 0;
  for (const file of files) {
    lines += await readJsonLines(file.path, (entry) => engine.add(entry), problems, (bytes) => {
      read += bytes;
      options.onProgress?.(read, total);
    }, options.signal);
  }
  return engine.result({ files: files.length, lines, bytes: read, invalid: problems.invalid, invalidExamples: problems.examples, torn: problems.torn });
}

/** The same pass over the service's PostgreSQL tables (AUDIT_DSN). */
async function monitorPostgres(service: ServiceInfo, dsn: string, options: MonitorRunOptions): Promise<MonitorResult> {
  const problems = noProblems();
  const collector = new LabelCollector();
  await readPostgresEntries(dsn, `${service.auditTable}_feedback`, null, (entry) => collector.add(entry), problems);
  options.signal?.throwIfAborted();
  const engine = new MonitorEngine(service, collector.index(), { windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config });
  let read = 0;
  const { lines, bytes } = await readPostgresEntries(dsn, service.auditTable, options.since, (entry) => {
    options.signal?.throwIfAborted();
    engine.add(entry);
  }, problems, (n) => {
    read += n;
    options.onProgress?.(read, 0);
  });
  return engine.result({ files: 0, lines, bytes, invalid: problems.invalid, invalidExamples: problems.examples, torn: problems.torn });
}

interface WorkerDone {
  type: 'done';
  bytes: number;
  lines: number;
  problems: LineProblems;
  state: EngineState;
}

/** The audit files split among worker threads (largest first, each to the least loaded), their engines merged. */
async function monitorInWorkers(service: ServiceInfo, options: MonitorRunOptions, labels: LabelIndex, problems: LineProblems, files: string[], sizes: Map<string, number>, total: number, threads: number, script: string): Promise<MonitorResult> {
  const shares: Array<{ files: string[]; bytes: number }> = Array.from({ length: threads }, () => ({ files: [], bytes: 0 }));
  for (const file of [...files].sort((a, b) => sizes.get(b)! - sizes.get(a)!)) {
    const lightest = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.files.push(file);
    lightest.bytes += sizes.get(file)!;
  }
  let read = 0;
  const workers: Worker[] = [];
  const abort = () => {
    for (const worker of workers) void worker.terminate();
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  const results = await Promise.all(shares.map((share) => new Promise<WorkerDone>((resolve, reject) => {
    options.signal?.throwIfAborted();
    const worker = new Worker(script, {
      // the label index's arrays are SharedArrayBuffers: shared, not copied
      workerData: { service, files: share.files, windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config, labels: labels.data },
      // a smaller heap makes V8 collect the parsed lines' garbage sooner: memory stays bounded with several threads
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB, maxYoungGenerationSizeMb: 16 },
    });
    workers.push(worker);
    worker.on('message', (message: { type: string; bytes?: number; message?: string }) => {
      if (message.type === 'progress' || message.type === 'done') {
        read += message.bytes ?? 0;
        options.onProgress?.(read, total);
      }
      if (message.type === 'done') resolve(message as WorkerDone);
      if (message.type === 'error') reject(new Error(`a monitor worker failed: ${message.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (code !== 0) reject(new Error(`a monitor worker exited with ${code}`));
    });
  }))).finally(() => options.signal?.removeEventListener('abort', abort));
  // the workers marked the labels they matched in the shared index
  const engine = new MonitorEngine(service, labels, { windowMs: options.windowMs, since: options.since, until: options.until ?? null, config: options.config });
  let lines = 0;
  let bytes = 0;
  for (const result of results) {
    engine.merge(result.state);
    lines += result.lines;
    problems.invalid += result.problems.invalid;
    problems.torn += result.problems.torn;
    problems.examples.push(...result.problems.examples);
  }
  bytes = total;
  return engine.result({ files: files.length, lines, bytes, invalid: problems.invalid, invalidExamples: problems.examples.slice(0, 5), torn: problems.torn });
}
