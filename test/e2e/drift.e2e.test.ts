/**
 * The Drift panel in a real VS Code: right-click a CSV in the Explorer → Check Data Drift, pick
 * the reference file through VS Code's own file dialog, and see the summary, the columns by
 * severity and the histogram of the most drifted column drawn under the panel's strict CSP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { useVsCode } from './useVsCode';

function csv(rows: number, shift: number, plans: string[]): string {
  const lines = ['age,monthly_charges,plan'];
  for (let i = 0; i < rows; i++) lines.push(`${((i * 37) % 60) + 18 + shift},${(((i * 53) % 100) + 20).toFixed(2)},${plans[i % plans.length]}`);
  return `${lines.join('\n')}\n`;
}

describe('Drift panel', () => {
  const vscode = useVsCode({ suite: 'drift' });
  let root = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-drift-'));
    await writeFile(path.join(root, 'reference.csv'), csv(3000, 0, ['basic', 'plus', 'pro']));
    await writeFile(path.join(root, 'current.csv'), csv(2000, 15, ['basic', 'pro', 'pro', 'enterprise']));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('checks a CSV from the Explorer against a reference file: summary, columns by severity, histogram', async () => {
    const vs = vscode();
    await vs.ensureFolder(root);
    await vs.activityItem('nb2prod').waitFor({ state: 'visible', timeout: 30_000 });
    await vs.openExplorer();
    const row = vs.page.locator('.explorer-folders-view .monaco-list-row[aria-label="current.csv"]');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click({ button: 'right' });
    const item = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Check Data Drift' });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    if (!(await item.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await item.click();

    const chooser = await vs.webviewFrame('Current: current.csv', 30_000);
    await vs.screenshot('01-choose');
    await chooser.locator('#pick-reference').click();
    // The quick pick: a data file or a run's profile.
    const picker = await vs.quickInputTitled('Reference data: what the current data is compared with');
    await picker.locator('.monaco-list-row', { hasText: 'A data file' }).click();
    // VS Code's own (simple) file dialog, opened on the workspace folder: type the path and accept.
    await vs.chooseInFileDialog('Reference data', path.join(root, 'reference.csv'));

    const frame = await vs.webviewFrame('columns drifted', 30_000);
    const text = await frame.locator('body').innerText();
    expect(text).toMatch(/2 of 3 columns drifted/);
    expect(text).toMatch(/reference 3,000 rows, current 2,000 rows/);
    // Most drifted first; the stable column last.
    const names = await frame.locator('table.drift tr td:first-child').allInnerTexts();
    expect(names.at(-1)).toBe('monthly_charges');
    expect(names.slice(0, 2).sort()).toEqual(['age', 'plan']);
    const histogram = frame.locator('#histogram');
    await waitFor('the histogram to be drawn', async () => (await histogram.getAttribute('data-rendered', { timeout: 1_000 })) === 'true', 20_000);
    expect((await histogram.locator('canvas').boundingBox())?.width).toBeGreaterThan(100);
    await vs.screenshot('02-drift-report');

    // Another column's histogram on click.
    await frame.locator('table.drift tr', { hasText: 'monthly_charges' }).click();
    await waitFor('the histogram of monthly_charges', async () => (await frame.locator('h2', { hasText: 'monthly_charges: reference vs current' }).count()) === 1, 10_000);
    await waitFor('the new histogram drawn', async () => (await frame.locator('#histogram').getAttribute('data-rendered', { timeout: 1_000 })) === 'true', 20_000);
    await vs.screenshot('03-another-column');
  });
});
