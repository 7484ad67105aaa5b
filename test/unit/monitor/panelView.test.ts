/**
 * The Monitor panel's view, built by the core from the same report as `nb2prod monitor --format
 * json`: the breaches beside the alerts they opened, the history with who and why, the latest
 * window as figures, the features by PSI, the thresholds the charts draw, what to do when there
 * is no audit log yet, a torn last line reported as the CLI does — and the view parses with the
 * panel's schema (what the WebviewHost checks before posting it).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertHistoryPath, annotateAlert, evaluateAlerts, foldAlerts, readAlertEvents, recordEvaluation } from '../../../src/core/monitor/alerts';
import { parseMonitorConfig } from '../../../src/core/monitor/config';
import { monitorService } from '../../../src/core/monitor/monitor';
import { durationText, formatMs, formatNumber, formatPercent, monitorPanelView, psiSeverity, windowLabel } from '../../../src/core/monitor/panelView';
import { renderMonitorReport } from '../../../src/core/monitor/report';
import { loadService } from '../../../src/core/monitor/service';
import { checkToPage } from '../../../src/protocol/host';
import { monitorToPageSchema } from '../../../src/protocol/monitor';
import { driftAndAccuracyDrop, serviceFolder } from './monitorFixture';

const DAY = 86_400_000;

async function viewOf(root: string, section: Record<string, unknown> = {}, rollback: Parameters<typeof monitorPanelView>[0]['rollback'] = null) {
  const config = parseMonitorConfig(section, 'test [monitoring]');
  const service = await loadService(root);
  const result = await monitorService(service, { windowMs: DAY, since: null, config });
  const evaluation = evaluateAlerts(result, config.alerts);
  const { events, problems } = await readAlertEvents(alertHistoryPath(service.stateDir));
  const view = monitorPanelView({ result, evaluation, history: foldAlerts(events), historyProblems: problems, config, folder: 'production', source: 'production', stateFolder: 'production/var', rollback, now: new Date('2031-02-01T00:00:00Z') });
  return { view, result, evaluation, service, config };
}

describe('Monitor panel view', () => {
  it('shows the PSI alert and the accuracy drop, recorded or not, with the figures of the latest window', async () => {
    const root = serviceFolder();
    driftAndAccuracyDrop(root);
    const { view, result, evaluation, service } = await viewOf(root);
    expect(view.breaches.map((b) => [b.rule, b.subject, b.alertId])).toEqual([['feature_psi', 'x', null], ['accuracy_drop', 'accuracy', null]]);
    expect(view.unrecorded).toBe(2);
    expect(view.alerts.open).toEqual([]);
    expect(view.latest?.label).toBe('2031-01-02');
    const card = (name: string) => view.latest!.cards.find((c) => c.name === name)!;
    expect(card('Accuracy')).toMatchObject({ value: '50.0%', status: 'alert' });
    expect(card('Accuracy').detail).toContain('100 labels, window 2031-01-02');
    expect(card('Max feature PSI')).toMatchObject({ status: 'alert', detail: 'x (retrain)' });
    expect(card('Latency p95')).toMatchObject({ value: '2 ms', status: 'ok' });
    expect(card('Label coverage').value).toBe('50.0%');
    // features, most drifted first, with a value per window for the chart
    expect(view.features.map((f) => [f.name, f.severity])).toEqual([['x', 'retrain'], ['c', 'stable']]);
    expect(view.features[0]!.series).toHaveLength(2);
    expect(view.features[0]!.series[0]).toBeLessThan(0.1);
    // the thresholds the charts draw
    expect(view.thresholds).toMatchObject({ metric: 'accuracy', baseline: 0.8, higherIsBetter: true, errorRate: 0.01, featurePsi: 0.2 });
    expect(view.thresholds.alertAt).toBeCloseTo(0.77, 10);
    expect(view.sla.p95).toBe(200);
    expect(view.captions.performance).toContain("training's accuracy 80.0% and the alert at 77.0%");
    expect(view.captions.psi).toBe('Bands: stable < 0.1 ≤ monitor ≤ 0.2 < retrain; the alert at 0.2 (dashed).');
    // per window, as the table shows it, newest first
    expect(view.table.rows.map((r) => r[0])).toEqual(['2031-01-02', '2031-01-01']);
    expect(view.table.columns).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'auc', 'estimated accuracy']));
    expect(view.table.rows[0]![view.table.columns.indexOf('accuracy')]).toBe('50.0%');
    expect(view.windows.map((w) => w.performance.accuracy)).toEqual([0.8, 0.5]);
    // the estimate stays an estimate
    expect(view.estimateAssumption).toContain('calibrated');
    expect(view.table.rows[0]!.at(-1)).toMatch(/\(estimate\)$/);
    expect(view.empty).toBeNull();
    // the same numbers as the CLI's JSON report
    const json = JSON.parse(renderMonitorReport({ result, evaluation, alerts: [], source: 'production' }, 'json')) as { windows: Array<{ volume: number; features: Array<{ psi: number }> }> };
    expect(view.windows.map((w) => w.volume)).toEqual(json.windows.map((w) => w.volume));
    expect(view.features[0]!.psi).toBe(Math.max(...json.windows[1]!.features.map((f) => f.psi)));
    expect(service.stateDir).toBe(path.join(root, 'var'));
    expect(checkToPage({ type: 'view', view, state: { serviceDir: root } }, monitorToPageSchema)).toMatchObject({ ok: true });
  });

  it('puts the alert history beside the breaches: open, acknowledged with who and why, resolved', async () => {
    const root = serviceFolder();
    driftAndAccuracyDrop(root);
    const first = await viewOf(root);
    const file = alertHistoryPath(path.join(root, 'var'));
    await recordEvaluation(file, first.evaluation, 'cron', new Date('2031-01-03T00:00:00Z'));
    const opened = foldAlerts((await readAlertEvents(file)).events);
    const psiAlert = opened.find((a) => a.rule === 'feature_psi')!;
    await annotateAlert(file, 'acknowledge', psiAlert.id, 'dana@example.com', 'new region launched', new Date('2031-01-03T09:00:00Z'));
    const { view } = await viewOf(root);
    expect(view.unrecorded).toBe(0);
    expect(view.breaches.find((b) => b.rule === 'feature_psi')).toMatchObject({ alertId: psiAlert.id, alertStatus: 'acknowledged' });
    const shown = view.alerts.open.find((a) => a.id === psiAlert.id)!;
    expect(shown.status).toBe('acknowledged');
    expect(shown.events).toEqual([
      { what: 'opened', at: '2031-01-03T00:00:00.000Z', by: '', reason: null },
      { what: 'acknowledged', at: '2031-01-03T09:00:00.000Z', by: 'dana@example.com', reason: 'new region launched' },
    ]);
    const accuracy = opened.find((a) => a.rule === 'accuracy_drop')!;
    await annotateAlert(file, 'resolve', accuracy.id, 'dana@example.com', 'labels were late', new Date('2031-01-04T00:00:00Z'));
    const after = (await viewOf(root)).view;
    expect(after.alerts.closed.map((a) => [a.rule, a.status, a.events.at(-1)!.reason])).toEqual([['accuracy_drop', 'resolved', 'labels were late']]);
    // resolved by a person while still breached: the breach has no open alert again
    expect(after.breaches.find((b) => b.rule === 'accuracy_drop')!.alertId).toBeNull();
    expect(after.unrecorded).toBe(1);
  });

  it('says how to get data when there is no audit log yet, and still parses', async () => {
    const root = serviceFolder();
    const { view } = await viewOf(root);
    expect(view.empty?.title).toBe('No audit log yet');
    expect(view.empty!.steps.join(' ')).toContain('production/var/audit/predictions-YYYY-MM-DD.jsonl');
    expect(view.empty!.steps.join(' ')).toContain('make serve');
    expect(view.latest).toBeNull();
    expect(view.breaches).toEqual([]);
    expect(view.notJudged).toContain('all: no predictions in the range read');
    expect(checkToPage({ type: 'view', view, state: { serviceDir: root } }, monitorToPageSchema)).toMatchObject({ ok: true });
  });

  it('reports a torn last line as the CLI does, apart as a warning', async () => {
    const root = serviceFolder();
    driftAndAccuracyDrop(root, { torn: true });
    const { view } = await viewOf(root);
    expect(view.warnings).toHaveLength(1);
    expect(view.warnings[0]).toContain('1 torn last line skipped (a write in progress or a crash)');
    expect(view.read[0]).toBe(view.warnings[0]);
  });

  it('offers the rollback the registry allows and carries it to the page', async () => {
    const root = serviceFolder();
    driftAndAccuracyDrop(root);
    const { view } = await viewOf(root, {}, { model: 'toy', alias: 'champion', from: 3, to: 2, served: '3' });
    expect(view.rollback).toEqual({ model: 'toy', alias: 'champion', from: 3, to: 2, served: '3' });
    expect(view.service.model).toBe('toy v3, sha256 aaaaaaaaaaaa…');
  });

  it('draws a regressor as MAE and RMSE with the error metric rising as the alert', async () => {
    const root = serviceFolder({ task: 'regression', run_metrics: { rmse: 2 } });
    const { view } = await viewOf(root);
    expect(view.thresholds).toMatchObject({ metric: 'rmse', baseline: 2, higherIsBetter: false });
    expect(view.thresholds.alertAt).toBeCloseTo(2.06, 10);
  });

  it('a cancelled read stops with the signal\u2019s reason', async () => {
    const root = serviceFolder();
    driftAndAccuracyDrop(root);
    const controller = new AbortController();
    controller.abort();
    const config = parseMonitorConfig({}, 'test');
    await expect(monitorService(await loadService(root), { windowMs: DAY, since: null, config, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('Monitor panel formatting', () => {
  it('formats numbers, shares, durations and windows as the CLI prints them', () => {
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(Number.NaN)).toBe('—');
    expect(formatNumber(1e-12)).toBe('0');
    expect(formatNumber(0.123456)).toBe('0.123');
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatPercent(0.5)).toBe('50.0%');
    expect(formatPercent(null)).toBe('—');
    expect(formatMs(12.345)).toBe('12.3 ms');
    expect(durationText(DAY)).toBe('1d');
    expect(durationText(6 * 3_600_000)).toBe('6h');
    expect(durationText(7 * DAY)).toBe('1w');
    expect(windowLabel('2031-01-02T00:00:00.000Z', DAY)).toBe('2031-01-02');
    expect(windowLabel('2031-01-02T06:00:00.000Z', 6 * 3_600_000)).toBe('2031-01-02 06:00');
    expect(psiSeverity(0.05, { monitor: 0.1, retrain: 0.2 })).toBe('stable');
    expect(psiSeverity(0.1, { monitor: 0.1, retrain: 0.2 })).toBe('monitor');
    expect(psiSeverity(0.2, { monitor: 0.1, retrain: 0.2 })).toBe('monitor');
    expect(psiSeverity(0.21, { monitor: 0.1, retrain: 0.2 })).toBe('retrain');
    expect(psiSeverity(null, { monitor: 0.1, retrain: 0.2 })).toBeNull();
  });
});
