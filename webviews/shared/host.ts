/**
 * The page's side of the WebviewHost (src/extension/webviewHost.ts): every message from the
 * extension is parsed with the panel's schema before the page acts on it, the saved state is
 * parsed before it is trusted, `ready` is sent once the page listens, and a theme change — the
 * host's broadcast, or VS Code changing the body's theme class and CSS variables under the page
 * — calls `onTheme` once (debounced), so charts redraw in the new colours.
 */
import type * as z from 'zod/mini';
import { hostToPageSchema, type ThemeKind } from '../../src/protocol/host';
import { vscodeApi } from './dom';

export interface PageOptions<ToPage, State> {
  toPage: z.ZodMiniType<ToPage>;
  state: z.ZodMiniType<State>;
  onMessage(message: ToPage): void;
  /** The theme changed: redraw what used the old colours. */
  onTheme?(kind: ThemeKind | null): void;
}

export interface PageConnection<FromPage, State> {
  post(message: FromPage): void;
  /** The state saved before a reload, if it parses. */
  readonly savedState: State | undefined;
  saveState(state: State): void;
}

export function connectPage<FromPage, ToPage, State>(options: PageOptions<ToPage, State>): PageConnection<FromPage, State> {
  const api = vscodeApi();
  const saved = options.state.safeParse(api.getState());
  let themeTimer: ReturnType<typeof setTimeout> | undefined;
  let lastTheme = themeSignature();
  const themeChanged = (kind: ThemeKind | null) => {
    clearTimeout(themeTimer);
    // CSS variables and the body class change in separate mutations: redraw once they settled.
    themeTimer = setTimeout(() => {
      lastTheme = themeSignature();
      options.onTheme?.(kind);
    }, 60);
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'theme') {
      const theme = hostToPageSchema.safeParse(data);
      if (theme.success) themeChanged(theme.data.kind);
      return;
    }
    const parsed = options.toPage.safeParse(data);
    if (!parsed.success) {
      console.error(`nb2prod: ignored an invalid message from the extension: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    options.onMessage(parsed.data);
  });

  // VS Code swaps the body's theme class and rewrites the CSS variables on <html> when the user
  // switches themes; the host's broadcast may arrive before or after.
  const observer = new MutationObserver(() => {
    if (themeSignature() !== lastTheme) themeChanged(null);
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

  api.postMessage({ type: 'ready' });
  return {
    post: (message) => api.postMessage(message),
    savedState: saved.success ? saved.data : undefined,
    saveState: (state) => api.setState(state),
  };
}

function themeSignature(): string {
  const css = getComputedStyle(document.body);
  return `${document.body.className}|${document.body.dataset.vscodeThemeId ?? ''}|${css.getPropertyValue('--vscode-foreground')}|${css.getPropertyValue('--vscode-editor-background')}`;
}
