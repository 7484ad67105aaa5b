/**
 * The run envelope, schema `nb2prod.run/1`: everything needed to replay and audit one run.
 *
 * The zod schemas are the single definition; the TypeScript types are inferred from them.
 * Schema evolution rule: fields may be added, none removed or retyped. Objects are `loose`
 * so an older reader keeps (and round-trips) fields written by a newer writer.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { RUN_STATUSES } from './runStatus';
import { jsonSyntaxMessage, withoutBom } from './jsonText';
import { compileCheck } from './schemaCheck';

// zod/mini (28 KB instead of 454 KB for classic zod: activation compiles the whole bundle)
// has no messages until a locale is loaded.
z.config(en());

export const ENVELOPE_SCHEMA = 'nb2prod.run/1';

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256'));
const isoTime = z.iso.datetime({ offset: true });

/** A JSON value, as params and logged values may hold any of them. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const jsonValue: z.ZodMiniType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

export { RUN_STATUSES, type RunStatus } from './runStatus';
export const runStatusSchema = z.enum(RUN_STATUSES);

export const cellRecordSchema = z.looseObject({
  /** Position of the cell in the notebook, 0-based, counting every cell kind. */
  index: z.int().check(z.nonnegative()),
  /** nbformat cell id when the notebook has them (nbformat ≥ 4.5), else null. */
  id: z.nullable(z.string()),
  /** sha256 of the cell source (code cells only; outputs never count). */
  sha256,
  durationMs: z.nullable(z.number().check(z.nonnegative())),
  status: z.enum(['succeeded', 'failed', 'skipped', 'not-run']),
});
export type CellRecord = z.infer<typeof cellRecordSchema>;

export const sourceSchema = z.looseObject({
  /** Path of the notebook or script, relative to the workspace root, with forward slashes. */
  path: z.string().check(z.minLength(1)),
  /** sha256 of the code with outputs stripped: what was run, independent of what it printed. */
  sha256,
  /** Per code cell, for notebooks; empty for scripts. */
  cells: z.array(cellRecordSchema),
  /** Content hash of the code snapshot kept in the store's `objects/`. */
  snapshot: z.nullable(sha256),
  /** For script runs: the command and its arguments, as given. */
  command: z.optional(z.array(z.string())),
});

export const gitSchema = z.nullable(
  z.looseObject({
    commit: z.string().check(z.regex(/^[0-9a-f]{7,64}$/)),
    branch: z.nullable(z.string()),
    dirty: z.boolean(),
    /** sha256 of `git diff HEAD` when dirty, so two dirty runs can be told apart. */
    diffSha256: z.nullable(sha256),
  }),
);

export const seedSchema = z.looseObject({
  /** `random`, `numpy`, `numpy.random.Generator`, `torch`, `tensorflow`, `sklearn`, … */
  library: z.string().check(z.minLength(1)),
  value: jsonValue,
  /**
   * Where it was set, e.g. `cell 2, line 3` or `train.py:14`. The cell is its 0-based index, as
   * recorded since the first runs; people see it through `locationLabel` (cell 3, line 3).
   */
  location: z.string(),
});
export type Seed = z.infer<typeof seedSchema>;

export const unseededSchema = z.looseObject({
  library: z.string().check(z.minLength(1)),
  /** The call that drew randomness, e.g. `numpy.random.rand`. */
  call: z.string(),
  location: z.string(),
});

export const environmentSchema = z.looseObject({
  python: z.nullable(
    z.looseObject({
      version: z.string(),
      executable: z.string(),
      implementation: z.optional(z.string()),
    }),
  ),
  /** Versions of the packages the run imported. */
  packages: z.record(z.string(), z.string()),
  /** sha256 over the sorted `name==version` list of the whole installed set. */
  installedSetSha256: z.nullable(sha256),
  lockFile: z.nullable(z.looseObject({ path: z.string(), sha256 })),
  os: z.looseObject({ platform: z.string(), release: z.string(), arch: z.string() }),
  /** Names only. Values are never recorded: they hold secrets. */
  envVarNames: z.array(z.string()),
});

export const hardwareSchema = z.looseObject({
  cpuModel: z.string(),
  cores: z.int().check(z.positive()),
  memoryBytes: z.int().check(z.nonnegative()),
  gpus: z.array(z.looseObject({ name: z.string(), memoryBytes: z.nullable(z.int().check(z.nonnegative())) })),
});

export const columnProfileSchema = z.looseObject({
  name: z.string(),
  /** Logical type: numeric, categorical, boolean, datetime, text. */
  type: z.enum(['numeric', 'categorical', 'boolean', 'datetime', 'text']),
  count: z.int().check(z.nonnegative()),
  nulls: z.int().check(z.nonnegative()),
  /** Numeric columns: reference bins (decile edges, n+1 values) and counts per bin. */
  bins: z.optional(z.looseObject({ edges: z.array(z.number()), counts: z.array(z.int().check(z.nonnegative())) })),
  /** Categorical columns: the most frequent values with their counts. */
  top: z.optional(z.array(z.looseObject({ value: z.string(), count: z.int().check(z.nonnegative()) }))),
  min: z.optional(z.number()),
  max: z.optional(z.number()),
  /** Numeric columns of an integer dtype (int64, Int64...); absent for floats and older runs. */
  integer: z.optional(z.boolean()),
  mean: z.optional(z.number()),
  std: z.optional(z.number()),
});
export type ColumnProfile = z.infer<typeof columnProfileSchema>;

export const tableProfileSchema = z.looseObject({
  rows: z.int().check(z.nonnegative()),
  columns: z.array(columnProfileSchema),
});

export const fileRecordSchema = z.looseObject({
  /** Relative to the workspace root when inside it, absolute otherwise. */
  path: z.string().check(z.minLength(1)),
  sha256,
  bytes: z.int().check(z.nonnegative()),
  /**
   * Model files the run wrote: true when their bytes were copied into the store's
   * `objects/<sha256>` as the run ended (so the registry can take the run's own model later),
   * false when not (larger than the configured limit, or changed after the run wrote it).
   * Absent for other files.
   */
  kept: z.optional(z.boolean()),
});
export type FileRecord = z.infer<typeof fileRecordSchema>;

export const inputRecordSchema = z.extend(fileRecordSchema, { profile: z.optional(tableProfileSchema) });
export type InputRecord = z.infer<typeof inputRecordSchema>;

export const artifactSchema = z.extend(fileRecordSchema, {
  kind: z.enum(['model', 'notebook', 'report', 'other']),
});

export const metricSchema = z.looseObject({
  /** The last logged value. */
  value: z.number(),
  series: z.optional(z.array(z.looseObject({ step: z.number(), value: z.number() }))),
});
export type Metric = z.infer<typeof metricSchema>;

/**
 * A fitted estimator the run's globals held at its end (transformers, models, pipelines, search
 * CVs), serialised into the store's `objects/<sha256>` (src/core/capture/python/nb2prod/_fitted.py).
 * `name` is null for a transformer fitted in one expression and held by no name; `location`
 * then says where it was fitted (`cell 3, line 2`, 0-based cell like seeds).
 */
export const fittedObjectSchema = z.looseObject({
  name: z.nullable(z.string()),
  /** The public class path, e.g. `sklearn.preprocessing.StandardScaler`. */
  type: z.string(),
  sha256,
  bytes: z.int().check(z.nonnegative()),
  format: z.enum(['joblib', 'pickle']),
  location: z.optional(z.nullable(z.string())),
});
export type FittedObject = z.infer<typeof fittedObjectSchema>;

export const fittedSkippedSchema = z.looseObject({
  name: z.nullable(z.string()),
  type: z.string(),
  /** Larger than the limit per object, over the run's limit, or its serialisation failed. */
  reason: z.string(),
  location: z.optional(z.nullable(z.string())),
});

export const runErrorSchema = z.nullable(
  z.looseObject({
    message: z.string(),
    type: z.optional(z.string()),
    /** 0-based index of the failing cell, for notebooks (shown with `cellLabel`). */
    cell: z.optional(z.int().check(z.nonnegative())),
    traceback: z.optional(z.string()),
  }),
);

const count = z.int().check(z.nonnegative());

/**
 * One LLM call (src/core/capture/python/nb2prod/_llm.py): attributes named as the OpenTelemetry
 * GenAI semantic conventions name them (`gen_ai.*`, `server.*`, `error.type`), nb2prod's own under
 * `nb2prod.*`. An attribute that is absent is unknown (usage a stream did not report, for one).
 */
export const llmCallSchema = z.looseObject({
  'gen_ai.operation.name': z.optional(z.string()),
  'gen_ai.provider.name': z.optional(z.string()),
  'gen_ai.request.model': z.optional(z.string()),
  'gen_ai.response.model': z.optional(z.string()),
  'gen_ai.request.temperature': z.optional(z.number()),
  'gen_ai.request.top_p': z.optional(z.number()),
  'gen_ai.request.max_tokens': z.optional(z.int()),
  'gen_ai.request.seed': z.optional(z.int()),
  'gen_ai.request.stop_sequences': z.optional(z.array(z.string())),
  'gen_ai.response.finish_reasons': z.optional(z.array(z.string())),
  'gen_ai.usage.input_tokens': z.optional(count),
  'gen_ai.usage.output_tokens': z.optional(count),
  'gen_ai.usage.cache_read.input_tokens': z.optional(count),
  'gen_ai.usage.cache_creation.input_tokens': z.optional(count),
  'gen_ai.usage.reasoning.output_tokens': z.optional(count),
  'error.type': z.optional(z.string()),
  'nb2prod.api': z.optional(z.string()),
  'nb2prod.status': z.optional(z.enum(['ok', 'error', 'interrupted'])),
  'nb2prod.usage': z.optional(z.enum(['reported', 'missing'])),
  'nb2prod.latency_ms': z.optional(z.number().check(z.nonnegative())),
  'nb2prod.retries': z.optional(count),
  'nb2prod.prompt.sha256': z.optional(sha256),
  /** Dollars, from the run's price table; null when the model has no price or the tokens are unknown. */
  'nb2prod.cost_usd': z.optional(z.nullable(z.number())),
});
export type LlmCall = z.infer<typeof llmCallSchema>;

const llmTotals = {
  calls: count,
  errors: count,
  /** Streams that ended before their last event (cut, closed early, dropped). */
  interrupted: count,
  /** Calls whose answer reported no token usage (a stream without stream_options.include_usage). */
  usageMissing: count,
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  reasoningTokens: count,
  /** Dollars of the calls whose cost is known; null when none is. */
  costUsd: z.nullable(z.number()),
  /** False when some calls have no cost (no price for their model, or no usage). */
  costComplete: z.boolean(),
  /** Latency of the calls that succeeded, in milliseconds (null: none did). */
  latencyP50Ms: z.nullable(z.number()),
  latencyP95Ms: z.nullable(z.number()),
};

export const llmSectionSchema = z.looseObject({
  /** The price table the costs come from (src/core/llm/prices.json and the project's [llm.prices]). */
  prices: z.looseObject({ version: z.string(), asOf: z.string(), overridden: z.array(z.string()) }),
  /** Whether message contents were kept (`[track] capture_content`, `--capture-content`); else hashes and lengths. */
  contentCaptured: z.boolean(),
  summary: z.looseObject(llmTotals),
  /** Per returned model (the requested one when none came back) and provider. */
  models: z.array(z.looseObject({ model: z.string(), provider: z.string(), ...llmTotals })),
  /** Prompt versions: sha256 of the system/instruction texts, named templates and message structure. */
  prompts: z.array(
    z.looseObject({
      sha256,
      name: z.nullable(z.string()),
      calls: count,
      /** System / instruction texts, kept in objects/. */
      texts: z.array(z.looseObject({ role: z.string(), sha256, length: count })),
      /** Named templates (nb2prod.prompt) of templated messages, kept in objects/. */
      templates: z.array(z.looseObject({ name: z.string(), sha256 })),
      /** Roles and content types of the messages, in order. */
      structure: z.array(z.looseObject({ role: z.string(), types: z.array(z.string()) })),
    }),
  ),
  /** The calls, when few; else `callsObject`. */
  calls: z.optional(z.array(llmCallSchema)),
  /** The calls as JSON lines in objects/<sha256>, when many. */
  callsObject: z.optional(z.looseObject({ sha256, count, format: z.literal('jsonl') })),
  /** Clients whose calls could not be captured (a version nb2prod does not know). */
  notCaptured: z.optional(z.array(z.looseObject({ package: z.string(), version: z.nullable(z.string()), reason: z.string() }))),
});
export type LlmSection = z.infer<typeof llmSectionSchema>;

/** Run ids are ULIDs: 26 Crockford base-32 characters whose order is the order of creation. */
export const runIdSchema = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a 26-character ULID'));

export const envelopeSchema = z.looseObject({
  schema: z.literal(ENVELOPE_SCHEMA),
  id: runIdSchema,
  name: z.string().check(z.minLength(1)),
  kind: z.enum(['notebook', 'script']),
  status: runStatusSchema,
  startedAt: isoTime,
  endedAt: isoTime,
  durationMs: z.number().check(z.nonnegative()),
  source: sourceSchema,
  git: gitSchema,
  params: z.record(z.string(), jsonValue),
  /** Where each param came from: the `parameters` cell, a `-p` override, a log call or autolog. */
  paramSources: z.optional(z.record(z.string(), z.enum(['notebook', 'override', 'logged', 'autolog', 'argv']))),
  seeds: z.array(seedSchema),
  unseeded: z.array(unseededSchema),
  environment: environmentSchema,
  hardware: hardwareSchema,
  inputs: z.array(inputRecordSchema),
  outputs: z.array(fileRecordSchema),
  artifacts: z.array(artifactSchema),
  metrics: z.record(z.string(), metricSchema),
  tags: z.array(z.string()),
  /** Repeated runs of one configuration (different seeds) share a group. */
  group: z.nullable(z.string()),
  /** The run this one replays or derives from. */
  parent: z.nullable(runIdSchema),
  error: runErrorSchema,
  /** Fitted estimators kept in `objects/` at the end of a successful run (absent: none, or an older run). */
  fitted: z.optional(z.array(fittedObjectSchema)),
  /** Fitted estimators the run held but did not keep, and why. */
  fittedSkipped: z.optional(z.array(fittedSkippedSchema)),
  /** LLM calls the run made through the openai / anthropic clients (absent: none, or an older run). */
  llm: z.optional(llmSectionSchema),
});

export type RunEnvelope = z.infer<typeof envelopeSchema>;

/** Why an envelope failed validation: the first offending field as a dotted path, and why. */
export interface EnvelopeIssue {
  field: string;
  message: string;
}

export type EnvelopeParseResult =
  | { ok: true; envelope: RunEnvelope }
  | { ok: false; issues: EnvelopeIssue[] };

/** The fast yes/maybe pass of `parseEnvelope` (see schemaCheck.ts), compiled on first use. */
let quickCheck: ((value: unknown) => boolean) | undefined;

/**
 * Validates an already-parsed JSON value as an envelope. Values that pass the compiled check are
 * returned as they are (zod would return an equal copy); the others get zod's verdict and message.
 */
export function parseEnvelope(value: unknown): EnvelopeParseResult {
  quickCheck ??= compileCheck(envelopeSchema);
  if (quickCheck(value)) return { ok: true, envelope: value as RunEnvelope };
  let result: ReturnType<typeof envelopeSchema.safeParse>;
  try {
    result = envelopeSchema.safeParse(value);
  } catch (error) {
    // zod recurses into nested values: a value nested thousands deep overflows the stack.
    if (error instanceof RangeError) return { ok: false, issues: [{ field: '(json)', message: 'values are nested too deeply' }] };
    throw error;
  }
  if (result.success) return { ok: true, envelope: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      field: issue.path.length ? issue.path.map(String).join('.') : '(root)',
      message: issue.message,
    })),
  };
}

/**
 * Validates envelope text read from disk; JSON syntax errors are reported like schema errors, on
 * one line (V8 quotes the text around the error, line breaks included). A byte-order mark, which
 * some editors add on save, is not an error.
 */
export function parseEnvelopeText(text: string): EnvelopeParseResult {
  let value: unknown;
  try {
    value = JSON.parse(withoutBom(text));
  } catch (error) {
    return { ok: false, issues: [{ field: '(json)', message: jsonSyntaxMessage(error) }] };
  }
  return parseEnvelope(value);
}
