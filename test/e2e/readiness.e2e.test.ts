/**
 * The readiness checklist in a real VS Code: run "Check Production Readiness" from the command
 * palette on a workspace with tracked runs, see the three questions and the items with their
 * fixes, and follow an evidence link to the run page it names.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureWorkspace } from '../fixtures/fixtureWorkspace';
import { waitFor } from './harness';
import { useVsCode } from './useVsCode';

describe('Readiness panel', () => {
  const vscode = useVsCode({ suite: 'readiness' });
  let root = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-readiness-'));
    await writeFixtureWorkspace(root);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the checklist with the three questions and follows an evidence link to a run', async () => {
    const vs = vscode();
    await vs.ensureFolder(root);
    await vs.activityItem('nb2prod').waitFor({ state: 'visible', timeout: 30_000 });
    await vs.runCommand('nb2prod: Check Production Readiness');
    const frame = await vs.webviewFrame('Production readiness', 30_000);
    const text = await frame.locator('body').innerText();
    expect(text).toMatch(/Not production-ready/);
    expect(text).toMatch(/Is there automated monitoring for drift and degradation\?/i);
    expect(text).toMatch(/rolled back within minutes/i);
    expect(text).toMatch(/audit trail/i);
    expect(text).toMatch(/To fix:/);
    await vs.screenshot('01-readiness');

    // An evidence link that names a run opens that run's page.
    const runLink = frame.locator('button.evidence[title^="Open run "]').first();
    await runLink.waitFor({ state: 'visible', timeout: 10_000 });
    const runId = (await runLink.getAttribute('title'))!.replace('Open run ', '');
    await runLink.click();
    const page = await waitFor('the run page of the evidence', async () => {
      for (const f of vs.page.frames()) {
        const body = await f.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (body.includes(runId) && body.includes('Run id')) return f;
      }
      return undefined;
    }, 20_000);
    expect(await page.locator('body').innerText()).toContain(runId);
    await vs.screenshot('02-evidence-run-page');
  });
});
