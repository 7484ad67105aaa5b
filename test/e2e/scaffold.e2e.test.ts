/**
 * Generate Production Service in a real VS Code, on a copy of examples/churn with one tracked
 * run: the notebook toolbar button asks for the folder, shows the planned files in a quick pick
 * and writes nothing when the user presses Escape; run again from the command palette and
 * accepted, it writes the project, computes the golden sample and reveals README.md in the
 * Explorer. A file the user changed since is kept when they answer Keep Mine. The tests share
 * one workspace, in order.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type VsCodeSession, waitFor } from './harness';
import { useVsCode } from './useVsCode';

const NOTEBOOK = 'churn.ipynb';
const OUT = 'churn-service';
const ACTION = 'Generate Production Service';
const PYTHON = '/usr/bin/python3';
/** What the user looks for in the generated project, and the model the service loads. */
const EXPECTED_FILES = [
  'service/app.py',
  'pipeline/steps.py',
  'common/features.py',
  'contracts/input.schema.json',
  'tests/golden/sample.json',
  'model/churn_model.joblib',
  'README.md',
  'Makefile',
  'nb2prod-scaffold.json',
];

/** A fresh copy of the example project, without any store or model a local run left in it. */
async function copyChurn(root: string, name: string): Promise<string> {
  const dir = path.join(root, name);
  await cp(path.join(REPO_ROOT, 'examples', 'churn'), dir, {
    recursive: true,
    filter: (source) => !/[\\/](\.nb2prod|models|__pycache__|churn-service)([\\/]|$)/.test(path.relative(path.join(REPO_ROOT, 'examples'), source)),
  });
  return dir;
}


/**
 * Opens the notebook from the Explorer, in the notebook editor. The workbench must have read the
 * extensions' contributions first, or an early click opens the .ipynb as JSON text.
 */
async function openNotebook(vs: VsCodeSession): Promise<void> {
  await vs.activityItem('nb2prod').waitFor({ state: 'visible', timeout: 30_000 });
  await vs.openExplorer();
  await vs.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${NOTEBOOK}"]`).click();
  await vs.page.locator('.notebook-editor .notebook-toolbar-container').waitFor({ state: 'visible', timeout: 30_000 });
  // The cells, for the screenshot (the toolbar is laid out by then too).
  await vs.page.locator('.notebook-editor .code-cell-row .monaco-editor .view-lines').first().waitFor({ state: 'visible', timeout: 30_000 });
}

/** Lets a toast or a list finish sliding in, so the screenshot shows it legibly. */
const settle = (ms = 400): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Clicks an action of the notebook toolbar: the button when the toolbar shows it, else the entry
 * in the toolbar's "More Actions..." menu (a narrow toolbar moves its last actions there).
 * Returns where it was found. The toolbar lays itself out after the notebook renders, so
 * elements are looked up afresh on each attempt.
 */
async function clickNotebookToolbarAction(vs: VsCodeSession, label: string): Promise<'toolbar' | 'overflow'> {
  const toolbar = vs.page.locator('.notebook-editor .notebook-toolbar-container');
  const button = () => toolbar.locator(`.action-item a.action-label[aria-label="${label}"]`).first();
  const more = () => toolbar.locator('.action-item a.action-label[aria-label^="More Actions"]').first();
  const menuItem = () => vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: label }).first();
  return waitFor(`"${label}" in the notebook toolbar or its More Actions menu`, async () => {
    if (await button().isVisible()) {
      await button().click();
      return 'toolbar' as const;
    }
    if (!(await more().isVisible())) return undefined;
    await more().click();
    if (!(await menuItem().waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false))) {
      // Not in this menu (yet): close it and look again.
      await vs.page.keyboard.press('Escape');
      return undefined;
    }
    await menuItem().click();
    // A click that lands while the menu is still fading in is ignored; a user would click again.
    if (!(await menuItem().waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await menuItem().click();
    return 'overflow' as const;
  }, 30_000, 250);
}

/**
 * Records the text of every notification the workbench shows, however briefly: a progress
 * notification of a fast step can come and go between two polls.
 */
async function recordNotifications(vs: VsCodeSession): Promise<void> {
  await vs.page.evaluate(() => {
    const w = window as unknown as { __nb2prodSeen?: string[] };
    if (w.__nb2prodSeen) return;
    const seen: string[] = (w.__nb2prodSeen = []);
    const scan = (): void => {
      for (const el of document.querySelectorAll('.notification-list-item-message')) {
        const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
        if (text && !seen.includes(text)) seen.push(text);
      }
    };
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true });
    scan();
  });
}

async function seenNotifications(vs: VsCodeSession): Promise<string[]> {
  return vs.page.evaluate(() => (window as unknown as { __nb2prodSeen?: string[] }).__nb2prodSeen ?? []);
}

const quickInput = (vs: VsCodeSession) => vs.page.locator('.quick-input-widget');

async function clearNotifications(vs: VsCodeSession): Promise<void> {
  await vs.runCommand('Notifications: Clear All Notifications');
  await vs.page.evaluate(() => {
    const w = window as unknown as { __nb2prodSeen?: string[] };
    if (w.__nb2prodSeen) w.__nb2prodSeen.length = 0;
  });
}

/**
 * Runs a command from the palette (F1, type, Enter on the exact entry) whose first step is a
 * quick input of its own: the widget stays open for it, so unlike vs.runCommand this does not
 * wait for the widget to hide.
 */
async function runFromPalette(vs: VsCodeSession, title: string): Promise<void> {
  const widget = await vs.openCommandPalette();
  const input = widget.locator('.quick-input-box input');
  await input.fill(`>${title}`);
  // Enter before the list has filtered would run whatever was first (often a recent command).
  await vs.waitForFocusedPick(title);
  await input.press('Enter');
}

interface PickRow {
  label: string;
  description: string;
  separator: string;
  focused: boolean;
}

/** The rows the quick pick renders right now (it renders only the visible part of a long list). */
async function pickRows(vs: VsCodeSession): Promise<PickRow[]> {
  return quickInput(vs).locator('.quick-input-list .monaco-list-row').evaluateAll((els) => els.map((el) => ({
    label: (el.querySelector('.label-name')?.textContent ?? '').replace(/\s+/g, ' ').trim(),
    description: (el.querySelector('.label-description')?.textContent ?? '').trim(),
    // The folder a group starts with, shown at the right of its first row (hidden while filtering).
    separator: [...el.querySelectorAll<HTMLElement>('.quick-input-list-separator')].filter((s) => s.checkVisibility()).map((s) => s.textContent ?? '').join('').trim(),
    focused: el.classList.contains('focused'),
  })));
}

/** Waits for the input box asking for the folder, checks its suggestion and accepts it with Enter. */
async function acceptSuggestedFolder(vs: VsCodeSession, screenshot?: string): Promise<void> {
  const widget = quickInput(vs);
  const input = widget.locator('.quick-input-box input');
  await waitFor('the input box asking for the service folder', async () =>
    (await widget.isVisible()) && /Generate Production Service/.test(await widget.locator('.quick-input-title').innerText()) && (await input.inputValue()) === OUT, 20_000);
  expect(await widget.innerText()).toContain('Folder for the service, pipeline, contracts and tests');
  if (screenshot) await vs.screenshot(screenshot);
  await input.press('Enter');
}

/** Waits for the quick pick of planned files (after the planning step) and returns its Generate row. */
async function waitForPlan(vs: VsCodeSession): Promise<PickRow> {
  const widget = quickInput(vs);
  let rows: PickRow[] = [];
  try {
    return await waitFor('the quick pick with the planned files, "Generate N files" focused', async () => {
      if (!(await widget.isVisible())) return undefined;
      const title = await widget.locator('.quick-input-title').innerText().catch(() => '');
      if (!title.includes(`into ${OUT}/`)) return undefined;
      rows = await pickRows(vs);
      const generate = rows.find((r) => /^Generate \d+ files?$/.test(r.label));
      return generate?.focused ? generate : undefined;
    }, 60_000, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message}; rows seen: ${JSON.stringify(rows)}`);
  }
}

/** Types a filter into the quick pick and waits for the rows it leaves, as a user narrowing the list. */
async function filterPick(vs: VsCodeSession, text: string, until: (rows: PickRow[]) => boolean): Promise<PickRow[]> {
  await quickInput(vs).locator('.quick-input-box input').fill(text);
  let rows: PickRow[] = [];
  try {
    return await waitFor(`the planned files filtered by "${text}"`, async () => {
      rows = await pickRows(vs);
      return until(rows) ? rows : undefined;
    }, 10_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; rows seen: ${JSON.stringify(rows)}`);
  }
}

interface ExplorerRow {
  label: string;
  level: number;
  expanded: string | null;
  selected: boolean;
}

async function explorerRows(vs: VsCodeSession): Promise<ExplorerRow[]> {
  return vs.page.locator('.explorer-folders-view .monaco-list-row').evaluateAll((els) => els
    .map((el) => ({
      label: el.getAttribute('aria-label') ?? '',
      level: Number(el.getAttribute('aria-level') ?? 0),
      expanded: el.getAttribute('aria-expanded'),
      selected: el.classList.contains('selected') || el.getAttribute('aria-selected') === 'true',
      top: parseFloat((el as HTMLElement).style.top || '0'),
    }))
    .sort((a, b) => a.top - b.top)
    .map(({ top: _top, ...row }) => row));
}

function filesOnDisk(outDir: string): string[] {
  return EXPECTED_FILES.filter((f) => existsSync(path.join(outDir, f)));
}

describe('Generate Production Service', () => {
  const vscode = useVsCode({ suite: 'scaffold' });
  let root = '';
  let workspace = '';
  let outDir = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-scaffold-'));
    workspace = await copyChurn(root, 'churn');
    outDir = path.join(workspace, OUT);
    // The service is generated from a tracked run: one real run of the notebook, as `nb2prod track` does it.
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'track', NOTEBOOK], {
      cwd: workspace,
      env: { ...process.env, NB2PROD_PYTHON: PYTHON },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/succeeded/);
    // The editor's interpreter: the python3 on the PATH may lack scikit-learn, Debian's has it.
    await mkdir(path.join(workspace, '.vscode'), { recursive: true });
    await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'nb2prod.pythonPath': PYTHON }, null, 2));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the planned files from the notebook toolbar, writes nothing on Escape, and generates the project when accepted', async () => {
    const vs = vscode();
    await vs.ensureFolder(workspace);
    await recordNotifications(vs);
    await openNotebook(vs);
    await vs.screenshot('01-notebook-toolbar');

    const foundIn = await clickNotebookToolbarAction(vs, ACTION);
    console.log(`e2e: "${ACTION}" clicked in the notebook ${foundIn === 'toolbar' ? 'toolbar' : "toolbar's More Actions menu"}`);
    // Park the mouse on the title bar: a hover tooltip would cover the quick pick in screenshots.
    await vs.page.mouse.move(vs.page.viewportSize()!.width / 2, 5);
    await acceptSuggestedFolder(vs, '02-folder-input');

    const generate = await waitForPlan(vs);
    const planned = Number(/\d+/.exec(generate.label)![0]);
    expect(planned).toBeGreaterThanOrEqual(EXPECTED_FILES.length - 1);
    expect(await seenNotifications(vs)).toContain(`nb2prod: Planning the service for ${NOTEBOOK}…`);
    const firstRows = await pickRows(vs);
    // The first item writes; every other one is a planned file (new), grouped by folder.
    expect(firstRows[0]!.label).toBe(generate.label);
    expect(firstRows.slice(1).filter((r) => r.description).every((r) => r.description === 'new')).toBe(true);
    expect(await quickInput(vs).locator('.quick-input-box input').getAttribute('placeholder')).toBe('Escape cancels; nothing is written until you choose Generate');
    await settle();
    await vs.screenshot('03-planned-files');

    // Grouped by folder: the shared feature code under churn-service/common.
    const features = firstRows.findIndex((r) => r.label === 'features.py');
    expect(features, JSON.stringify(firstRows)).toBeGreaterThan(0);
    expect(firstRows.slice(0, features + 1).filter((r) => r.separator).at(-1)?.separator).toBe(`${OUT}/common`);

    // The user narrows the list to the files they care about.
    for (const file of ['app.py', 'steps.py', 'features.py', 'input.schema.json', 'churn_model.joblib']) {
      const rows = await filterPick(vs, file, (rs) => rs.some((r) => r.label === file));
      expect(rows.find((r) => r.label === file)!.description).toBe('new');
      // "Generate" stays in the list whatever the filter.
      expect(rows.some((r) => r.label === generate.label)).toBe(true);
      if (file === 'app.py') await vs.screenshot('04-filtered-app-py');
    }
    // What the generator left out of the notebook is listed too.
    const notes = await filterPick(vs, 'left out', (rs) => rs.some((r) => /left out/.test(r.label)));
    expect(notes.find((r) => /left out/.test(r.label))!.label).toMatch(/^Cell \d+: left out `.+`/);

    // Choosing a file row does not cancel silently: the list stays, pointing at Generate.
    await filterPick(vs, 'app.py', (rs) => rs.some((r) => r.label === 'app.py'));
    await quickInput(vs).locator('.quick-input-list .monaco-list-row').filter({ hasText: 'app.py' }).first().click({ force: true });
    await waitFor('the list pointing at the Generate row after a file row was chosen', async () =>
      ((await quickInput(vs).locator('.quick-input-box input').getAttribute('placeholder')) ?? '').startsWith(`Choose "${generate.label}" (the first row)`) || undefined,
    );
    expect(await quickInput(vs).isVisible()).toBe(true);
    expect(existsSync(outDir)).toBe(false);

    // Escape: nothing is written.
    await vs.page.keyboard.press('Escape');
    await quickInput(vs).waitFor({ state: 'hidden', timeout: 10_000 });
    expect(existsSync(outDir)).toBe(false);

    // Again, from the command palette this time; still nothing on disk while it asks. Choosing
    // app.py opened its preview, which is now the active editor: back to the notebook first, as
    // a user would (the palette offers the command for a notebook).
    await vs.tab(NOTEBOOK).click();
    await runFromPalette(vs, `nb2prod: ${ACTION}`);
    await acceptSuggestedFolder(vs);
    expect(existsSync(outDir)).toBe(false);
    const again = await waitForPlan(vs);
    expect(again.label).toBe(generate.label);
    expect(existsSync(outDir)).toBe(false);
    const started = Date.now();
    await quickInput(vs).locator('.quick-input-box input').press('Enter');
    await quickInput(vs).waitFor({ state: 'hidden', timeout: 10_000 });

    const done = await vs.waitForNotification(`nb2prod: Generated ${planned} files in ${OUT}.`, 120_000);
    const tookMs = Date.now() - started;
    expect(done.severity).toBe('info');
    expect(done.text).toContain('Run "make test" there, then "make serve".');
    const toast = vs.page.locator('.notification-list-item').filter({ hasText: `Generated ${planned} files` }).first();
    expect(await toast.getByRole('button', { name: 'Open README' }).count()).toBe(1);
    expect(await toast.getByRole('button', { name: 'Show Log' }).count()).toBe(1);
    // The golden sample ran with a progress notification of its own.
    expect(await seenNotifications(vs)).toContain("nb2prod: Computing golden predictions with the notebook's model…");

    expect(filesOnDisk(outDir)).toEqual(EXPECTED_FILES);
    const golden = JSON.parse(await readFile(path.join(outDir, 'tests', 'golden', 'sample.json'), 'utf8')) as { rows: { input: Record<string, unknown>; prediction: unknown }[] };
    expect(golden.rows.length).toBeGreaterThan(0);
    expect(Object.keys(golden.rows[0]!.input).length).toBeGreaterThan(0);
    const manifest = JSON.parse(await readFile(path.join(outDir, 'nb2prod-scaffold.json'), 'utf8')) as { files: Record<string, string> };
    // It lists every other generated file with its hash, to recognise the user's changes later.
    expect(Object.keys(manifest.files)).toHaveLength(planned - 1);
    expect(Object.keys(manifest.files).filter((f) => !existsSync(path.join(outDir, f)))).toEqual([]);
    expect(await readFile(path.join(outDir, 'common', 'features.py'), 'utf8')).toMatch(/def /);

    // The Explorer shows the new folder with its README.md revealed and selected.
    const explorer = await waitFor('README.md of churn-service selected in the Explorer', async () => {
      const rows = await explorerRows(vs);
      const folder = rows.findIndex((r) => r.label === OUT && r.level === 1);
      const readme = rows.findIndex((r) => r.label === 'README.md' && r.selected);
      if (folder < 0 || readme <= folder || rows[folder]!.expanded !== 'true' || rows[readme]!.level !== 2) return undefined;
      // README.md is a child of churn-service: no other top-level entry between them.
      return rows.slice(folder + 1, readme).every((r) => r.level >= 2) ? rows : undefined;
    }, 20_000);
    expect(explorer.filter((r) => r.selected).map((r) => r.label)).toEqual(['README.md']);
    await settle();
    await vs.screenshot('05-generated');

    const logs = Object.values(await vs.extensionLogs()).join('\n');
    expect(logs).toMatch(new RegExp(`Generated ${planned} files in ${outDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} from run \\w+`));
    expect(logs).toMatch(/Wrote tests\/golden\/sample\.json \(\d+ rows\)/);
    console.log(`e2e: ${planned} files generated and the golden sample computed in ${(tookMs / 1000).toFixed(1)} s (Generate → notification)`);

    // "Open README" on the result shows the generated README rendered.
    await vs.page.locator('.notification-list-item').filter({ hasText: `Generated ${planned} files` }).first().getByRole('button', { name: 'Open README' }).click();
    const preview = await vs.webviewFrame('churn: prediction service and training pipeline', 20_000);
    expect(await preview.locator('body').innerText()).toContain('make serve');
    await vs.tab('Preview README.md').waitFor({ state: 'visible', timeout: 10_000 });
    await settle();
    await vs.screenshot('06-readme-preview');
  });

  it('keeps a file the user changed when they answer Keep Mine', async () => {
    const vs = vscode();
    await vs.ensureFolder(workspace);
    await recordNotifications(vs);
    expect(existsSync(path.join(outDir, 'nb2prod-scaffold.json')), 'the project generated by the previous test').toBe(true);
    const featuresPath = path.join(outDir, 'common', 'features.py');
    const edited = `${await readFile(featuresPath, 'utf8')}\n# A threshold tuned by hand after the first deployment.\nREVIEW_THRESHOLD = 0.42\n`;
    await writeFile(featuresPath, edited);
    const others = ['service/app.py', 'pipeline/steps.py', 'contracts/input.schema.json', 'README.md'];
    const before = new Map(await Promise.all(others.map(async (f) => [f, await readFile(path.join(outDir, f), 'utf8')] as const)));
    await clearNotifications(vs);

    // This time from the Explorer's context menu on the notebook (the folder is collapsed first,
    // so the notebook's row is in view).
    await vs.openExplorer();
    await vs.runCommand('Collapse Folders in Explorer');
    const notebookRow = vs.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${NOTEBOOK}"]`);
    await notebookRow.click({ button: 'right' });
    const item = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: ACTION }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    if (!(await item.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await item.click();
    await acceptSuggestedFolder(vs);

    // Only the changed file differs from what was generated, and the list says so.
    const generate = await waitForPlan(vs);
    expect(generate.label).toBe('Generate 1 file');
    const rows = await filterPick(vs, 'features', (rs) => rs.some((r) => r.label === 'features.py'));
    expect(rows.find((r) => r.label === 'features.py')!.description).toBe('CHANGED BY YOU');
    await vs.screenshot('06-changed-by-you');
    await filterPick(vs, 'app.py', (rs) => rs.some((r) => r.label === 'app.py' && r.description === 'same as generated'));
    // Back to the whole list, "Generate" focused, and accept.
    await quickInput(vs).locator('.quick-input-box input').fill('');
    await waitForPlan(vs);
    await quickInput(vs).locator('.quick-input-box input').press('Enter');

    // A second, explicit question before a user's change is overwritten.
    const dialog = vs.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    const text = await dialog.innerText();
    expect(text).toContain('1 file changed since nb2prod generated it.');
    expect(text).toContain('common/features.py');
    await settle();
    await vs.screenshot('07-overwrite-or-keep');
    expect(await dialog.getByRole('button', { name: 'Overwrite' }).count()).toBe(1);
    await dialog.getByRole('button', { name: 'Keep Mine' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });

    // Nothing else changed: no golden sample is recomputed, and the message says what was kept.
    const done = await vs.waitForNotification([`nb2prod: ${OUT} is up to date with run`, 'kept your changes to common/features.py'], 120_000);
    expect(done.severity).toBe('info');
    expect(await readFile(featuresPath, 'utf8')).toBe(edited);
    for (const [file, content] of before) expect(await readFile(path.join(outDir, file), 'utf8'), file).toBe(content);
    expect(filesOnDisk(outDir)).toEqual(EXPECTED_FILES);
    // The manifest now records the user's version, so the next run still treats it as theirs.
    const manifest = JSON.parse(await readFile(path.join(outDir, 'nb2prod-scaffold.json'), 'utf8')) as { files: Record<string, string> };
    expect(manifest.files['common/features.py']).toMatch(/^user:/);
    const logs = Object.values(await vs.extensionLogs()).join('\n');
    expect(logs).toContain('kept common/features.py');
    await settle();
    await vs.screenshot('08-kept-mine');
  });
});
