import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertHistoryPath, annotateAlert, evaluateAlerts, foldAlerts, readAlertEvents, recordEvaluation } from '../../../src/core/monitor/alerts';
import { defaultAlerts, loadMonitorConfig, parseDuration, parseMonitorConfig } from '../../../src/core/monitor/config';
import { auc, LogHistogram, MonitorEngine } from '../../../src/core/monitor/engine';
import { importLabels, loadLabels, parseDelimited } from '../../../src/core/monitor/labels';
import { noProblems } from '../../../src/core/monitor/lines';
import { monitorService } from '../../../src/core/monitor/monitor';
import { renderMonitorReport } from '../../../src/core/monitor/report';
import { loadService, streamFiles } from '../../../src/core/monitor/service';
import { psi } from '../../../src/core/drift/statistics';
import { seededRandom } from '../../fixtures/random';
import { auditLine, serviceFolder, SHA, writeAudit, writeFeedback } from './monitorFixture';

const DAY = 86_400_000;
const config = (section: Record<string, unknown> = {}) => parseMonitorConfig(section, 'test [monitoring]');

async function run(root: string, options: { since?: number | null; windowMs?: number; section?: Record<string, unknown> } = {}) {
  const service = await loadService(root);
  return monitorService(service, { windowMs: options.windowMs ?? DAY, since: options.since ?? null, config: config(options.section) });
}

describe('nb2prod monitor: windows over the audit log', () => {
  it('puts each entry in the window of its own time and counts volume, errors, fallbacks and the kill switch', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', [
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'r1', latency: 1 }),
      auditLine({ time: '2031-01-01T23:59:59.999Z', request_id: 'r2', latency: 3 }),
      auditLine({ time: '2031-01-01T11:00:00Z', request_id: 'r3', fallback: true, kill_switch: true }),
      JSON.stringify({ type: 'error', time: '2031-01-01T12:00:00Z', request_id: 'r4', error: 'boom', model: { sha256: SHA }, latency_ms: 9 }),
    ]);
    // a replica whose clock is behind wrote an entry of the 1st into the 2nd's file
    writeAudit(root, '2031-01-02', [auditLine({ time: '2031-01-02T08:00:00Z', request_id: 'r5' }), auditLine({ time: '2031-01-01T22:00:00Z', request_id: 'r6' })]);
    const result = await run(root);
    expect(result.windows.map((w) => [w.start.slice(0, 10), w.volume])).toEqual([['2031-01-01', 5], ['2031-01-02', 1]]);
    const first = result.windows[0]!;
    expect([first.errors, first.fallbacks, first.killSwitch]).toEqual([1, 1, 1]);
    expect(first.errorRate).toBeCloseTo(1 / 5);
    expect(result.read.outOfOrderSeconds).toBeCloseTo(13 * 3600 - 0.001); // 23:59:59.999, then 11:00
    expect(result.read.lines).toBe(6);
  });

  it('gives latency quantiles within 2% and never above the largest value', () => {
    const h = new LogHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 1 + (i % 1000) / 10);
    values.forEach((v) => h.add(v));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      expect(Math.abs(h.quantile(q)! - exact) / exact).toBeLessThan(0.021);
    }
    expect(h.quantile(1)).toBe(100.9);
  });

  it('computes PSI per input on the profile bins, as nb2prod drift does', async () => {
    const root = serviceFolder();
    // x all in the first decile, c all "b": both far from training
    writeAudit(root, '2031-01-01', Array.from({ length: 200 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, x: 0.5, c: i % 4 ? 'b' : 'a' })));
    const result = await run(root);
    const features = Object.fromEntries(result.windows[0]!.features.map((f) => [f.name, f]));
    expect(features.x!.psi).toBeCloseTo(psi(Array(10).fill(100), [200, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 12);
    expect(features.c!.psi).toBeCloseTo(psi([500, 500], [50, 150]), 12);
    expect(features.x!.severity).toBe('retrain');
    expect(features.c!.severity).toBe('retrain');
  });

  it('reads the prediction distribution against the training class shares', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', Array.from({ length: 100 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1: i < 70 ? 0.1 : 0.9 })));
    const result = await run(root);
    const p = result.windows[0]!.predictions;
    expect(p.distribution).toEqual({ '0': 0.7, '1': 0.3 });
    expect(p.psi).toBeCloseTo(0, 12);
    expect(result.positiveLabel).toBe('1');
  });
});

describe('nb2prod monitor: labels that arrive later', () => {
  it('joins by request id and batch index, the last entry winning; unknown ids and duplicates are counted', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', [
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'a', p1: 0.9 }), // predicts 1
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'b', p1: 0.2, batch_index: 0 }), // predicts 0
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'b', p1: 0.7, batch_index: 1 }), // predicts 1
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'c', p1: 0.3 }), // never labelled
    ]);
    writeFeedback(root, '2031-01-03', [
      { request_id: 'a', label: 0, known_at: '2031-01-03T10:00:00Z' },
      { request_id: 'a', label: 1, known_at: '2031-01-03T10:00:00Z' }, // a correction: wins
      { request_id: 'b', batch_index: 0, label: 0, known_at: '2031-01-02T10:00:00Z' },
      { request_id: 'b', batch_index: 1, label: 0, known_at: '2031-01-02T10:00:00Z', source: 'implicit' },
      { request_id: 'b', batch_index: 1, outcome: 250, known_at: '2031-01-05T10:00:00Z' }, // an outcome does not erase the label
      { request_id: 'zzz', label: 1 },
    ]);
    const result = await run(root);
    const w = result.windows[0]!;
    expect(result.labels).toMatchObject({ entries: 6, predictionsLabelled: 3, unknown: 1, duplicates: 2 });
    expect(result.labels.bySource).toEqual({ explicit: 5, implicit: 1 });
    expect(w.labels.count).toBe(3);
    expect(w.labels.coverage).toBeCloseTo(3 / 4);
    expect(w.labels.medianDelayHours).toBeGreaterThan(47);
    expect(w.performance.accuracy).toBeCloseTo(2 / 3);
    // positive class 1: a is a TP, b#1 a FP
    expect(w.performance.precision).toBeCloseTo(1 / 2);
    expect(w.performance.recall).toBeCloseTo(1);
    expect(w.performance.auc).toBeCloseTo(1); // the positive (0.9) outranks both negatives (0.2, 0.7)
  });

  it('AUC counts ties half, like sklearn', () => {
    expect(auc(Float64Array.from([0.8, 0.4]), Float64Array.from([0.4, 0.1]))).toBeCloseTo((2 + 1.5) / 4);
    expect(auc(Float64Array.from([]), Float64Array.from([0.1]))).toBeNull();
  });

  it('estimates accuracy, precision, recall and AUC before labels from calibrated probabilities', async () => {
    const root = serviceFolder();
    const random = seededRandom(7);
    const lines: string[] = [];
    const feedback: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 20_000; i++) {
      const p1 = random();
      lines.push(auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1 }));
      feedback.push({ request_id: `r${i}`, label: random() < p1 ? 1 : 0 }); // the labels follow the probabilities
    }
    writeAudit(root, '2031-01-01', lines);
    const withoutLabels = await run(root);
    writeFeedback(root, '2031-02-01', feedback);
    const withLabels = await run(root);
    const estimate = withoutLabels.windows[0]!.estimated!;
    const actual = withLabels.windows[0]!.performance;
    expect(withoutLabels.windows[0]!.performance.n).toBe(0);
    expect(Math.abs(estimate.accuracy! - actual.accuracy!)).toBeLessThan(0.015);
    expect(Math.abs(estimate.precision! - actual.precision!)).toBeLessThan(0.015);
    expect(Math.abs(estimate.recall! - actual.recall!)).toBeLessThan(0.015);
    expect(Math.abs(estimate.auc! - actual.auc!)).toBeLessThan(0.015);
    expect(withoutLabels.estimateAssumption).toMatch(/calibrated/);
  });

  it('imports a CSV or JSON Lines file of labels into the day file, refusing what cannot be used', async () => {
    const root = serviceFolder();
    const service = await loadService(root);
    const csv = path.join(root, 'labels.csv');
    writeFileSync(csv, 'request_id,label,source,known_at\nr1,1,explicit,2031-01-02T00:00:00Z\n"r,2",0,implicit,\nr3,,explicit,\nr4,1,guess,\nr5,1,,2031-01-02\n');
    const result = await importLabels(csv, service.feedbackLog, new Date('2031-03-04T05:06:07Z'));
    expect(result.imported).toBe(2);
    expect(result.refused.map((r) => [r.row, r.reason.split(' ')[0]])).toEqual([[4, 'neither'], [5, 'source'], [6, 'known_at']]);
    expect(path.basename(result.target)).toBe('labels-2031-03-04.jsonl');
    const lines = readFileSync(result.target, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.request_id, l.label, l.source, l.known_at])).toEqual([
      ['r1', 1, 'explicit', '2031-01-02T00:00:00Z'],
      ['r,2', 0, 'implicit', '2031-03-04T05:06:07.000Z'],
    ]);
    const jsonl = path.join(root, 'labels.jsonl');
    writeFileSync(jsonl, '{"request_id": "r9", "outcome": 12.5}\n');
    expect((await importLabels(jsonl, service.feedbackLog, new Date('2031-03-04T05:06:07Z'))).imported).toBe(1);
    expect(readFileSync(result.target, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(parseDelimited('a,"b ""q"", c"\n1,2\n', ',')).toEqual([['a', 'b "q", c'], ['1', '2']]);
  });
});

describe('nb2prod monitor: bad input', () => {
  it('counts unreadable lines, skips a torn last line, reports gaps and models it does not serve', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', [
      auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'r1' }),
      'not json',
      JSON.stringify({ type: 'gap', time: '2031-01-01T11:00:00Z', lost: { predictions: 7, feedback: 0 }, process: { host: 'h', pid: 42 } }),
      auditLine({ time: '2031-01-01T12:00:00Z', request_id: 'r2', sha256: 'f'.repeat(64) }),
      '{"type": "prediction", "time": "2031-01-01T13:00', // torn: no newline after it
    ], '');
    const result = await run(root);
    expect(result.read.invalid).toBe(1);
    expect(result.read.invalidExamples[0]).toMatch(/predictions-2031-01-01\.jsonl:2$/);
    expect(result.read.torn).toBe(1);
    expect(result.read.gaps).toEqual([{ time: '2031-01-01T11:00:00Z', lost: 7, host: 'h', pid: 42 }]);
    expect(result.read.unknownModels).toEqual([{ sha256: 'f'.repeat(64), version: 3, lines: 1 }]);
    expect(result.windows[0]!.volume).toBe(2);
    const text = renderMonitorReport({ result, evaluation: evaluateAlerts(result, defaultAlerts()), alerts: [], source: 'svc' }, 'text');
    expect(text).toContain('7 audit entries lost: process 42 on h');
    expect(text).toContain('torn last line');
    expect(text).toContain('a model this service does not serve');
  });

  it('skips the day files before --since', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', [auditLine({ time: '2031-01-01T10:00:00Z', request_id: 'old' })]);
    writeAudit(root, '2031-01-05', [auditLine({ time: '2031-01-05T10:00:00Z', request_id: 'new' })]);
    expect(streamFiles(path.join(root, 'var', 'audit', 'predictions.jsonl')).map((f) => f.day)).toEqual(['2031-01-01', '2031-01-05']);
    const result = await run(root, { since: Date.parse('2031-01-04T00:00:00Z') });
    expect(result.read.files).toBe(1);
    expect(result.windows.map((w) => w.volume)).toEqual([1]);
  });
});

describe('nb2prod monitor: alerts', () => {
  async function drifted(root: string) {
    writeAudit(root, '2031-01-01', Array.from({ length: 150 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `s${i}`, x: 0.5 + (i % 10), c: i % 2 ? 'a' : 'b', p1: i % 10 < 3 ? 0.8 : 0.2 })));
    writeAudit(root, '2031-01-02', Array.from({ length: 150 }, (_, i) => auditLine({ time: '2031-01-02T10:00:00Z', request_id: `d${i}`, x: 0.5, latency: 300, p1: i % 10 < 3 ? 0.8 : 0.2 })));
    return run(root);
  }

  it('judges the latest window with enough rows: PSI above retrain and p95 above the SLA', async () => {
    const result = await drifted(serviceFolder());
    const evaluation = evaluateAlerts(result, defaultAlerts());
    const rules = evaluation.breaches.map((b) => `${b.rule}:${b.subject}`).sort();
    expect(rules).toEqual(['feature_psi:c', 'feature_psi:x', 'latency_p95:latency p95']);
    expect(evaluation.notJudged.map((n) => n.rule)).toContain('accuracy_drop');
    const lenient = parseMonitorConfig({ alerts: { feature_psi: false }, sla: { p95_ms: 500 } }, 'x').alerts;
    expect(evaluateAlerts(result, lenient).breaches).toEqual([]);
  });

  it('opens each breach once, resolves it when it clears, and keeps who acknowledged and why', async () => {
    const root = serviceFolder();
    const result = await drifted(root);
    const file = alertHistoryPath(path.join(root, 'var'));
    const first = await recordEvaluation(file, evaluateAlerts(result, defaultAlerts()), 'cron', new Date('2031-01-02T12:00:00Z'));
    expect(first.opened).toHaveLength(3);
    const again = await recordEvaluation(file, evaluateAlerts(result, defaultAlerts()), 'cron', new Date('2031-01-02T13:00:00Z'));
    expect(again.opened).toHaveLength(0);
    expect(again.open).toHaveLength(3);

    const x = first.opened.find((a) => a.subject === 'x')!;
    await annotateAlert(file, 'acknowledge', x.id, 'dana', 'looking at the new segment', new Date('2031-01-02T14:00:00Z'));
    // the next day is back to normal: the PSI alerts clear by themselves
    writeAudit(root, '2031-01-03', Array.from({ length: 150 }, (_, i) => auditLine({ time: '2031-01-03T10:00:00Z', request_id: `n${i}`, x: 0.5 + (i % 10), c: i % 2 ? 'a' : 'b', p1: i % 10 < 3 ? 0.8 : 0.2 })));
    const later = await recordEvaluation(file, evaluateAlerts(await run(root), defaultAlerts()), 'cron', new Date('2031-01-03T12:00:00Z'));
    expect(later.resolved.map((a) => a.subject).sort()).toEqual(['c', 'latency p95', 'x']);
    expect(later.open).toHaveLength(0);
    const history = foldAlerts((await readAlertEvents(file)).events);
    const resolvedX = history.find((a) => a.id === x.id)!;
    expect(resolvedX.acknowledged).toEqual([{ at: '2031-01-02T14:00:00.000Z', by: 'dana', reason: 'looking at the new segment' }]);
    expect(resolvedX.resolved?.reason).toMatch(/back within its threshold/);
    await expect(annotateAlert(file, 'resolve', x.id, 'dana', 'again')).rejects.toThrow(/was resolved/);
    // append-only: a torn last line is reported, the rest still read
    appendFileSync(file, '{"schema": "nb2prod.alert/1"');
    const read = await readAlertEvents(file);
    expect(read.problems).toEqual([expect.stringMatching(/torn/)]);
    expect(read.events.length).toBe(7);
  });

  it('alerts on an accuracy drop of more than 3 points below the training run, and on the estimate before labels', async () => {
    const root = serviceFolder();
    // confident predictions of 1 that turn out to be 0 half of the time
    writeAudit(root, '2031-01-01', Array.from({ length: 200 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1: 0.6 })));
    writeFeedback(root, '2031-01-09', Array.from({ length: 100 }, (_, i) => ({ request_id: `r${i}`, label: i % 2 })));
    const evaluation = evaluateAlerts(await run(root), defaultAlerts());
    const drop = evaluation.breaches.find((b) => b.rule === 'accuracy_drop')!;
    expect(drop.value).toBeCloseTo(0.8 - 0.5);
    expect(drop.message).toMatch(/50\.0%.*below training's 80\.0%/);
    const root2 = serviceFolder();
    writeAudit(root2, '2031-01-01', Array.from({ length: 200 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1: 0.6 })));
    const estimated = evaluateAlerts(await run(root2), defaultAlerts()).breaches.find((b) => b.rule === 'estimated_accuracy_drop')!;
    expect(estimated.estimate).toBe(true);
    expect(estimated.value).toBeCloseTo(0.2);
  });
});

describe('nb2prod monitor: shadow comparison', () => {
  it('pairs champion and challenger answers to the same requests and tests the loss difference', async () => {
    const root = serviceFolder();
    writeFileSync(path.join(root, 'service', 'deployment.json'), JSON.stringify({ challenger: { sha256: 'c'.repeat(64), version: 4, mode: 'shadow' } }));
    const lines: string[] = [];
    const feedback: Array<Record<string, unknown>> = [];
    const random = seededRandom(3);
    for (let i = 0; i < 400; i++) {
      const label = random() < 0.5 ? 1 : 0;
      const championRight = random() < 0.7;
      const challengerRight = random() < 0.85;
      lines.push(auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1: (championRight ? label : 1 - label) ? 0.8 : 0.2 }));
      lines.push(auditLine({ time: '2031-01-01T10:00:01Z', request_id: `r${i}`, role: 'challenger', shadow: true, sha256: 'c'.repeat(64), p1: (challengerRight ? label : 1 - label) ? 0.8 : 0.2 }));
      feedback.push({ request_id: `r${i}`, label });
    }
    writeAudit(root, '2031-01-01', lines);
    writeFeedback(root, '2031-01-02', feedback);
    const result = await run(root);
    expect(result.windows[0]!.volume).toBe(400); // shadow answers are not served traffic
    expect(result.read.unknownModels).toEqual([]);
    const c = result.comparison!;
    expect(c.pairs).toBe(400);
    expect(c.labelledPairs).toBe(400);
    expect(c.challengerValue!).toBeLessThan(c.championValue!);
    expect(c.verdict).toBe('better');
    expect(c.difference).toBeCloseTo(c.challengerValue! - c.championValue!, 12);
  });
});

describe('nb2prod monitor: configuration', () => {
  it('reads [monitoring] and refuses what it cannot use', () => {
    const parsed = parseMonitorConfig({ window: '6h', positive_label: 'yes', drift: { monitor: 0.05, retrain: 0.3 }, sla: { p95_ms: 80 }, alerts: { error_rate: 0.05, kill_switch: false }, business: { approval: { share_of: 'prediction', op: '==', value: 'no' }, repaid: { mean_of: 'outcome' } } }, 'o');
    expect(parsed.alerts).toMatchObject({ featurePsi: 0.3, errorRate: 0.05, killSwitch: false, latency: { p95: 80 } });
    expect(parsed.business.map((b) => [b.name, b.kind])).toEqual([['approval', 'share'], ['repaid', 'mean']]);
    expect(() => parseMonitorConfig({ alerts: { psi: 0.2 } }, 'o')).toThrow(/unknown key `psi`/);
    expect(() => parseMonitorConfig({ business: { x: { share_of: 'nowhere', value: 1 } } }, 'o')).toThrow(/prediction, probability/);
    expect(() => parseMonitorConfig({ sla: { p95_ms: -1 } }, 'o')).toThrow(/milliseconds/);
    expect(parseDuration('15m')).toBe(900_000);
    expect(() => parseDuration('1s')).toThrow(/at least a minute/);
    const root = serviceFolder();
    writeFileSync(path.join(root, 'nb2prod.toml'), '[monitoring.sla]\np95_ms = 50\n');
    expect(loadMonitorConfig(root).alerts.latency.p95).toBe(50);
  });

  it('computes business metrics from predictions, inputs and outcomes', async () => {
    const root = serviceFolder();
    writeAudit(root, '2031-01-01', Array.from({ length: 10 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `r${i}`, p1: i < 3 ? 0.9 : 0.1, c: i < 5 ? 'a' : 'b' })));
    writeFeedback(root, '2031-01-02', [{ request_id: 'r0', outcome: 100 }, { request_id: 'r1', outcome: 50 }]);
    const result = await run(root, { section: { business: { approval_rate: { share_of: 'prediction', op: '==', value: 0 }, from_a: { share_of: 'input.c', value: 'a' }, repaid: { mean_of: 'outcome' } } } });
    expect(result.windows[0]!.business).toEqual({ approval_rate: 0.7, from_a: 0.5, repaid: 75 });
  });
});

describe('nb2prod monitor: worker threads', () => {
  it('merging the engines of two halves gives the report of the whole', async () => {
    const root = serviceFolder();
    writeFileSync(path.join(root, 'service', 'deployment.json'), JSON.stringify({ challenger: { sha256: 'c'.repeat(64), version: 4, mode: 'shadow' } }));
    const random = seededRandom(5);
    const entries: Array<Record<string, unknown>> = [];
    const feedback: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3000; i++) {
      const day = `2031-01-0${1 + (i % 3)}`;
      const p1 = random();
      entries.push(JSON.parse(auditLine({ time: `${day}T${String(i % 24).padStart(2, '0')}:00:00Z`, request_id: `r${i}`, p1, x: random() * 10, c: random() < 0.5 ? 'a' : 'b', latency: 1 + random() * 50, fallback: i % 97 === 0, kill_switch: i % 97 === 0 })) as Record<string, unknown>);
      // the shadow answer of the same request lands in the other half
      entries.push(JSON.parse(auditLine({ time: `${day}T12:00:01Z`, request_id: `r${i}`, role: 'challenger', shadow: true, sha256: 'c'.repeat(64), p1: random() })) as Record<string, unknown>);
      if (i % 3) feedback.push({ request_id: `r${i}`, label: random() < p1 ? 1 : 0, known_at: '2031-02-01T00:00:00Z', outcome: i });
    }
    entries.push({ type: 'gap', time: '2031-01-02T00:00:00Z', lost: { predictions: 2, feedback: 0 }, process: { host: 'h', pid: 1 } });
    writeFeedback(root, '2031-02-01', [...feedback, { request_id: 'unknown', label: 1 }]);
    const service = await loadService(root);
    const options = { windowMs: DAY, since: null, until: null, config: config({ business: { repaid: { mean_of: 'outcome' } } }) };
    const read = { files: 1, lines: entries.length, bytes: 0, invalid: 0, invalidExamples: [], torn: 0 };
    const whole = new MonitorEngine(service, await loadLabels(service.feedbackLog, noProblems()), options);
    entries.forEach((e) => whole.add(e));
    const halves = [new MonitorEngine(service, await loadLabels(service.feedbackLog, noProblems()), options), new MonitorEngine(service, await loadLabels(service.feedbackLog, noProblems()), options)];
    entries.forEach((e, i) => halves[i % 2]!.add(e));
    const merged = new MonitorEngine(service, await loadLabels(service.feedbackLog, noProblems()), options);
    for (const half of halves) merged.merge(half.exportState());
    const expected = whole.result(read);
    const actual = merged.result(read);
    expected.read.outOfOrderSeconds = actual.read.outOfOrderSeconds = 0; // order within a thread only
    expect(actual).toEqual(expected);
    expect(actual.comparison!.pairs).toBe(3000 - 31); // the fallback's answers are not the champion's model
    expect(actual.labels.unknown).toBe(1);
  });
});
