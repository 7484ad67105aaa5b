/** Choosing runs: from a Runs view row or id a command was given, else with a quick pick. */
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { formatAge, formatNumber, keyMetrics } from '../core/render/format';
import { runDistinctions } from '../core/render/runLabels';
import type { RunSummary } from '../core/store/runIndex';
import type { RunsNode } from './runsView';
import type { WorkspaceStore } from './workspaceStore';

/** The run id of a command argument: a Runs view row or an id (from a run page or another command). */
export function runIdOf(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  const node = target as RunsNode | undefined;
  return node?.kind === 'run' ? node.run.id : undefined;
}

/** Quick pick of `count` runs, newest first. Undefined when the user cancels. */
/** Lets the user pick runs: exactly `count`, or with `count` = 'many' two or more. */
export async function pickRuns(store: WorkspaceStore, count: number | 'many', title: string, exclude: string[] = []): Promise<string[] | undefined> {
  const { runs } = await store.get().list();
  const candidates = runs.filter((r) => !exclude.includes(r.id));
  const least = count === 'many' ? 2 : count;
  if (candidates.length < least) {
    throw new UserError('run-not-found', candidates.length ? `There are not enough runs (${least} needed).` : 'There are no runs in this workspace yet.');
  }
  // Runs of one notebook often share a name: what sets each apart comes first in its description.
  const distinctions = runDistinctions(runs);
  const items = candidates.map((run) => ({ label: run.name, description: describe(run, distinctions.get(run.id) ?? ''), detail: run.id, id: run.id }));
  if (count === 1) {
    const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true });
    return picked ? [picked.id] : undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: count === 'many' ? `${title} (pick two or more)` : `${title} (pick ${count})`, canPickMany: true, matchOnDescription: true });
  if (!picked) return undefined;
  if (count === 'many' ? picked.length < 2 : picked.length !== count) {
    throw new UserError('usage', count === 'many' ? `Pick two or more runs (${picked.length} picked).` : `Pick exactly ${count} runs (${picked.length} picked).`);
  }
  return picked.map((p) => p.id);
}

function describe(run: RunSummary, distinction: string): string {
  const metrics = keyMetrics(run.metrics, vscode.workspace.getConfiguration('nb2prod').get<string[]>('runs.keyMetrics') ?? [])
    .map(([name, value]) => `${name} ${formatNumber(value)}`)
    .join(' · ');
  return [distinction && !run.name.includes(distinction) ? distinction : '', metrics, run.status, formatAge(run.startedAt)].filter(Boolean).join(' · ');
}

/**
 * The runs to compare a run with (from its page): runs of the same notebook first, its repeats
 * (same code and params, seeds aside) already ticked. Undefined when the user cancels.
 */
export async function pickCompanions(store: WorkspaceStore, runId: string): Promise<string[] | undefined> {
  const { runs } = await store.get().list();
  const self = runs.find((r) => r.id === runId);
  if (!self) throw new UserError('run-not-found', `Run ${runId} is no longer in the store.`);
  const others = runs.filter((r) => r.id !== runId).sort((a, b) => Number(b.sourcePath === self.sourcePath) - Number(a.sourcePath === self.sourcePath));
  if (!others.length) throw new UserError('run-not-found', 'There is no other run to compare with yet.');
  const distinctions = runDistinctions(runs);
  const items = others.map((run) => ({
    label: run.name,
    description: describe(run, distinctions.get(run.id) ?? ''),
    detail: run.configKey === self.configKey ? 'a repeat of this run (same code and params)' : run.sourcePath,
    picked: run.configKey === self.configKey && run.status === 'succeeded',
    id: run.id,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: `Compare ${self.name} with which runs? (its repeats are ticked)`, canPickMany: true, matchOnDescription: true, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (!picked.length) throw new UserError('usage', 'Pick at least one run to compare with.');
  return [runId, ...picked.map((p) => p.id)];
}
