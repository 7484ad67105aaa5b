/**
 * The generated service's latency for one prediction over real HTTP on loopback, beside calling
 * the model directly in the same Python process. Builds the project the way a user does (copy of
 * examples/churn, `nb2prod track`, `nb2prod scaffold`, with the built CLI) in a temp dir, then
 * bench/service_latency.py serves it with uvicorn and measures both paths (see its docstring).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';

export interface LatencyStats {
  n: number;
  median: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export interface ThroughputRun {
  threads: number;
  requests: number;
  seconds: number;
  perSecond: number;
  latency: LatencyStats;
}

/** What bench/service_latency.py prints; all times in ms. */
export interface ServiceLatency {
  records: number;
  requests: number;
  warmup: number;
  http: LatencyStats;
  direct: LatencyStats;
  bareModel: LatencyStats;
  overheadMs: { median: number; p95: number };
  featureCodeMs: { median: number };
  throughput: { sequential: ThroughputRun; concurrent: ThroughputRun; directPerSecond: number };
  checkedResponses: number;
  server: { port: number; startupMs: number };
}

export function measureServiceLatency(): ServiceLatency & { generateMs: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-bench-service-'));
  try {
    const notebookDir = path.join(dir, 'churn');
    // A fresh copy without a store or a model from an earlier run: tracking makes both.
    cpSync(path.join(repo, 'examples', 'churn'), notebookDir, {
      recursive: true,
      filter: (source) => !['.nb2prod', 'models'].includes(path.basename(source)),
    });
    const cli = path.join(repo, 'dist', 'cli.js');
    const started = performance.now();
    execFileSync(process.execPath, [cli, 'track', 'churn.ipynb'], {
      cwd: notebookDir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NB2PROD_PYTHON: PYTHON, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    });
    execFileSync(process.execPath, [cli, 'scaffold', 'churn.ipynb', '--out', 'production', '--python', PYTHON], { cwd: notebookDir, stdio: ['ignore', 'ignore', 'pipe'] });
    const generateMs = performance.now() - started;
    const out = execFileSync(PYTHON, [path.join(repo, 'bench', 'service_latency.py'), path.join(notebookDir, 'production')], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return { ...(JSON.parse(out) as ServiceLatency), generateMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
