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
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('pickReference') }),
  z.object({ type: z.literal('pickCurrent') }),
  z.object({ type: z.literal('export'), format: z.enum(['html', 'md', 'json']) }),
]);
export type DriftMessage = z.infer<typeof driftMessageSchema>;

/** The parts of a drift report the page draws (core/drift's DriftReport has this shape). */
export interface DriftPageReport {
  reference: { source: string; type: 'dataset' | 'profile'; rows: number };
  current: { source: string; rows: number };
  thresholds: { monitor: number; retrain: number };
  /** Schema changes (dropped, added, renamed, all missing, type changed, undecodable), most severe first. */
  schema: Array<{ kind: string; column: string | null; to?: string; severity: 'monitor' | 'retrain'; message: string }>;
  columns: Array<{
    name: string;
    kind: 'numeric' | 'categorical';
    severity: 'stable' | 'monitor' | 'retrain' | 'unavailable';
    drifted: boolean;
    psi: number | null;
    test: { name: 'ks' | 'chi-square'; statistic: number; pValue: number; df?: number; approximate?: boolean } | null;
    effect: { name: 'wasserstein' | 'jensen-shannon'; value: number | null; approximate?: boolean } | null;
    reference: { count: number; missing: number };
    current: { count: number; missing: number };
    unseenCategories: { count: number; examples: string[] } | null;
    histogram:
      | { type: 'bins'; binning: string; edges: number[]; reference: number[]; current: number[] }
      | { type: 'categories'; labels: string[]; reference: number[]; current: number[] }
      | null;
    notes: string[];
  }>;
  datasetDrift: { drifted: number; total: number; share: number };
  problems: string[];
}

export type DriftToPage =
  | { type: 'choose'; state: DriftState; referenceLabel: string | null; currentLabel: string | null }
  | { type: 'computing'; what: string }
  | { type: 'report'; report: DriftPageReport; state: DriftState }
  | { type: 'error'; message: string; state: DriftState };
