/**
 * The lint precision harness: lint a folder of real notebooks in-process, through the same
 * core as `nb2prod lint` (LintSession: config, project scan, lintFile), and print what a person
 * needs to judge precision — findings per rule and severity, files, time per file, the files
 * that could not be linted, and a reproducible random sample of findings with the flagged
 * source line, to mark true or false by hand.
 *
 * `npm run lint-corpus -- DIR [--sample N] [--seed S] [--rule R] [--json]`; see
 * docs/lint-corpus.md. The pure parts (sampling, tallies, percentiles, the report) are exported
 * for the unit tests; `lintCorpusCli.ts` is the command.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cellsOf, targetKind } from '../src/core/lint/engine';
import { displayPath } from '../src/core/lint/format';
import { type FileReport, LintSession, type ReportedFinding } from '../src/core/lint/lintFiles';
import { PythonOracle } from '../src/core/lint/pythonOracle';

/** The Python companion's sources (the CLI uses its copy in dist/python). */
const PYTHON_DIR = path.resolve(__dirname, '../src/core/capture/python');
import type { Rule, Severity } from '../src/core/lint/rule';
import { cellLabel } from '../src/core/notebook/cellLabel';

export interface CorpusOptions {
  /** Findings to sample for hand review (default 20). */
  sample: number;
  /** Seed of the sample: the same seed over the same findings gives the same sample. */
  seed: number;
  /** Only this rule's findings are counted and sampled (every rule still runs). */
  rule: string | null;
  /** The interpreter that confirms syntax and lists star-imported names, as `nb2prod lint --python`; null: none. */
  python?: string | null;
}

export interface TimedReport {
  report: FileReport;
  ms: number;
}

export interface RuleTally {
  rule: string;
  error: number;
  warning: number;
  info: number;
  total: number;
  /** Files with at least one finding of the rule. */
  files: number;
}

export interface SampledFinding {
  path: string;
  /** "cell 5" for a notebook, null for a script. */
  cell: string | null;
  /** 1-based line in the cell (or script). */
  line: number;
  column: number;
  rule: string;
  severity: Severity;
  message: string;
  /** The source line the finding starts on, as written. */
  source: string;
}

export interface CorpusReport {
  root: string;
  files: number;
  fileErrors: Array<{ path: string; error: string }>;
  ruleFailures: Array<{ path: string; rule: string; message: string }>;
  findings: number;
  severities: Record<Severity, number>;
  rules: RuleTally[];
  time: { totalMs: number; p50Ms: number; p90Ms: number; maxMs: number; slowest: string | null };
  sample: { seed: number; size: number; of: number; rule: string | null; findings: SampledFinding[] };
}

/** mulberry32: a small seeded PRNG, so a sample can be drawn again from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` distinct indices below `count`, drawn with `seed` (partial Fisher–Yates), in increasing order. */
export function sampleIndices(count: number, size: number, seed: number): number[] {
  const take = Math.max(0, Math.min(size, count));
  const random = seededRandom(seed);
  const pool = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (count - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, take).sort((a, b) => a - b);
}

/** The value below which `q` (0..1) of the values lie (nearest rank). */
export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Findings kept for the report: all, or one rule's. In file order, then as each file reports them. */
export function selectedFindings(reports: readonly FileReport[], rule: string | null): Array<{ report: FileReport; finding: ReportedFinding }> {
  return reports.flatMap((report) => report.findings.filter((f) => rule === null || f.rule === rule).map((finding) => ({ report, finding })));
}

/** Per rule: findings by severity and the files they are in; rules with none are left out. Most findings first. */
export function tallyRules(reports: readonly FileReport[], rule: string | null): RuleTally[] {
  const tallies = new Map<string, RuleTally & { paths: Set<string> }>();
  for (const { report, finding } of selectedFindings(reports, rule)) {
    let tally = tallies.get(finding.rule);
    if (!tally) {
      tally = { rule: finding.rule, error: 0, warning: 0, info: 0, total: 0, files: 0, paths: new Set() };
      tallies.set(finding.rule, tally);
    }
    tally[finding.severity]++;
    tally.total++;
    tally.paths.add(report.path);
  }
  return [...tallies.values()]
    .map(({ paths, ...tally }) => ({ ...tally, files: paths.size }))
    .sort((a, b) => b.total - a.total || a.rule.localeCompare(b.rule));
}

export function tallySeverities(reports: readonly FileReport[], rule: string | null): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const { finding } of selectedFindings(reports, rule)) out[finding.severity]++;
  return out;
}

/**
 * Builds the report from the linted files. `sourceLine` gives the text of a finding's line
 * (read again from the file, only for the sampled findings).
 */
export function buildReport(
  root: string,
  timed: readonly TimedReport[],
  totalMs: number,
  options: CorpusOptions,
  sourceLine: (report: FileReport, finding: ReportedFinding) => string,
): CorpusReport {
  const reports = timed.map((t) => t.report);
  const selected = selectedFindings(reports, options.rule);
  const picked = sampleIndices(selected.length, options.sample, options.seed).map((i) => selected[i]!);
  const times = timed.map((t) => t.ms);
  const slowest = timed.reduce<TimedReport | null>((max, t) => (!max || t.ms > max.ms ? t : max), null);
  return {
    root,
    files: reports.length,
    fileErrors: reports.filter((r) => r.error).map((r) => ({ path: displayPath(r.path, root), error: r.error! })),
    ruleFailures: reports.flatMap((r) => r.ruleFailures.map((f) => ({ path: displayPath(r.path, root), rule: f.rule, message: f.message.split('\n')[0]! }))),
    findings: selected.length,
    severities: tallySeverities(reports, options.rule),
    rules: tallyRules(reports, options.rule),
    time: {
      totalMs,
      p50Ms: percentile(times, 0.5),
      p90Ms: percentile(times, 0.9),
      maxMs: slowest?.ms ?? 0,
      slowest: slowest ? displayPath(slowest.report.path, root) : null,
    },
    sample: {
      seed: options.seed,
      size: picked.length,
      of: selected.length,
      rule: options.rule,
      findings: picked.map(({ report, finding }) => ({
        path: displayPath(report.path, root),
        cell: report.kind === 'notebook' ? cellLabel(finding.cell) : null,
        line: finding.start.line + 1,
        column: finding.start.character + 1,
        rule: finding.rule,
        severity: finding.severity,
        message: finding.message,
        source: sourceLine(report, finding),
      })),
    },
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

/** The report for a person: totals, a table per rule, the broken files, then the sample to judge. */
export function formatCorpusReport(report: CorpusReport): string {
  const lines: string[] = [];
  const { severities: s, time } = report;
  lines.push(`${report.root}: ${plural(report.files, 'file')} linted in ${ms(time.totalMs)} (per file p50 ${ms(time.p50Ms)}, p90 ${ms(time.p90Ms)}, max ${ms(time.maxMs)}${time.slowest ? `: ${time.slowest}` : ''})`);
  lines.push(
    `${plural(report.findings, 'finding')}${report.sample.rule ? ` of ${report.sample.rule}` : ''}: ${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${plural(s.info, 'note')}; ${plural(report.fileErrors.length, 'file')} not linted`,
  );
  if (report.rules.length) {
    const width = Math.max(4, ...report.rules.map((r) => r.rule.length));
    lines.push('', `${'rule'.padEnd(width)}  ${'total'.padStart(5)}  ${'error'.padStart(5)}  ${'warning'.padStart(7)}  ${'info'.padStart(5)}  ${'files'.padStart(5)}`);
    for (const r of report.rules) {
      lines.push(`${r.rule.padEnd(width)}  ${String(r.total).padStart(5)}  ${String(r.error).padStart(5)}  ${String(r.warning).padStart(7)}  ${String(r.info).padStart(5)}  ${String(r.files).padStart(5)}`);
    }
  }
  if (report.fileErrors.length) {
    lines.push('', 'Files not linted:');
    for (const f of report.fileErrors) lines.push(`  ${f.path}: ${f.error}`);
  }
  if (report.ruleFailures.length) {
    lines.push('', 'Rules that failed (bugs in nb2prod):');
    for (const f of report.ruleFailures) lines.push(`  ${f.path}: ${f.rule}: ${f.message}`);
  }
  const { sample } = report;
  lines.push('', `Sample: ${sample.size} of ${sample.of} findings (seed ${sample.seed}${sample.rule ? `, rule ${sample.rule}` : ''}); mark each true or false:`);
  sample.findings.forEach((f, i) => {
    lines.push('', `${String(i + 1).padStart(3)}. ${f.path} ${f.cell ? `${f.cell} ` : ''}line ${f.line}:${f.column}  ${f.rule} (${f.severity})`);
    lines.push(`     | ${f.source}`);
    lines.push(`     ${f.message}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Lints every notebook and Python file under `root` as `nb2prod lint` would. */
export async function lintCorpus(root: string, rules: readonly Rule[], options: CorpusOptions, onFile?: (done: number, total: number) => void): Promise<CorpusReport> {
  const folder = path.resolve(root);
  const python = options.python ? new PythonOracle({ python: options.python, pythonDir: PYTHON_DIR, importModules: true }) : null;
  const session = new LintSession(folder, { rules, useGit: true, python });
  const { files, missing } = await session.collect([folder]);
  if (missing.length) throw new Error(`no such folder: ${missing.join(', ')}`);
  const timed: TimedReport[] = [];
  const started = performance.now();
  try {
    for (const file of files) {
      const fileStarted = performance.now();
      const report = await session.lint(file);
      timed.push({ report, ms: performance.now() - fileStarted });
      onFile?.(timed.length, files.length);
    }
  } finally {
    python?.dispose();
  }
  if (python?.unavailable) throw new Error(`--python ${options.python}: ${python.unavailable}`);
  const totalMs = performance.now() - started;
  // Cell sources are read back, through the same parser, only for the files the sample picked.
  const selected = selectedFindings(timed.map((t) => t.report), options.rule);
  const sources = new Map<string, string[]>();
  for (const i of sampleIndices(selected.length, options.sample, options.seed)) {
    const file = selected[i]!.report.path;
    const kind = targetKind(file);
    if (sources.has(file) || !kind) continue;
    sources.set(file, cellsOf(await fs.readFile(file, 'utf8'), { kind, path: file }).map((c) => c.source));
  }
  return buildReport(folder, timed, totalMs, options, (report, finding) => (sources.get(report.path)?.[finding.cell]?.split('\n')[finding.start.line] ?? '').trimEnd());
}
