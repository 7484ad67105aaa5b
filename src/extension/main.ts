/** Extension entry point. Activation only wires things up; the store loads on first use. */
import * as vscode from 'vscode';
import { createApp } from './app';

const loadedAt = performance.now();

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('nb2prod', { log: true });
  context.subscriptions.push(log);
  try {
    createApp(context, log);
    log.info(`nb2prod ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - loadedAt).toFixed(1)} ms`);
  } catch (error) {
    // An activation failure must be seen, not swallowed (rust-analyzer does the same).
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Activation failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
    void vscode.window.showErrorMessage(`nb2prod could not start: ${message}`, 'Show Log').then((choice) => choice && log.show());
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
