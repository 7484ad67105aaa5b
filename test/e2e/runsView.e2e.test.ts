/**
 * The Runs view in a real VS Code: it lists the runs of the workspace's store, a click opens a
 * run's page, and an unreadable run file is reported without hiding the readable ones.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureWorkspace } from '../fixtures/fixtureWorkspace';
import { useVsCode } from './useVsCode';

const CONTAINER = 'nb2prod';
const VIEW = 'Runs';

type Fixture = Awaited<ReturnType<typeof writeFixtureWorkspace>>;

describe('Runs view', () => {
  const vscode = useVsCode({ suite: 'runs-view' });
  let root = '';
  let cleanDir = '';
  let clean: Fixture;
  let corruptDir = '';
  let corrupt: Fixture;

  // Workspaces live apart from the session so a failed launch still fails the tests, not this hook.
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-ws-'));
    cleanDir = path.join(root, 'clean');
    corruptDir = path.join(root, 'corrupt');
    await mkdir(cleanDir);
    await mkdir(corruptDir);
    clean = await writeFixtureWorkspace(cleanDir);
    corrupt = await writeFixtureWorkspace(corruptDir, { corrupt: true });
    expect(clean.runs.length).toBeGreaterThan(1);
    expect(corrupt.corruptFile).toBeTruthy();
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('lists a row for every run of the store', async () => {
    const vs = vscode();
    await vs.ensureFolder(cleanDir);
    await vs.screenshot('01-workbench');
    await vs.openViewContainer(CONTAINER);
    const rows = await vs.waitForTreeRows(VIEW, clean.runs.map((r) => r.name));
    await vs.screenshot('02-runs-view');
    const labels = rows.map((r) => r.label);
    for (const run of clean.runs) expect(labels).toContain(run.name);
    // A clean store must not produce the unreadable-file warning.
    expect((await vs.notifications()).filter((n) => n.text.includes('could not be read'))).toEqual([]);
  });

  it('opens a run page from a single click on its row', async () => {
    const vs = vscode();
    await vs.ensureFolder(cleanDir);
    await vs.openViewContainer(CONTAINER);
    await vs.waitForTreeRows(VIEW, clean.runs.map((r) => r.name));
    const run = clean.runs[1]!;
    await vs.treeRow(VIEW, run.name).click();
    const tab = vs.tab(`Run: ${run.name}`);
    await tab.waitFor({ state: 'visible', timeout: 20_000 });
    const frame = await vs.webviewFrame(run.name);
    await frame.locator('h1').first().waitFor({ timeout: 10_000 });
    await vs.screenshot('03-run-page');
    expect((await frame.locator('h1').first().innerText()).trim()).toBe(run.name);
    const metrics = frame.getByRole('heading', { name: /^\s*Metrics\b/i }).or(frame.getByRole('region', { name: /Metrics/i }));
    expect(await metrics.count(), 'a "Metrics" heading or section in the run page').toBeGreaterThan(0);
    // The fixture's runs record accuracy and f1: the section shows them.
    expect(await frame.locator('body').innerText()).toContain('accuracy');
    expect(await tab.getAttribute('aria-selected')).toBe('true');
  });

  it('warns about an unreadable run file and still lists the readable runs', async () => {
    const vs = vscode();
    await vs.ensureFolder(corruptDir);
    // The view is opened first: an extension may read the store only when the view shows.
    await vs.openViewContainer(CONTAINER);
    const warning = await vs.waitForNotification(['could not be read', corrupt.corruptFile!]);
    await vs.screenshot('04-corrupt-warning');
    expect(warning.severity).toBe('warning');
    const rows = await vs.waitForTreeRows(VIEW, corrupt.runs.map((r) => r.name));
    await vs.screenshot('05-corrupt-runs-view');
    const labels = rows.map((r) => r.label);
    for (const run of corrupt.runs) expect(labels).toContain(run.name);
  });
});
