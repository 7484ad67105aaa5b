/**
 * The LLM calls of a run as text (`nb2prod show`, the summary `track`/`run` print): calls, errors,
 * tokens, cost with the price table it came from, latency, per model, prompt versions, and the
 * clients whose calls could not be captured.
 */
import type { LlmSection } from '../envelope';
import { printable } from '../printable';
import { formatDuration, shortHash } from './format';

/** Dollars: cents for a dollar or more, two significant digits below ($0.0012). */
export function formatCost(dollars: number | null | undefined): string {
  if (dollars === null || dollars === undefined) return 'unknown';
  if (dollars === 0) return '$0';
  if (Math.abs(dollars) >= 1) return `$${dollars.toFixed(2)}`;
  return `$${Number(dollars.toPrecision(2)).toString()}`;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

type Totals = LlmSection['summary'];

function costText(t: Totals): string {
  if (t.costUsd === null) return 'cost unknown';
  return t.costComplete ? formatCost(t.costUsd) : `${formatCost(t.costUsd)} + unknown (some calls have no price or no usage)`;
}

function totalsText(t: Totals): string {
  const problems = [t.errors ? plural(t.errors, 'error') : '', t.interrupted ? `${t.interrupted} interrupted` : '', t.usageMissing ? `${t.usageMissing} without usage` : ''].filter(Boolean);
  const tokens = `${t.inputTokens.toLocaleString('en-US')} input${t.cacheReadTokens ? ` (${t.cacheReadTokens.toLocaleString('en-US')} cached)` : ''} / ${t.outputTokens.toLocaleString('en-US')} output tokens${t.reasoningTokens ? ` (${t.reasoningTokens.toLocaleString('en-US')} reasoning)` : ''}`;
  const latency = t.latencyP50Ms === null ? '' : `, latency p50 ${formatDuration(t.latencyP50Ms)} p95 ${formatDuration(t.latencyP95Ms ?? t.latencyP50Ms)}`;
  return `${plural(t.calls, 'call')}${problems.length ? ` (${problems.join(', ')})` : ''}, ${tokens}, ${costText(t)}${latency}`;
}

/** One line for the end of `track` / `run`. */
export function llmSummaryLine(llm: LlmSection): string {
  const missed = llm.notCaptured?.length ? `; not captured: ${llm.notCaptured.map((n) => `${n.package} ${n.version ?? ''}`.trim()).join(', ')}` : '';
  return `LLM: ${totalsText(llm.summary)}${missed}`;
}

/** The lines of the LLM section of `nb2prod show`. */
export function llmLines(llm: LlmSection): string[] {
  const lines = [totalsText(llm.summary)];
  for (const m of llm.models) lines.push(`${printable(m.model, 80)} (${printable(m.provider, 60)}): ${totalsText(m)}`);
  for (const p of llm.prompts) {
    const texts = p.texts.length ? `, ${plural(p.texts.length, 'system text')}` : '';
    const templates = p.templates.length ? `, template${p.templates.length > 1 ? 's' : ''} ${p.templates.map((t) => printable(t.name, 60)).join(', ')}` : '';
    lines.push(`prompt ${p.name ? `${printable(p.name, 60)} ` : ''}${shortHash(p.sha256)}: ${plural(p.calls, 'call')}${texts}${templates}`);
  }
  for (const n of llm.notCaptured ?? []) lines.push(`not captured: ${printable(n.package, 40)} ${printable(n.version ?? '(unknown version)', 40)}: ${printable(n.reason, 200)}`);
  lines.push(`costs from price table ${printable(llm.prices.version, 40)} (prices as of ${printable(llm.prices.asOf, 20)})${llm.prices.overridden.length ? `, set in the project for ${llm.prices.overridden.map((m) => printable(m, 60)).join(', ')}` : ''}`);
  lines.push(llm.contentCaptured ? 'message contents kept (--capture-content)' : 'message contents not kept: hashes and lengths only');
  if (llm.callsObject) lines.push(`the ${llm.callsObject.count.toLocaleString('en-US')} calls are in objects/${llm.callsObject.sha256}`);
  return lines;
}

/** `LLM $0.012` (`+` when some calls have no cost) for a list of runs; '' for a run without calls. */
export function llmCostLabel(llm: { calls: number; costUsd: number | null; costComplete: boolean } | undefined): string {
  if (!llm || !llm.calls) return '';
  return `LLM ${llm.costUsd === null ? 'cost unknown' : `${formatCost(llm.costUsd)}${llm.costComplete ? '' : '+'}`}`;
}
