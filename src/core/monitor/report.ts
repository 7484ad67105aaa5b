/**
 * The monitor's report for people (text, Markdown, a standalone HTML page) and for programs
 * (JSON, schema nb2prod.monitor/1: fields are only ever added). Every value from the log is
 * escaped in HTML; text goes through the CLI's terminal-safe output.
 */
import type { Alert, Evaluation } from './alerts';
import type { MonitorResult, WindowReport } from './engine';

export type MonitorFormat = 'text' | 'json' | 'md' | 'html';
export const MONITOR_SCHEMA = 'nb2prod.monitor/1';

export interface MonitorReport {
  result: MonitorResult;
  evaluation: Evaluation;
  /** The alert history's open alerts (after recording, with --check). */
  alerts: Alert[];
  source: string;
}

const num = (n: number | null | undefined, digits = 3) => (n === null || n === undefined || !Number.isFinite(n) ? '—' : Math.abs(n) < 1e-9 ? '0' : Math.abs(n) >= 1000 ? n.toFixed(0) : Number(n.toPrecision(digits)).toString());
const pct = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(1)}%`);
const ms = (n: number | null) => (n === null ? '—' : `${num(n)} ms`);
const day = (iso: string, windowMs: number) => (windowMs % 86_400_000 === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' '));

function performanceText(w: WindowReport, task: string): string {
  const p = w.performance;
  if (!p.n) return 'no labels yet';
  return task === 'classification'
    ? `accuracy ${pct(p.accuracy)}${p.precision !== undefined ? `, precision ${pct(p.precision)}, recall ${pct(p.recall)}, AUC ${num(p.auc)}` : ''} (${p.n} labels)`
    : `MAE ${num(p.mae)}, RMSE ${num(p.rmse)} (${p.n} labels)`;
}

export function renderMonitorReport(report: MonitorReport, format: MonitorFormat): string {
  if (format === 'json') return JSON.stringify({ schema: MONITOR_SCHEMA, source: report.source, ...report.result, evaluation: report.evaluation, alerts: report.alerts }, null, 2) + '\n';
  if (format === 'md') return markdown(report);
  if (format === 'html') return html(report);
  return text(report);
}

export function summaryLines(report: MonitorReport): string[] {
  const { result } = report;
  const out: string[] = [];
  const r = result.read;
  out.push(`${r.lines} audit lines ${r.files ? `in ${r.files} file${r.files === 1 ? '' : 's'}` : 'from PostgreSQL'} (${(r.bytes / 1e6).toFixed(1)} MB)${r.invalid ? `; ${r.invalid} unreadable (${r.invalidExamples.join(', ')})` : ''}${r.torn ? `; ${r.torn} torn last line${r.torn === 1 ? '' : 's'} skipped (a write in progress or a crash)` : ''}`);
  for (const gap of r.gaps) out.push(`${gap.lost} audit entries lost: process ${gap.pid ?? '?'} on ${gap.host ?? '?'} stopped before writing them (reported at ${gap.time})`);
  for (const m of r.unknownModels) out.push(`${m.lines} lines from a model this service does not serve (sha256 ${m.sha256.slice(0, 12) || 'none'}…, version ${String(m.version)}): counted in the windows, check which process wrote them`);
  if (r.outOfOrderSeconds > 1) out.push(`entries up to ${num(r.outOfOrderSeconds)} s out of time order (replica clocks may differ): each entry counts in the window of its own time`);
  const l = result.labels;
  out.push(`labels: ${l.entries} feedback entries (${l.bySource.explicit ?? 0} explicit, ${l.bySource.implicit ?? 0} implicit), ${l.predictionsLabelled} predictions labelled; ${l.unknown} for request ids not in the log read${l.duplicates ? `; ${l.duplicates} duplicates (the last one wins)` : ''}${l.knownBeforePrediction ? `; ${l.knownBeforePrediction} known before their prediction (clock skew?)` : ''}`);
  return out;
}

function text(report: MonitorReport): string {
  const { result, evaluation } = report;
  const lines: string[] = [];
  lines.push(`Monitor of ${result.service.name} (${result.service.task}${result.service.target ? `, target ${result.service.target}` : ''}) from ${report.source}`);
  lines.push(`model ${result.service.model.version === null ? 'unregistered' : `v${result.service.model.version}`}, sha256 ${result.service.model.sha256.slice(0, 12)}…; windows of ${durationText(result.windowMs)}${result.since ? ` since ${result.since}` : ''}; PSI bands: stable < ${result.psiBands.monitor} ≤ monitor ≤ ${result.psiBands.retrain} < retrain`);
  for (const line of summaryLines(report)) lines.push(`  ${line}`);
  lines.push('');
  for (const w of result.windows) {
    lines.push(`${day(w.start, result.windowMs)}  ${w.volume} predictions; errors ${pct(w.errorRate)}, fallback ${pct(w.fallbackRate)}, kill switch ${pct(w.killSwitchRate)}, review ${w.review}`);
    lines.push(`  latency p50 ${ms(w.latency.p50)}, p95 ${ms(w.latency.p95)}, p99 ${ms(w.latency.p99)}`);
    const dist = w.predictions.distribution ? Object.entries(w.predictions.distribution).map(([k, v]) => `${k} ${pct(v)}`).join(', ') : w.predictions.mean !== null ? `mean ${num(w.predictions.mean)}, sd ${num(w.predictions.std)}` : '—';
    lines.push(`  predictions ${dist}${w.predictions.psi !== null ? `; PSI ${num(w.predictions.psi)} ${w.predictions.severity}` : ''}`);
    const drifted = w.features.filter((f) => f.psi !== null).map((f) => `${f.name} ${num(f.psi)}${f.severity === 'stable' ? '' : ` ${f.severity!.toUpperCase()}`}`);
    if (drifted.length) lines.push(`  PSI ${drifted.join(', ')}`);
    lines.push(`  labels ${w.labels.count} (coverage ${pct(w.labels.coverage)}${w.labels.medianDelayHours !== null ? `, median delay ${num(w.labels.medianDelayHours)} h` : ''}): ${performanceText(w, result.service.task)}`);
    if (w.estimated) lines.push(`  estimated before labels: accuracy ${pct(w.estimated.accuracy)}${w.estimated.precision !== null ? `, precision ${pct(w.estimated.precision)}, recall ${pct(w.estimated.recall)}` : ''}${w.estimated.auc !== null ? `, AUC ${num(w.estimated.auc)}` : ''} (estimate)`);
    const business = Object.entries(w.business);
    if (business.length) lines.push(`  business ${business.map(([k, v]) => `${k} ${num(v)}`).join(', ')}`);
  }
  if (!result.windows.length) lines.push('(no predictions in the range read)');
  if (result.estimateAssumption) lines.push('', `Estimates: ${result.estimateAssumption}.`);
  if (Object.keys(result.baseline).length) lines.push(`Training run metrics: ${Object.entries(result.baseline).map(([k, v]) => `${k} ${num(v, 4)}`).join(', ')}.`);
  if (result.comparison) {
    const c = result.comparison;
    lines.push('', `Champion ${c.champion} vs challenger ${c.challenger} (${c.mode}): ${c.pairs} requests scored by both, agreement ${pct(c.agreement)}`);
    lines.push(c.labelledPairs >= 2
      ? `  ${c.metric} on ${c.labelledPairs} labelled pairs: champion ${num(c.championValue)}, challenger ${num(c.challengerValue)}; difference ${num(c.difference)} [${num(c.interval?.[0])}, ${num(c.interval?.[1])}], p = ${num(c.p)} (${c.test}): ${c.verdict}`
      : `  ${c.labelledPairs} labelled pairs: not enough to compare their performance yet`);
  }
  lines.push('');
  if (evaluation.breaches.length) {
    lines.push(`ALERTS (${evaluation.breaches.length}):`);
    for (const b of evaluation.breaches) lines.push(`  ${b.severity.toUpperCase()}  ${b.rule}  ${b.message}${b.estimate ? ' [estimate]' : ''} (window ${day(b.window, result.windowMs)})`);
  } else lines.push('No rule breached.');
  for (const n of evaluation.notJudged) lines.push(`  not judged: ${n.rule}: ${n.why}`);
  if (report.alerts.length) {
    lines.push(`Open alerts in the history (${report.alerts.length}):`);
    for (const a of report.alerts) lines.push(`  ${a.id}  ${a.status}  ${a.rule} ${a.subject}: ${a.message}${a.acknowledged.length ? ` — acknowledged by ${a.acknowledged.at(-1)!.by}${a.acknowledged.at(-1)!.reason ? `: ${a.acknowledged.at(-1)!.reason}` : ''}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

function durationText(msValue: number): string {
  for (const [unit, size] of [['w', 7 * 86_400_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (msValue % size === 0) return `${msValue / size}${unit}`;
  }
  return `${msValue} ms`;
}

function markdown(report: MonitorReport): string {
  const { result, evaluation } = report;
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out: string[] = [`# Monitor: ${esc(result.service.name)}`, '', ...summaryLines(report).map((l) => `- ${esc(l)}`), ''];
  out.push('| window | volume | errors | fallback | kill switch | p50 | p95 | p99 | prediction PSI | max feature PSI | labels | coverage | performance | estimate |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const w of result.windows) {
    const top = w.features.filter((f) => f.psi !== null).sort((a, b) => b.psi! - a.psi!)[0];
    out.push(`| ${day(w.start, result.windowMs)} | ${w.volume} | ${pct(w.errorRate)} | ${pct(w.fallbackRate)} | ${pct(w.killSwitchRate)} | ${ms(w.latency.p50)} | ${ms(w.latency.p95)} | ${ms(w.latency.p99)} | ${num(w.predictions.psi)} | ${top ? `${esc(top.name)} ${num(top.psi)} (${top.severity})` : '—'} | ${w.labels.count} | ${pct(w.labels.coverage)} | ${esc(performanceText(w, result.service.task))} | ${w.estimated ? `accuracy ${pct(w.estimated.accuracy)}` : '—'} |`);
  }
  out.push('', evaluation.breaches.length ? `## Alerts (${evaluation.breaches.length})` : '## No rule breached', '');
  for (const b of evaluation.breaches) out.push(`- **${b.severity}** \`${b.rule}\` ${esc(b.message)}${b.estimate ? ' (estimate)' : ''}`);
  if (result.estimateAssumption) out.push('', `_Estimates: ${esc(result.estimateAssumption)}._`);
  return out.join('\n') + '\n';
}

function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function html(report: MonitorReport): string {
  const { result, evaluation } = report;
  const rows = result.windows.map((w) => {
    const features = w.features.filter((f) => f.psi !== null).map((f) => `<span class="${escapeHtml(f.severity)}">${escapeHtml(f.name)} ${escapeHtml(num(f.psi))}</span>`).join(' ');
    return `<tr><td>${escapeHtml(day(w.start, result.windowMs))}</td><td>${w.volume}</td><td>${escapeHtml(pct(w.errorRate))}</td><td>${escapeHtml(pct(w.fallbackRate))}</td><td>${escapeHtml(pct(w.killSwitchRate))}</td><td>${escapeHtml(ms(w.latency.p50))}</td><td>${escapeHtml(ms(w.latency.p95))}</td><td>${escapeHtml(ms(w.latency.p99))}</td><td class="${escapeHtml(w.predictions.severity ?? '')}">${escapeHtml(num(w.predictions.psi))}</td><td>${features}</td><td>${escapeHtml(pct(w.labels.coverage))}</td><td>${escapeHtml(performanceText(w, result.service.task))}</td><td>${w.estimated ? `${escapeHtml(pct(w.estimated.accuracy))} <small>(estimate)</small>` : '—'}</td></tr>`;
  });
  const alerts = evaluation.breaches.map((b) => `<li class="${escapeHtml(b.severity)}"><b>${escapeHtml(b.rule)}</b> ${escapeHtml(b.message)}${b.estimate ? ' <small>(estimate)</small>' : ''}</li>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Monitor: ${escapeHtml(result.service.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.retrain,.critical{color:#b00020;font-weight:bold}.monitor,.warning{color:#a15c00}</style></head>
<body><h1>Monitor: ${escapeHtml(result.service.name)}</h1>
<ul>${summaryLines(report).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<h2>${evaluation.breaches.length ? `Alerts (${evaluation.breaches.length})` : 'No rule breached'}</h2><ul>${alerts.join('')}</ul>
<table><thead><tr><th>window</th><th>volume</th><th>errors</th><th>fallback</th><th>kill switch</th><th>p50</th><th>p95</th><th>p99</th><th>prediction PSI</th><th>feature PSI</th><th>label coverage</th><th>performance</th><th>estimated accuracy</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
${result.estimateAssumption ? `<p><small>Estimates: ${escapeHtml(result.estimateAssumption)}.</small></p>` : ''}
</body></html>
`;
}
