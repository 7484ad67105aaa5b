/**
 * Script of the run and diff pages. The HTML is rendered by the extension; this only turns
 * clicks on links into protocol messages and remembers what the page shows for restore.
 */
import type { RunPageMessage, RunPageState } from '../../src/protocol/runPage';

interface VsCodeApi {
  postMessage(message: RunPageMessage): void;
  setState(state: RunPageState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

const stateText = document.body.dataset.state;
if (stateText) vscode.setState(JSON.parse(stateText) as RunPageState);

document.addEventListener('click', (event) => {
  const target = (event.target as Element | null)?.closest<HTMLElement>('[data-open-file],[data-run-id]');
  if (!target) return;
  event.preventDefault();
  const file = target.dataset.openFile;
  const runId = target.dataset.runId;
  if (file) vscode.postMessage({ type: 'openFile', path: file });
  else if (runId) vscode.postMessage({ type: 'showRun', runId });
});
