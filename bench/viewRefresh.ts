/**
 * The Runs view's refresh in a warm extension host, as a bundled Node process (see viewRefresh
 * in run.ts): one long-lived watched RunStore, as src/extension/workspaceStore.ts makes it, over
 * a store of COUNT runs whose index is on disk. Measured beside the work a view without an index
 * does on each refresh — read and JSON.parse every run file — in the same warm process.
 * Usage: node view-refresh.cjs STORE  → prints the figures as JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RunStore } from '../src/core/store/runStore';
import { makeEnvelope } from '../test/fixtures/envelopes';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function time(action: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** What a view without an index does on each refresh: read and parse every run file. */
function readEveryRun(runsDir: string): number {
  let n = 0;
  for (const name of fs.readdirSync(runsDir)) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const run = JSON.parse(fs.readFileSync(path.join(runsDir, name), 'utf8')) as { startedAt: string };
    if (run.startedAt) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const root = process.argv[2]!;
  const view = new RunStore(root, { watched: true });
  const writer = new RunStore(root);
  const firstLoadMs = await time(() => view.list());
  const count = (await view.list()).runs.length;

  const baseline: number[] = [];
  const unchanged: number[] = [];
  const newRun: number[] = [];
  for (let i = 0; i < 15; i++) {
    unchanged.push(await time(() => view.list()));
    // Another process tracks a run; the watcher reports the new file, the view refreshes.
    const file = await writer.writeRun(makeEnvelope({ name: `refresh ${i}`, tags: ['bench'] }));
    view.noteChanged([file]);
    newRun.push(await time(() => view.list()));
  }
  // Separately: the baseline's garbage (every envelope parsed) would land on our timings.
  for (let i = 0; i < 15; i++) baseline.push(await time(() => readEveryRun(view.runsDir)));
  const after = (await view.list()).runs.length;
  if (after !== count + 15) throw new Error(`the view lists ${after} runs, expected ${count + 15}`);
  process.stdout.write(`${JSON.stringify({ runs: count, firstLoadMs, baselineMs: median(baseline), unchangedMs: median(unchanged), newRunMs: median(newRun) })}\n`);
}

void main();
