/**
 * Which Python runs a tracked notebook or script: the `nb2prod.pythonPath` setting, else the
 * interpreter selected in the Python extension (when it is installed; nb2prod does not depend
 * on it), else `python3` on the PATH — the CLI's default too.
 */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';

const PYTHON_EXTENSION = 'ms-python.python';

export interface Interpreter {
  path: string;
  /** Where it came from, for the log and for messages. */
  source: 'setting nb2prod.pythonPath' | 'Python extension' | 'default';
}

export async function resolveInterpreter(resource: vscode.Uri, log: vscode.LogOutputChannel): Promise<Interpreter> {
  const folder = vscode.workspace.getWorkspaceFolder(resource) ?? vscode.workspace.workspaceFolders?.[0];
  const configured = vscode.workspace.getConfiguration('nb2prod', resource).get<string>('pythonPath')?.trim();
  if (configured) return { path: expand(configured, folder), source: 'setting nb2prod.pythonPath' };
  const fromExtension = await pythonExtensionInterpreter(resource, log);
  if (fromExtension) return { path: fromExtension, source: 'Python extension' };
  return { path: 'python3', source: 'default' };
}

/** `${workspaceFolder}` and `~` as in VS Code's own settings; a relative path is relative to the folder. */
function expand(value: string, folder: vscode.WorkspaceFolder | undefined): string {
  let result = value.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '');
  if (result === '~' || result.startsWith('~/')) result = path.join(os.homedir(), result.slice(1));
  // A bare command name ("python3") is looked up on the PATH; only paths are made absolute.
  if (folder && result.includes('/') && !path.isAbsolute(result)) result = path.resolve(folder.uri.fsPath, result);
  return result;
}

/** The Python extension's API, read defensively: its shape is not ours and it may be absent. */
interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: unknown } | undefined };
}

async function pythonExtensionInterpreter(resource: vscode.Uri, log: vscode.LogOutputChannel): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const found = api?.environments?.getActiveEnvironmentPath?.(resource)?.path;
    return typeof found === 'string' && found ? found : undefined;
  } catch (error) {
    log.warn(`Could not ask the Python extension for the interpreter: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
