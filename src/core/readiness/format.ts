/** The readiness report for people (text, Markdown) and machines (JSON, stable field order). */
import type { Answer, EvidenceRef, ItemStatus, ReadinessReport } from './model';

export type ReadinessFormat = 'text' | 'json' | 'md';
export const READINESS_FORMATS: readonly ReadinessFormat[] = ['text', 'json', 'md'];

const MARK: Record<ItemStatus, string> = { pass: '✓', fail: '✗', unknown: '?' };
const ANSWER: Record<Answer, string> = { yes: 'Yes', no: 'No', unknown: 'Unknown' };

export function formatReadiness(report: ReadinessReport, format: ReadinessFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'md') return formatMarkdown(report);
  return formatText(report);
}

function verdict(report: ReadinessReport): string {
  if (report.productionReady) return 'Production-ready: every item passes.';
  const no = report.questions.filter((q) => q.answer !== 'yes');
  return no.length
    ? `Not production-ready: ${no.length === 3 ? 'none' : `${3 - no.length}`} of the three questions ${3 - no.length === 1 ? 'is' : 'are'} answered yes.`
    : `Not production-ready: ${report.counts.fail + report.counts.unknown} item${report.counts.fail + report.counts.unknown > 1 ? 's do' : ' does'} not pass.`;
}

function countsLine(report: ReadinessReport): string {
  return `${report.counts.pass} pass, ${report.counts.fail} fail, ${report.counts.unknown} unknown (of ${report.items.length}).`;
}

export function evidenceText(ref: EvidenceRef): string {
  switch (ref.kind) {
    case 'file':
      return ref.line ? `${ref.label} (${ref.path}:${ref.line})` : ref.label;
    default:
      return ref.label;
  }
}

function formatText(report: ReadinessReport): string {
  const lines: string[] = [`Production readiness of ${report.root}`, ''];
  for (const q of report.questions) lines.push(`${q.question}`, `  ${q.because}`);
  lines.push('', verdict(report), '');
  for (const item of report.items) {
    lines.push(`${MARK[item.status]} ${item.title}: ${item.summary}`);
    for (const ref of item.evidence) lines.push(`    · ${evidenceText(ref)}`);
    if (item.fix) lines.push(`    → ${item.fix}`);
  }
  lines.push('', countsLine(report));
  return `${lines.join('\n')}\n`;
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function evidenceMarkdown(ref: EvidenceRef): string {
  switch (ref.kind) {
    case 'file':
      return `[${md(ref.label)}](${encodeURI(ref.path)}${ref.line ? `#L${ref.line}` : ''})`;
    case 'run':
      return `${md(ref.label)} — \`nb2prod show ${ref.id}\``;
    default:
      return md(ref.label);
  }
}

function formatMarkdown(report: ReadinessReport): string {
  const lines: string[] = ['# Production readiness', '', `**${verdict(report)}** ${countsLine(report)}`, '', '| Question | Answer |', '|---|---|'];
  for (const q of report.questions) lines.push(`| ${md(q.question)} | **${ANSWER[q.answer]}** — ${md(q.because.replace(/^(Yes|No|Unknown): /, ''))} |`);
  lines.push('', '| | Item | Finding | To do |', '|---|---|---|---|');
  for (const item of report.items) lines.push(`| ${MARK[item.status]} | ${md(item.title)} | ${md(item.summary)} | ${item.fix ? md(item.fix) : ''} |`);
  const withEvidence = report.items.filter((i) => i.evidence.length);
  if (withEvidence.length) {
    lines.push('', '## Evidence', '');
    for (const item of withEvidence) {
      lines.push(`- **${md(item.title)}**`);
      for (const ref of item.evidence) lines.push(`  - ${evidenceMarkdown(ref)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
