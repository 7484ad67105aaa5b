/**
 * The Drift panel (webviews/drift) and the extension. The extension reads the datasets and
 * computes the report (core/drift); the page draws it and asks for choices (which data, which
 * export). Every message from the page is parsed with `driftMessageSchema` first.
 */
import * as z from 'zod/mini';

const runId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/));
const filePath = z.string().check(z.minLength(1), z.maxLength(4096));

export const driftReferenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: filePath }),
  z.object({ kind: z.literal('run'), runId, input: z.optional(filePath) }),
]);
export type DriftReferenceChoice = z.infer<typeof driftReferenceSchema>;

/** What the page keeps with `setState`, so a restored panel recomputes the same report. */
export const driftStateSchema = z.object({
  reference: z.optional(driftReferenceSchema),
  current: z.optional(filePath),
  column: z.optional(z.nullable(z.string().check(z.maxLength(1000)))),
});
export type DriftState = z.infer<typeof driftStateSchema>;

export const driftMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pickReference') }),
  z.object({ type: z.literal('pickCurrent') }),
  z.object({ type: z.literal('export'), format: z.enum(['html', 'md', 'json']) }),
]);
export type DriftMessage = z.infer<typeof driftMessageSchema>;

const text = z.string().check(z.maxLength(1_000_000));
const count = z.int().check(z.nonnegative());
const numbers = z.array(z.number());

/** The parts of a drift report the page draws (core/drift's DriftReport has this shape; other fields are dropped). */
export const driftPageReportSchema = z.object({
  reference: z.object({ source: text, type: z.enum(['dataset', 'profile']), rows: count }),
  current: z.object({ source: text, rows: count }),
  thresholds: z.object({ monitor: z.number(), retrain: z.number() }),
  /** Schema changes (dropped, added, renamed, all missing, type changed, undecodable), most severe first. */
  schema: z.array(z.object({ kind: text, column: z.nullable(text), to: z.optional(text), severity: z.enum(['monitor', 'retrain']), message: text })),
  columns: z.array(
    z.object({
      name: text,
      kind: z.enum(['numeric', 'categorical']),
      severity: z.enum(['stable', 'monitor', 'retrain', 'unavailable']),
      drifted: z.boolean(),
      psi: z.nullable(z.number()),
      test: z.nullable(
        z.object({
          name: z.enum(['ks', 'chi-square']),
          statistic: z.number(),
          pValue: z.number(),
          df: z.optional(z.number()),
          approximate: z.optional(z.boolean()),
        }),
      ),
      effect: z.nullable(z.object({ name: z.enum(['wasserstein', 'jensen-shannon']), value: z.nullable(z.number()), approximate: z.optional(z.boolean()) })),
      reference: z.object({ count, missing: count }),
      current: z.object({ count, missing: count }),
      unseenCategories: z.nullable(z.object({ count, examples: z.array(text) })),
      histogram: z.nullable(
        z.discriminatedUnion('type', [
          z.object({ type: z.literal('bins'), binning: text, edges: numbers, reference: numbers, current: numbers }),
          z.object({ type: z.literal('categories'), labels: z.array(text), reference: numbers, current: numbers }),
        ]),
      ),
      notes: z.array(text),
    }),
  ),
  datasetDrift: z.object({ drifted: count, total: count, share: z.number() }),
  problems: z.array(text),
});
export type DriftPageReport = z.infer<typeof driftPageReportSchema>;

export const driftToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('choose'), state: driftStateSchema, referenceLabel: z.nullable(text), currentLabel: z.nullable(text) }),
  z.object({ type: z.literal('computing'), what: text }),
  /** `referenceLabel`: what the reference button shows (a file name, or the run and input a profile came from). */
  z.object({ type: z.literal('report'), report: driftPageReportSchema, state: driftStateSchema, referenceLabel: text, currentLabel: text }),
  z.object({ type: z.literal('error'), message: text, state: driftStateSchema }),
]);
export type DriftToPage = z.infer<typeof driftToPageSchema>;
