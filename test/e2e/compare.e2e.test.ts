/**
 * The Compare panel in a real VS Code: select runs of two groups in the Runs view (Ctrl+click),
 * choose Compare Runs from the context menu, and see the metrics table with intervals and the
 * chart drawn (vega, through the interpreter, under the panel's strict CSP).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { waitFor } from './harness';
import { useVsCode } from './useVsCode';

const VIEW = 'Runs';
const BASE = [0.81, 0.83, 0.82];
const DEEP = [0.84, 0.86, 0.85];

describe('Compare panel', () => {
  const vscode = useVsCode({ suite: 'compare' });
  let root = '';
  const names: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-compare-'));
    const store = new RunStore(path.join(root, '.nb2prod'));
    const start = Date.now() - 60 * 60 * 1000;
    for (let seed = 0; seed < 3; seed++) {
      const base = makeEnvelope({ name: `base seed ${seed}`, group: 'base', startedAt: new Date(start + seed * 1000), params: { max_depth: 8, seed }, seed, metrics: { accuracy: BASE[seed]! } });
      const deep = makeEnvelope({ name: `deep seed ${seed}`, group: 'deep', startedAt: new Date(start + 10_000 + seed * 1000), params: { max_depth: 12, seed }, seed, metrics: { accuracy: DEEP[seed]! } });
      await store.writeRun(base);
      await store.writeRun(deep);
      names.push(base.name, deep.name);
    }
    store.close();
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('compares runs selected in the Runs view: table with intervals, and a chart', async () => {
    const vs = vscode();
    await vs.ensureFolder(root);
    await vs.openViewContainer('nb2prod');
    await vs.waitForTreeRows(VIEW, names);
    // Select all six runs: click the first, Ctrl+click the others, as a user does.
    await vs.treeRow(VIEW, names[0]!).click();
    for (const name of names.slice(1)) await vs.treeRow(VIEW, name).click({ modifiers: ['Control'] });
    await vs.treeRow(VIEW, names[0]!).click({ button: 'right', modifiers: [] });
    const item = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Compare Runs' });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    if (!(await item.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await item.click();

    // Clicking a row also opened that run's page: look for the Compare panel's own frame.
    const frame = await vs.webviewFrame('Compare: base vs deep', 30_000);
    const text = await frame.locator('body').innerText();
    expect(text).toContain('Compare: base vs deep');
    expect(text).toMatch(/accuracy/);
    // Three paired seeds a side: the table has both groups with intervals and the difference.
    expect(text).toMatch(/deep\s+3\s+0\.85/);
    expect(text).toMatch(/\+0\.03/);
    expect(text).toMatch(/paired t-test/);
    const chart = frame.locator('#chart-runs');
    await waitFor('the chart to be drawn', async () => (await chart.getAttribute('data-rendered', { timeout: 1_000 })) === 'true', 20_000);
    const canvas = chart.locator('canvas');
    expect(await canvas.count()).toBe(1);
    const box = await canvas.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    // Params: only what differs, by default.
    expect(text).toMatch(/max_depth/);
    await vs.screenshot('01-compare-panel');

    // Hidden behind another tab and shown again, the page comes back with its comparison.
    await vs.tab('Run: base seed 0').click();
    await vs.tab('Compare: base vs deep').click();
    const again = await vs.webviewFrame('Compare: base vs deep', 30_000);
    await waitFor('the chart drawn again', async () => (await again.locator('#chart-runs').getAttribute('data-rendered', { timeout: 1_000 }).catch(() => null)) === 'true', 20_000);
    expect(await again.locator('body').innerText()).toMatch(/deep\s+3\s+0\.85/);
  });
});
