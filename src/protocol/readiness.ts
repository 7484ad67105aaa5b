/**
 * The readiness panel (webviews/readiness) and the extension. The extension renders the report;
 * the page reports clicks: an evidence button (by its index in the report's evidence) or
 * "Check again". Every message is parsed with `readinessMessageSchema` first.
 */
import * as z from 'zod/mini';

export const readinessMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('openEvidence'), index: z.int().check(z.nonnegative(), z.maximum(10_000)) }),
  z.object({ type: z.literal('refresh') }),
]);
export type ReadinessMessage = z.infer<typeof readinessMessageSchema>;
