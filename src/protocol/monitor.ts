/**
 * The Monitor panel (webviews/monitor) and the extension. The extension reads the service's audit
 * log and feedback with the same core as `nb2prod monitor` (core/monitor) and sends the page a
 * view of the report (core/monitor/panelView.ts builds it: rows and points, formatted); the page
 * draws it and asks for actions — refresh, record the alerts as `--check` does, acknowledge or
 * resolve an alert, roll the registry's alias back — which the extension performs (asking for
 * the reason and the confirmation in VS Code's own input box and dialog). Every message is parsed
 * with these schemas both ways.
 */
import * as z from 'zod/mini';

const text = z.string().check(z.maxLength(1_000_000));
const short = z.string().check(z.maxLength(10_000));
const count = z.int().check(z.nonnegative());
const value = z.nullable(z.number());
const severity = z.nullable(z.enum(['stable', 'monitor', 'retrain']));
/** An alert's id in the history (a ULID the CLI writes). */
const alertId = z.string().check(z.regex(/^[0-9A-Za-z]{1,64}$/));

/** What the page keeps with `setState`: the service folder, so a restored panel reads it again. */
export const monitorStateSchema = z.object({
  serviceDir: z.string().check(z.minLength(1), z.maxLength(4096)),
});
export type MonitorState = z.infer<typeof monitorStateSchema>;

export const monitorMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('refresh') }),
  /** Record what the rules found in the alert history, as `nb2prod monitor --check` (no --on-alert). */
  z.object({ type: z.literal('recordAlerts') }),
  z.object({ type: z.literal('acknowledge'), alertId }),
  z.object({ type: z.literal('resolve'), alertId }),
  /** Roll the registry's alias back (the extension confirms first). */
  z.object({ type: z.literal('rollback') }),
]);
export type MonitorMessage = z.infer<typeof monitorMessageSchema>;

const windowRow = z.object({
  start: short,
  /** As the CLI prints it: the day for day-long windows, else the date and time. */
  label: short,
  volume: count,
  errorRate: value,
  fallbackRate: value,
  killSwitchRate: value,
  p50: value,
  p95: value,
  p99: value,
  predictionPsi: value,
  predictionSeverity: severity,
  /** Class shares (classifier) or null. */
  distribution: z.nullable(z.record(short, z.number())),
  mean: value,
  std: value,
  labelled: count,
  coverage: value,
  medianDelayHours: value,
  /** Metrics of the labelled predictions (accuracy, precision, recall, auc; or mae, rmse). */
  performance: z.record(short, value),
  /** Confidence-based estimates, before labels: always shown as estimates. */
  estimated: z.nullable(z.object({ accuracy: value, precision: value, recall: value, auc: value })),
  business: z.record(short, value),
});

const alertEvent = z.object({ what: z.enum(['opened', 'acknowledged', 'resolved']), at: short, by: short, reason: z.nullable(text) });

const alertView = z.object({
  id: alertId,
  rule: short,
  subject: short,
  severity: short,
  status: z.enum(['open', 'acknowledged', 'resolved']),
  openedAt: short,
  window: short,
  message: text,
  estimate: z.boolean(),
  events: z.array(alertEvent),
});

export const monitorViewSchema = z.object({
  service: z.object({ name: short, task: short, target: z.nullable(short), folder: text, model: short, challenger: z.nullable(short) }),
  source: text,
  windowText: short,
  generatedAt: short,
  /** Set when there is nothing to show yet: what to do to get data. */
  empty: z.nullable(z.object({ title: short, steps: z.array(text) })),
  /** What was read: lines, files, unreadable and torn lines, gaps, unknown models, labels (the CLI's lines). */
  read: z.array(text),
  /** The lines of `read` that are problems (a torn last line, unreadable lines, lost entries…). */
  warnings: z.array(text),
  bands: z.object({ monitor: z.number(), retrain: z.number() }),
  sla: z.object({ p50: value, p95: value, p99: value }),
  thresholds: z.object({
    errorRate: value,
    predictionPsi: value,
    featurePsi: value,
    metric: z.nullable(short),
    baseline: value,
    /** The metric value below (accuracy) or above (error metrics) which the drop alert fires. */
    alertAt: value,
    higherIsBetter: z.boolean(),
  }),
  windows: z.array(windowRow),
  /** The latest window with predictions, as figures with a status for the cards at the top. */
  latest: z.nullable(z.object({ label: short, cards: z.array(z.object({ name: short, value: short, detail: z.nullable(text), status: z.enum(['ok', 'watch', 'alert', 'none']) })) })),
  features: z.array(z.object({ name: short, psi: value, psiText: short, severity, n: count, series: z.array(value) })),
  classes: z.array(short),
  performanceMetrics: z.array(short),
  businessMetrics: z.array(z.object({ name: short, description: z.nullable(text) })),
  breaches: z.array(z.object({ rule: short, subject: short, severity: short, message: text, estimate: z.boolean(), window: short, alertId: z.nullable(alertId), alertStatus: z.nullable(short) })),
  notJudged: z.array(text),
  alerts: z.object({ open: z.array(alertView), closed: z.array(alertView), problems: z.array(text) }),
  /** Breaches with no open alert in the history: what "Record alerts" would open. */
  unrecorded: count,
  comparison: z.nullable(z.object({ title: short, lines: z.array(text), verdict: short })),
  estimateAssumption: z.nullable(text),
  baselineText: z.nullable(text),
  rollback: z.nullable(z.object({ model: short, alias: short, from: z.int(), to: z.int(), served: z.nullable(short) })),
  /** The line under each chart: what its dashed rules and shaded bands are. */
  captions: z.object({ volume: text, latency: text, psi: text, performance: text, coverage: text, business: text }),
  /** The windows as the table shows them, newest first, formatted. */
  table: z.object({ columns: z.array(short), rows: z.array(z.array(short)) }),
});
export type MonitorView = z.infer<typeof monitorViewSchema>;
export type MonitorAlertView = z.infer<typeof alertView>;

export const monitorToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('loading'), what: text, state: monitorStateSchema }),
  z.object({ type: z.literal('view'), view: monitorViewSchema, state: monitorStateSchema }),
  z.object({ type: z.literal('error'), message: text, state: monitorStateSchema }),
  /** An action is under way or done: the buttons are disabled meanwhile. */
  z.object({ type: z.literal('busy'), busy: z.boolean() }),
]);
export type MonitorToPage = z.infer<typeof monitorToPageSchema>;
