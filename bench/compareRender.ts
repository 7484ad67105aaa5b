/**
 * The Compare panel with 100 runs: the comparison computed by the core (as the extension does)
 * and the page's bundle drawing it (tables and both charts) in headless Chromium, timed from the
 * message to the charts being drawn. Beside it, the same for 2 runs, as the baseline.
 * Usage: node --import tsx bench/compareRender.ts   → prints JSON
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { RunEnvelope } from '../src/core/envelope';
import { compareView } from '../src/core/render/compareView';
import { compareRuns, groupRuns } from '../src/core/stats/compare';
import { makeEnvelope } from '../test/fixtures/envelopes';

const repo = path.resolve(__dirname, '..');
const CHROMIUM = process.env.NB2PROD_CHROMIUM ?? '/usr/bin/chromium';

function runs(count: number): RunEnvelope[] {
  const out: RunEnvelope[] = [];
  for (let i = 0; i < count; i++) {
    const group = i % 2 ? 'deeper' : 'baseline';
    const seed = Math.floor(i / 2);
    const metrics: Record<string, number> = {};
    for (let m = 0; m < 10; m++) metrics[`metric_${m}`] = 0.8 + (i % 2) * 0.01 + ((seed * 7 + m) % 13) / 1000;
    const run = makeEnvelope({ name: `${group} seed ${seed}`, group, params: { max_depth: i % 2 ? 12 : 8, seed }, seed, metrics, startedAt: new Date(Date.now() - (count - i) * 1000) });
    run.metrics.loss = { value: 0.3, series: Array.from({ length: 50 }, (_, step) => ({ step, value: 1 / (step + 1) + seed / 1000 })) };
    out.push(run);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-bench-compare-'));
  copyFileSync(path.join(repo, 'dist', 'webviews', 'compare.js'), path.join(dir, 'compare.js'));
  copyFileSync(path.join(repo, 'media', 'runPage.css'), path.join(dir, 'runPage.css'));
  copyFileSync(path.join(repo, 'media', 'compare.css'), path.join(dir, 'compare.css'));
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src file:; script-src file:">
<link rel="stylesheet" href="runPage.css"><link rel="stylesheet" href="compare.css"></head>
<body><main id="app"></main><script src="compare.js"></script></body></html>`,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--allow-file-access-from-files'] });
  const measure = async (count: number) => {
    const envelopes = runs(count);
    const started = performance.now();
    const view = compareView(compareRuns(groupRuns(envelopes), {}), envelopes);
    const computeMs = performance.now() - started;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(() => {
      (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({ postMessage() {}, getState() { return undefined; }, setState() {} });
    });
    await page.goto(`file://${path.join(dir, 'index.html')}`);
    // A string, not a function: tsx would wrap a function's inner closures in a helper the page lacks.
    await page.evaluate(`window.__benchView = ${JSON.stringify(view)}`);
    const renderMs = (await page.evaluate(`new Promise((resolve) => {
      const started = performance.now();
      const view = window.__benchView;
      window.postMessage({ type: 'comparison', view, state: { runIds: view.runs.map((r) => r.id) } }, '*');
      const check = () => document.querySelector('#chart-runs[data-rendered="true"]') && document.querySelectorAll('table.metrics').length
        ? resolve(performance.now() - started)
        : requestAnimationFrame(check);
      check();
    })`)) as number;
    const tables = await page.locator('table.metrics').count();
    await page.close();
    return { runs: count, computeMs, renderMs, totalMs: computeMs + renderMs, metricTables: tables };
  };
  await measure(2); // warm the browser
  const small = await measure(2);
  const large = await measure(100);
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ small, large })}\n`);
}

void main();
