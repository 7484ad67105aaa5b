/**
 * A worker thread of `nb2prod monitor` (bundled to dist/monitorWorker.js): reads its share of the
 * audit files through its own engine, joining labels through the index the main thread built in
 * shared memory (and marking the labels it matched there), and posts the engine's state for the
 * main thread to merge.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MonitorConfig } from './config';
import { MonitorEngine } from './engine';
import { type LabelData, LabelIndex } from './labels';
import { noProblems, readJsonLines } from './lines';
import type { ServiceInfo } from './service';

export interface WorkerInput {
  service: ServiceInfo;
  files: string[];
  windowMs: number;
  since: number | null;
  until: number | null;
  config: MonitorConfig;
  labels: LabelData;
}

async function work(input: WorkerInput): Promise<void> {
  const labels = new LabelIndex(input.labels);
  const engine = new MonitorEngine(input.service, labels, { windowMs: input.windowMs, since: input.since, until: input.until, config: input.config });
  const problems = noProblems();
  let lines = 0;
  let pendingBytes = 0;
  for (const file of input.files) {
    lines += await readJsonLines(file, (entry) => engine.add(entry), problems, (bytes) => {
      pendingBytes += bytes;
      if (pendingBytes >= 64 * 1024 * 1024) {
        parentPort!.postMessage({ type: 'progress', bytes: pendingBytes });
        pendingBytes = 0;
      }
    });
  }
  parentPort!.postMessage({
    type: 'done',
    bytes: pendingBytes,
    lines,
    problems,
    state: engine.exportState(),
  });
}

if (parentPort) {
  work(workerData as WorkerInput).catch((error: unknown) => {
    parentPort!.postMessage({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
}
