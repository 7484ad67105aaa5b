/**
 * The Compare panel (webviews/compare) and the extension. The extension computes the comparison
 * (core/stats/compare) and sends a view of it, shaped for drawing; the page draws tables and
 * vega-lite charts and reports the user's clicks. Every message from the page is parsed with
 * `compareMessageSchema` before it is acted on.
 */
import * as z from 'zod/mini';

const runId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/));

/** What the page keeps with `setState`: enough to compute the same comparison again. */
export const compareStateSchema = z.object({
  runIds: z.array(runId).check(z.minLength(1), z.maxLength(1000)),
  baseline: z.optional(z.int().check(z.nonnegative())),
  differencesOnly: z.optional(z.boolean()),
  metric: z.optional(z.nullable(z.string().check(z.maxLength(500)))),
  /** The two runs "What changed" diffs, when the user picked them. */
  diff: z.optional(z.tuple([runId, runId])),
});
export type CompareState = z.infer<typeof compareStateSchema>;

export const compareMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('showRun'), runId }),
  z.object({ type: z.literal('setBaseline'), index: z.int().check(z.nonnegative(), z.maximum(999)) }),
  /** "What changed": diff these two runs of the comparison instead. */
  z.object({ type: z.literal('setDiff'), runIds: z.tuple([runId, runId]) }),
]);
export type CompareMessage = z.infer<typeof compareMessageSchema>;

const text = z.string().check(z.maxLength(100_000));
const num = z.nullable(z.number());

const compareMetricRowSchema = z.object({
  group: text,
  n: z.int().check(z.nonnegative()),
  mean: num,
  low: num,
  high: num,
  /** Candidate − baseline; null on the baseline row. */
  delta: num,
  deltaLow: num,
  deltaHigh: num,
  /** Holm-adjusted when there are several candidates. */
  p: num,
  effect: z.nullable(text),
  test: text,
  insideNoise: z.nullable(z.boolean()),
  significant: z.nullable(z.boolean()),
  /** `baseline` on the baseline row; `no-test` when nothing was tested (never shown as "not significant"). */
  verdict: z.enum(['baseline', 'no-test', 'inside-noise', 'significant', 'not-significant']),
  /** Which test and why, in words (the baseline row has none). */
  reason: z.nullable(text),
});
export type CompareMetricRow = z.infer<typeof compareMetricRowSchema>;

export const compareViewSchema = z.object({
  confidence: z.number(),
  baseline: text,
  groups: z.array(
    z.object({
      label: text,
      runIds: z.array(runId),
      isBaseline: z.boolean(),
      /** Runs left out as exact duplicates of another run of the group. */
      duplicates: z.int().check(z.nonnegative()),
    }),
  ),
  params: z.array(z.object({ name: text, values: z.array(text), differs: z.boolean(), seedLike: z.boolean() })),
  metrics: z.array(z.object({ name: text, rows: z.array(compareMetricRowSchema) })),
  flags: z.array(z.object({ severity: z.enum(['warning', 'info']), message: text })),
  /** Each run's value of each metric: the points of the chart. */
  points: z.array(z.object({ metric: text, group: text, run: text, runId, value: z.number() })),
  /** Logged step series: the curves. */
  series: z.array(z.object({ metric: text, run: text, group: text, step: z.number(), value: z.number() })),
  /** `seeds`: what tells the run from the others of its group (`seed=2`, or the recorded seeds), for pickers and tooltips. */
  runs: z.array(z.object({ id: runId, name: text, group: text, seeds: text, startedAt: text })),
  /** The envelope diff of two runs (by default the first of the baseline and of the first candidate), rendered by the extension (escaped HTML). */
  diffHtml: z.nullable(z.string()),
  diffTitle: z.nullable(text),
  /** The two runs diffed, baseline side first. */
  diffRunIds: z.nullable(z.tuple([runId, runId])),
});
export type CompareView = z.infer<typeof compareViewSchema>;

export const compareToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('comparison'), view: compareViewSchema, state: compareStateSchema }),
  z.object({ type: z.literal('computing'), runs: z.int().check(z.nonnegative()) }),
  z.object({ type: z.literal('error'), message: text }),
]);
export type CompareToPage = z.infer<typeof compareToPageSchema>;
