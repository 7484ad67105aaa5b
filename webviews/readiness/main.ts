/** The readiness page: its HTML comes from the extension; clicks become messages (through the WebviewHost's page side). */
import { type ReadinessMessage, type ReadinessState, readinessStateSchema, type ReadinessToPage, readinessToPageSchema } from '../../src/protocol/readiness';
import { connectPage } from '../shared/host';

const vscode = connectPage<ReadinessMessage, ReadinessToPage, ReadinessState>({
  toPage: readinessToPageSchema,
  state: readinessStateSchema,
  onMessage: () => undefined,
});
vscode.saveState({});

document.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest('button');
  if (!target) return;
  if (target.id === 'refresh') vscode.post({ type: 'refresh' });
  else if (target.dataset.evidence !== undefined) vscode.post({ type: 'openEvidence', index: Number(target.dataset.evidence) });
  else if (target.dataset.fix !== undefined) vscode.post({ type: 'fix', index: Number(target.dataset.fix) });
});
