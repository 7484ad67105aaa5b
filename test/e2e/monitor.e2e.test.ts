/**
 * The Monitor panel in a real VS Code: a generated service's folder whose audit log (written here
 * by the monitor's own fixture generator: a drifted day with labels that disagree) has a PSI alert
 * and an accuracy drop, already opened in the alert history by `nb2prod monitor --check` as cron
 * would. Right-click the folder → Open Monitor: both alerts and the torn last line are shown and
 * the charts are drawn under the strict CSP; Acknowledge asks why in an input box, and the panel's
 * history — and the CLI's alert file — then have the acknowledgement with who, when and why.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftAndAccuracyDrop, serviceFolder } from '../unit/monitor/monitorFixture';
import { REPO_ROOT, waitFor } from './harness';
import { useVsCode } from './useVsCode';

interface HistoryLine {
  type: string;
  alert?: string;
  id: string;
  rule?: string;
  by: string;
  reason?: string | null;
}

describe('Monitor panel', () => {
  const vscode = useVsCode({ suite: 'monitor' });
  let root = '';
  let service = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-monitor-'));
    service = serviceFolder({ name: 'churn-service' }, path.join(root, 'production'));
    driftAndAccuracyDrop(service, { torn: true });
    // cron's check: opens the two alerts in STATE/monitor/alerts.jsonl and exits 1
    let status = 0;
    try {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'monitor', 'production', '--check', '--by', 'cron'], { cwd: root, stdio: 'pipe' });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(1);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the PSI alert and the accuracy drop, and acknowledges one with a reason', async () => {
    const vs = vscode();
    await vs.ensureFolder(root);
    await vs.activityItem('nb2prod').waitFor({ state: 'visible', timeout: 30_000 });
    await vs.openExplorer();
    const row = vs.page.locator('.explorer-folders-view .monaco-list-row[aria-label="production"]');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click({ button: 'right' });
    const item = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Open Monitor' });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    if (!(await item.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await item.click();

    const frame = await vs.webviewFrame('Monitor: churn-service', 30_000);
    await waitFor('the open alerts', async () => (await frame.locator('#open-alerts li.alert').count()) === 2, 20_000);
    const text = await frame.locator('body').innerText();
    expect(text).toMatch(/feature_psi x: input x: PSI [\d.]+ against the training data \(above 0\.2: retrain\)/);
    expect(text).toMatch(/accuracy_drop accuracy: accuracy 50\.0% on 100 labelled predictions is 30\.0% below training's 80\.0%/);
    // the torn last line, reported as the CLI does
    expect(await frame.locator('#warnings').innerText()).toContain('1 torn last line skipped');
    // the latest window's figures and the features by PSI
    expect(await frame.locator('#latest').innerText()).toMatch(/Accuracy\s+50\.0%/);
    expect((await frame.locator('table.features tr.severity-retrain td').first().innerText()).trim()).toBe('x');
    // the charts are drawn (vega through the interpreter, canvas: the CSP allows it)
    for (const id of ['chart-psi', 'chart-performance', 'chart-latency', 'chart-volume']) {
      const chart = frame.locator(`#${id}`);
      await waitFor(`the ${id} chart to be drawn`, async () => (await chart.getAttribute('data-rendered', { timeout: 1_000 })) === 'true', 20_000);
      expect((await chart.locator('canvas').boundingBox())?.width).toBeGreaterThan(100);
    }
    await vs.screenshot('01-monitor-panel');
    await frame.locator('#chart-psi').scrollIntoViewIfNeeded();
    await vs.screenshot('01b-psi-chart');
    await frame.locator('#chart-performance').scrollIntoViewIfNeeded();
    await vs.screenshot('01c-performance-chart');

    const history = path.join(service, 'var', 'monitor', 'alerts.jsonl');
    const opened = (await readFile(history, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as HistoryLine);
    const psiAlert = opened.find((e) => e.type === 'open' && e.rule === 'feature_psi')!;
    const alertItem = frame.locator(`li.alert[data-alert-id="${psiAlert.id}"]`);
    await alertItem.locator('button.acknowledge').click();
    await vs.answerInputBox('Acknowledge alert: feature_psi x', 'new region launched, retraining');

    await waitFor('the alert shown acknowledged', async () => {
      const shown = await frame.locator(`li.alert[data-alert-id="${psiAlert.id}"]`).innerText({ timeout: 1_000 }).catch(() => '');
      return shown.startsWith('ACKNOWLEDGED') && shown.includes('new region launched, retraining');
    }, 20_000);
    await vs.screenshot('02-acknowledged');
    // the CLI's alert file has the entry, with who and why
    const after = (await readFile(history, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as HistoryLine);
    const ack = after.find((e) => e.type === 'acknowledge');
    expect(ack).toMatchObject({ alert: psiAlert.id, reason: 'new region launched, retraining' });
    expect(ack!.by.length).toBeGreaterThan(0);
    const listed = execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'monitor', 'alerts', 'production'], { cwd: root, encoding: 'utf8' });
    expect(listed).toContain('ACKNOWLEDGED');
    expect(listed).toContain('new region launched, retraining');
  });
});
