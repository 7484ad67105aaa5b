/**
 * Script of the run and diff pages. The HTML is rendered by the extension; this only turns
 * clicks on links into protocol messages and remembers what the page shows for restore (through
 * the WebviewHost's page side).
 */
import { type RunPageMessage, type RunPageState, runPageStateSchema, type RunPageToPage, runPageToPageSchema } from '../../src/protocol/runPage';
import { connectPage } from '../shared/host';

const vscode = connectPage<RunPageMessage, RunPageToPage, RunPageState>({
  toPage: runPageToPageSchema,
  state: runPageStateSchema,
  onMessage: () => undefined,
});

const shown = runPageStateSchema.safeParse(JSON.parse(document.body.dataset.state ?? 'null'));
if (shown.success) vscode.saveState(shown.data);

const ACTIONS = new Set(['replay', 'register', 'compare', 'diff', 'scaffold'] as const);

document.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLElement>('button[data-action]');
  const action = button?.dataset.action as 'replay' | 'register' | 'compare' | 'diff' | 'scaffold' | undefined;
  if (action && ACTIONS.has(action)) {
    vscode.post({ type: 'action', action });
    return;
  }
  const target = (event.target as Element | null)?.closest<HTMLElement>('[data-open-file],[data-run-id]');
  if (!target) return;
  event.preventDefault();
  const file = target.dataset.openFile;
  const runId = target.dataset.runId;
  if (file) vscode.post({ type: 'openFile', path: file });
  else if (runId) vscode.post({ type: 'showRun', runId });
});
