/** The readiness page: its HTML comes from the extension; clicks become messages. */
import { vscodeApi } from '../shared/dom';

const vscode = vscodeApi();

document.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest('button');
  if (!target) return;
  if (target.id === 'refresh') vscode.postMessage({ type: 'refresh' });
  else if (target.dataset.evidence !== undefined) vscode.postMessage({ type: 'openEvidence', index: Number(target.dataset.evidence) });
});
