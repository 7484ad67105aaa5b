/**
 * The HTML shell of every nb2prod webview: a strict CSP (nothing remote, styles only from the
 * extension, one script allowed by a fresh nonce, no 'unsafe-eval' or inline styles), the
 * extension's stylesheets and the page's bundled script. Resources are limited to the bundled
 * webview scripts and `media/`.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { escapeHtml } from '../core/render/runHtml';

export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export interface WebviewPageParts {
  title: string;
  /** File names in media/. */
  styles: string[];
  /** Bundle name in dist/webviews (without .js). */
  script: string;
  /** Trusted HTML: rendered by the extension with every value escaped. */
  body: string;
  /** Attributes of <body>, already escaped. */
  bodyAttributes?: string;
}

export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, parts: WebviewPageParts): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  const csp = ["default-src 'none'", `style-src ${webview.cspSource}`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  const styles = parts.styles.map((name) => `<link rel="stylesheet" href="${asset('media', name)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${escapeHtml(parts.title)}</title>
</head>
<body${parts.bodyAttributes ? ` ${parts.bodyAttributes}` : ''}>
${parts.body}
<script nonce="${nonce}" src="${asset('dist', 'webviews', `${parts.script}.js`)}"></script>
</body>
</html>`;
}
