/**
 * The envelope's `llm` section, built from what the Python side recorded (nb2prod/_llm.py):
 * `llm_call`, `llm_prompt` and `llm_unsupported` events. Each call gets its cost from the run's
 * price table (prices.ts); calls are summed per model and for the run (tokens, errors, cost,
 * latency p50/p95); prompt versions list the texts they hash, which the tracker keeps in
 * `objects/`. Up to INLINE_CALLS calls (and INLINE_CALLS_CHARACTERS of them) are kept in the
 * envelope; more go to one JSON-lines object (10,000 calls are about 12 MB: the envelope, read by
 * every list of runs, stays small).
 *
 * Pure: the caller writes the returned objects (texts and the calls file) to the store.
 */
import type { LlmCall, LlmSection } from '../envelope';
import { sha256Hex } from '../hash';
import { callCost, findPrice, type PriceTable } from './prices';

/** Calls kept inline in the envelope; more go to `callsObject`. */
export const INLINE_CALLS = 100;
/** ...as long as they are this small (captured contents can be large). */
export const INLINE_CALLS_CHARACTERS = 256 * 1024;

export interface LlmPromptEvent {
  sha256: string;
  name: string | null;
  texts: Array<{ role: string; text: string }>;
  templates: Array<{ name: string; sha256: string; text: string }>;
  structure: Array<[string, string[]]>;
}

export interface LlmCaptured {
  calls: Array<Record<string, unknown>>;
  prompts: LlmPromptEvent[];
  unsupported: Array<{ package: string; version: string | null; reason: string }>;
}

export interface LlmBuilt {
  section: LlmSection;
  /** Texts to keep in objects/, by sha256 (prompt texts and templates, the calls file). */
  objects: Map<string, string>;
}

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface Totals {
  calls: number;
  errors: number;
  interrupted: number;
  usageMissing: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  costUsd: number | null;
  costComplete: boolean;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencies: number[];
}

function newTotals(): Totals {
  return { calls: 0, errors: 0, interrupted: 0, usageMissing: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, costUsd: null, costComplete: true, latencyP50Ms: null, latencyP95Ms: null, latencies: [] };
}

function add(t: Totals, call: LlmCall, cost: number | null): void {
  t.calls++;
  const status = call['nb2prod.status'];
  if (status === 'error') t.errors++;
  if (status === 'interrupted') t.interrupted++;
  if (call['nb2prod.usage'] === 'missing') t.usageMissing++;
  t.inputTokens += call['gen_ai.usage.input_tokens'] ?? 0;
  t.outputTokens += call['gen_ai.usage.output_tokens'] ?? 0;
  t.cacheReadTokens += call['gen_ai.usage.cache_read.input_tokens'] ?? 0;
  t.reasoningTokens += call['gen_ai.usage.reasoning.output_tokens'] ?? 0;
  if (cost === null) {
    // a failed call that reported no tokens cost nothing we can know of; anything else is a gap
    if (!(status === 'error' && call['nb2prod.usage'] === 'missing')) t.costComplete = false;
  } else t.costUsd = (t.costUsd ?? 0) + cost;
  if (status === 'ok' && typeof call['nb2prod.latency_ms'] === 'number') t.latencies.push(call['nb2prod.latency_ms']);
}

function finish(t: Totals): Omit<Totals, 'latencies'> {
  const sorted = t.latencies.sort((a, b) => a - b);
  const { latencies: _latencies, ...rest } = t;
  return { ...rest, costUsd: rest.costUsd === null ? null : round(rest.costUsd), latencyP50Ms: percentile(sorted, 50), latencyP95Ms: percentile(sorted, 95) };
}

/** Dollars to 1e-9: sums of many tiny floats print without noise. */
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** Only the attributes of a call whose type the schema knows survive with that type. */
function cleanCall(raw: Record<string, unknown>): LlmCall {
  const call = { ...raw } as Record<string, unknown>;
  for (const key of ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.reasoning.output_tokens', 'nb2prod.retries', 'gen_ai.request.max_tokens', 'gen_ai.request.seed']) {
    if (key in call && int(call[key]) === null && !(key === 'gen_ai.request.seed' && Number.isInteger(call[key]))) delete call[key];
  }
  for (const key of ['gen_ai.request.temperature', 'gen_ai.request.top_p']) if (key in call && (typeof call[key] !== 'number' || !Number.isFinite(call[key]))) delete call[key];
  if ('nb2prod.latency_ms' in call && !(typeof call['nb2prod.latency_ms'] === 'number' && call['nb2prod.latency_ms'] >= 0)) delete call['nb2prod.latency_ms'];
  for (const key of ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'error.type', 'nb2prod.api']) if (key in call && typeof call[key] !== 'string') delete call[key];
  for (const key of ['gen_ai.request.stop_sequences', 'gen_ai.response.finish_reasons']) if (key in call && !(Array.isArray(call[key]) && (call[key] as unknown[]).every((s) => typeof s === 'string'))) delete call[key];
  if (!['ok', 'error', 'interrupted'].includes(call['nb2prod.status'] as string)) delete call['nb2prod.status'];
  if (!['reported', 'missing'].includes(call['nb2prod.usage'] as string)) delete call['nb2prod.usage'];
  if (typeof call['nb2prod.prompt.sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(call['nb2prod.prompt.sha256'])) delete call['nb2prod.prompt.sha256'];
  return call as LlmCall;
}

/**
 * `redact` is applied to every text kept in objects/ before it is hashed (the events were
 * redacted on the Python side already; this is the second line of defence).
 */
export function buildLlmSection(captured: LlmCaptured, prices: PriceTable, contentCaptured: boolean, redact: (text: string) => string = (t) => t): LlmBuilt | null {
  if (!captured.calls.length && !captured.unsupported.length) return null;
  const objects = new Map<string, string>();
  const run = newTotals();
  const perModel = new Map<string, { model: string; provider: string; totals: Totals }>();
  const promptCalls = new Map<string, number>();
  const calls: LlmCall[] = [];
  for (const raw of captured.calls) {
    const call = cleanCall(raw);
    const model = call['gen_ai.response.model'] ?? call['gen_ai.request.model'] ?? 'unknown';
    const provider = call['gen_ai.provider.name'] ?? 'unknown';
    const price = findPrice(prices, call['gen_ai.response.model']) ?? findPrice(prices, call['gen_ai.request.model']);
    const cost = price
      ? callCost(price.price, {
          input: call['gen_ai.usage.input_tokens'] ?? null,
          output: call['gen_ai.usage.output_tokens'] ?? null,
          cacheRead: call['gen_ai.usage.cache_read.input_tokens'] ?? null,
          cacheCreation: call['gen_ai.usage.cache_creation.input_tokens'] ?? null,
        })
      : null;
    call['nb2prod.cost_usd'] = cost === null ? null : round(cost);
    calls.push(call);
    add(run, call, cost);
    const key = `${model}\0${provider}`;
    let entry = perModel.get(key);
    if (!entry) perModel.set(key, (entry = { model, provider, totals: newTotals() }));
    add(entry.totals, call, cost);
    const version = call['nb2prod.prompt.sha256'];
    if (version) promptCalls.set(version, (promptCalls.get(version) ?? 0) + 1);
  }

  const prompts: LlmSection['prompts'] = [];
  const seen = new Set<string>();
  for (const p of captured.prompts) {
    if (seen.has(p.sha256)) continue;
    seen.add(p.sha256);
    const texts = p.texts.map((t) => {
      const text = redact(t.text);
      const sha = sha256Hex(text);
      objects.set(sha, text);
      return { role: t.role, sha256: sha, length: t.text.length };
    });
    const templates = p.templates.map((t) => {
      const text = redact(t.text);
      const sha = sha256Hex(text);
      objects.set(sha, text);
      return { name: t.name, sha256: sha };
    });
    prompts.push({ sha256: p.sha256, name: p.name, calls: promptCalls.get(p.sha256) ?? 0, texts, templates, structure: p.structure.map(([role, types]) => ({ role, types })) });
  }
  prompts.sort((a, b) => b.calls - a.calls);

  const section: LlmSection = {
    prices: { version: prices.version, asOf: prices.asOf, overridden: prices.overridden },
    contentCaptured,
    summary: finish(run),
    models: [...perModel.values()].map((m) => ({ model: m.model, provider: m.provider, ...finish(m.totals) })).sort((a, b) => b.calls - a.calls || a.model.localeCompare(b.model)),
    prompts,
  };
  let text = '';
  for (const call of calls) text += `${JSON.stringify(call)}\n`;
  if (calls.length > INLINE_CALLS || text.length > INLINE_CALLS_CHARACTERS) {
    text = redact(text);
    const sha = sha256Hex(text);
    objects.set(sha, text);
    section.callsObject = { sha256: sha, count: calls.length, format: 'jsonl' };
  } else section.calls = calls;
  if (captured.unsupported.length) section.notCaptured = captured.unsupported;
  return { section, objects };
}

/** The calls of a run's section, inline or read back from their object. */
export async function llmCalls(section: LlmSection, getObject: (sha256: string) => Promise<Buffer>): Promise<LlmCall[]> {
  if (section.calls) return section.calls;
  if (!section.callsObject) return [];
  const text = (await getObject(section.callsObject.sha256)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as LlmCall);
}
