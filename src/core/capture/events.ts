/**
 * Reading what the Python companion recorded. Every tracked Python process (notebook runner,
 * kernel, script) appends JSON lines to one events file; this parses them (skipping a torn last
 * line and anything malformed, which is counted) and folds them into the parts of an envelope.
 * The event contract is documented in src/core/capture/python/nb2prod/_capture.py.
 */
import * as z from 'zod/mini';
import type { JsonValue, Metric, RunEnvelope, Seed } from '../envelope';
import { tableProfileSchema } from '../envelope';
import type { LlmCaptured } from '../llm/section';

const jsonish = z.unknown();
const base = { pid: z.optional(z.number()), t: z.optional(z.number()) };

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('open'), path: z.string(), write: z.boolean(), ...base }),
  z.looseObject({ type: z.literal('seed'), library: z.string(), value: jsonish, location: z.optional(z.string()), ...base }),
  z.looseObject({ type: z.literal('unseeded'), library: z.string(), call: z.string(), location: z.optional(z.string()), ...base }),
  z.looseObject({ type: z.literal('estimator'), class: z.string(), params: z.record(z.string(), jsonish), location: z.optional(z.string()), ...base }),
  z.looseObject({ type: z.literal('param'), name: z.string(), value: jsonish, source: z.optional(z.string()), ...base }),
  z.looseObject({ type: z.literal('metric'), name: z.string(), value: z.union([z.number(), z.string()]), step: z.optional(z.nullable(z.number())), ...base }),
  z.looseObject({ type: z.literal('artifact'), path: z.string(), kind: z.optional(z.nullable(z.string())), ...base }),
  z.looseObject({ type: z.literal('profile'), path: z.nullable(z.string()), profile: tableProfileSchema, ...base }),
  z.looseObject({ type: z.literal('python'), version: z.string(), executable: z.string(), implementation: z.optional(z.string()), ...base }),
  z.looseObject({ type: z.literal('packages'), packages: z.record(z.string(), z.string()), installedSha256: z.optional(z.string()), ...base }),
  z.looseObject({
    type: z.literal('fitted'),
    name: z.nullable(z.string()),
    class: z.string(),
    sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
    bytes: z.int().check(z.nonnegative()),
    format: z.enum(['joblib', 'pickle']),
    location: z.optional(z.nullable(z.string())),
    ...base,
  }),
  z.looseObject({ type: z.literal('fitted_skipped'), name: z.nullable(z.string()), class: z.string(), reason: z.string(), location: z.optional(z.nullable(z.string())), ...base }),
  z.looseObject({ type: z.literal('llm_call'), call: z.record(z.string(), jsonish), ...base }),
  z.looseObject({
    type: z.literal('llm_prompt'),
    sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
    name: z.nullable(z.string()),
    texts: z.array(z.looseObject({ role: z.string(), text: z.string() })),
    templates: z.array(z.looseObject({ name: z.string(), sha256: z.string(), text: z.string() })),
    structure: z.array(z.tuple([z.string(), z.array(z.string())])),
    ...base,
  }),
  z.looseObject({ type: z.literal('llm_unsupported'), package: z.string(), version: z.nullable(z.string()), reason: z.string(), ...base }),
  z.looseObject({ type: z.literal('capture_error'), where: z.optional(z.string()), message: z.optional(z.string()), ...base }),
]);
export type CaptureEvent = z.infer<typeof eventSchema>;

export interface ParsedEvents {
  events: CaptureEvent[];
  /** Lines that were not valid events (a torn write, a newer event type): counted, not fatal. */
  skipped: number;
}

export function parseEventLines(text: string): ParsedEvents {
  const events: CaptureEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const parsed = eventSchema.safeParse(value);
    if (parsed.success) events.push(parsed.data);
    else skipped++;
  }
  return { events, skipped };
}

/** The Python side encodes non-finite floats as strings so the JSON stays strict. */
function toNumber(value: number | string): number | null {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return null;
}

function toJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(v)]));
  return String(value);
}

export interface FileAccess {
  /** Absolute path as the process saw it. */
  path: string;
  read: boolean;
  written: boolean;
  /** Read before the run first wrote it: its content came from outside the run. */
  readBeforeWrite: boolean;
}

export interface CapturedRun {
  files: FileAccess[];
  seeds: Seed[];
  unseeded: RunEnvelope['unseeded'];
  params: Record<string, JsonValue>;
  paramSources: Record<string, 'logged' | 'autolog'>;
  metrics: Record<string, Metric>;
  artifacts: Array<{ path: string; kind: RunEnvelope['artifacts'][number]['kind'] }>;
  profiles: Map<string, RunEnvelope['inputs'][number]['profile']>;
  python: RunEnvelope['environment']['python'];
  packages: Record<string, string>;
  installedSetSha256: string | null;
  captureErrors: string[];
  fitted: NonNullable<RunEnvelope['fitted']>;
  fittedSkipped: NonNullable<RunEnvelope['fittedSkipped']>;
  /** LLM calls, prompt versions and clients not captured (nb2prod/_llm.py), in event order. */
  llm: LlmCaptured;
}

const ARTIFACT_KINDS = new Set(['model', 'notebook', 'report', 'other']);

/** Folds events, in the order they were written, into the parts of an envelope. */
export function foldEvents(events: CaptureEvent[]): CapturedRun {
  const files = new Map<string, FileAccess>();
  const seeds = new Map<string, Seed>();
  const unseeded = new Map<string, RunEnvelope['unseeded'][number]>();
  const run: CapturedRun = {
    files: [],
    seeds: [],
    unseeded: [],
    params: {},
    paramSources: {},
    metrics: {},
    artifacts: [],
    profiles: new Map(),
    python: null,
    packages: {},
    installedSetSha256: null,
    captureErrors: [],
    fitted: [],
    fittedSkipped: [],
    llm: { calls: [], prompts: [], unsupported: [] },
  };
  const artifacts = new Map<string, CapturedRun['artifacts'][number]>();
  for (const event of events) {
    switch (event.type) {
      case 'open': {
        const entry = files.get(event.path) ?? { path: event.path, read: false, written: false, readBeforeWrite: false };
        if (event.write) entry.written = true;
        else {
          if (!entry.written) entry.readBeforeWrite = true;
          entry.read = true;
        }
        files.set(event.path, entry);
        break;
      }
      case 'seed': {
        const location = event.location ?? 'unknown';
        seeds.set(`${event.library}\0${location}\0${JSON.stringify(event.value)}`, { library: event.library, value: toJson(event.value), location });
        break;
      }
      case 'unseeded': {
        const location = event.location ?? 'unknown';
        unseeded.set(`${event.call}\0${location}`, { library: event.library, call: event.call, location });
        break;
      }
      case 'estimator': {
        const className = event.class.split('.').at(-1) ?? event.class;
        for (const [name, value] of Object.entries(event.params)) {
          const key = `${className}.${name}`;
          run.params[key] = toJson(value);
          run.paramSources[key] = 'autolog';
        }
        break;
      }
      case 'param':
        run.params[event.name] = toJson(event.value);
        run.paramSources[event.name] = event.source === 'autolog' ? 'autolog' : 'logged';
        break;
      case 'metric': {
        const value = toNumber(event.value);
        if (value === null) break;
        const metric = run.metrics[event.name] ?? { value };
        metric.value = value;
        if (event.step !== undefined && event.step !== null) {
          metric.series ??= [];
          metric.series.push({ step: event.step, value });
        }
        run.metrics[event.name] = metric;
        break;
      }
      case 'artifact': {
        const kind = event.kind && ARTIFACT_KINDS.has(event.kind) ? (event.kind as CapturedRun['artifacts'][number]['kind']) : 'other';
        artifacts.set(event.path, { path: event.path, kind });
        break;
      }
      case 'profile':
        if (event.path) run.profiles.set(event.path, event.profile);
        break;
      case 'python':
        run.python = { version: event.version, executable: event.executable, ...(event.implementation ? { implementation: event.implementation } : {}) };
        break;
      case 'packages':
        // Each process reports what it imported; the run used the union.
        Object.assign(run.packages, event.packages);
        if (event.installedSha256 && /^[0-9a-f]{64}$/.test(event.installedSha256)) run.installedSetSha256 = event.installedSha256;
        break;
      case 'fitted':
        run.fitted.push({ name: event.name, type: event.class, sha256: event.sha256, bytes: event.bytes, format: event.format, ...(event.location ? { location: event.location } : {}) });
        break;
      case 'fitted_skipped':
        run.fittedSkipped.push({ name: event.name, type: event.class, reason: event.reason, ...(event.location ? { location: event.location } : {}) });
        break;
      case 'llm_call':
        run.llm.calls.push(event.call);
        break;
      case 'llm_prompt':
        run.llm.prompts.push({ sha256: event.sha256, name: event.name, texts: event.texts, templates: event.templates, structure: event.structure });
        break;
      case 'llm_unsupported':
        if (!run.llm.unsupported.some((u) => u.package === event.package)) run.llm.unsupported.push({ package: event.package, version: event.version, reason: event.reason });
        break;
      case 'capture_error':
        run.captureErrors.push(`${event.where ?? 'capture'}: ${event.message ?? 'unknown error'}`);
        break;
      default: {
        const unreachable: never = event;
        throw new Error(`unhandled event ${JSON.stringify(unreachable)}`);
      }
    }
  }
  // Non-finite metric values cannot be stored as JSON numbers; keep the event but drop them.
  for (const [name, metric] of Object.entries(run.metrics)) {
    if (!Number.isFinite(metric.value)) {
      run.captureErrors.push(`metric ${name}: non-finite value ${metric.value} not recorded`);
      delete run.metrics[name];
    } else if (metric.series) {
      metric.series = metric.series.filter((p) => Number.isFinite(p.value));
    }
  }
  run.files = [...files.values()];
  run.seeds = [...seeds.values()];
  run.unseeded = [...unseeded.values()];
  run.artifacts = [...artifacts.values()];
  return run;
}
