/**
 * The notebook linter in a real VS Code: a notebook with an unseeded train_test_split shows
 * the diagnostic on the call (squiggle and Problems panel) and the problem count in the status
 * bar; the quick fix (Ctrl+.) adds random_state, the cell changes and the diagnostic goes away.
 * Editing a cell to introduce a problem shows it again, without saving. A notebook of ordinary
 * Python that a naive parser misreads (trailing-dot floats, a semicolon after an import, a
 * decorator with arguments) shows no error squiggle, while real hazards beside it still do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VsCodeSession, waitFor } from './harness';
import { useVsCode } from './useVsCode';

const NOTEBOOK = 'analysis.ipynb';
/** The problem of the df.sample() call the second test types; it stays in the notebook to the end. */
const isUnseededSample = (label: string): boolean => label.includes('sample') && label.includes('random_state');

function notebookJson(cells: string[]): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
      cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source: source.split(/(?<=\n)/) })),
    },
    null,
    1,
  );
}

async function openNotebook(vs: VsCodeSession, name = NOTEBOOK): Promise<void> {
  await vs.activityItem('nb2prod').waitFor({ state: 'visible', timeout: 30_000 });
  await vs.openExplorer();
  await vs.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).click();
  await vs.page.locator('.notebook-editor .notebook-toolbar-container').waitFor({ state: 'visible', timeout: 30_000 });
}

/**
 * The rows of the Problems panel (their aria-labels carry the message and source), read in one
 * go: the panel re-renders its rows whenever the diagnostics change, and reading them one by one
 * (count, then the i-th) waits out playwright's 30 s default on a row that has just gone.
 */
async function problemRows(vs: VsCodeSession): Promise<string[]> {
  return vs.page.locator('.markers-panel .monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));
}

/**
 * Waits until the Problems panel lists no problem matching `gone` while it still lists one
 * matching `kept`: the remaining problem shows that the panel lists the notebook's findings
 * after the fix, not an empty moment.
 */
async function waitForProblemGone(vs: VsCodeSession, what: string, gone: (label: string) => boolean, kept: (label: string) => boolean): Promise<void> {
  let rows: string[] = [];
  try {
    await waitFor(what, async () => {
      rows = await problemRows(vs);
      return !rows.some(gone) && rows.some(kept);
    }, 10_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; rows seen: ${JSON.stringify(rows)}`);
  }
}

/**
 * The text of the notebook's cell editors, top to bottom (Monaco renders spaces as U+00A0), read
 * in one go: an inserted cell re-renders the list, and its rows are ordered by where they show.
 */
async function cellTexts(vs: VsCodeSession): Promise<string[]> {
  return vs.page.locator('.notebook-editor .cell-list-container .monaco-editor .view-lines').evaluateAll((els) => els
    .map((el) => ({ top: el.getBoundingClientRect().top, text: (el as HTMLElement).innerText.replace(/\u00a0/g, ' ') }))
    .sort((a, b) => a.top - b.top)
    .map((e) => e.text));
}

/**
 * Clicks in a cell's code line at the middle of `word`, as a user clicks into the underlined
 * text. Monaco re-renders a line when its decorations change, so the line is looked up afresh
 * until it has a box. Monaco draws a monospace line: columns are proportional.
 */
async function clickInLine(vs: VsCodeSession, lineText: string, word: string): Promise<void> {
  const line = vs.page.locator('.notebook-editor .cell-list-container .monaco-editor .view-line').filter({ hasText: lineText }).first();
  const { box, text } = await waitFor(`the code line "${lineText}"`, async () => {
    const found = await line.boundingBox({ timeout: 1_000 }).catch(() => null);
    return found ? { box: found, text: ((await line.innerText({ timeout: 1_000 }).catch(() => '')) ?? '').replace(/\u00a0/g, ' ') } : undefined;
  }, 10_000);
  const column = text.indexOf(word) + word.length / 2;
  await vs.page.mouse.click(box.x + (box.width * column) / Math.max(text.length, 1), box.y + box.height / 2);
}

/** The linter's status bar entry: its aria-label (the counts in words), or its text. */
async function statusText(vs: VsCodeSession): Promise<string> {
  const items = vs.page.locator('#nb2prod\\.nb2prod\\.lintStatus, [id$="nb2prod.lintStatus"]');
  const texts = await items.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? (el as HTMLElement).innerText));
  return texts[0] ?? '';
}

describe('Lint notebooks', () => {
  const vscode = useVsCode({ suite: 'lint' });
  let root = '';
  let workspace = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-lint-'));
    workspace = path.join(root, 'project');
    await import('node:fs/promises').then((fs) => fs.mkdir(workspace));
    await writeFile(path.join(workspace, 'requirements.txt'), 'pandas==2.2.2\nscikit-learn==1.5.1\n');
    // The interpreter whose installed versions the "pin" fix offers (Debian's, with pandas).
    await import('node:fs/promises').then((fs) => fs.mkdir(path.join(workspace, '.vscode')));
    await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'nb2prod.pythonPath': '/usr/bin/python3' }));
    await writeFile(
      path.join(workspace, NOTEBOOK),
      notebookJson([
        'import pandas as pd\nfrom sklearn.model_selection import train_test_split',
        'df = pd.DataFrame({"x": list(range(10)), "y": [0, 1] * 5})',
        'X_train, X_test, y_train, y_test = train_test_split(df[["x"]], df["y"], test_size=0.3)',
      ]),
    );
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the unseeded train_test_split on the call, fixes it with the quick fix, and the diagnostic goes away', async () => {
    const vs = vscode();
    await vs.ensureFolder(workspace);
    await openNotebook(vs);

    // The diagnostic is underlined in the third cell and listed in the Problems panel.
    await vs.page.keyboard.press('Control+Shift+M');
    const problem = await waitFor(
      'the unseeded-random problem in the Problems panel',
      async () => (await problemRows(vs)).find((label) => label.includes('train_test_split') && label.includes('random_state')),
      30_000,
    );
    expect(problem).toMatch(/nb2prod/);
    const squiggle = vs.page.locator('.notebook-editor .cell-list-container .monaco-editor .squiggly-warning');
    await squiggle.first().waitFor({ state: 'attached', timeout: 10_000 });
    // The status bar is updated by its own message from the extension: wait for it, do not race it.
    await waitFor('the problem count (1) in the status bar', async () => /1/.test(await statusText(vs)), 10_000);
    await vs.screenshot('01-diagnostic');

    // Put the cursor on the underlined call, as a user would, and open the quick fixes (Ctrl+.).
    await clickInLine(vs, 'train_test_split(df', 'train_test_split');
    await vs.page.keyboard.press('Control+.');
    const fix = vs.page.locator('.action-widget .monaco-list-row.action:visible').filter({ hasText: 'random_state' }).first();
    await fix.waitFor({ state: 'visible', timeout: 10_000 });
    await vs.screenshot('02-quick-fix-menu');
    expect(await vs.page.locator('.action-widget .monaco-list-row.action:visible').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/Ignore unseeded-random on this line/)]));
    // The widget's rows never count as "stable" for playwright (Monaco re-lays them out each
    // frame while the menu is open), so click at the row without that wait: still a real click.
    await fix.click({ force: true });

    const fixed = await waitFor('the cell with random_state', async () => (await cellTexts(vs)).find((text) => text.includes('train_test_split(') && text.includes('random_state=')), 10_000);
    expect(fixed).toMatch(/train_test_split\(df\[\["x"\]\], df\["y"\], test_size=0\.3, random_state=\d+\)/);
    // Gone from the Problems panel, and the status bar (updated after the new diagnostics) agrees.
    await waitFor('the problem to disappear and the status bar to say "nothing"', async () =>
      !(await problemRows(vs)).some((label) => label.includes('train_test_split')) && /found nothing/.test(await statusText(vs)), 10_000);
    await vs.screenshot('03-fixed');
  });

  it('re-lints as the user types: a new unseeded call is reported without saving', async () => {
    const vs = vscode();
    const lastCell = vs.page.locator('.notebook-editor .cell-list-container .monaco-editor').last();
    await lastCell.click();
    await vs.page.keyboard.press('Control+End');
    await vs.page.keyboard.press('Enter');
    await vs.page.keyboard.type('sample = df.sample(frac=0.5)', { delay: 5 });
    const problem = await waitFor('the new sample() problem in the Problems panel', async () => (await problemRows(vs)).find(isUnseededSample), 15_000);
    expect(problem).toBeTruthy();
    await vs.screenshot('04-relinted-while-typing');
  });

  it('inserts a seed cell at the top for an unseeded global generator', async () => {
    const vs = vscode();
    const lastCell = vs.page.locator('.notebook-editor .cell-list-container .monaco-editor').last();
    await lastCell.click();
    await vs.page.keyboard.press('Control+End');
    await vs.page.keyboard.press('Enter');
    await vs.page.keyboard.type('import random', { delay: 5 });
    // The line break goes in as text: an Enter key could be taken by the suggestion widget, and
    // Escape (to close it) leaves the cell editor when the widget has not opened yet.
    await vs.page.keyboard.insertText('\nnoise = random.random()');
    await waitFor('the random.random() problem', async () => (await problemRows(vs)).find((label) => label.includes('random.random')), 15_000);
    await clickInLine(vs, 'noise = random.random()', 'random.random');
    await vs.page.keyboard.press('Control+.');
    const fix = vs.page.locator('.action-widget .monaco-list-row.action:visible').filter({ hasText: 'seed cell' }).first();
    await fix.waitFor({ state: 'visible', timeout: 10_000 });
    await vs.screenshot('05-seed-cell-fix');
    await fix.click({ force: true });
    const first = await waitFor('a seed cell first in the notebook', async () => {
      const texts = await cellTexts(vs);
      return texts.length === 4 && texts[0]!.includes('random.seed(0)') ? texts[0] : undefined;
    }, 10_000);
    expect(first).toContain('import random');
    await waitForProblemGone(vs, 'the random.random() problem to disappear', (label) => label.includes('random.random'), isUnseededSample);
    await vs.screenshot('06-seed-cell-inserted');
  });

  it('pins an unpinned %pip install to the version installed in the interpreter', async () => {
    const vs = vscode();
    const installed = execFileSync('/usr/bin/python3', ['-c', 'import importlib.metadata as m; print(m.version("pandas"))'], { encoding: 'utf8' }).trim();
    const lastCell = vs.page.locator('.notebook-editor .cell-list-container .monaco-editor').last();
    await lastCell.click();
    await vs.page.keyboard.press('Control+End');
    await vs.page.keyboard.press('Enter');
    await vs.page.keyboard.type('%pip install pandas', { delay: 5 });
    await waitFor('the unpinned install problem', async () => (await problemRows(vs)).find((label) => label.includes('installed without an exact version')), 15_000);
    // The installed versions arrive from Python after the first finding: the fix may take a moment.
    const fix = await waitFor('the "Pin pandas" fix', async () => {
      // Click on "pandas" (the underlined word), then ask for the quick fixes.
      await clickInLine(vs, '%pip install pandas', 'pandas');
      await vs.page.keyboard.press('Control+.');
      const row = vs.page.locator('.action-widget .monaco-list-row.action:visible').filter({ hasText: 'Pin pandas' }).first();
      const shown = await row.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false);
      if (!shown) await vs.page.keyboard.press('Escape'); // close the menu without the fix; try again
      return shown ? row : undefined;
    }, 30_000, 500);
    expect(await fix.innerText()).toContain(installed);
    await vs.screenshot('07-pin-fix');
    await fix.click({ force: true });
    await waitFor('the pinned install in the cell', async () => (await cellTexts(vs)).some((text) => text.includes(`%pip install pandas==${installed}`)), 10_000);
    await waitForProblemGone(vs, 'the unpinned install problem to disappear', (label) => label.includes('installed without an exact version'), isUnseededSample);
  });
});

/**
 * Per code cell, top to bottom: its text and how many error and warning squiggles it shows.
 * Each cell editor is read with its own squiggles, so a cell is recognised by its text.
 */
async function cellSquiggles(vs: VsCodeSession): Promise<Array<{ text: string; errors: number; warnings: number }>> {
  // In one go, for the reason given at problemRows.
  return vs.page.locator('.notebook-editor .cell-list-container .monaco-editor').evaluateAll((els) => els
    .map((el) => ({
      top: el.getBoundingClientRect().top,
      text: ((el.querySelector('.view-lines') as HTMLElement | null)?.innerText ?? '').replace(/\u00a0/g, ' '),
      errors: el.querySelectorAll('.squiggly-error').length,
      warnings: el.querySelectorAll('.squiggly-warning').length,
    }))
    .sort((a, b) => a.top - b.top)
    .map(({ top: _top, ...cell }) => cell));
}

/** Problems-panel rows (their aria-labels: "Error: MESSAGE at line L and character C. generated by nb2prod"). */
const isUseAboveDefinition = (label: string): boolean => label.startsWith('Error:') && label.includes('`total`') && /cell 5/.test(label);
const isSyntaxError = (label: string): boolean => label.startsWith('Error:') && /parse|syntax/i.test(label) && /at line 1 and character/.test(label);

describe('Lint notebooks: no false errors on ordinary Python', () => {
  const vscode = useVsCode({ suite: 'lint-false-errors' });
  const FILE = 'ordinary.ipynb';
  let root = '';
  let workspace = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-lint-fp-'));
    workspace = path.join(root, 'project');
    await import('node:fs/promises').then((fs) => fs.mkdir(workspace));
    await writeFile(
      path.join(workspace, FILE),
      notebookJson([
        // A semicolon after an import, then a call on the same line.
        'import functools\nimport math; math.sqrt(2)',
        // Floats written with a trailing dot.
        'y = 2.\nbins = [0., 1.5]\nprint(y, bins)',
        // A decorator with arguments.
        '@functools.lru_cache(maxsize=None)\ndef square(n):\n    return n * n\n\nsquare(3)',
        // Real hazards: a name used above the cell that defines it, and a real syntax error.
        'print(total)',
        'total = square(4)',
        'if total > 3 print("big")',
      ]),
    );
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows no error squiggle on trailing-dot floats, a semicolon import or a decorator with arguments, and still shows the real hazards', async () => {
    const vs = vscode();
    await vs.ensureFolder(workspace);
    await openNotebook(vs, FILE);
    await vs.page.keyboard.press('Control+Shift+M');

    // The linter has run over the whole notebook once both real hazards are listed.
    const rows = await waitFor(
      'the use above its definition and the syntax error in the Problems panel',
      async () => {
        const labels = await problemRows(vs);
        return labels.some(isUseAboveDefinition) && labels.some(isSyntaxError) ? labels : undefined;
      },
      30_000,
    );
    // The hazard in the fourth cell is underlined in red; the cells above it (on screen with it:
    // cells further down may not be rendered while the panel is open) have no error squiggle.
    const cells = await waitFor(
      'the error squiggle on print(total)',
      async () => {
        const now = await cellSquiggles(vs);
        return now.find((c) => c.text.includes('print(total)'))?.errors ? now : undefined;
      },
      10_000,
    );
    // Diagnostics of one notebook are set together; give Monaco a moment to draw every cell's.
    await vs.page.waitForTimeout(1_000);
    const settled = await cellSquiggles(vs);
    await vs.screenshot('01-ordinary-python');
    const ordinary = settled.filter((c) => /math\.sqrt|bins = |lru_cache/.test(c.text));
    expect(ordinary).toHaveLength(3);
    expect(ordinary.map((c) => ({ cell: c.text.split('\n')[0], errors: c.errors }))).toEqual(ordinary.map((c) => ({ cell: c.text.split('\n')[0], errors: 0 })));
    expect(cells.find((c) => c.text.includes('print(total)'))!.errors).toBeGreaterThan(0);

    // The Problems panel says the same: two errors, the hazards, nothing about the ordinary cells.
    const errors = rows.filter((l) => l.startsWith('Error:'));
    expect(errors, `the errors listed: ${JSON.stringify(errors)}`).toHaveLength(2);
    expect(errors.filter(isUseAboveDefinition)).toHaveLength(1);
    expect(errors.filter(isSyntaxError)).toHaveLength(1);
    for (const name of ['`math`', '`lru_cache`', '`maxsize`', '`functools`', '`bins`', '`y`']) expect(rows.filter((l) => l.includes(name))).toEqual([]);
  });
});
