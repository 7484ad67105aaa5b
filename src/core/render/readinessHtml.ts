/**
 * The readiness report as the body of the checklist panel: the three questions first, then each
 * item — failing ones first, then unknown, then passing — with its status, what was found, the
 * evidence (as buttons carrying the index of the evidence, which the extension resolves) and the
 * fix, with buttons that run it or open the place (indexes into the report's actions). Every
 * value escaped.
 */
import type { FixAction } from '../readiness/actions';
import type { EvidenceRef, ReadinessReport } from '../readiness/model';
import { html } from './runHtml';

const STATUS = { pass: { icon: '✓', label: 'pass' }, fail: { icon: '✗', label: 'fail' }, unknown: { icon: '?', label: 'unknown' } } as const;
const ANSWER = { yes: 'Yes', no: 'No', unknown: 'Unknown' } as const;

const ORDER = { fail: 0, unknown: 1, pass: 2 } as const;

/** The items as the page lists them: failing first, then unknown, then passing (checklist order within each). */
export function itemsInPageOrder(report: ReadinessReport): ReadinessReport['items'] {
  return report.items.map((item, i) => ({ item, i })).sort((a, b) => ORDER[a.item.status] - ORDER[b.item.status] || a.i - b.i).map(({ item }) => item);
}

/** The evidence of every item, flattened in page order: a button's `data-evidence` indexes it. */
export function readinessEvidence(report: ReadinessReport): EvidenceRef[] {
  return itemsInPageOrder(report).flatMap((item) => item.evidence);
}

/** The fix actions of every item, flattened in page order: a button's `data-fix` indexes it. */
export function readinessFixes(report: ReadinessReport): FixAction[] {
  return itemsInPageOrder(report).flatMap((item) => item.actions ?? []);
}

export function renderReadinessHtml(report: ReadinessReport): string {
  let index = 0;
  let fixIndex = 0;
  const verdict = report.productionReady
    ? html`<p class="verdict ready">Production-ready: every item passes.</p>`
    : html`<p class="verdict not-ready">Not production-ready: ${report.counts.fail} failing, ${report.counts.unknown} unknown, ${report.counts.pass} of ${report.items.length} passing.</p>`;
  const questions = report.questions.map(
    // `because` may open with the answer itself ("No: …"): say it once.
    (q) => html`<tr class="answer-${q.answer}"><th scope="row">${q.question}</th><td><strong>${ANSWER[q.answer]}</strong> — ${q.because.replace(/^(yes|no|unknown)\s*[:—-]\s*/i, '')}</td></tr>`,
  );
  const items = itemsInPageOrder(report).map((item) => {
    const status = STATUS[item.status];
    const evidence = item.evidence.map((e) => html`<li><button class="evidence" data-evidence="${index++}" title="${describe(e)}">${e.label}</button></li>`);
    return html`<section class="item status-${item.status}" id="item-${item.id}">
<h3><span class="status" aria-label="${status.label}">${status.icon}</span> ${item.title}</h3>
<p>${item.summary}</p>
${item.evidence.length ? html`<ul class="evidence-list">${evidence}</ul>` : ''}
${item.fix ? html`<p class="fix"><strong>To fix:</strong> ${item.fix}</p>` : ''}
${item.actions?.length ? html`<p class="fix-actions">${item.actions.map((a) => html`<button class="fix-action" data-fix="${fixIndex++}">${a.label}</button> `)}</p>` : ''}
</section>`;
  });
  return html`<main>
<header><h1>Production readiness</h1><p class="muted">${report.root}</p><button id="refresh">Check again</button></header>
${verdict}
<table class="questions">${questions}</table>
<h2>Checklist</h2>
${items}
</main>`.html.replace(/\n{2,}/g, '\n');
}

function describe(evidence: EvidenceRef): string {
  switch (evidence.kind) {
    case 'run':
      return `Open run ${evidence.id}`;
    case 'file':
      return `Open ${evidence.path}${evidence.line ? `:${evidence.line}` : ''}`;
    case 'registry':
      return `Registry entry ${evidence.id}`;
    case 'config':
      return `${evidence.key} in ${evidence.path}`;
  }
}

