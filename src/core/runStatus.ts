/**
 * The statuses a run can end with. Kept apart from envelope.ts (which builds zod schemas when it
 * loads) so that code which only needs the names, such as `nb2prod runs --status`, does not load zod.
 */
export const RUN_STATUSES = ['succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
