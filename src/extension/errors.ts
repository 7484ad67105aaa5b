/**
 * One way to report failures from every command, as vscode-dvc does: a user error is shown as
 * its one-line message; cancellation is silent; anything else is logged with its stack and shown
 * with a "Show Log" button.
 */
import * as vscode from 'vscode';
import { isUserError } from '../core/errors';

export function reportError(error: unknown, log: vscode.LogOutputChannel, context: string): void {
  if (error instanceof vscode.CancellationError) return;
  if (isUserError(error)) {
    log.warn(`${context}: ${error.message}`);
    void vscode.window.showErrorMessage(error.message);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error(`${context} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
  void vscode.window.showErrorMessage(`nb2prod: ${context} failed: ${message}`, 'Show Log').then((choice) => {
    if (choice) log.show();
  });
}

/** Registers a command whose failures are reported by `reportError`. */
export function registerCommand(
  id: string,
  handler: (...args: never[]) => unknown,
  log: vscode.LogOutputChannel,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await (handler as (...a: unknown[]) => unknown)(...args);
    } catch (error) {
      reportError(error, log, id);
      return undefined;
    }
  });
}
