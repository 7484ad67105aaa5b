/**
 * What every nb2prod page says to the WebviewHost and hears from it, whatever the panel: the
 * page's `ready` (its script runs and listens: send it the data, again after every reload of a
 * hidden page) and the theme broadcast. A panel's own messages are a second schema (compare.ts,
 * drift.ts, …); `readFromPage` routes a raw message to one or the other, validated, so neither
 * side acts on anything it has not parsed.
 */
import * as z from 'zod/mini';

export const hostFromPageSchema = z.discriminatedUnion('type', [
  /** The page's script runs and listens. */
  z.object({ type: z.literal('ready') }),
]);
export type HostFromPage = z.infer<typeof hostFromPageSchema>;

export const THEME_KINDS = ['light', 'dark', 'high-contrast', 'high-contrast-light'] as const;
export type ThemeKind = (typeof THEME_KINDS)[number];

export const hostToPageSchema = z.discriminatedUnion('type', [
  /** The colour theme changed: redraw what was drawn with the old colours (charts). */
  z.object({ type: z.literal('theme'), kind: z.enum(THEME_KINDS) }),
]);
export type HostToPage = z.infer<typeof hostToPageSchema>;

export type FromPage<M> = { host: true; message: HostFromPage } | { host: false; message: M } | { host: null; error: string };

/** The first issue of a failed parse, as a path and a message ("runIds.0: Invalid string"). */
export function firstIssue(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

/** Parses a message from a page: the host's own, else the panel's, else why it is refused. */
export function readFromPage<M>(raw: unknown, panel: z.ZodMiniType<M>): FromPage<M> {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (type === 'ready') {
    const host = hostFromPageSchema.safeParse(raw);
    return host.success ? { host: true, message: host.data } : { host: null, error: firstIssue(host.error) };
  }
  const parsed = panel.safeParse(raw);
  return parsed.success ? { host: false, message: parsed.data } : { host: null, error: firstIssue(parsed.error) };
}

/** Parses a message the extension is about to send: a bug in the extension is caught here, not drawn. */
export function checkToPage<M>(message: unknown, panel: z.ZodMiniType<M>): { ok: true; message: M | HostToPage } | { ok: false; error: string } {
  const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
  const parsed = type === 'theme' ? hostToPageSchema.safeParse(message) : panel.safeParse(message);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, error: firstIssue(parsed.error) };
}
