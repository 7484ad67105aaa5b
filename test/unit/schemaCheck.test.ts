/**
 * The compiled envelope check must never accept what zod rejects. Every field of a fully
 * populated envelope is mutated (removed, retyped, out of range, odd strings) and each variant is
 * judged by both; a random walk adds combined mutations.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { envelopeSchema, parseEnvelope, type RunEnvelope } from '../../src/core/envelope';
import { compileCheck } from '../../src/core/schemaCheck';
import { makeEnvelope } from '../fixtures/envelopes';
import { seededRandom } from '../fixtures/random';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An envelope with every optional field present, so that mutating its paths reaches every field. */
function fullEnvelope(): Json {
  const envelope = makeEnvelope({ status: 'failed', params: { a: 1, nested: { list: [1, 'two', null, true, { deep: [] }] } } }) as unknown as Record<string, Json>;
  const source = envelope.source as Record<string, Json>;
  source.command = ['python', 'train.py', '--seed', '3'];
  const profile: Json = {
    rows: 3,
    columns: [
      { name: 'tenure', type: 'numeric', count: 3, nulls: 0, bins: { edges: [0, 1.5, 24], counts: [1, 2] }, min: 1, max: 24, mean: 8.7, std: 10.1, integer: true },
      { name: 'plan', type: 'categorical', count: 3, nulls: 1, top: [{ value: 'basic', count: 1 }] },
    ],
  };
  (envelope.inputs as Array<Record<string, Json>>)[0]!.profile = profile;
  for (const list of ['inputs', 'outputs', 'artifacts'] as const) {
    const records = envelope[list] as Array<Record<string, Json>>;
    if (!records.length) records.push({ path: `${list}.bin`, sha256: 'e'.repeat(64), bytes: 1 });
    records[0]!.kept = list !== 'inputs';
  }
  envelope.metrics = { accuracy: { value: 0.8, series: [{ step: 1, value: 0.7 }, { step: 2, value: 0.8 }] } };
  envelope.git = { commit: 'abc1234', branch: null, dirty: true, diffSha256: 'f'.repeat(64) };
  envelope.parent = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  envelope.group = 'g';
  envelope.tags = ['a', 'b'];
  envelope.unseeded = [{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 2, line 1' }];
  envelope.fitted = [
    { name: 'model', type: 'sklearn.ensemble.RandomForestClassifier', sha256: 'd'.repeat(64), bytes: 2048, format: 'joblib', location: 'cell 4, line 1' },
    { name: null, type: 'sklearn.preprocessing.StandardScaler', sha256: 'c'.repeat(64), bytes: 512, format: 'pickle', location: null },
  ];
  envelope.fittedSkipped = [{ name: 'search', type: 'sklearn.model_selection.GridSearchCV', reason: 'larger than the limit', location: 'cell 5, line 2' }];
  const totals = { calls: 2, errors: 1, interrupted: 0, usageMissing: 1, inputTokens: 10, outputTokens: 3, cacheReadTokens: 2, reasoningTokens: 1, costUsd: 0.5, costComplete: false, latencyP50Ms: 12.5, latencyP95Ms: null };
  envelope.llm = {
    prices: { version: '2025-11-01.1+config', asOf: '2025-11-01', overridden: ['local'] },
    contentCaptured: false,
    summary: totals,
    models: [{ model: 'gpt-4o-mini', provider: 'openai', ...totals }],
    prompts: [{ sha256: 'a'.repeat(64), name: 'qa', calls: 2, texts: [{ role: 'system', sha256: 'b'.repeat(64), length: 14 }], templates: [{ name: 'qa', sha256: 'c'.repeat(64) }], structure: [{ role: 'user', types: ['text', 'image_url'] }] }],
    calls: [
      {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.request.temperature': 0.2, 'gen_ai.request.top_p': 1, 'gen_ai.request.max_tokens': 16, 'gen_ai.request.seed': 7, 'gen_ai.request.stop_sequences': ['END'],
        'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 3, 'gen_ai.usage.cache_read.input_tokens': 2,
        'gen_ai.usage.cache_creation.input_tokens': 0, 'gen_ai.usage.reasoning.output_tokens': 1, 'error.type': '500', 'nb2prod.api': 'chat.completions', 'nb2prod.status': 'ok',
        'nb2prod.usage': 'reported', 'nb2prod.latency_ms': 12.5, 'nb2prod.retries': 1, 'nb2prod.prompt.sha256': 'a'.repeat(64), 'nb2prod.cost_usd': null,
      },
    ],
    callsObject: { sha256: 'd'.repeat(64), count: 150, format: 'jsonl' },
    notCaptured: [{ package: 'openai', version: null, reason: 'unknown layout' }],
  };
  const hardware = envelope.hardware as Record<string, Json>;
  hardware.gpus = [{ name: 'gpu', memoryBytes: null }, { name: 'gpu2', memoryBytes: 1024 }];
  return JSON.parse(JSON.stringify(envelope)) as Json;
}

/** Every dotted key path a zod schema declares (array elements as `[]`, record values as `{}`). */
function declaredPaths(schema: z.ZodMiniType, prefix: string, out: Set<string>, seen = new Set<unknown>()): void {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (seen.has(schema)) return;
  seen.add(schema);
  const inner = (key: string) => def[key] as z.ZodMiniType;
  switch (def.type) {
    case 'object':
      for (const [key, value] of Object.entries(def.shape as Record<string, z.ZodMiniType>)) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.add(path);
        declaredPaths(value, path, out, seen);
      }
      break;
    case 'nullable':
    case 'optional':
      declaredPaths(inner('innerType'), prefix, out, seen);
      break;
    case 'array':
      declaredPaths(inner('element'), `${prefix}[]`, out, seen);
      break;
    case 'record':
      declaredPaths(inner('valueType'), `${prefix}{}`, out, seen);
      break;
  }
}

/** The key paths present in a sample, in the same notation (records are the keys of `params`-like maps). */
function samplePaths(value: Json, prefix: string, recordPaths: Set<string>, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) samplePaths(item, `${prefix}[]`, recordPaths, out);
  } else if (value && typeof value === 'object') {
    const isRecord = recordPaths.has(prefix);
    for (const [key, item] of Object.entries(value)) {
      const path = isRecord ? `${prefix}{}` : prefix ? `${prefix}.${key}` : key;
      if (!isRecord) out.add(path);
      samplePaths(item, path, recordPaths, out);
    }
  }
}

const WRONG_VALUES: Json[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -0.5, '', 'x', ' ', '\u0000', '\ud800', '😀', 'a'.repeat(300), [], [null], {}, { x: 1 }];

/** Every variant of `root` with one node replaced (by each wrong value) or removed. */
function* mutations(root: Json): Generator<Json> {
  function* walk(node: Json, replace: (v: Json | undefined) => Json): Generator<Json> {
    for (const wrong of WRONG_VALUES) yield replace(wrong);
    yield replace(undefined);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        yield* walk(node[i]!, (v) => {
          const copy = [...node];
          if (v === undefined) copy.splice(i, 1);
          else copy[i] = v;
          return replace(copy);
        });
      }
    } else if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        yield* walk(node[key]!, (v) => {
          const copy = { ...node };
          if (v === undefined) delete copy[key];
          else copy[key] = v;
          return replace(copy);
        });
      }
      yield replace({ ...node, extraField: 1 });
    }
  }
  yield* walk(root, (v) => (v === undefined ? null : v));
}

describe('compileCheck (envelope)', () => {
  const check = compileCheck(envelopeSchema);
  const zodAccepts = (value: unknown) => envelopeSchema.safeParse(value).success;

  it('the sample envelope reaches every field the schema declares', () => {
    const declared = new Set<string>();
    declaredPaths(envelopeSchema, '', declared);
    const recordPaths = new Set<string>(['params', 'paramSources', 'environment.packages', 'metrics']);
    const present = new Set<string>();
    samplePaths(fullEnvelope(), '', recordPaths, present);
    const missing = [...declared].filter((p) => !present.has(p));
    expect(missing).toEqual([]);
  });

  it('accepts valid envelopes (the fast path is taken)', () => {
    const samples = [fullEnvelope(), makeEnvelope(), makeEnvelope({ status: 'failed', metrics: {} })];
    for (const sample of samples) {
      expect(zodAccepts(sample)).toBe(true);
      expect(check(JSON.parse(JSON.stringify(sample)))).toBe(true);
    }
  });

  it('never accepts a single-field mutation that zod rejects', () => {
    let cases = 0;
    let rejected = 0;
    let agreedValid = 0;
    for (const variant of mutations(fullEnvelope())) {
      cases++;
      const fast = check(variant);
      const slow = zodAccepts(variant);
      if (fast && !slow) throw new Error(`compiled check accepts what zod rejects: ${JSON.stringify(variant).slice(0, 400)}`);
      if (!slow) rejected++;
      if (fast && slow) agreedValid++;
    }
    expect(cases).toBeGreaterThan(3000);
    expect(rejected).toBeGreaterThan(1000);
    // It is useful, too: most variants zod accepts are accepted without zod.
    expect(agreedValid).toBeGreaterThan(100);
  });

  it('never accepts a random multi-field mutation that zod rejects', () => {
    const random = seededRandom(14);
    const pick = <T,>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    /** Replaces (or removes) one node found by a random walk down from the root. */
    const mutateOnce = (node: Json): Json | undefined => {
      const children = Array.isArray(node) ? node.map((_, i) => i) : node && typeof node === 'object' ? Object.keys(node) : [];
      if (!children.length || random() < 0.15) return random() < 0.1 ? undefined : pick(WRONG_VALUES);
      const key = pick(children as Array<string | number>);
      if (Array.isArray(node)) {
        const copy = [...node];
        const replaced = mutateOnce(node[key as number]!);
        if (replaced === undefined) copy.splice(key as number, 1);
        else copy[key as number] = replaced;
        return copy;
      }
      const copy = { ...(node as Record<string, Json>) };
      const replaced = mutateOnce(copy[key as string]!);
      if (replaced === undefined) delete copy[key as string];
      else copy[key as string] = replaced;
      return copy;
    };
    let variant: Json = fullEnvelope();
    for (let i = 0; i < 4000; i++) {
      if (i % 4 === 0) variant = fullEnvelope();
      variant = mutateOnce(variant) ?? null;
      if (check(variant) && !zodAccepts(variant)) throw new Error(`compiled check accepts what zod rejects: ${JSON.stringify(variant).slice(0, 400)}`);
    }
  });

  it('leaves __proto__ keys, code-point lengths and deep nesting to zod', () => {
    const withProto = JSON.parse(JSON.stringify(fullEnvelope()).replace('"params":{', '"params":{"__proto__":{"x":1},')) as Json;
    expect(check(withProto)).toBe(false);
    expect(zodAccepts(withProto)).toBe(true);
    const emojiName = { ...(fullEnvelope() as Record<string, Json>), name: '😀' };
    expect(zodAccepts(emojiName)).toBe(check(emojiName) || zodAccepts(emojiName));
    let deep: Json = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    const deepParams = { ...(fullEnvelope() as Record<string, Json>), params: { deep } };
    expect(check(deepParams)).toBe(false);
    // zod overflows the stack on it; parseEnvelope reports that as a problem instead of throwing.
    const result = parseEnvelope(deepParams);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]!.message).toMatch(/nested too deeply/);
  });

  it('returns the parsed value itself on the fast path, equal to what zod returns', () => {
    const sample = fullEnvelope();
    const result = parseEnvelope(sample);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.envelope).toBe(sample as unknown as RunEnvelope);
      expect(envelopeSchema.parse(sample)).toEqual(sample);
    }
  });

  it('refuses to compile constructs it does not know', () => {
    expect(() => compileCheck(z.pipe(z.string(), z.transform((s: string) => s.length)) as unknown as z.ZodMiniType)).toThrow(/unsupported/);
  });
});
