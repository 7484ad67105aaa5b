/**
 * The generated service's latency for one prediction over real HTTP on loopback, beside calling
 * the model directly in the same Python process. Builds the project the way a user does (copy of
 * examples/churn, `nb2prod track`, `nb2prod scaffold`, with the built CLI) in a temp dir, then
 * bench/service_latency.py serves it with uvicorn and measures both paths (see its docstring).
 *
 * One measurement per interpreter, each tracking, scaffolding and serving with its own
 * libraries: Debian's /usr/bin/python3 (FastAPI 0.92, pydantic 1.10) and the venv of current
 * releases (scripts/provision-python.sh: FastAPI 0.165, pydantic 2). NB2PROD_BENCH_PYTHONS=debian
 * (or current) measures one of them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..');

export interface BenchPython {
  /** debian or current, as in scripts/test-python.sh. */
  label: string;
  path: string;
}

/** The interpreters to measure in: NB2PROD_BENCH_PYTHONS (default debian,current); the venv of
 * current releases is built first when it is not there yet, as `npm run test:python` does. */
export function benchPythons(): BenchPython[] {
  const wanted = (process.env.NB2PROD_BENCH_PYTHONS ?? 'debian,current').split(',').map((w) => w.trim());
  const out: BenchPython[] = [];
  if (wanted.includes('debian')) out.push({ label: 'debian', path: '/usr/bin/python3' });
  if (wanted.includes('current')) {
    const script = path.join(repo, 'scripts', 'provision-python.sh');
    execFileSync('bash', [script], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
    out.push({ label: 'current', path: execFileSync('bash', [script, '--print'], { cwd: repo, encoding: 'utf8' }).trim() });
  }
  if (!out.length) throw new Error(`NB2PROD_BENCH_PYTHONS=${process.env.NB2PROD_BENCH_PYTHONS} names neither debian nor current`);
  return out;
}

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
  /** CPU ms per request of the server process and per direct prediction (null off Linux). */
  cpuMs: { serverPerRequest: number; directPerPrediction: number; overhead: number } | null;
  throughput: { sequential: ThroughputRun; concurrent: ThroughputRun; directPerSecond: number };
  checkedResponses: number;
  server: { port: number; startupMs: number };
  versions: Record<string, string | null>;
}

/** bench/audit_sink_latency.py: POST /predict with the audit sink on and with its submit() a no-op. */
export interface AuditSinkLatency {
  on: LatencyStats;
  off: LatencyStats;
  addedMs: { median: number; p95: number };
  written: number;
}

export function measureServiceLatency(python: BenchPython): ServiceLatency & { generateMs: number; python: BenchPython; auditSink: AuditSinkLatency } {
  const PYTHON = python.path;
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
    const sink = execFileSync(PYTHON, [path.join(repo, 'bench', 'audit_sink_latency.py'), path.join(notebookDir, 'production')], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return { ...(JSON.parse(out) as ServiceLatency), generateMs, python, auditSink: JSON.parse(sink) as AuditSinkLatency };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
