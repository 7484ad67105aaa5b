/**
 * Drives a real VS Code (code-server 4.100.3 = VS Code 1.100.3) from headless Chromium through
 * playwright-core, with the packaged nb2prod VSIX installed. Desktop VS Code cannot be downloaded
 * on this machine, so @vscode/test-electron is not an option; code-server runs the same workbench
 * and extension host. One code-server per test file; each test opens the folder it needs.
 *
 * Prerequisites: `bash scripts/provision-e2e.sh` (Chromium, code-server) and
 * `npm run package` (the VSIX). Missing ones make the tests fail with the script to run.
 *
 * On a loaded machine (CI shares two cores) the workbench lags the test by seconds, so the tests
 * wait for what a user would see, never for a time: a list's rows are read in one go
 * (evaluateAll), not counted and then fetched one by one (a row gone in between makes playwright
 * wait out its 30 s default); text goes into a quick input only once the one with the expected
 * title shows and is ready (quickInputTitled, answerInputBox, chooseInFileDialog); and a change
 * is awaited together with a sign that the view settled (a row that stays, the status bar).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CODE_SERVER_ENTRY = path.join(REPO_ROOT, '.cache', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM_PATH = process.env.NB2PROD_CHROMIUM ?? '/usr/bin/chromium';
export const DEFAULT_VSIX = process.env.NB2PROD_VSIX ?? path.join(REPO_ROOT, '.cache', 'vsix', 'nb2prod.vsix');
export const ARTIFACTS_ROOT = path.join(REPO_ROOT, 'test-artifacts', 'e2e');

/** The flags from ENVIRONMENT.md; a fresh profile comes from playwright's temporary user-data dir. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * User settings that keep the workbench free of popups that would cover what the tests look at
 * or steal keyboard focus (welcome page, tips, trust dialog, recommendations, git prompts).
 */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'editor.accessibilitySupport': 'off',
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
};

export type WorkspaceTrust = 'disabled' | 'restricted';

export interface LaunchOptions {
  /** Folder name under test-artifacts/e2e for screenshots until a test is selected. */
  suite: string;
  /** 'disabled' (default): no trust at all. 'restricted': trust on, folder opens in Restricted Mode without the modal. */
  workspaceTrust?: WorkspaceTrust;
  /** Extra user settings, merged over QUIET_SETTINGS. */
  settings?: Record<string, unknown>;
  vsix?: string;
}

/** Fails with the missing piece and the script that provides it; never lets a test skip. */
export function checkPrerequisites(vsix = DEFAULT_VSIX): void {
  const missing: string[] = [];
  if (!existsSync(CODE_SERVER_ENTRY)) {
    missing.push(`code-server ${CODE_SERVER_VERSION} (expected ${path.relative(REPO_ROOT, CODE_SERVER_ENTRY)}): run bash scripts/provision-e2e.sh`);
  }
  if (!existsSync(CHROMIUM_PATH)) missing.push(`Chromium (${CHROMIUM_PATH}): run bash scripts/provision-e2e.sh`);
  if (!existsSync(vsix)) missing.push(`the VSIX (${path.relative(REPO_ROOT, vsix)}): run npm run package`);
  if (missing.length) throw new Error(`e2e prerequisites missing:\n  - ${missing.join('\n  - ')}`);
}

/** A port the OS just handed out on loopback; code-server binds it right after. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'test';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value other than undefined/false, or throws with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Installs the VSIX with code-server's own CLI, the way a user would. */
function installVsix(vsix: string, dirs: { userData: string; extensions: string }, env: NodeJS.ProcessEnv): void {
  const r = spawnSync(process.execPath, [
    CODE_SERVER_ENTRY, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
    '--install-extension', vsix, '--force',
  ], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
}

export interface Notification {
  severity: 'info' | 'warning' | 'error';
  text: string;
}

export interface TreeRow {
  label: string;
  description: string;
  ariaLabel: string;
}

/** One code-server + one Chromium, shared by the tests of a file. */
export class VsCodeSession {
  /** The folder currently open in the workbench, if any. */
  folder: string | undefined;
  page!: Page;
  private testDir: string;
  private readonly consoleLines: string[] = [];

  private constructor(
    readonly port: number,
    readonly tempDir: string,
    readonly serverLog: string,
    private readonly server: ChildProcess,
    readonly browser: Browser,
    suite: string,
  ) {
    this.testDir = path.join(ARTIFACTS_ROOT, slug(suite));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get userDataDir(): string {
    return path.join(this.tempDir, 'user-data');
  }

  /** Starts code-server with the VSIX installed and a Chromium pointed at nothing yet. */
  static async launch(options: LaunchOptions): Promise<VsCodeSession> {
    const vsix = options.vsix ?? DEFAULT_VSIX;
    checkPrerequisites(vsix);
    const tempDir = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-'));
    const dirs = {
      userData: path.join(tempDir, 'user-data'),
      extensions: path.join(tempDir, 'extensions'),
      config: path.join(tempDir, 'xdg-config'),
      data: path.join(tempDir, 'xdg-data'),
      cache: path.join(tempDir, 'xdg-cache'),
      workspaces: path.join(tempDir, 'workspaces'),
    };
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
    const trust = options.workspaceTrust ?? 'disabled';
    const settings: Record<string, unknown> = { ...QUIET_SETTINGS, ...options.settings };
    if (trust === 'restricted') {
      settings['security.workspace.trust.enabled'] = true;
      // No modal: the folder opens in Restricted Mode, which is what an untrusted-folder test checks.
      settings['security.workspace.trust.startupPrompt'] = 'never';
      settings['security.workspace.trust.untrustedFiles'] = 'open';
    }
    await mkdir(path.join(dirs.userData, 'User'), { recursive: true });
    await writeFile(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

    // Own XDG_* dirs: nothing from the machine's own code-server config or state leaks in.
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, XDG_CACHE_HOME: dirs.cache };
    // The extension host inherits this env: it must not see the test runner (NODE_ENV=test, VITEST*)
    // or a VS Code the tests happen to be started from (VSCODE_*), or it would not run as for a user;
    // code-server would prefer $PORT to --bind-addr.
    for (const key of Object.keys(env)) {
      if (key === 'NODE_ENV' || key === 'PORT' || key.startsWith('VITEST') || key.startsWith('VSCODE_') || key === 'TEST') delete env[key];
    }
    try {
      installVsix(vsix, { userData: dirs.userData, extensions: dirs.extensions }, env);
    } catch (err) {
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }

    const serverLog = path.join(tempDir, 'code-server.log');
    let server: ChildProcess | undefined;
    let port = 0;
    // A free port can be taken between probing and binding: another port is tried if code-server exits.
    for (let attempt = 1; attempt <= 3 && !server; attempt++) {
      port = await freePort();
      const fd = openSync(serverLog, 'a');
      const child = spawn(process.execPath, [
        CODE_SERVER_ENTRY,
        '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
        '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
        ...(trust === 'disabled' ? ['--disable-workspace-trust'] : []),
        '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
        '--ignore-last-opened',
      ], { env, stdio: ['ignore', fd, fd], detached: true });
      closeSync(fd);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      let dead = false;
      void exited.then(() => { dead = true; });
      try {
        await waitFor(`code-server /healthz on port ${port}`, async () => {
          if (dead) throw new Error('code-server exited');
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return res?.ok === true;
        }, 30_000, 100);
        server = child;
      } catch (err) {
        killGroup(child);
        if (attempt === 3 || !dead) {
          await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
          throw new Error(`code-server did not start: ${(err as Error).message}\n--- code-server log ---\n${tail(serverLog)}`);
        }
      }
    }

    let browser: Browser;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    } catch (err) {
      killGroup(server!);
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      throw new Error(`Chromium (${CHROMIUM_PATH}) did not start: ${(err as Error).message}`);
    }
    return new VsCodeSession(port, tempDir, serverLog, server!, browser, options.suite);
  }

  /** Artifacts of the following screenshots/failure go to test-artifacts/e2e/<name>/, emptied first. */
  async useTest(name: string): Promise<void> {
    this.testDir = path.join(ARTIFACTS_ROOT, slug(name));
    await rm(this.testDir, { recursive: true, force: true });
  }

  /** A fresh empty folder under the session's temp dir (removed at teardown). */
  async makeWorkspace(name: string): Promise<string> {
    const dir = path.join(this.tempDir, 'workspaces', slug(name));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Opens `folder` in a fresh page (a new page rather than a navigation: no unload prompts and no
   * state from the previous folder) and waits for the workbench to be usable.
   */
  async openFolder(folder: string): Promise<void> {
    if (this.page && !this.page.isClosed()) await this.page.context().close();
    const context = await this.browser.newContext({ viewport: { width: 1440, height: 900 } });
    this.page = await context.newPage();
    this.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.consoleLines.push(`[${m.type()}] ${m.text()}`);
    });
    this.page.on('pageerror', (e) => this.consoleLines.push(`[pageerror] ${e.message}`));
    this.consoleLines.push(`--- open ${folder}`);
    await this.page.goto(`${this.baseUrl}?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.part.activitybar .action-item').first().waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
    this.folder = folder;
  }

  /** Opens `folder` unless it is already the open one (tests of a file share the page). */
  async ensureFolder(folder: string): Promise<void> {
    if (this.folder !== folder || !this.page || this.page.isClosed()) await this.openFolder(folder);
  }

  /** The activity-bar entry of a view container, by the start of its aria-label (its title). */
  activityItem(title: string): Locator {
    // VS Code 1.100 puts the label on the <a> inside the tab (the <li> has an empty aria-label).
    const t = cssString(title);
    return this.page.locator(`.part.activitybar .action-item[aria-label^="${t}"], .part.activitybar .action-item:has(> a[aria-label^="${t}"])`).first();
  }

  /**
   * Shows a view container in the side bar. Clicking a selected item hides the side bar, and the
   * extension may reveal its own view at any moment (after a run it selects the new run), so this
   * converges instead of clicking once: it clicks only while the container is not showing, and
   * re-checks after each click.
   */
  async openViewContainer(title: string): Promise<void> {
    const item = this.activityItem(title);
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    const showing = async () =>
      ((await item.getAttribute('aria-selected')) === 'true' || /\bchecked\b/.test((await item.getAttribute('class')) ?? '')) &&
      (await this.page.locator('.part.sidebar').isVisible());
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (await showing()) return;
      await item.click();
      // Park the mouse on the title bar: the item's hover tooltip would cover the side bar in screenshots.
      await this.page.mouse.move(this.page.viewportSize()!.width / 2, 5);
      const settle = Date.now() + 2_000;
      while (Date.now() < settle && !(await showing())) await this.page.waitForTimeout(100);
    }
    throw new Error(`Timed out after 20000 ms waiting for the "${title}" view container to show`);
  }

  /**
   * Shows the Explorer by clicking its activity-bar item: a keyboard shortcut is lost when the
   * focus is inside a webview (a run page, a panel), which swallows the keys.
   */
  async openExplorer(): Promise<void> {
    await this.openViewContainer('Explorer');
    await this.page.locator('.explorer-folders-view').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /**
   * The pane of a view in the side bar, by its title. The header keeps its aria-label
   * ("<title> Section") even when VS Code hides it because the container holds a single view.
   */
  view(title: string): Locator {
    return this.page.locator(`.part.sidebar .pane:has(> .pane-header[aria-label="${cssString(title)} Section"])`).first();
  }

  /** The rows a view's tree shows right now (label, description, aria-label). */
  async treeRows(viewTitle: string): Promise<TreeRow[]> {
    const rows = this.view(viewTitle).locator('.monaco-list-row');
    return rows.evaluateAll((els) => els.map((el) => ({
      label: el.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: el.querySelector('.label-description')?.textContent?.trim() ?? '',
      ariaLabel: el.getAttribute('aria-label') ?? '',
    })));
  }

  /**
   * Waits until the view lists a row for each label and the rows stopped changing: rows load
   * asynchronously after activation and may re-render once more (descriptions, sorting), and a
   * click on a row that is being replaced can be lost.
   */
  async waitForTreeRows(viewTitle: string, labels: string[], timeoutMs = 30_000): Promise<TreeRow[]> {
    let previous = '';
    let seen: TreeRow[] = [];
    try {
      return await waitFor(`rows ${JSON.stringify(labels)} in the "${viewTitle}" view`, async () => {
        seen = await this.treeRows(viewTitle);
        const key = JSON.stringify(seen);
        const stable = key === previous;
        previous = key;
        return stable && labels.every((l) => seen.some((r) => r.label === l)) ? seen : undefined;
      }, timeoutMs, 300);
    } catch (err) {
      throw new Error(`${(err as Error).message}; rows seen: ${JSON.stringify(seen.map((r) => r.ariaLabel))}`);
    }
  }

  treeRow(viewTitle: string, label: string): Locator {
    return this.view(viewTitle).locator('.monaco-list-row').filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }),
    }).first();
  }

  /** An editor tab by its exact title. */
  tab(title: string): Locator {
    return this.page.locator('.part.editor .tabs-container .tab').filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
    }).first();
  }

  /**
   * The frame whose body text contains `text`. Webview content lives two iframes deep
   * (iframe.webview > #active-frame), and page.frames() flattens that nesting.
   */
  async webviewFrame(text: string, timeoutMs = 20_000): Promise<Frame> {
    return waitFor(`a webview frame containing "${text}"`, async () => {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame()) continue;
        const body = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (body.includes(text)) return frame;
      }
      return undefined;
    }, timeoutMs, 250);
  }

  /** The notifications shown as toasts or kept in the notification center (full text, not the ellipsis). */
  async notifications(): Promise<Notification[]> {
    return this.page.locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item')
      .evaluateAll((els) => els.map((el) => {
        const icon = el.querySelector('.notification-list-item-icon')?.className ?? '';
        const severity = /codicon-error/.test(icon) ? 'error' : /codicon-warning/.test(icon) ? 'warning' : 'info';
        const message = el.querySelector('.notification-list-item-message') as HTMLElement | null;
        return { severity, text: (message ?? (el as HTMLElement)).innerText.replace(/\s+/g, ' ').trim() } as const;
      }));
  }

  /**
   * Waits for a notification containing every string of `texts`. Toasts hide after ~15 s
   * (sooner when another notification arrives), so after a while the center is opened too.
   */
  async waitForNotification(texts: string | string[], timeoutMs = 30_000): Promise<Notification> {
    const wanted = Array.isArray(texts) ? texts : [texts];
    const match = async (): Promise<Notification | undefined> => (await this.notifications()).find((n) => wanted.every((t) => n.text.includes(t)));
    const early = await waitFor('', match, Math.min(timeoutMs, 8_000)).catch(() => undefined);
    if (early) return early;
    if (!(await this.page.locator('.notifications-center.visible').isVisible())) {
      await this.runCommand('Notifications: Show Notifications');
    }
    return waitFor(`a notification containing ${JSON.stringify(wanted)} (seen: ${JSON.stringify(await this.notifications())})`, match, Math.max(timeoutMs - 8_000, 2_000));
  }

  /**
   * Opens the command palette with F1. A webview that has the focus can swallow the key: then
   * the focus is moved to the workbench (a click on the title bar) and F1 pressed again.
   */
  async openCommandPalette(): Promise<Locator> {
    const widget = this.page.locator('.quick-input-widget');
    await this.page.keyboard.press('F1');
    try {
      await widget.waitFor({ state: 'visible', timeout: 3_000 });
    } catch {
      await this.page.mouse.click(this.page.viewportSize()!.width / 2, 12);
      await this.page.keyboard.press('F1');
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
    }
    return widget;
  }

  /** Runs a command by its palette title: F1, type, wait for the exact entry, Enter. */
  async runCommand(title: string): Promise<void> {
    const widget = await this.openCommandPalette();
    const input = widget.locator('.quick-input-box input');
    await input.fill(`>${title}`);
    // Enter before the list has filtered would run whatever was first (often a recent command).
    await this.waitForFocusedPick(title);
    await input.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /**
   * Waits until the row of the quick pick that Enter would accept (the focused one) starts with
   * `label`. The rows are read in one go: a locator action on a row that the list replaces
   * while it filters would wait out playwright's 30 s default instead of looking again.
   */
  async waitForFocusedPick(label: string, timeoutMs = 10_000): Promise<void> {
    const rows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    let seen: string[] = [];
    try {
      await waitFor(`"${label}" focused in the quick pick`, async () => {
        const now = await rows.evaluateAll((els) => els.map((el) => `${el.classList.contains('focused') ? '*' : ''}${el.getAttribute('aria-label') ?? ''}`));
        seen = now;
        return now.some((l) => l.startsWith('*') && l.slice(1).toLowerCase().startsWith(label.toLowerCase()));
      }, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; rows seen (* = focused): ${JSON.stringify(seen.slice(0, 5))}`);
    }
  }

  /**
   * The quick input (pick or input box) whose title is `title`, once it shows. Every quick pick
   * and input box shares one widget and one input element: "an input is visible" is also true of
   * the step before, and text typed there is lost when the next step replaces it.
   */
  async quickInputTitled(title: string, timeoutMs = 20_000): Promise<Locator> {
    const widget = this.page.locator('.quick-input-widget');
    await waitFor(`the quick input titled "${title}"`, async () =>
      (await widget.isVisible()) && (await widget.locator('.quick-input-title').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()))).includes(title), timeoutMs);
    return widget;
  }

  /**
   * Answers the input box (vscode.window.showInputBox) titled `title`: types `text` once that
   * box shows, checks the text is in it, presses Enter and waits for the box to go.
   */
  async answerInputBox(title: string, text: string): Promise<void> {
    const widget = await this.quickInputTitled(title);
    const input = widget.locator('.quick-input-box input');
    await input.fill(text);
    await waitFor(`"${text}" in the input box "${title}"`, async () => (await input.inputValue()) === text, 5_000);
    await input.press('Enter');
    await this.quickInputGone(title);
  }

  /**
   * Picks `file` in VS Code's own file dialog (the "simple" one a browser workbench shows),
   * titled `title`. The dialog opens showing the parent of its start folder, then lists the start
   * folder and sets its path into the input box. Typed text that arrives before that listing is
   * overwritten by the folder's path (VS Code's dialog does so on its first navigation), so the
   * path is typed only once the dialog lists the file's folder, which must be the one it starts
   * in (the caller's defaultUri).
   */
  async chooseInFileDialog(title: string, file: string): Promise<void> {
    const widget = await this.quickInputTitled(title);
    const input = widget.locator('.quick-input-box input');
    const folder = `${path.dirname(file)}/`;
    let state = { value: '', rows: [] as string[] };
    try {
      await waitFor(`the file dialog to list ${folder}`, async () => {
        state = {
          value: await input.inputValue(),
          rows: await widget.locator('.quick-input-list .monaco-list-row .label-name').evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim())),
        };
        // The rows and the folder's path are set together when the listing is done (an empty
        // list before; the folder has at least "..", and the list may show only its start).
        return state.value === folder && state.rows.length > 0;
      }, 20_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the dialog shows ${JSON.stringify(state)}`);
    }
    await input.fill(file);
    await waitFor(`"${file}" in the file dialog`, async () => (await input.inputValue()) === file, 5_000);
    await input.press('Enter');
    await this.quickInputGone(title);
  }

  /** Waits until the quick input titled `title` is no longer showing (accepted, or replaced by the next step). */
  private async quickInputGone(title: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const showing = async (): Promise<boolean> =>
      (await widget.isVisible()) && (await widget.locator('.quick-input-title').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()))).includes(title);
    try {
      await waitFor(`the quick input "${title}" to close`, async () => !(await showing()), 10_000);
    } catch (err) {
      const message = await widget.locator('.quick-input-message').innerText({ timeout: 1_000 }).catch(() => '');
      const value = await widget.locator('.quick-input-box input').inputValue({ timeout: 1_000 }).catch(() => '');
      throw new Error(`${(err as Error).message} (input "${value}", message "${message}")`);
    }
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(this.testDir, { recursive: true });
    const file = path.join(this.testDir, `${slug(name)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * After a failure: a screenshot, the code-server log, VS Code's own logs (extension host,
   * output channels such as the extension's log) and the browser console, beside the screenshots.
   */
  async saveFailureArtifacts(): Promise<string> {
    await mkdir(this.testDir, { recursive: true });
    if (this.page && !this.page.isClosed()) {
      await this.page.screenshot({ path: path.join(this.testDir, 'failure.png') }).catch(() => undefined);
      const dom = await this.page.evaluate(() => document.body.innerText).catch(() => '');
      await writeFile(path.join(this.testDir, 'failure-text.txt'), dom);
    }
    await cp(this.serverLog, path.join(this.testDir, 'code-server.log')).catch(() => undefined);
    await writeFile(path.join(this.testDir, 'browser-console.log'), this.consoleLines.join('\n'));
    const logs = path.join(this.userDataDir, 'logs');
    if (existsSync(logs)) await cp(logs, path.join(this.testDir, 'vscode-logs'), { recursive: true }).catch(() => undefined);
    return this.testDir;
  }

  /** The extension's own output-channel logs (e.g. "nb2prod"), for assertions or diagnostics. */
  async extensionLogs(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (/nb2prod/i.test(e.name) && statSync(p).size > 0) out[path.relative(this.userDataDir, p)] = readFileSync(p, 'utf8');
      }
    };
    await walk(path.join(this.userDataDir, 'logs'));
    return out;
  }

  /** Kills code-server (its whole process group: extension host, pty host, watcher) and Chromium. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    killGroup(this.server);
    await waitFor('code-server to exit', () => this.server.exitCode !== null || this.server.signalCode !== null, 5_000, 100)
      .catch(() => { try { process.kill(-this.server.pid!, 'SIGKILL'); } catch { /* already gone */ } });
    if (!process.env.NB2PROD_E2E_KEEP) await rm(this.tempDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function killGroup(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

function cssString(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
