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
});
export type CompareState = z.infer<typeof compareStateSchema>;

export const compareMessageSchema = z.discriminatedUnion('type', [
  /** The page's script runs and can receive the comparison. */
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('showRun'), runId }),
  z.object({ type: z.literal('setBaseline'), index: z.int().check(z.nonnegative(), z.maximum(999)) }),
]);
export type CompareMessage = z.infer<typeof compareMessageSchema>;

export interface CompareGroupView {
  label: string;
  runIds: string[];
  isBaseline: boolean;
}

export interface CompareMetricRow {
  group: string;
  n: number;
  mean: number | null;
  low: number | null;
  high: number | null;
  /** Candidate − baseline; null on the baseline row. */
  delta: number | null;
  deltaLow: number | null;
  deltaHigh: number | null;
  /** Holm-adjusted when there are several candidates. */
  p: number | null;
  effect: string | null;
  test: string;
  insideNoise: boolean | null;
  significant: boolean | null;
  /** `baseline` on the baseline row; `no-test` when nothing was tested (never shown as "not significant"). */
  verdict: 'baseline' | 'no-test' | 'inside-noise' | 'significant' | 'not-significant';
  /** Which test and why, in words (the baseline row has none). */
  reason: string | null;
}

export interface CompareView {
  confidence: number;
  baseline: string;
  groups: CompareGroupView[];
  params: Array<{ name: string; values: string[]; differs: boolean; seedLike: boolean }>;
  metrics: Array<{ name: string; rows: CompareMetricRow[] }>;
  flags: Array<{ severity: 'warning' | 'info'; message: string }>;
  /** Each run's value of each metric: the points of the chart. */
  points: Array<{ metric: string; group: string; run: string; runId: string; value: number }>;
  /** Logged step series: the curves. */
  series: Array<{ metric: string; run: string; step: number; value: number }>;
  runs: Array<{ id: string; name: string; group: string }>;
  /** The envelope diff of the first run of the baseline and of the first candidate, rendered by the extension (escaped HTML). */
  diffHtml: string | null;
  diffTitle: string | null;
}

export type CompareToPage =
  | { type: 'comparison'; view: CompareView; state: CompareState }
  | { type: 'computing'; runs: number }
  | { type: 'error'; message: string };
