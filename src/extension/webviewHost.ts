/**
 * The WebviewHost: the one way every nb2prod panel (run and diff pages, Compare, Drift,
 * Readiness, the experiments table) is created, talked to, restored and disposed. Each panel declares a `PanelKind` — its view type, bundle, styles and three zod
 * schemas (messages from the page, messages to the page, the state the page keeps) — and the
 * host provides:
 *
 * - the strict CSP shell (webviewPage.ts: nonce script, nothing remote, no inline styles,
 *   resources only from dist/webviews and media/);
 * - messages validated both ways: a page's message is parsed before any handler sees it (an
 *   invalid one is logged and dropped), and a message to the page is parsed before it is posted
 *   (a bug in the extension shows as an error in the log and the page, not as a broken drawing);
 * - the `ready` handshake: a page's script says when it listens, after every load (a hidden page
 *   without retained context is reloaded when shown again), and the panel sends its data then;
 * - restore after a window reload: one serializer per view type, the saved state parsed with the
 *   kind's state schema (anything else closes the panel rather than guessing);
 * - the theme broadcast: every open page hears of a colour theme change (pages also watch the
 *   body's theme class themselves: webviews/shared/host.ts), so charts redraw in the new colours;
 * - disposal: a panel's subscriptions go with it, and every panel goes with the extension.
 *
 * A panel keeps only its own logic: what to compute, what to do with each message.
 */
import * as vscode from 'vscode';
import type * as z from 'zod/mini';
import { checkToPage, type HostToPage, readFromPage, type ThemeKind } from '../protocol/host';
import { reportError } from './errors';
import { webviewPage, webviewResourceRoots } from './webviewPage';

export interface PanelKind<FromPage, ToPage, State> {
  viewType: string;
  /** Bundle name in dist/webviews (without .js). */
  script: string;
  /** File names in media/. */
  styles: string[];
  fromPage: z.ZodMiniType<FromPage>;
  toPage: z.ZodMiniType<ToPage>;
  state: z.ZodMiniType<State>;
  /** Name in logs and error messages ("Compare panel"). */
  name: string;
}

export interface OpenOptions {
  title: string;
  /** Server-rendered HTML for the page body (escaped by the renderer); client pages get a placeholder. */
  body?: string;
  /** Attributes of <body>, already escaped. */
  bodyAttributes?: string;
  /** A panel being restored by the serializer, to fill instead of creating one. */
  restored?: vscode.WebviewPanel;
  column?: vscode.ViewColumn;
  /** Keep the page alive while hidden (only where the page holds state it cannot rebuild cheaply). */
  retainContextWhenHidden?: boolean;
}

const PLACEHOLDER = '<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>';

export function themeKind(kind: vscode.ColorThemeKind): ThemeKind {
  switch (kind) {
    case vscode.ColorThemeKind.Dark:
      return 'dark';
    case vscode.ColorThemeKind.HighContrast:
      return 'high-contrast';
    case vscode.ColorThemeKind.HighContrastLight:
      return 'high-contrast-light';
    default:
      return 'light';
  }
}

/** One open panel: its messages, its page, its lifetime. */
export class HostedPanel<FromPage, ToPage, State> implements vscode.Disposable {
  private readonly messageHandlers: Array<(message: FromPage) => unknown> = [];
  private readonly readyHandlers: Array<() => unknown> = [];
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly kind: PanelKind<FromPage, ToPage, State>,
    private readonly render: (body: string | undefined, bodyAttributes: string | undefined) => string,
    private readonly log: vscode.LogOutputChannel,
    onDisposed: () => void,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidDispose(() => {
        this.disposed = true;
        for (const d of this.disposables.splice(0)) d.dispose();
        onDisposed();
      }),
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Handles the panel's own messages (already validated). Errors are reported, not thrown. */
  onMessage(handler: (message: FromPage) => unknown): this {
    this.messageHandlers.push(handler);
    return this;
  }

  /** Called each time the page's script has loaded and listens: send it what it shows. */
  onReady(handler: () => unknown): this {
    this.readyHandlers.push(handler);
    return this;
  }

  /** Ties a disposable (a settings listener, a store subscription) to the panel's life. */
  own(disposable: vscode.Disposable): this {
    if (this.disposed) disposable.dispose();
    else this.disposables.push(disposable);
    return this;
  }

  /** Replaces the page (server-rendered pages re-render this way); the page says `ready` again. */
  setBody(body: string, bodyAttributes?: string): void {
    if (!this.disposed) this.panel.webview.html = this.render(body, bodyAttributes);
  }

  set title(title: string) {
    if (!this.disposed) this.panel.title = title;
  }

  /**
   * Posts a message after validating it with the kind's schema (the parsed value is what is sent:
   * unknown fields are dropped). An invalid message is an extension bug: logged, and the page is
   * told, rather than drawing something half right.
   */
  post(message: ToPage | HostToPage): boolean {
    if (this.disposed) return false;
    const checked = checkToPage(message, this.kind.toPage);
    if (!checked.ok) {
      this.log.error(`${this.kind.name}: refused to send an invalid ${(message as { type?: string }).type ?? ''} message (${checked.error})`);
      return false;
    }
    void this.panel.webview.postMessage(checked.message);
    return true;
  }

  reveal(): void {
    if (!this.disposed) this.panel.reveal();
  }

  dispose(): void {
    if (!this.disposed) this.panel.dispose();
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = readFromPage(raw, this.kind.fromPage);
    if (parsed.host === null) {
      this.log.warn(`Ignored an invalid message from the ${this.kind.name}: ${parsed.error}`);
      return;
    }
    const handlers: Array<() => unknown> = parsed.host ? this.readyHandlers : this.messageHandlers.map((h) => () => h(parsed.message));
    for (const handler of handlers) {
      try {
        await handler();
      } catch (error) {
        reportError(error, this.log, this.kind.name);
      }
    }
  }
}

export class WebviewHost implements vscode.Disposable {
  private readonly panels = new Set<HostedPanel<unknown, unknown, unknown>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      vscode.window.onDidChangeActiveColorTheme((theme) => {
        const message: HostToPage = { type: 'theme', kind: themeKind(theme.kind) };
        for (const panel of this.panels) panel.post(message);
      }),
    );
  }

  /** Opens a panel of this kind (or fills the restored one) with the CSP shell and the kind's script. */
  open<F, T, S>(kind: PanelKind<F, T, S>, options: OpenOptions): HostedPanel<F, T, S> {
    const roots = webviewResourceRoots(this.extensionUri);
    const panel =
      options.restored ??
      vscode.window.createWebviewPanel(kind.viewType, options.title, options.column ?? vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: options.retainContextWhenHidden ?? false,
        localResourceRoots: roots,
      });
    panel.title = options.title;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nb2prod.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: roots };
    const render = (body: string | undefined, bodyAttributes: string | undefined) =>
      webviewPage(panel.webview, this.extensionUri, {
        title: options.title,
        styles: kind.styles,
        script: kind.script,
        body: body ?? PLACEHOLDER,
        ...(bodyAttributes ? { bodyAttributes } : {}),
      });
    const hosted: HostedPanel<F, T, S> = new HostedPanel(panel, kind, render, this.log, () => this.panels.delete(hosted as HostedPanel<unknown, unknown, unknown>));
    this.panels.add(hosted as HostedPanel<unknown, unknown, unknown>);
    hosted.setBody(options.body ?? PLACEHOLDER, options.bodyAttributes);
    return hosted;
  }

  /**
   * Restores panels of this kind after a window reload: the state the page saved is parsed with
   * the kind's schema; a panel whose state does not parse is closed, and one that fails to
   * restore is closed with the error reported.
   */
  registerSerializer<S>(kind: PanelKind<unknown, unknown, S>, restore: (panel: vscode.WebviewPanel, state: S) => Promise<void> | void, fallback?: S): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(kind.viewType, {
      deserializeWebviewPanel: async (panel, saved: unknown) => {
        const parsed = kind.state.safeParse(saved ?? fallback);
        if (!parsed.success) {
          this.log.warn(`Closed a restored ${kind.name}: its saved state is not valid`);
          panel.dispose();
          return;
        }
        try {
          await restore(panel, parsed.data);
        } catch (error) {
          panel.dispose();
          reportError(error, this.log, `Restoring the ${kind.name}`);
        }
      },
    });
  }

  /** Open panels of a kind (e.g. to refresh them when the store changes). */
  panelsOf<F, T, S>(kind: PanelKind<F, T, S>): Array<HostedPanel<F, T, S>> {
    return [...this.panels].filter((p) => p.kind === (kind as unknown)) as unknown as Array<HostedPanel<F, T, S>>;
  }

  dispose(): void {
    for (const panel of [...this.panels]) panel.dispose();
    this.panels.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
