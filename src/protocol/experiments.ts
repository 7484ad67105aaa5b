/**
 * The experiments table (webviews/experiments) and the extension. The extension sends every run
 * of the store as a columnar table (core/experiments/table.ts) and, on request, the step series
 * of a few runs for the curves; the page sorts, filters, groups, virtualises and plots, and asks
 * the extension to compare, diff, register or open runs. Both directions are parsed with these
 * schemas by the WebviewHost.
 */
import * as z from 'zod/mini';

/** As core/envelope.ts RUN_STATUSES (not imported: the page's bundle would take the envelope schemas with it). */
const RUN_STATUSES = ['succeeded', 'failed', 'cancelled', 'interrupted'] as const;

const runId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/));
const text = z.string().check(z.maxLength(100_000));
const name = z.string().check(z.maxLength(1_000));

export const paramCellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type ParamCell = z.infer<typeof paramCellSchema>;

/**
 * A column of 10,000 values checked in one loop: zod's per-element schemas cost ~200 ms for a
 * table of 10,000 runs (each element parsed and copied), this a few milliseconds — on both sides
 * of every message, so it matters for the first paint.
 */
function column<T>(test: (value: unknown) => boolean, what: string): z.ZodMiniType<T[]> {
  return z.custom<T[]>((value) => {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (!test(value[i])) return false;
    return true;
  }, { message: `expected an array of ${what}` });
}
const RUN_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const isText = (max: number) => (v: unknown) => typeof v === 'string' && v.length <= max;
const isNullable = (test: (v: unknown) => boolean) => (v: unknown) => v === null || test(v);
const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isRunId = (v: unknown) => typeof v === 'string' && RUN_ID.test(v);
const isCell = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'boolean' || isFiniteNumber(v);
const STATUS = new Set<unknown>(RUN_STATUSES);

export const experimentTableSchema = z.object({
  ids: column<string>(isRunId, 'run ids'),
  name: column<string>(isText(100_000), 'texts'),
  status: column<(typeof RUN_STATUSES)[number]>((v) => STATUS.has(v), 'run statuses'),
  startedAt: column<string>(isText(1_000), 'times'),
  durationMs: column<number>(isFiniteNumber, 'numbers'),
  source: column<string>(isText(100_000), 'texts'),
  /** The run's --group, if any. */
  group: column<string | null>(isNullable(isText(100_000)), 'texts or nulls'),
  /** Runs with the same key repeat one configuration (same code and params, seeds aside). */
  configKey: column<string>(isText(1_000), 'texts'),
  /** The earlier run this one repeats exactly (same code, params, seeds, data), if any. */
  duplicateOf: column<string | null>(isNullable(isRunId), 'run ids or nulls'),
  /** Short git commit, `*` when the tree was dirty. */
  commit: column<string | null>(isNullable(isText(1_000)), 'texts or nulls'),
  /** Short hash of the input files: the data version. */
  data: column<string | null>(isNullable(isText(1_000)), 'texts or nulls'),
  /** The input files with their short hashes, one per line (the data column's tooltip). */
  dataFiles: column<string>(isText(100_000), 'texts'),
  /** `seed=2`, or the recorded seeds. */
  seeds: column<string>(isText(100_000), 'texts'),
  tags: column<string[]>((v) => Array.isArray(v) && v.every(isText(1_000)), 'lists of tags'),
  params: z.array(
    z.object({
      key: name,
      /** Short: without the estimator prefix unless two params would look alike. */
      label: name,
      /** Other names of the same knob folded into this column (an estimator's autologged copy). */
      also: z.array(name),
      seedLike: z.boolean(),
      /** Takes more than one value across the runs (shown by default). */
      varies: z.boolean(),
      autolog: z.boolean(),
      values: column<ParamCell>(isCell, 'param values (text, number, boolean or null)'),
    }),
  ),
  metrics: z.array(
    z.object({
      key: name,
      lowerIsBetter: z.boolean(),
      last: column<number | null>(isNullable(isFiniteNumber), 'numbers or nulls'),
      /** Best value of the logged series (the last value when there is no series). */
      best: column<number | null>(isNullable(isFiniteNumber), 'numbers or nulls'),
      /** Steps logged (0: a single value). */
      steps: column<number>((v) => Number.isInteger(v) && (v as number) >= 0, 'step counts'),
    }),
  ),
  /** t quantiles at 0.975 for 1, 2, … degrees of freedom (core's t distribution): the page's group intervals. */
  t975: z.array(z.number()).check(z.maxLength(10_000)),
}).check(
  // Every column has a value per run.
  z.refine((t) => [t.name, t.status, t.startedAt, t.durationMs, t.source, t.group, t.configKey, t.duplicateOf, t.commit, t.data, t.dataFiles, t.seeds, t.tags, ...t.params.map((p) => p.values), ...t.metrics.flatMap((m) => [m.last, m.best, m.steps])].every((c) => c.length === t.ids.length), {
    message: 'every column must have one value per run',
  }),
);
export type ExperimentTable = z.infer<typeof experimentTableSchema>;

export const PLOTS = ['parallel', 'scatter', 'curves', 'box'] as const;
export type PlotKind = (typeof PLOTS)[number];

/** What the page keeps: the user's view of the table. */
export const experimentsStateSchema = z.object({
  mode: z.optional(z.enum(['runs', 'groups'])),
  sort: z.optional(z.nullable(z.object({ column: name, descending: z.boolean() }))),
  filter: z.optional(z.string().check(z.maxLength(2_000))),
  /** Visible columns in order; absent: the defaults. */
  columns: z.optional(z.array(name).check(z.maxLength(2_000))),
  pinned: z.optional(z.array(name).check(z.maxLength(100))),
  plot: z.optional(z.enum(PLOTS)),
  showPlots: z.optional(z.boolean()),
  /** The metric the plots colour by and show; the param on the scatter's x axis. */
  plotMetric: z.optional(z.nullable(name)),
  plotParam: z.optional(z.nullable(name)),
});
export type ExperimentsState = z.infer<typeof experimentsStateSchema>;

export const experimentsMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('showRun'), runId }),
  z.object({ type: z.literal('compare'), runIds: z.array(runId).check(z.minLength(2), z.maxLength(1_000)) }),
  z.object({ type: z.literal('diff'), runIds: z.tuple([runId, runId]) }),
  z.object({ type: z.literal('register'), runId }),
  /** The step series of these runs, for the curves. */
  z.object({ type: z.literal('series'), runIds: z.array(runId).check(z.maxLength(50)), metric: name }),
]);
export type ExperimentsMessage = z.infer<typeof experimentsMessageSchema>;

export const experimentsToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('table'), table: experimentTableSchema, problems: z.int().check(z.nonnegative()) }),
  z.object({
    type: z.literal('series'),
    metric: name,
    series: z.array(z.object({ runId, points: z.array(z.tuple([z.number(), z.number()])) })),
  }),
  z.object({ type: z.literal('error'), message: text }),
]);
export type ExperimentsToPage = z.infer<typeof experimentsToPageSchema>;
