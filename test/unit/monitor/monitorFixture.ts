/**
 * A generated service's folder as the monitor reads it, written by hand: service/config.json,
 * contracts/profile.json (a numeric input x with deciles 0..10, a categorical input c with
 * values a/b, a 0/1 target with 70% zeros), and audit and feedback lines for the days given.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SHA = 'a'.repeat(64);

export interface Line {
  time: string;
  request_id: string;
  x?: number;
  c?: string;
  prediction?: number;
  p1?: number;
  latency?: number;
  fallback?: boolean;
  kill_switch?: boolean;
  type?: string;
  batch_index?: number;
  role?: string;
  shadow?: boolean;
  sha256?: string;
  extra?: Record<string, unknown>;
}

/** `root`: where to write it (default: a new temporary folder). */
export function serviceFolder(config: Record<string, unknown> = {}, root = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-monitor-'))): string {
  mkdirSync(path.join(root, 'service'), { recursive: true });
  mkdirSync(path.join(root, 'contracts'), { recursive: true });
  writeFileSync(path.join(root, 'service', 'config.json'), JSON.stringify({
    schema: 'nb2prod.service-config/1',
    name: 'toy',
    task: 'classification',
    target: 'y',
    input_columns: ['x', 'c'],
    model: { path: 'model/m.joblib', sha256: SHA, name: 'toy', version: 3 },
    fallback: { prediction: 0, probability: 0.7 },
    drift: { monitor: 0.1, retrain: 0.2 },
    run_metrics: { accuracy: 0.8 },
    audit_log: 'var/audit/predictions.jsonl',
    ...config,
  }));
  writeFileSync(path.join(root, 'contracts', 'profile.json'), JSON.stringify({
    rows: 1000,
    columns: [
      { name: 'x', type: 'numeric', count: 1000, nulls: 0, bins: { edges: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], counts: Array(10).fill(100) } },
      { name: 'c', type: 'categorical', count: 1000, nulls: 0, top: [{ value: 'a', count: 500 }, { value: 'b', count: 500 }] },
      { name: 'y', type: 'numeric', count: 1000, nulls: 0, bins: { edges: [0, 1], counts: [1000] }, integer: true },
    ],
  }));
  return root;
}

export function auditLine(l: Line): string {
  const p1 = l.p1 ?? 0.2;
  const prediction = l.prediction ?? (p1 >= 0.5 ? 1 : 0);
  return JSON.stringify({
    type: l.type ?? 'prediction',
    time: l.time,
    request_id: l.request_id,
    endpoint: l.batch_index === undefined ? '/predict' : '/predict/batch',
    role: l.role ?? 'champion',
    ...(l.shadow ? { shadow: true } : {}),
    input: { x: l.x ?? 5.5, c: l.c ?? 'a' },
    output: { prediction, probability: prediction === 1 ? p1 : 1 - p1 },
    scores: [[0, 1 - p1], [1, p1]],
    model: { name: 'toy', version: 3, sha256: l.sha256 ?? SHA },
    latency_ms: l.latency ?? 2,
    fallback: l.fallback ?? false,
    kill_switch: l.kill_switch ?? false,
    needs_review: false,
    rule: null,
    ...(l.batch_index === undefined ? {} : { batch_index: l.batch_index }),
    ...l.extra,
  });
}

export function writeAudit(root: string, day: string, lines: string[], ending = '\n'): void {
  const dir = path.join(root, 'var', 'audit');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `predictions-${day}.jsonl`), lines.join('\n') + ending);
}

export function writeFeedback(root: string, day: string, items: Array<Record<string, unknown>>): void {
  const dir = path.join(root, 'var', 'feedback');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `labels-${day}.jsonl`), items.map((i) => JSON.stringify({ type: 'feedback', time: `${day}T12:00:00.000Z`, source: 'explicit', ...i })).join('\n') + '\n');
}

/**
 * Two days of traffic: the first like training (x spread over its deciles, labels agreeing with
 * 80% of the answers), the second drifted (every x in the lowest decile: PSI far above 0.2)
 * with labels agreeing with half of the answers (accuracy 50% against training's 80%: an
 * accuracy drop). `torn`: the second day's file ends in a line cut short, as a crash leaves it.
 */
export function driftAndAccuracyDrop(root: string, options: { torn?: boolean } = {}): void {
  const day = (date: string, prefix: string, x: (i: number) => number) =>
    Array.from({ length: 200 }, (_, i) => auditLine({ time: `${date}T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, request_id: `${prefix}${i}`, x: x(i), c: i % 2 ? 'a' : 'b', p1: i % 10 < 3 ? 0.8 : 0.2 }));
  writeAudit(root, '2031-01-01', day('2031-01-01', 's', (i) => 0.5 + (i % 10)));
  const drifted = day('2031-01-02', 'd', () => 0.5);
  if (options.torn) writeAudit(root, '2031-01-02', [...drifted, '{"type": "prediction", "time": "2031-01-02T11:00'], '');
  else writeAudit(root, '2031-01-02', drifted);
  // labels: the first day agrees with 80% of the answers, the second with 50%
  const answer = (i: number) => (i % 10 < 3 ? 1 : 0);
  writeFeedback(root, '2031-01-05', [
    ...Array.from({ length: 100 }, (_, i) => ({ request_id: `s${i}`, label: i % 5 === 0 ? 1 - answer(i) : answer(i) })),
    ...Array.from({ length: 100 }, (_, i) => ({ request_id: `d${i}`, label: i % 2 === 0 ? 1 - answer(i) : answer(i) })),
  ]);
}
