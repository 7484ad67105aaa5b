/**
 * Messages between the run page webview (webviews/runPage) and the extension. The page is
 * rendered by the extension; the webview only reports what the user clicked. Every message
 * from the webview is parsed with `runPageMessageSchema` before it is acted on.
 */
import * as z from 'zod/mini';

/** State the webview keeps with `setState`, so a restored panel knows what it showed. */
const runId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/));

export const runPageStateSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run'),
    /** Id of the run shown. */
    runId: runId,
  }),
  z.object({
    kind: z.literal('diff'),
    /** Ids of runs A and B. */
    runIds: z.tuple([runId, runId]),
  }),
]);
export type RunPageState = z.infer<typeof runPageStateSchema>;

export const runPageMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('openFile'),
    /** Path as recorded in the envelope: relative to the workspace. Checked to stay inside it. */
    path: z.string().check(z.minLength(1), z.maxLength(4096)),
  }),
  z.object({
    type: z.literal('showRun'),
    /** Run to open in its own page (e.g. the parent run, or A/B of a diff). */
    runId: runId,
  }),
  /** A button of the run page's action bar, on the run the page shows. */
  z.object({ type: z.literal('action'), action: z.enum(['replay', 'register', 'compare', 'diff', 'scaffold']) }),
]);
export type RunPageMessage = z.infer<typeof runPageMessageSchema>;

/** The extension sends the run page nothing of its own (its HTML is rendered): only the host's theme broadcast. */
export const runPageToPageSchema = z.never();
export type RunPageToPage = z.infer<typeof runPageToPageSchema>;
