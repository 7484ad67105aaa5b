/**
 * The experiments table with 10,000 runs in headless Chromium: the page's production bundle,
 * fed the message the extension sends (built by the core from 10,000 run summaries), timed to
 * its first paint and while scrolling. Beside it, the baseline: the same rows as a plain,
 * non-virtualised <table> built in the same page, timed the same way.
 *
 * First paint = the page's script loaded and listening (navigation start → `ready`) + the
 * message posted → rows painted (the frame after they are in the DOM). Scroll, once the plots
 * beside the table are drawn: 150 frames of continuous scrolling (about 9 rows a frame); per
 * frame, the main thread's time (Chromium's TaskDuration: script, style, layout, paint — what
 * must fit in a frame), the page's own work (the `nb2prod-rows` user-timing measure) and the
 * interval between frames (at 60 Hz, 16.7 ms means no frame was dropped; on a loaded machine
 * other processes lengthen it).
 *
 * Usage: node --import tsx bench/experimentsTable.ts [RUNS]   → prints JSON
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildExperimentTable } from '../src/core/experiments/table';
import { summarize } from '../src/core/store/runIndex';
import { experimentsToPageSchema } from '../src/protocol/experiments';
import { makeEnvelope } from '../test/fixtures/envelopes';

const repo = path.resolve(__dirname, '..');
const CHROMIUM = process.env.NB2PROD_CHROMIUM ?? '/usr/bin/chromium';

function summaries(count: number) {
  const t0 = Date.UTC(2026, 0, 1);
  const out = [];
  for (let i = 0; i < count; i++) {
    const depth = [4, 6, 8, 12, 16][i % 5]!;
    const seed = Math.floor(i / 50) % 10;
    const lr = [0.01, 0.03, 0.1][Math.floor(i / 5) % 3]!;
    const params = {
      max_depth: depth,
      learning_rate: lr,
      n_estimators: 100 + (i % 7) * 50,
      seed,
      'GradientBoostingClassifier.max_depth': depth,
      'GradientBoostingClassifier.learning_rate': lr,
      'GradientBoostingClassifier.random_state': seed,
      'GradientBoostingClassifier.subsample': 0.8,
      'GradientBoostingClassifier.loss': 'log_loss',
    };
    const envelope = makeEnvelope({
      name: `train.ipynb max_depth=${depth}, learning_rate=${lr}, seed=${seed}`,
      startedAt: new Date(t0 + i * 60_000),
      params,
      seed,
      metrics: { accuracy: 0.8 + ((i * 7) % 100) / 1000, f1: 0.5 + ((i * 13) % 100) / 1000, roc_auc: 0.7 + ((i * 3) % 100) / 1000, loss: 1 / (i + 1) },
      tags: i % 3 ? [] : ['nightly'],
      status: i % 97 === 0 ? 'failed' : 'succeeded',
    });
    envelope.metrics.loss = { value: 0.3, series: Array.from({ length: 20 }, (_, step) => ({ step, value: 1 / (step + 1) })) };
    out.push(summarize(envelope));
  }
  return out;
}

const NAIVE_TABLE = `(() => {
  const started = performance.now();
  const t = window.__benchMessage.table;
  const table = document.createElement('table');
  const cols = [['name', (r) => t.name[r]], ['status', (r) => t.status[r]], ['started', (r) => t.startedAt[r]], ['duration', (r) => String(t.durationMs[r])],
    ...t.params.filter((p) => p.varies).map((p) => [p.label, (r) => String(p.values[r])]), ...t.metrics.map((m) => [m.key, (r) => String(m.last[r])])];
  const head = document.createElement('tr');
  for (const [name] of cols) { const th = document.createElement('th'); th.textContent = name; head.append(th); }
  table.append(head);
  for (let r = t.ids.length - 1; r >= 0; r--) {
    const tr = document.createElement('tr');
    for (const [, get] of cols) { const td = document.createElement('td'); td.textContent = get(r); tr.append(td); }
    table.append(tr);
  }
  const box = document.createElement('div');
  box.id = 'naive';
  box.style.height = '800px';
  box.style.overflow = 'auto';
  box.append(table);
  document.body.replaceChildren(box);
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started))));
})()`;

/** `frames` frames of continuous scrolling of `selector`; frame intervals and the page's own measures. */
function scrollScript(selector: string, count = 150): string {
  return `new Promise((resolve) => {
    const box = document.querySelector(${JSON.stringify(selector)});
    performance.clearMeasures('nb2prod-rows');
    const stamps = [];
    let frames = 0;
    const step = (now) => {
      stamps.push(now);
      if (frames++ >= ${count}) {
        const intervals = stamps.slice(2).map((t, i) => t - stamps[i + 1]);
        const work = performance.getEntriesByName('nb2prod-rows').map((e) => e.duration);
        resolve({ intervals, work });
        return;
      }
      box.scrollTop += 240;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`;
}

interface ScrollResult {
  intervals: number[];
  /** The page's own work per scroll frame (user timing). */
  work: number[];
  /** Main-thread time per frame (script, style, layout, paint records): Chromium's TaskDuration over the frames. */
  mainThreadPerFrameMs: number;
}

/** Scrolls `frames` frames and reads Chromium's main-thread task time around it (CDP Performance metrics). */
async function scrollWithMetrics(page: Page, selector: string, frames: number): Promise<ScrollResult> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0);
  const before = await taskSeconds();
  const result = (await page.evaluate(scrollScript(selector, frames))) as { intervals: number[]; work: number[] };
  const after = await taskSeconds();
  await cdp.detach();
  return { ...result, mainThreadPerFrameMs: ((after - before) * 1000) / frames };
}

function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const rows = summaries(count);
  const builtAt = performance.now();
  const table = buildExperimentTable(rows);
  const buildMs = performance.now() - builtAt;
  const message = { type: 'table', table, problems: 0 };
  const checkedAt = performance.now();
  const parsed = experimentsToPageSchema.safeParse(message);
  const validateMs = performance.now() - checkedAt;
  if (!parsed.success) throw new Error(`the bench's table does not parse: ${parsed.error.issues[0]?.message}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-bench-table-'));
  for (const bundle of ['experiments.js', 'experimentsPlots.js']) copyFileSync(path.join(repo, 'dist', 'webviews', bundle), path.join(dir, bundle));
  for (const css of ['runPage.css', 'compare.css', 'experiments.css']) copyFileSync(path.join(repo, 'media', css), path.join(dir, css));
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src file:; script-src file: 'unsafe-inline'">
<link rel="stylesheet" href="runPage.css"><link rel="stylesheet" href="compare.css"><link rel="stylesheet" href="experiments.css"></head>
<body class="vscode-light"><main id="app"></main><script src="experiments.js"></script></body></html>`,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--allow-file-access-from-files'] });
  const open = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript(() => {
      const w = window as unknown as { acquireVsCodeApi: () => unknown; __readyAt?: number };
      w.acquireVsCodeApi = () => ({
        postMessage(m: { type?: string }) {
          if (m?.type === 'ready') w.__readyAt = performance.now();
        },
        getState() {
          return undefined;
        },
        setState() {},
      });
    });
    await page.goto(`file://${path.join(dir, 'index.html')}`);
    await page.waitForFunction('window.__readyAt !== undefined');
    // A string, not a function: tsx would wrap a function's inner closures in a helper the page lacks.
    await page.evaluate(`window.__benchMessage = ${JSON.stringify(message)}`);
    return page;
  };

  const measureOurs = async () => {
    const page = await open();
    const readyMs = (await page.evaluate('window.__readyAt')) as number;
    const paintMs = (await page.evaluate(`new Promise((resolve) => {
      const started = performance.now();
      window.postMessage(window.__benchMessage, '*');
      const check = () => document.body.dataset.firstPaint ? resolve(Number(document.body.dataset.firstPaint) - started) : requestAnimationFrame(check);
      check();
    })`)) as number;
    const rowsInDom = await page.locator('.body .row').count();
    // Steady state: the plots (drawn after the first paint, from their own bundle) are done.
    await page.waitForSelector('#plot-chart[data-rendered="true"]', { timeout: 30_000 });
    const scroll = await scrollWithMetrics(page, '#viewport', 150);
    const shownAfterScroll = await page.locator('.body .row:not([hidden])').count();
    await page.close();
    return { readyMs, paintMs, firstPaintMs: readyMs + paintMs, rowsInDom, shownAfterScroll, scroll };
  };
  const measureNaive = async () => {
    const page = await open();
    const readyMs = (await page.evaluate('window.__readyAt')) as number;
    const paintMs = (await page.evaluate(NAIVE_TABLE)) as number;
    const scroll = await scrollWithMetrics(page, '#naive', 30);
    await page.close();
    return { readyMs, paintMs, firstPaintMs: readyMs + paintMs, scroll };
  };

  await measureOurs(); // warm the browser and the bundle's code cache
  const oursRuns = [await measureOurs(), await measureOurs(), await measureOurs()];
  const naiveRuns = [await measureNaive(), await measureNaive()];
  await browser.close();
  rmSync(dir, { recursive: true, force: true });

  const median = (values: number[]) => percentile(values, 50);
  const ours = {
    firstPaintMs: median(oursRuns.map((r) => r.firstPaintMs)),
    readyMs: median(oursRuns.map((r) => r.readyMs)),
    paintMs: median(oursRuns.map((r) => r.paintMs)),
    rowsInDom: oursRuns[0]!.rowsInDom,
    scrollWorkP95Ms: percentile(oursRuns.flatMap((r) => r.scroll.work), 95),
    scrollWorkMaxMs: Math.max(...oursRuns.flatMap((r) => r.scroll.work)),
    frameIntervalP95Ms: percentile(oursRuns.flatMap((r) => r.scroll.intervals), 95),
    frameIntervalMedianMs: median(oursRuns.flatMap((r) => r.scroll.intervals)),
    mainThreadPerFrameMs: median(oursRuns.map((r) => r.scroll.mainThreadPerFrameMs)),
  };
  const naive = {
    firstPaintMs: median(naiveRuns.map((r) => r.firstPaintMs)),
    frameIntervalP95Ms: percentile(naiveRuns.flatMap((r) => r.scroll.intervals), 95),
    frameIntervalMedianMs: median(naiveRuns.flatMap((r) => r.scroll.intervals)),
    mainThreadPerFrameMs: median(naiveRuns.map((r) => r.scroll.mainThreadPerFrameMs)),
  };
  process.stdout.write(`${JSON.stringify({ runs: count, buildMs, validateMs, messageBytes: JSON.stringify(message).length, ours, naive })}\n`);
}

void main();
