/**
 * The monitor's one pass over the audit log: every entry lands in its window (by its own time,
 * so replicas whose clocks disagree, or lines out of order, change nothing), where a few numbers
 * per window accumulate — volume, errors, fallbacks, kill switch, latency (a log-scale histogram,
 * 2% resolution), the prediction distribution, per-feature bin counts against the training
 * profile, and, for predictions whose label arrived (the feedback, joined by request id),
 * confusion counts and scores or absolute and squared errors. Memory grows with the number of
 * windows and of labels, never with the number of lines.
 *
 * Before labels arrive, the performance of a classifier is estimated from its own confidence
 * (confidence-based performance estimation, as NannyML's CBPE): if the probabilities are
 * calibrated, the expected accuracy is the mean probability of the predicted class, and the
 * expected confusion counts (hence precision, recall, AUC) follow from the probability of the
 * positive class. The assumption — calibrated, and P(label | input) unchanged since training (no
 * concept drift) — is printed with every estimate.
 */
import { pairedTTest } from '../stats/compare';
import type { MonitorConfig } from './config';
import { type LabelIndex, labelKey } from './labels';
import { classPsi, ColumnCounts, categoryKey, type Reference, referenceFor } from './reference';
import type { ServiceInfo } from './service';

export type Severity = 'stable' | 'monitor' | 'retrain';

const LATENCY_BASE = 0.01;
const LATENCY_GROWTH = Math.log(1.02);
const LATENCY_BUCKETS = 1400;
const SCORE_BINS = 1000;

export class LogHistogram {
  readonly counts = new Uint32Array(LATENCY_BUCKETS);
  n = 0;
  max = 0;
  add(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const index = value <= LATENCY_BASE ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(value / LATENCY_BASE) / LATENCY_GROWTH));
    this.counts[index]!++;
    this.n++;
    if (value > this.max) this.max = value;
  }
  merge(other: { counts: Uint32Array; n: number; max: number }): void {
    for (let i = 0; i < LATENCY_BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    if (other.max > this.max) this.max = other.max;
  }
  /** The q-quantile, to the bucket's upper edge (within 2%), never above the largest value seen. */
  quantile(q: number): number | null {
    if (!this.n) return null;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < LATENCY_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(LATENCY_BASE * Math.exp(i * LATENCY_GROWTH), this.max);
    }
    return this.max;
  }
}

class Growable {
  data = new Float64Array(64);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
  pushAll(values: Float64Array): void {
    for (const value of values) this.push(value);
  }
}

interface WindowAgg {
  start: number;
  volume: number;
  errors: number;
  fallbacks: number;
  killSwitch: number;
  review: number;
  latency: LogHistogram;
  classes: Map<string, number>;
  regression: { n: number; sum: number; sumSq: number; counts: ColumnCounts | null };
  features: Map<string, ColumnCounts>;
  models: Map<string, number>;
  labelled: number;
  delays: LogHistogram;
  // classification with labels
  correct: number;
  tp: number;
  fp: number;
  fn: number;
  posScores: Growable;
  negScores: Growable;
  // regression with labels
  absErr: number;
  sqErr: number;
  // the confidence-based estimate (classification with probabilities)
  estN: number;
  estCorrect: number;
  estTp: number;
  estFp: number;
  estFn: number;
  estPos: Float64Array;
  estNeg: Float64Array;
  business: Map<string, { n: number; hits: number; sum: number }>;
}

export interface WindowReport {
  start: string;
  end: string;
  volume: number;
  errors: number;
  errorRate: number | null;
  fallbacks: number;
  fallbackRate: number | null;
  killSwitch: number;
  killSwitchRate: number | null;
  review: number;
  latency: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  predictions: { distribution: Record<string, number> | null; mean: number | null; std: number | null; psi: number | null; severity: Severity | null };
  features: Array<{ name: string; n: number; psi: number | null; severity: Severity | null }>;
  labels: { count: number; coverage: number | null; medianDelayHours: number | null };
  performance: Record<string, number | null> & { n: number };
  estimated: { accuracy: number | null; precision: number | null; recall: number | null; auc: number | null; n: number } | null;
  business: Record<string, number | null>;
  models: Record<string, number>;
}

export interface Comparison {
  mode: string;
  champion: string;
  challenger: string;
  /** Requests both answered (shadow: every one; canary: none, the traffic is split). */
  pairs: number;
  agreement: number | null;
  labelledPairs: number;
  metric: string;
  championValue: number | null;
  challengerValue: number | null;
  /** Challenger − champion of the per-request loss (0/1 error, or absolute error): negative is better. */
  difference: number | null;
  interval: [number, number] | null;
  p: number | null;
  test: string;
  verdict: 'better' | 'not worse' | 'worse' | 'inconclusive' | 'no labels';
}

export interface MonitorResult {
  service: { name: string; task: string; target: string | null; model: ServiceInfo['model'] };
  windowMs: number;
  since: string | null;
  until: string | null;
  read: {
    files: number;
    lines: number;
    bytes: number;
    invalid: number;
    invalidExamples: string[];
    torn: number;
    gaps: Array<{ time: string; lost: number; host: string | null; pid: number | null }>;
    unknownModels: Array<{ sha256: string; version: unknown; lines: number }>;
    outOfOrderSeconds: number;
  };
  labels: { entries: number; predictionsLabelled: number; unknown: number; duplicates: number; bySource: Record<string, number>; knownBeforePrediction: number };
  baseline: Record<string, number>;
  positiveLabel: unknown;
  psiBands: { monitor: number; retrain: number };
  predictionReference: string | null;
  windows: WindowReport[];
  comparison: Comparison | null;
  estimateAssumption: string | null;
}

export interface EngineOptions {
  windowMs: number;
  since: number | null;
  until: number | null;
  config: MonitorConfig;
}

export const ESTIMATE_ASSUMPTION =
  "estimated from the model's own probabilities (confidence-based, as NannyML's CBPE): right if they are calibrated and P(label | input) has not changed since training (no concept drift); labels, when they arrive, replace the estimate";

/** Accumulates entries (in any order) and turns them into the report. */
export class MonitorEngine {
  private readonly windows = new Map<number, WindowAgg>();
  private readonly references = new Map<string, Reference>();
  private readonly targetReference: Reference | null;
  private readonly classReference: Map<string, number> | null;
  private readonly classReferenceSource: string | null;
  private readonly positive: string | null;
  private readonly psiBands: { monitor: number; retrain: number };
  private readonly knownModels: Set<string>;
  private readonly unknownModels = new Map<string, { version: unknown; lines: number }>();
  private readonly gaps: MonitorResult['read']['gaps'] = [];
  private lastTime = -Infinity;
  private readonly modelKeys = new Map<string, string>();
  private readonly positiveNumber: number | null;
  private dayText = '';
  private dayStart = NaN;
  private outOfOrder = 0;
  private knownBefore = 0;
  private predictionsLabelled = 0;
  // champion vs challenger, paired by request
  private readonly pending = new Map<string, { role: string; prediction: string; loss: number | null }>();
  private pairs = 0;
  private agree = 0;
  private readonly lossChampion: number[] = [];
  private readonly lossChallenger: number[] = [];

  constructor(
    readonly service: ServiceInfo,
    readonly labels: LabelIndex,
    readonly options: EngineOptions,
  ) {
    const columns = service.profile?.columns ?? [];
    for (const name of service.inputColumns) {
      const reference = referenceFor(columns.find((c) => c.name === name));
      if (reference) this.references.set(name, reference);
    }
    this.psiBands = options.config.psi ?? service.drift;
    const target = columns.find((c) => c.name === service.target);
    this.targetReference = service.task === 'regression' ? referenceFor(target) : null;
    const classes = trainingClasses(service, target);
    this.classReference = classes?.counts ?? null;
    this.classReferenceSource = classes?.source ?? null;
    this.positive = positiveClass(options.config.positiveLabel, classes?.counts ?? null);
    this.positiveNumber = this.positive !== null && /^-?\d+(\.\d+)?$/.test(this.positive) ? Number(this.positive) : null;
    this.knownModels = new Set([service.model.sha256, ...(service.servedBefore ?? []).map((m) => m.sha256), ...(service.challenger ? [service.challenger.sha256] : [])]);
  }

  /** "YYYY-MM-DDTHH:MM:SS[.fff]Z" without Date.parse (the audit log's own format), else Date.parse. */
  private parseTime(value: unknown): number {
    if (typeof value !== 'string') return NaN;
    const n = value.length;
    if (n >= 20 && value.charCodeAt(n - 1) === 90 /* Z */ && value.charCodeAt(10) === 84 /* T */ && value.charCodeAt(13) === 58 && value.charCodeAt(16) === 58) {
      const day = value.slice(0, 10);
      if (day !== this.dayText) {
        this.dayText = day;
        this.dayStart = Date.parse(`${day}T00:00:00Z`);
      }
      const digit = (i: number) => value.charCodeAt(i) - 48;
      let ms = ((digit(11) * 10 + digit(12)) * 60 + digit(14) * 10 + digit(15)) * 60_000 + (digit(17) * 10 + digit(18)) * 1000;
      if (n > 20 && value.charCodeAt(19) === 46 /* . */) {
        let scale = 100;
        for (let i = 20; i < n - 1 && scale >= 1; i++, scale /= 10) ms += digit(i) * scale;
      } else if (n !== 20) return Date.parse(value);
      const time = this.dayStart + ms;
      return Number.isNaN(time) ? Date.parse(value) : time;
    }
    return Date.parse(value);
  }

  private windowOf(time: number): WindowAgg {
    const start = Math.floor(time / this.options.windowMs) * this.options.windowMs;
    let w = this.windows.get(start);
    if (!w) {
      w = {
        start, volume: 0, errors: 0, fallbacks: 0, killSwitch: 0, review: 0, latency: new LogHistogram(), classes: new Map(),
        regression: { n: 0, sum: 0, sumSq: 0, counts: this.targetReference ? new ColumnCounts(this.targetReference) : null },
        features: new Map([...this.references].map(([name, ref]) => [name, new ColumnCounts(ref)])), models: new Map(),
        labelled: 0, delays: new LogHistogram(), correct: 0, tp: 0, fp: 0, fn: 0, posScores: new Growable(), negScores: new Growable(),
        absErr: 0, sqErr: 0, estN: 0, estCorrect: 0, estTp: 0, estFp: 0, estFn: 0, estPos: new Float64Array(SCORE_BINS), estNeg: new Float64Array(SCORE_BINS),
        business: new Map(),
      };
      this.windows.set(start, w);
    }
    return w;
  }

  add(entry: Record<string, unknown>): void {
    const type = entry.type ?? 'prediction';
    const time = this.parseTime(entry.time);
    if (Number.isNaN(time)) return;
    if (type === 'gap') {
      const lost = entry.lost as Record<string, number> | undefined;
      const process = (entry.process ?? {}) as Record<string, unknown>;
      this.gaps.push({ time: String(entry.time), lost: Number(lost?.predictions ?? 0), host: (process.host as string) ?? null, pid: (process.pid as number) ?? null });
      return;
    }
    if (type !== 'prediction' && type !== 'error') return;
    // the pairing of shadow answers looks at every line, whatever the time range
    const role = entry.role === 'challenger' ? 'challenger' : 'champion';
    const shadow = entry.shadow === true;
    if (this.options.since !== null && time < this.options.since) return;
    if (this.options.until !== null && time >= this.options.until) return;
    if (time < this.lastTime) this.outOfOrder = Math.max(this.outOfOrder, this.lastTime - time);
    else this.lastTime = time;

    const model = (entry.model ?? {}) as Record<string, unknown>;
    const sha = typeof model.sha256 === 'string' ? model.sha256 : '';
    if (!this.knownModels.has(sha)) {
      const known = this.unknownModels.get(sha);
      if (known) known.lines++;
      else this.unknownModels.set(sha, { version: model.version ?? null, lines: 1 });
    }
    const pairing = this.service.challenger !== null;
    const requestId = typeof entry.request_id === 'string' ? entry.request_id : null;
    const key = requestId !== null && pairing ? labelKey(requestId, entry.batch_index) : null;
    const found = requestId !== null && this.labels.size > 0 ? this.labels.find(requestId, entry.batch_index) : -1;
    const slot = found < 0 ? undefined : found;
    const output = (entry.output ?? {}) as Record<string, unknown>;
    const label = slot === undefined ? undefined : this.labels.label(slot);
    if (slot !== undefined) this.labels.matched[slot] = 1; // the request is known, whoever answered it

    if (shadow) {
      // scored and logged, never returned: only the comparison reads it
      if (type === 'prediction' && key !== null) this.pair(key, role, output.prediction, label);
      return;
    }
    const w = this.windowOf(time);
    w.volume++;
    let modelKey = this.modelKeys.get(sha);
    if (modelKey === undefined) this.modelKeys.set(sha, (modelKey = model.version === null || model.version === undefined ? sha.slice(0, 12) : `v${String(model.version)}`));
    w.models.set(modelKey, (w.models.get(modelKey) ?? 0) + 1);
    if (typeof entry.latency_ms === 'number') w.latency.add(entry.latency_ms);
    if (type === 'error') {
      w.errors++;
      return;
    }
    if (entry.fallback === true) w.fallbacks++;
    if (entry.kill_switch === true) w.killSwitch++;
    if (entry.needs_review === true) w.review++;
    const input = entry.input as Record<string, unknown> | undefined;
    if (input) for (const [name, counts] of w.features) counts.add(input[name]);
    if (entry.fallback === true) {
      this.business(w, entry, output, input, slot);
      return; // the fallback is not the model: its answers stay out of the model's distribution and performance
    }
    if (key !== null && this.service.challenger && this.service.challenger.mode === 'shadow') this.pair(key, role, output.prediction, label);
    const prediction = output.prediction;
    const scores = Array.isArray(entry.scores) ? (entry.scores as Array<[unknown, number]>) : null;
    const probability = typeof output.probability === 'number' ? output.probability : null;
    let pPositive: number | null = null;
    if (this.service.task === 'classification') {
      const cls = categoryKey(prediction);
      w.classes.set(cls, (w.classes.get(cls) ?? 0) + 1);
      if (scores && scores.length === 2 && this.positive !== null) {
        for (const pair of scores) {
          const label = pair[0];
          if (label === this.positiveNumber || (typeof label !== 'number' && categoryKey(label) === this.positive)) pPositive = pair[1];
        }
      }
      if (probability !== null) {
        w.estN++;
        w.estCorrect += probability;
        if (pPositive !== null) {
          const predictedPositive = cls === this.positive;
          if (predictedPositive) {
            w.estTp += pPositive;
            w.estFp += 1 - pPositive;
          } else w.estFn += pPositive;
          const bin = Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(pPositive * SCORE_BINS)));
          w.estPos[bin]! += pPositive;
          w.estNeg[bin]! += 1 - pPositive;
        }
      }
    } else if (typeof prediction === 'number') {
      w.regression.n++;
      w.regression.sum += prediction;
      w.regression.sumSq += prediction * prediction;
      w.regression.counts?.add(prediction);
    }
    if (slot !== undefined) {
      if (label !== undefined && label !== null) {
        this.predictionsLabelled++;
        w.labelled++;
        const delay = (this.labels.knownAt(slot) - time) / 3_600_000;
        if (delay < 0) this.knownBefore++;
        if (Number.isFinite(delay)) w.delays.add(Math.max(delay, 0));
        if (this.service.task === 'classification') {
          const truth = categoryKey(label);
          const cls = categoryKey(prediction);
          if (truth === cls) w.correct++;
          if (this.positive !== null) {
            if (cls === this.positive && truth === this.positive) w.tp++;
            else if (cls === this.positive) w.fp++;
            else if (truth === this.positive) w.fn++;
            if (pPositive !== null) (truth === this.positive ? w.posScores : w.negScores).push(pPositive);
          }
        } else if (typeof label === 'number' && typeof prediction === 'number') {
          const error = prediction - label;
          w.absErr += Math.abs(error);
          w.sqErr += error * error;
        }
      }
    }
    this.business(w, entry, output, input, slot);
  }

  private business(w: WindowAgg, entry: Record<string, unknown>, output: Record<string, unknown>, input: Record<string, unknown> | undefined, slot: number | undefined): void {
    for (const metric of this.options.config.business) {
      let value: unknown;
      if (metric.field === 'prediction') value = output.prediction;
      else if (metric.field === 'probability') value = output.probability;
      else if (metric.field === 'score') value = positiveScore(entry.scores, this.positive);
      else if (metric.field === 'outcome') value = slot === undefined ? undefined : this.labels.outcome(slot);
      else if (metric.field === 'label') value = slot === undefined ? undefined : this.labels.label(slot);
      else value = input?.[metric.field.slice('input.'.length)];
      if (value === undefined || value === null) continue;
      let agg = w.business.get(metric.name);
      if (!agg) w.business.set(metric.name, (agg = { n: 0, hits: 0, sum: 0 }));
      agg.n++;
      if (metric.kind === 'share') {
        if (compare(value, metric.op!, metric.value)) agg.hits++;
      } else if (typeof value === 'number') agg.sum += value;
      else if (typeof value === 'boolean') agg.sum += value ? 1 : 0;
    }
  }

  private pair(key: string, role: string, prediction: unknown, label: unknown): void {
    this.pairStored(key, role, categoryKey(prediction), lossOf(this.service.task, prediction, label));
  }

  private pairStored(key: string, role: string, prediction: string, loss: number | null): void {
    const other = this.pending.get(key);
    if (!other || other.role === role) {
      // an answer whose other half never came (dropped, or out of the range read) must not hold memory for ever
      if (this.pending.size >= 1_000_000) this.pending.clear();
      this.pending.set(key, { role, prediction, loss });
      return;
    }
    this.pending.delete(key);
    this.pairs++;
    if (other.prediction === prediction) this.agree++;
    if (loss !== null && other.loss !== null) {
      const [champion, challenger] = role === 'champion' ? [loss, other.loss] : [other.loss, loss];
      this.lossChampion.push(champion);
      this.lossChallenger.push(challenger);
    }
  }

  /**
   * What this engine accumulated, as plain data a worker thread can post (structured clone keeps
   * Maps and typed arrays, not classes); `merge` adds it into another engine of the same service.
   */
  exportState(): EngineState {
    return {
      windows: [...this.windows.values()].map((w) => ({
        ...w,
        latency: { counts: w.latency.counts, n: w.latency.n, max: w.latency.max },
        delays: { counts: w.delays.counts, n: w.delays.n, max: w.delays.max },
        regression: { n: w.regression.n, sum: w.regression.sum, sumSq: w.regression.sumSq, counts: w.regression.counts ? countsState(w.regression.counts) : null },
        features: [...w.features].map(([name, counts]) => [name, countsState(counts)] as [string, CountsState]),
        posScores: w.posScores.values().slice(),
        negScores: w.negScores.values().slice(),
      })),
      unknownModels: this.unknownModels,
      gaps: this.gaps,
      outOfOrder: this.outOfOrder,
      knownBefore: this.knownBefore,
      predictionsLabelled: this.predictionsLabelled,
      pending: this.pending,
      pairs: this.pairs,
      agree: this.agree,
      lossChampion: this.lossChampion,
      lossChallenger: this.lossChallenger,
      matched: this.labels.matched,
    };
  }

  merge(state: EngineState): void {
    for (const other of state.windows) {
      const w = this.windowOf(other.start);
      for (const key of ['volume', 'errors', 'fallbacks', 'killSwitch', 'review', 'labelled', 'correct', 'tp', 'fp', 'fn', 'absErr', 'sqErr', 'estN', 'estCorrect', 'estTp', 'estFp', 'estFn'] as const) w[key] += other[key];
      w.latency.merge(other.latency);
      w.delays.merge(other.delays);
      addMap(w.classes, other.classes);
      addMap(w.models, other.models);
      w.regression.n += other.regression.n;
      w.regression.sum += other.regression.sum;
      w.regression.sumSq += other.regression.sumSq;
      if (w.regression.counts && other.regression.counts) mergeCounts(w.regression.counts, other.regression.counts);
      for (const [name, counts] of other.features) {
        const mine = w.features.get(name);
        if (mine) mergeCounts(mine, counts);
      }
      w.posScores.pushAll(other.posScores);
      w.negScores.pushAll(other.negScores);
      for (let i = 0; i < SCORE_BINS; i++) {
        w.estPos[i]! += other.estPos[i]!;
        w.estNeg[i]! += other.estNeg[i]!;
      }
      for (const [name, agg] of other.business) {
        const mine = w.business.get(name);
        if (mine) {
          mine.n += agg.n;
          mine.hits += agg.hits;
          mine.sum += agg.sum;
        } else w.business.set(name, { ...agg });
      }
    }
    for (const [sha, info] of state.unknownModels) {
      const mine = this.unknownModels.get(sha);
      if (mine) mine.lines += info.lines;
      else this.unknownModels.set(sha, { ...info });
    }
    this.gaps.push(...state.gaps);
    this.outOfOrder = Math.max(this.outOfOrder, state.outOfOrder);
    this.knownBefore += state.knownBefore;
    this.predictionsLabelled += state.predictionsLabelled;
    this.pairs += state.pairs;
    this.agree += state.agree;
    this.lossChampion.push(...state.lossChampion);
    this.lossChallenger.push(...state.lossChallenger);
    for (const [key, half] of state.pending) this.pairStored(key, half.role, half.prediction, half.loss);
    if (state.matched !== this.labels.matched && state.matched.buffer !== this.labels.matched.buffer) {
      for (let i = 0; i < this.labels.matched.length && i < state.matched.length; i++) if (state.matched[i]) this.labels.matched[i] = 1;
    }
  }

  result(read: Omit<MonitorResult['read'], 'gaps' | 'unknownModels' | 'outOfOrderSeconds'>): MonitorResult {
    const windows = [...this.windows.values()].sort((a, b) => a.start - b.start).map((w) => this.windowReport(w));
    let unknown = 0;
    for (let i = 0; i < this.labels.matched.length; i++) if (!this.labels.matched[i]) unknown++;
    return {
      service: { name: this.service.name, task: this.service.task, target: this.service.target, model: this.service.model },
      windowMs: this.options.windowMs,
      since: this.options.since === null ? null : new Date(this.options.since).toISOString(),
      until: this.options.until === null ? null : new Date(this.options.until).toISOString(),
      read: {
        ...read,
        gaps: [...this.gaps].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)),
        unknownModels: [...this.unknownModels].map(([sha256, v]) => ({ sha256, version: v.version, lines: v.lines })),
        outOfOrderSeconds: this.outOfOrder / 1000,
      },
      labels: {
        entries: this.labels.entries,
        predictionsLabelled: this.predictionsLabelled,
        unknown,
        duplicates: this.labels.duplicates,
        bySource: this.labels.bySource,
        knownBeforePrediction: this.knownBefore,
      },
      baseline: this.service.runMetrics,
      positiveLabel: this.positive,
      psiBands: this.psiBands,
      predictionReference: this.service.task === 'classification' ? this.classReferenceSource : this.targetReference ? 'the training target profile' : null,
      windows,
      comparison: this.comparison(),
      estimateAssumption: this.service.task === 'classification' ? ESTIMATE_ASSUMPTION : null,
    };
  }

  private severity(value: number | null): Severity | null {
    if (value === null) return null;
    return value > this.psiBands.retrain ? 'retrain' : value >= this.psiBands.monitor ? 'monitor' : 'stable';
  }

  private windowReport(w: WindowAgg): WindowReport {
    const rate = (n: number) => (w.volume ? n / w.volume : null);
    const classification = this.service.task === 'classification';
    const answered = w.volume - w.errors - w.fallbacks;
    let predictions: WindowReport['predictions'];
    if (classification) {
      const total = [...w.classes.values()].reduce((a, b) => a + b, 0);
      const value = this.classReference && total ? classPsi(this.classReference, w.classes) : null;
      predictions = { distribution: total ? Object.fromEntries([...w.classes].map(([k, v]) => [k, v / total])) : null, mean: null, std: null, psi: value, severity: this.severity(value) };
    } else {
      const r = w.regression;
      const mean = r.n ? r.sum / r.n : null;
      const value = r.counts ? r.counts.psi() : null;
      predictions = { distribution: null, mean, std: r.n > 1 && mean !== null ? Math.sqrt(Math.max(r.sumSq / r.n - mean * mean, 0)) : null, psi: value, severity: this.severity(value) };
    }
    const features = [...w.features].map(([name, counts]) => {
      const value = counts.psi();
      return { name, n: counts.n, psi: value, severity: this.severity(value) };
    });
    const performance: WindowReport['performance'] = { n: w.labelled };
    if (classification) {
      performance.accuracy = w.labelled ? w.correct / w.labelled : null;
      if (this.positive !== null) {
        performance.precision = w.tp + w.fp ? w.tp / (w.tp + w.fp) : null;
        performance.recall = w.tp + w.fn ? w.tp / (w.tp + w.fn) : null;
        performance.auc = auc(w.posScores.values(), w.negScores.values());
      }
    } else {
      performance.mae = w.labelled ? w.absErr / w.labelled : null;
      performance.rmse = w.labelled ? Math.sqrt(w.sqErr / w.labelled) : null;
    }
    const estimated = classification && w.estN
      ? {
          n: w.estN,
          accuracy: w.estCorrect / w.estN,
          precision: w.estTp + w.estFp > 0 ? w.estTp / (w.estTp + w.estFp) : null,
          recall: w.estTp + w.estFn > 0 ? w.estTp / (w.estTp + w.estFn) : null,
          auc: binnedAuc(w.estPos, w.estNeg),
        }
      : null;
    const business: Record<string, number | null> = {};
    for (const metric of this.options.config.business) {
      const agg = w.business.get(metric.name);
      business[metric.name] = !agg || !agg.n ? null : metric.kind === 'share' ? agg.hits / agg.n : agg.sum / agg.n;
    }
    return {
      start: new Date(w.start).toISOString(),
      end: new Date(w.start + this.options.windowMs).toISOString(),
      volume: w.volume,
      errors: w.errors,
      errorRate: rate(w.errors),
      fallbacks: w.fallbacks,
      fallbackRate: rate(w.fallbacks),
      killSwitch: w.killSwitch,
      killSwitchRate: rate(w.killSwitch),
      review: w.review,
      latency: { p50: w.latency.quantile(0.5), p95: w.latency.quantile(0.95), p99: w.latency.quantile(0.99), max: w.latency.n ? w.latency.max : null },
      predictions,
      features,
      labels: { count: w.labelled, coverage: answered > 0 ? w.labelled / answered : null, medianDelayHours: w.delays.quantile(0.5) },
      performance,
      estimated,
      business,
      models: Object.fromEntries(w.models),
    };
  }

  private comparison(): Comparison | null {
    const challenger = this.service.challenger;
    if (!challenger) return null;
    const metric = this.service.task === 'classification' ? 'error rate' : 'absolute error';
    const base = {
      mode: challenger.mode,
      champion: `${this.service.model.version === null ? 'unregistered' : `v${this.service.model.version}`} (${this.service.model.sha256.slice(0, 12)})`,
      challenger: `v${challenger.version ?? '?'} (${challenger.sha256.slice(0, 12)})`,
      pairs: this.pairs,
      agreement: this.pairs ? this.agree / this.pairs : null,
      labelledPairs: this.lossChampion.length,
      metric,
      test: 'paired t-test of the per-request loss (challenger − champion)',
    };
    if (this.lossChampion.length < 2) return { ...base, championValue: null, challengerValue: null, difference: null, interval: null, p: null, verdict: 'no labels' };
    const test = pairedTTest(this.lossChampion, this.lossChallenger);
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [low, high] = test.interval ?? [null, null];
    let verdict: Comparison['verdict'] = 'inconclusive';
    if (high !== null && high < 0) verdict = 'better';
    else if (high !== null && high <= 0.005 * Math.max(1, Math.abs(meanOf(this.lossChampion)))) verdict = 'not worse';
    else if (low !== null && low > 0) verdict = 'worse';
    return {
      ...base,
      championValue: meanOf(this.lossChampion),
      challengerValue: meanOf(this.lossChallenger),
      difference: test.estimate,
      interval: test.interval,
      p: test.p,
      verdict,
    };
  }
}

type CountsState = { numeric: Float64Array | null; categories: Map<string, number> | null; n: number };

type WindowState = Omit<WindowAgg, 'latency' | 'delays' | 'regression' | 'features' | 'posScores' | 'negScores'> & {
  latency: { counts: Uint32Array; n: number; max: number };
  delays: { counts: Uint32Array; n: number; max: number };
  regression: { n: number; sum: number; sumSq: number; counts: CountsState | null };
  features: Array<[string, CountsState]>;
  posScores: Float64Array;
  negScores: Float64Array;
};

export interface EngineState {
  windows: WindowState[];
  unknownModels: Map<string, { version: unknown; lines: number }>;
  gaps: MonitorResult['read']['gaps'];
  outOfOrder: number;
  knownBefore: number;
  predictionsLabelled: number;
  pending: Map<string, { role: string; prediction: string; loss: number | null }>;
  pairs: number;
  agree: number;
  lossChampion: number[];
  lossChallenger: number[];
  matched: Uint8Array;
}

function countsState(counts: ColumnCounts): CountsState {
  return { numeric: counts.numeric, categories: counts.categories, n: counts.n };
}

function mergeCounts(into: ColumnCounts, other: CountsState): void {
  if (into.numeric && other.numeric) for (let i = 0; i < into.numeric.length; i++) into.numeric[i]! += other.numeric[i]!;
  if (into.categories && other.categories) addMap(into.categories, other.categories);
  into.n += other.n;
}

function addMap(into: Map<string, number>, other: Map<string, number>): void {
  for (const [key, count] of other) into.set(key, (into.get(key) ?? 0) + count);
}

function lossOf(task: string, prediction: unknown, label: unknown): number | null {
  if (label === undefined || label === null) return null;
  if (task === 'classification') return categoryKey(prediction) === categoryKey(label) ? 0 : 1;
  return typeof prediction === 'number' && typeof label === 'number' ? Math.abs(prediction - label) : null;
}

function positiveScore(scores: unknown, positive: string | null): number | null {
  if (!Array.isArray(scores) || positive === null) return null;
  const found = (scores as Array<[unknown, number]>).find((s) => categoryKey(s[0]) === positive);
  return found ? found[1] : null;
}

function compare(value: unknown, op: string, expected: unknown): boolean {
  const a = typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string' ? value : String(value);
  switch (op) {
    case '==': return categoryKey(a) === categoryKey(expected);
    case '!=': return categoryKey(a) !== categoryKey(expected);
    case '<': return typeof a === 'number' && typeof expected === 'number' && a < expected;
    case '<=': return typeof a === 'number' && typeof expected === 'number' && a <= expected;
    case '>': return typeof a === 'number' && typeof expected === 'number' && a > expected;
    case '>=': return typeof a === 'number' && typeof expected === 'number' && a >= expected;
    default: return false;
  }
}

/**
 * The training data's class counts: the target's profile when it kept every value; for a binary
 * target otherwise, the fallback's majority class and its share (the other class has the rest).
 */
function trainingClasses(service: ServiceInfo, target: { type: string; top?: Array<{ value: string; count: number }>; count: number; bins?: { edges: number[]; counts: number[] } } | undefined): { counts: Map<string, number>; source: string } | null {
  if (service.task !== 'classification' || !target) return null;
  if (target.top && target.top.reduce((a, b) => a + b.count, 0) === target.count) {
    return { counts: new Map(target.top.map((t) => [categoryKey(t.value), t.count])), source: 'the class shares of the training data (contracts/profile.json)' };
  }
  const { prediction, probability } = service.fallback;
  if (prediction === null || probability === null) return null;
  const edges = target.bins?.edges;
  if (target.type === 'numeric' && edges && edges.length >= 2 && edges[0] === 0 && edges[edges.length - 1] === 1 && (prediction === 0 || prediction === 1)) {
    const other = prediction === 0 ? '1' : '0';
    return { counts: new Map([[categoryKey(prediction), probability * target.count], [other, (1 - probability) * target.count]]), source: 'the class shares of the training data (majority class share in service/config.json fallback)' };
  }
  return null;
}

function positiveClass(configured: unknown, classes: Map<string, number> | null): string | null {
  if (configured !== undefined) return categoryKey(configured);
  if (!classes || classes.size !== 2) return null; // multiclass: accuracy only, unless positive_label says which
  let minority: string | null = null;
  let least = Infinity;
  for (const [cls, count] of classes) if (count < least) { least = count; minority = cls; }
  return minority;
}

/** ROC AUC from the scores of the positive and negative rows (ties count half). */
export function auc(positives: Float64Array, negatives: Float64Array): number | null {
  if (!positives.length || !negatives.length) return null;
  const pos = Float64Array.from(positives).sort();
  const neg = Float64Array.from(negatives).sort();
  let below = 0;
  let ties = 0;
  let j = 0;
  let total = 0;
  for (let i = 0; i < pos.length; i++) {
    const s = pos[i]!;
    while (j < neg.length && neg[j]! < s) j++;
    below = j;
    let k = j;
    while (k < neg.length && neg[k]! === s) k++;
    ties = k - j;
    total += below + ties / 2;
  }
  return total / (pos.length * neg.length);
}

/** The expected ROC AUC from binned expected positives and negatives (trapezoids). */
function binnedAuc(pos: Float64Array, neg: Float64Array): number | null {
  let p = 0;
  let n = 0;
  for (let i = 0; i < pos.length; i++) { p += pos[i]!; n += neg[i]!; }
  if (p <= 0 || n <= 0) return null;
  let area = 0;
  let negBelow = 0;
  for (let i = 0; i < pos.length; i++) {
    area += pos[i]! * (negBelow + neg[i]! / 2);
    negBelow += neg[i]!;
  }
  return area / (p * n);
}
