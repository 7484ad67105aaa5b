/**
 * The TypeScript side of LLM call capture: the price table and its overrides, model-to-price
 * matching, per-call cost, the envelope's `llm` section (summary per model and per run, prompts,
 * the side object for many calls), its schema, and its text in `nb2prod show`.
 */
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../src/core/envelope';
import { foldEvents, parseEventLines } from '../../../src/core/capture/events';
import { sha256Hex } from '../../../src/core/hash';
import { callCost, findPrice, priceTableFor, SHIPPED_PRICES } from '../../../src/core/llm/prices';
import { buildLlmSection, INLINE_CALLS, llmCalls, percentile } from '../../../src/core/llm/section';
import shipped from '../../../src/core/llm/prices.json';
import { formatCost, llmCostLabel, llmLines, llmSummaryLine } from '../../../src/core/render/llmText';
import { renderRun } from '../../../src/core/render/runText';
import { renderRunHtml } from '../../../src/core/render/runHtml';
import { summarize } from '../../../src/core/store/runIndex';
import type { ProjectConfig } from '../../../src/core/project/config';
import { makeEnvelope } from '../../fixtures/envelopes';

const config = (sections: Record<string, unknown>): ProjectConfig => ({ file: '/p/nb2prod.toml', baseDir: '/p', sections });

function call(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 100,
    'nb2prod.api': 'chat.completions',
    'nb2prod.status': 'ok',
    'nb2prod.usage': 'reported',
    'nb2prod.latency_ms': 100,
    'nb2prod.retries': 0,
    'nb2prod.prompt.sha256': 'a'.repeat(64),
    ...extra,
  };
}

const prompt = { sha256: 'a'.repeat(64), name: 'qa', texts: [{ role: 'system', text: 'You are terse.' }], templates: [{ name: 'qa', sha256: 'x', text: 'Answer: {q}' }], structure: [['system', ['text']], ['user', ['text:template:x']]] as Array<[string, string[]]> };

describe('the price table', () => {
  it('is dated, versioned and says where its prices come from', () => {
    expect(shipped.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    expect(shipped.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(shipped.source.length).toBeGreaterThan(50);
    for (const [model, price] of Object.entries(SHIPPED_PRICES.models)) {
      expect(price.input, model).toBeGreaterThanOrEqual(0);
      expect(price.output, model).toBeGreaterThan(price.input * 0.99);
      if (price.cachedInput !== undefined) expect(price.cachedInput, model).toBeLessThanOrEqual(price.input);
    }
  });

  it('prices a dated snapshot as its family, never a longer name as a shorter one', () => {
    expect(findPrice(SHIPPED_PRICES, 'gpt-4o-2024-08-06')?.key).toBe('gpt-4o');
    expect(findPrice(SHIPPED_PRICES, 'gpt-4o-mini-2024-07-18')?.key).toBe('gpt-4o-mini');
    expect(findPrice(SHIPPED_PRICES, 'claude-sonnet-4-5-20250929')?.key).toBe('claude-sonnet-4-5');
    expect(findPrice(SHIPPED_PRICES, 'claude-3-5-haiku-latest')?.key).toBe('claude-3-5-haiku');
    expect(findPrice(SHIPPED_PRICES, 'openai/gpt-4.1-mini')?.key).toBe('gpt-4.1-mini');
    expect(findPrice(SHIPPED_PRICES, 'gpt-4o-mini-tts')).toBeNull();
    expect(findPrice(SHIPPED_PRICES, 'llama3.1:8b')).toBeNull();
    expect(findPrice(SHIPPED_PRICES, 'constructor')).toBeNull();
    expect(findPrice(SHIPPED_PRICES, null)).toBeNull();
  });

  it('costs cached and uncached input, and output, at their prices', () => {
    const price = { input: 2, cachedInput: 0.5, cacheWrite: 2.5, output: 8 };
    expect(callCost(price, { input: 1_000_000, output: 0, cacheRead: 0, cacheCreation: null })).toBeCloseTo(2, 12);
    expect(callCost(price, { input: 1_000_000, output: 1_000_000, cacheRead: 400_000, cacheCreation: 100_000 })).toBeCloseTo(0.5 * 2 + 0.4 * 0.5 + 0.1 * 2.5 + 8, 12);
    expect(callCost({ input: 1, output: 2 }, { input: 10, output: 10, cacheRead: 10, cacheCreation: null })).toBeCloseTo(30e-6, 15);
    expect(callCost(price, { input: null, output: 5, cacheRead: null, cacheCreation: null })).toBeNull();
  });

  it('takes [llm.prices] from the project and says so in its version', () => {
    const table = priceTableFor(config({ llm: { prices: { 'local-llama': { input: 0, output: 0 }, 'gpt-4o': { output: 12 } } } }));
    expect(table.version).toBe(`${shipped.version}+config`);
    expect(table.overridden).toEqual(['gpt-4o', 'local-llama']);
    expect(table.models['gpt-4o']).toEqual({ input: 2.5, cachedInput: 1.25, output: 12 });
    expect(findPrice(table, 'local-llama')?.price).toEqual({ input: 0, output: 0 });
    expect(priceTableFor(config({}))).toBe(SHIPPED_PRICES);
  });

  it('refuses a configuration it cannot use, saying where', () => {
    expect(() => priceTableFor(config({ llm: { prices: { m: { input: -1, output: 1 } } } }))).toThrow(/\[llm.prices\] "m": input must be a number/);
    expect(() => priceTableFor(config({ llm: { prices: { m: { input: 1 } } } }))).toThrow(/needs input and output/);
    expect(() => priceTableFor(config({ llm: { prices: { m: { input: 1, output: 1, per: 3 } } } }))).toThrow(/unknown key per/);
    expect(() => priceTableFor(config({ llm: { budget: 3 } }))).toThrow(/unknown key budget/);
  });
});

describe('the llm section', () => {
  it('sums tokens, errors and cost per model and for the run, with latency percentiles', () => {
    const calls = [
      call(),
      call({ 'nb2prod.latency_ms': 300, 'gen_ai.usage.cache_read.input_tokens': 200 }),
      call({ 'nb2prod.status': 'error', 'nb2prod.usage': 'missing', 'gen_ai.response.model': undefined, 'gen_ai.usage.input_tokens': undefined, 'gen_ai.usage.output_tokens': undefined, 'error.type': '500' }),
      call({ 'gen_ai.request.model': 'claude-haiku-4-5', 'gen_ai.response.model': 'claude-haiku-4-5-20251001', 'gen_ai.provider.name': 'anthropic', 'nb2prod.api': 'messages' }),
      call({ 'gen_ai.request.model': 'local', 'gen_ai.response.model': 'local', 'gen_ai.provider.name': '127.0.0.1:8000', 'nb2prod.stream': true, 'nb2prod.usage': 'missing', 'gen_ai.usage.input_tokens': undefined, 'gen_ai.usage.output_tokens': undefined }),
    ].map((c) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>);
    const built = buildLlmSection({ calls, prompts: [prompt, prompt], unsupported: [] }, SHIPPED_PRICES, false)!;
    const { section } = built;
    const mini = (1000 * 0.15 + 100 * 0.6) / 1e6;
    const cachedMini = (800 * 0.15 + 200 * 0.075 + 100 * 0.6) / 1e6;
    const haiku = (1000 * 1 + 100 * 5) / 1e6;
    expect(section.calls![0]!['nb2prod.cost_usd']).toBeCloseTo(mini, 12);
    expect(section.calls![1]!['nb2prod.cost_usd']).toBeCloseTo(cachedMini, 12);
    expect(section.calls![2]!['nb2prod.cost_usd']).toBeNull();
    expect(section.summary).toMatchObject({ calls: 5, errors: 1, interrupted: 0, usageMissing: 2, inputTokens: 3000, outputTokens: 300, cacheReadTokens: 200, costComplete: false, latencyP50Ms: 100, latencyP95Ms: 300 });
    expect(section.summary.costUsd).toBeCloseTo(2 * mini + (cachedMini - mini) + haiku, 12);
    const byModel = Object.fromEntries(section.models.map((m) => [m.model, m]));
    expect(byModel['gpt-4o-mini-2024-07-18']).toMatchObject({ provider: 'openai', calls: 2, errors: 0, costComplete: true, latencyP50Ms: 100 });
    // a failed call with no usage is not a gap in the cost: it reported nothing to pay for
    expect(byModel['gpt-4o-mini']).toMatchObject({ calls: 1, errors: 1, costUsd: null, costComplete: true, latencyP50Ms: null });
    expect(byModel.local).toMatchObject({ provider: '127.0.0.1:8000', costUsd: null, costComplete: false });
    expect(section.prompts).toEqual([
      { sha256: 'a'.repeat(64), name: 'qa', calls: 5, texts: [{ role: 'system', sha256: sha256Hex('You are terse.'), length: 14 }], templates: [{ name: 'qa', sha256: sha256Hex('Answer: {q}') }], structure: [{ role: 'system', types: ['text'] }, { role: 'user', types: ['text:template:x'] }] },
    ]);
    expect([...built.objects.keys()].sort()).toEqual([sha256Hex('You are terse.'), sha256Hex('Answer: {q}')].sort());
    expect(section.prices).toEqual({ version: SHIPPED_PRICES.version, asOf: SHIPPED_PRICES.asOf, overridden: [] });
    const envelope = { ...makeEnvelope(), llm: section };
    expect(parseEnvelope(JSON.parse(JSON.stringify(envelope))).ok).toBe(true);
  });

  it('is absent when the run made no call, and lists clients not captured', () => {
    expect(buildLlmSection({ calls: [], prompts: [], unsupported: [] }, SHIPPED_PRICES, false)).toBeNull();
    const { section } = buildLlmSection({ calls: [], prompts: [], unsupported: [{ package: 'openai', version: '0.28.1', reason: 'Completions.create not found' }] }, SHIPPED_PRICES, false)!;
    expect(section.summary.calls).toBe(0);
    expect(section.notCaptured).toEqual([{ package: 'openai', version: '0.28.1', reason: 'Completions.create not found' }]);
    expect(llmSummaryLine(section)).toContain('not captured: openai 0.28.1');
  });

  it('drops attribute values of the wrong type rather than failing the run', () => {
    const { section } = buildLlmSection({ calls: [call({ 'gen_ai.usage.input_tokens': -3, 'gen_ai.request.temperature': 'hot', 'nb2prod.status': 'weird', 'nb2prod.prompt.sha256': 'nope', 'gen_ai.response.finish_reasons': [1] })], prompts: [], unsupported: [] }, SHIPPED_PRICES, false)!;
    const c = section.calls![0]!;
    expect(c['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(c['gen_ai.request.temperature']).toBeUndefined();
    expect(c['nb2prod.status']).toBeUndefined();
    expect(c['nb2prod.cost_usd']).toBeNull();
    expect(parseEnvelope(JSON.parse(JSON.stringify({ ...makeEnvelope(), llm: section }))).ok).toBe(true);
  });

  it('redacts what it keeps in objects before hashing it', () => {
    const secretPrompt = { ...prompt, texts: [{ role: 'system', text: 'key is sk-planted-123456' }] };
    const built = buildLlmSection({ calls: [call()], prompts: [secretPrompt], unsupported: [] }, SHIPPED_PRICES, false, (t) => t.split('sk-planted-123456').join('***'))!;
    expect([...built.objects.values()]).toContain('key is ***');
    expect(built.section.prompts[0]!.texts[0]!.sha256).toBe(sha256Hex('key is ***'));
  });

  it('puts many calls in one JSON-lines object and reads them back', async () => {
    const calls = Array.from({ length: INLINE_CALLS + 1 }, (_, i) => call({ 'nb2prod.latency_ms': i }));
    const built = buildLlmSection({ calls, prompts: [], unsupported: [] }, SHIPPED_PRICES, false)!;
    expect(built.section.calls).toBeUndefined();
    const ref = built.section.callsObject!;
    expect(ref.count).toBe(INLINE_CALLS + 1);
    const back = await llmCalls(built.section, async (sha) => Buffer.from(built.objects.get(sha)!));
    expect(back).toHaveLength(INLINE_CALLS + 1);
    expect(back[7]!['nb2prod.latency_ms']).toBe(7);
  });

  it('folds 10,000 calls from the events file and builds the section in well under 2 s', () => {
    const lines: string[] = [];
    lines.push(JSON.stringify({ type: 'llm_prompt', ...prompt, pid: 1, t: 1 }));
    for (let i = 0; i < 10_000; i++) {
      const c = call({ 'nb2prod.latency_ms': (i % 97) + 0.5, 'nb2prod.location': `cell ${i % 9}, line 2`, 'nb2prod.input.messages': [{ role: 'user', types: ['text'], sha256: 'f'.repeat(64), length: 40 }], 'nb2prod.output': { sha256: 'e'.repeat(64), length: 4 } });
      lines.push(JSON.stringify({ type: 'llm_call', call: c, pid: 1, t: 1 }));
    }
    const text = `${lines.join('\n')}\n`;
    const start = performance.now();
    const folded = foldEvents(parseEventLines(text).events);
    const built = buildLlmSection(folded.llm, SHIPPED_PRICES, false)!;
    const envelopeText = JSON.stringify({ ...makeEnvelope(), llm: built.section });
    const elapsed = performance.now() - start;
    expect(built.section.summary.calls).toBe(10_000);
    expect(built.section.prompts[0]!.calls).toBe(10_000);
    expect(parseEnvelope(JSON.parse(envelopeText)).ok).toBe(true);
    expect(envelopeText.length).toBeLessThan(20_000); // the calls are in their object, not in every list of runs
    console.log(`10,000 LLM calls: events parsed, folded and the section built in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(2000);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });

  it('an envelope written before the section existed still reads', () => {
    const old = makeEnvelope();
    expect('llm' in old).toBe(false);
    expect(parseEnvelope(JSON.parse(JSON.stringify(old))).ok).toBe(true);
  });
});

describe('the section as text', () => {
  it('formats costs for people', () => {
    expect(formatCost(null)).toBe('unknown');
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(12.345)).toBe('$12.35');
    expect(formatCost(0.0004771)).toBe('$0.00048');
  });

  it('is shown by nb2prod show with models, prompts and the price table', () => {
    const { section } = buildLlmSection({ calls: [call(), call({ 'nb2prod.status': 'interrupted', 'nb2prod.stream': true })], prompts: [prompt], unsupported: [] }, SHIPPED_PRICES, false)!;
    const lines = llmLines(section);
    expect(lines[0]).toBe('2 calls (1 interrupted), 2,000 input / 200 output tokens, $0.00042, latency p50 100 ms p95 100 ms');
    expect(lines[1]).toMatch(/^gpt-4o-mini-2024-07-18 \(openai\): 2 calls/);
    expect(lines).toContain(`prompt qa ${'a'.repeat(12)}: 2 calls, 1 system text, template qa`);
    expect(lines.at(-1)).toBe('message contents not kept: hashes and lengths only');
    const shown = renderRun({ ...makeEnvelope(), llm: section });
    expect(shown).toContain('\nLLM calls:\n  2 calls (1 interrupted)');
    expect(shown).toContain(`costs from price table ${SHIPPED_PRICES.version}`);
  });
});

describe('large captured contents', () => {
  it('go to the calls object even when the calls are few', () => {
    const big = call({ 'nb2prod.input.messages': [{ role: 'user', parts: [{ type: 'text', text: 'x'.repeat(300_000) }] }] });
    const built = buildLlmSection({ calls: [big], prompts: [], unsupported: [] }, SHIPPED_PRICES, true)!;
    expect(built.section.calls).toBeUndefined();
    expect(built.section.callsObject?.count).toBe(1);
    expect(built.section.contentCaptured).toBe(true);
  });
});

describe('cost beside the key metrics', () => {
  it('is in the run summary the Runs view lists, and on the run page (escaped)', () => {
    const { section } = buildLlmSection({ calls: [call({ 'gen_ai.response.model': '<b>model</b>' }), call({ 'gen_ai.request.model': 'local', 'gen_ai.response.model': 'local' })], prompts: [prompt], unsupported: [{ package: 'anthropic', version: '9', reason: '<script>' }] }, SHIPPED_PRICES, false)!;
    const run = { ...makeEnvelope(), llm: section };
    expect(summarize(run).llm).toEqual({ calls: 2, costUsd: section.summary.costUsd, costComplete: false });
    expect('llm' in summarize(makeEnvelope())).toBe(false);
    expect(llmCostLabel(summarize(run).llm)).toBe('LLM $0.00021+');
    expect(llmCostLabel(undefined)).toBe('');
    expect(llmCostLabel({ calls: 1, costUsd: null, costComplete: false })).toBe('LLM cost unknown');
    const page = renderRunHtml(run);
    expect(page).toContain('<section id="llm"><h2>LLM calls <span class="count">2</span></h2>');
    expect(page).toContain('&lt;b&gt;model&lt;/b&gt;');
    expect(page).not.toContain('<script>');
    expect(page).toContain(`Costs from price table ${SHIPPED_PRICES.version}`);
    expect(renderRunHtml(makeEnvelope())).not.toContain('id="llm"');
  });
});
