/**
 * The readiness panel (webviews/readiness) and the extension. The extension renders the report;
 * the page reports clicks: an evidence button (by its index in the report's evidence), a fix
 * button (by its index in the report's actions) or "Check again". Every message is parsed with `readinessMessageSchema` first.
 */
import * as z from 'zod/mini';

export const readinessMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('openEvidence'), index: z.int().check(z.nonnegative(), z.maximum(10_000)) }),
  z.object({ type: z.literal('refresh') }),
  /** A fix button, by its index in the report's actions (in page order). */
  z.object({ type: z.literal('fix'), index: z.int().check(z.nonnegative(), z.maximum(10_000)) }),
]);
export type ReadinessMessage = z.infer<typeof readinessMessageSchema>;

/** The page keeps no state of its own: a restored panel checks the workspace again. */
export const readinessStateSchema = z.object({});
export type ReadinessState = z.infer<typeof readinessStateSchema>;

/** The extension sends the readiness page nothing of its own (its HTML is rendered): only the host's theme broadcast. */
export const readinessToPageSchema = z.never();
export type ReadinessToPage = z.infer<typeof readinessToPageSchema>;
