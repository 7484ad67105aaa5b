/**
 * A drift report as terminal text, Markdown, a standalone HTML page (inline CSS and SVG, no
 * scripts, every value escaped) or JSON.
 */
import { html, raw } from '../render/runHtml';
import type { ColumnDrift, DriftHistogram, DriftReport, SchemaChange } from './drift';

export type DriftReportFormat = 'text' | 'json' | 'md' | 'html';

const P_VALUE_CAVEAT =
  'With large samples even a negligible difference gets a tiny p-value: judge drift by PSI and the effect size, not by the p-value alone.';
const APPROXIMATE_NOTE = '~ approximate: computed against the binned reference profile of a run, not against its raw values.';

export function renderDriftReport(report: DriftReport, format: DriftReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'text':
      return renderText(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
  }
}

// ---- shared wording -----------------------------------------------------------------------

function summaryLine(report: DriftReport): string {
  const { drifted, total, share } = report.datasetDrift;
  const verdict = total === 0 ? 'no column could be compared' : `${drifted} of ${total} columns drifted (${(share * 100).toFixed(0)}%)`;
  return `Drift: ${verdict}${schemaSummary(report)}. Reference: ${report.reference.source} (${report.reference.type === 'profile' ? 'run profile, ' : ''}${rowsText(report.reference.rows)}); current: ${report.current.source} (${rowsText(report.current.rows)}).`;
}

/** "; 2 schema changes (1 retrain, 1 monitor)", or nothing. */
function schemaSummary(report: DriftReport): string {
  const n = report.schema.length;
  if (!n) return '';
  const retrain = report.schema.filter((c) => c.severity === 'retrain').length;
  const parts = [retrain ? `${retrain} retrain` : '', n - retrain ? `${n - retrain} monitor` : ''].filter(Boolean);
  return `; ${n} schema change${n === 1 ? '' : 's'} (${parts.join(', ')})`;
}

function schemaLine(change: SchemaChange): string {
  return change.message;
}

function rowsText(rows: number): string {
  return `${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;
}

function thresholdsLine(report: DriftReport): string {
  const { monitor, retrain } = report.thresholds;
  return `Severity from PSI: < ${monitor} stable, ${monitor}–${retrain} monitor, > ${retrain} retrain; a column counts as drifted from "monitor" on.`;
}

/** 3 decimals; tiny values in exponent form. */
function fixed(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value !== 0 && Math.abs(value) < 0.001) return value.toExponential(1);
  return value.toFixed(3);
}

export function formatPValue(p: number): string {
  if (p === 0) return '<1e-300';
  if (p < 0.001) return p.toExponential(1);
  return p.toPrecision(2);
}

function approx(flag: boolean | undefined): string {
  return flag ? '~' : '';
}

interface Row {
  column: string;
  kind: string;
  psi: string;
  severity: string;
  test: string;
  pValue: string;
  effect: string;
}

function rowOf(c: ColumnDrift): Row {
  const kind = c.kind === c.inferredKind ? c.kind : `${c.kind} (set)`;
  const test = c.test ? `${approx(c.test.approximate)}${c.test.name === 'ks' ? 'KS' : `χ² (df ${c.test.df})`} ${fixed(c.test.statistic)}` : '—';
  let effect = '—';
  if (c.effect?.name === 'jensen-shannon') effect = `JS ${fixed(c.effect.value)}`;
  else if (c.effect?.name === 'wasserstein') {
    effect = `${approx(c.effect.approximate)}W ${c.effect.value === null ? `${fixed(c.effect.raw)} (units)` : `${fixed(c.effect.value)} sd`}`;
  }
  return {
    column: c.name,
    kind,
    psi: fixed(c.psi),
    severity: c.severity === 'unavailable' ? 'n/a' : c.severity,
    test,
    pValue: c.test ? `${approx(c.test.approximate)}${formatPValue(c.test.pValue)}` : '—',
    effect,
  };
}

const HEADERS: Row = { column: 'column', kind: 'kind', psi: 'PSI', severity: 'severity', test: 'test', pValue: 'p-value', effect: 'effect size' };
const KEYS = Object.keys(HEADERS) as Array<keyof Row>;

function footnotes(report: DriftReport): string[] {
  const notes = [P_VALUE_CAVEAT, 'Effect size: W = Wasserstein distance in reference standard deviations; JS = Jensen–Shannon distance (0 to 1).'];
  if (report.columns.some((c) => c.test?.approximate || c.effect?.approximate)) notes.push(APPROXIMATE_NOTE);
  return notes;
}

// ---- text ---------------------------------------------------------------------------------

function renderText(report: DriftReport): string {
  const rows = [HEADERS, ...report.columns.map(rowOf)];
  const widths = KEYS.map((k) => Math.max(...rows.map((r) => r[k].length)));
  const numeric = new Set<keyof Row>(['psi', 'pValue']);
  const table = rows.map((r) => KEYS.map((k, i) => (numeric.has(k) ? r[k].padStart(widths[i]!) : r[k].padEnd(widths[i]!))).join('  ').trimEnd());
  const lines = [summaryLine(report), thresholdsLine(report), ''];
  if (report.schema.length) {
    const kindWidth = Math.max(...report.schema.map((c) => c.kind.length));
    lines.push('Schema changes:', ...report.schema.map((c) => `  ${c.severity.toUpperCase().padEnd(7)}  ${c.kind.padEnd(kindWidth)}  ${schemaLine(c)}`), '');
  }
  lines.push(...(report.columns.length ? table : ['(no columns compared)']), '', ...footnotes(report));
  if (report.problems.length) lines.push('', 'Problems:', ...report.problems.map((p) => `- ${p}`));
  return `${lines.join('\n')}\n`;
}

// ---- Markdown -----------------------------------------------------------------------------

function mdCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

function renderMarkdown(report: DriftReport): string {
  const rows = report.columns.map(rowOf);
  const lines = [
    '# Data drift',
    '',
    mdCell(summaryLine(report)),
    '',
    thresholdsLine(report),
    '',
    `| ${KEYS.map((k) => HEADERS[k]).join(' | ')} |`,
    `| ${KEYS.map((k) => (k === 'psi' || k === 'pValue' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${KEYS.map((k) => mdCell(k === 'column' ? `\`${r[k]}\`` : r[k])).join(' | ')} |`),
    '',
    ...footnotes(report).flatMap((n) => [`_${mdCell(n)}_`, '']),
  ];
  if (report.schema.length) {
    lines.splice(
      6,
      0,
      '## Schema changes',
      '',
      '| severity | change | column | what |',
      '| --- | --- | --- | --- |',
      ...report.schema.map((c) => `| ${c.severity} | ${c.kind} | ${c.column === null ? '—' : mdCell(`\`${c.column}\`${c.to ? ` → \`${c.to}\`` : ''}`)} | ${mdCell(schemaLine(c))} |`),
      '',
      '## Columns',
      '',
    );
  }
  if (report.problems.length) lines.push('## Problems', '', ...report.problems.map((p) => `- ${mdCell(p)}`), '');
  return lines.join('\n');
}

// ---- HTML ---------------------------------------------------------------------------------

const CSS = `
body{font-family:var(--vscode-font-family,system-ui,-apple-system,"Segoe UI",sans-serif);color:var(--vscode-foreground,#1f2328);background:var(--vscode-editor-background,#fff);margin:2rem;line-height:1.45}
h1{font-size:1.4rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid var(--vscode-panel-border,#d0d7de);text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85em}
.sev-retrain{background:#f8d7da;color:#842029}.sev-monitor{background:#fff3cd;color:#664d03}.sev-stable{background:#d1e7dd;color:#0f5132}.sev-unavailable{background:#e2e3e5;color:#41464b}
.note{color:var(--vscode-descriptionForeground,#59636e);font-size:.9em}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em;vertical-align:middle}
.ref{fill:#6e8efb;background:#6e8efb}.cur{fill:#f59e0b;background:#f59e0b}
details{margin:.4rem 0}summary{cursor:pointer}
svg{display:block;margin:.4rem 0}svg text{font-size:10px;fill:currentColor}
ul.problems li{margin:.2rem 0}
`;

function renderHtml(report: DriftReport): string {
  const rows = report.columns.map((c) => {
    const r = rowOf(c);
    return html`<tr><td><code>${r.column}</code></td><td>${r.kind}</td><td class="num">${r.psi}</td><td><span class="sev sev-${c.severity}">${r.severity}</span></td><td>${r.test}</td><td class="num">${r.pValue}</td><td>${r.effect}</td></tr>`;
  });
  const details = report.columns.map((c) => columnDetails(c));
  const problems = report.problems.length
    ? html`<h2>Problems</h2><ul class="problems">${report.problems.map((p) => html`<li>${p}</li>`)}</ul>`
    : '';
  const schema = report.schema.length
    ? html`<h2>Schema changes</h2><ul class="problems">${report.schema.map((c) => html`<li><span class="sev sev-${c.severity}">${c.severity}</span> ${c.kind}: ${schemaLine(c)}</li>`)}</ul>`
    : '';
  const body = html`<h1>Data drift</h1>
<p>${summaryLine(report)}</p>
<p class="note">${thresholdsLine(report)}</p>
${schema}
<table><thead><tr>${KEYS.map((k) => html`<th>${HEADERS[k]}</th>`)}</tr></thead><tbody>${rows}</tbody></table>
${footnotes(report).map((n) => html`<p class="note">${n}</p>`)}
${problems}
<h2>Columns</h2>
<p class="legend"><span class="ref"></span>reference<span class="cur"></span>current</p>
${details}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html`Data drift: ${report.current.source}`.html}</title>
<style>${CSS}</style></head>
<body>
${body.html}
</body></html>
`;
}

function columnDetails(c: ColumnDrift) {
  const side = (label: string, s: ColumnDrift['reference']) => {
    const parts = [`${s.count.toLocaleString('en-US')} values`, `${s.missing.toLocaleString('en-US')} missing`];
    if (s.min !== undefined) parts.push(`min ${fixed(s.min)}`, `max ${fixed(s.max)}`, `mean ${fixed(s.mean)}`, `std ${fixed(s.std)}`);
    if (s.top?.length) parts.push(`top: ${s.top.map((t) => `${t.value} (${t.count})`).join(', ')}`);
    return html`<li>${label}: ${parts.join(', ')}</li>`;
  };
  return html`<details${c.drifted ? raw(' open') : ''}><summary><code>${c.name}</code> <span class="sev sev-${c.severity}">${c.severity === 'unavailable' ? 'n/a' : c.severity}</span></summary>
<ul>${side('Reference', c.reference)}${side('Current', c.current)}${c.notes.map((n) => html`<li class="note">${n}</li>`)}</ul>
${c.histogram ? chart(c.histogram) : ''}</details>`;
}

/** Paired bars per bin or category, as inline SVG (no scripts). */
function chart(h: DriftHistogram) {
  const groups = h.reference.length;
  const barWidth = h.type === 'categories' ? 14 : 9;
  const gap = h.type === 'categories' ? 10 : 3;
  const height = 120;
  const labelSpace = h.type === 'categories' ? 70 : 16;
  const width = groups * (2 * barWidth + gap) + gap;
  const top = Math.max(...h.reference, ...h.current, 1e-12);
  const bars = h.reference.map((r, i) => {
    const x = gap + i * (2 * barWidth + gap);
    const c = h.current[i] ?? 0;
    const hr = (r / top) * height;
    const hc = (c / top) * height;
    const title = h.type === 'categories' ? h.labels[i]! : `[${fixed(h.edges[i])}, ${fixed(h.edges[i + 1])})`;
    const label =
      h.type === 'categories'
        ? html`<text transform="translate(${x + barWidth},${height + 6}) rotate(45)">${title.length > 12 ? `${title.slice(0, 11)}…` : title}</text>`
        : '';
    return html`<g><title>${title}: reference ${(r * 100).toFixed(1)}%, current ${(c * 100).toFixed(1)}%</title><rect class="ref" x="${x}" y="${height - hr}" width="${barWidth}" height="${hr}"></rect><rect class="cur" x="${x + barWidth}" y="${height - hc}" width="${barWidth}" height="${hc}"></rect>${label}</g>`;
  });
  const axis =
    h.type === 'bins'
      ? html`<text x="0" y="${height + 12}">${fixed(h.edges[0])}</text><text x="${width}" y="${height + 12}" text-anchor="end">${fixed(h.edges[h.edges.length - 1])}</text>`
      : '';
  return html`<svg role="img" aria-label="reference and current distribution" width="${width}" height="${height + labelSpace}" viewBox="0 0 ${width} ${height + labelSpace}">${bars}${axis}</svg>`;
}
