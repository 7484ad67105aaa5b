/**
 * What the readiness panel's fix buttons do: for each item that does not pass, the actions that
 * run its fix or open the place to make it — track the notebook with other seeds, replay the run,
 * register, generate the service, open the configuration at the key, write a requirements file
 * from the versions the run used. Plain data: the extension maps each `kind` to one command and
 * checks every path again before opening or writing (containedPath), so a report cannot make it
 * run anything else.
 */
import path from 'node:path';
import type { RunEnvelope } from '../envelope';
import { sectionName } from '../project/config';
import { isModelRun, type ReadinessFacts, toPortable } from './facts';
import type { ItemId, ReadinessItem } from './model';

export type FixAction =
  | { kind: 'track'; label: string; source: string }
  | { kind: 'trackWithParameters'; label: string; source: string }
  | { kind: 'replay'; label: string; runId: string }
  | { kind: 'register'; label: string; runId: string }
  | { kind: 'generateService'; label: string; notebook: string }
  | { kind: 'showDrift'; label: string }
  | { kind: 'openModelCard'; label: string }
  | { kind: 'approve'; label: string }
  | { kind: 'rollback'; label: string }
  | { kind: 'promote'; label: string }
  | { kind: 'sourceControl'; label: string }
  /** Opens a project file (relative to the checked folder) at the first line mentioning `find`; `create` is written first when the file does not exist. */
  | { kind: 'openFile'; label: string; path: string; find?: string; create?: string };

/** The run a fix is about: the newest succeeded model run of the sources in scope. */
function latestRun(facts: ReadinessFacts): RunEnvelope | null {
  const runs = facts.runs.filter((r) => isModelRun(r) && r.status === 'succeeded' && facts.sources.includes(r.source.path));
  return runs.at(-1) ?? null;
}

/** A source (as runs record it, workspace-relative) relative to the checked folder. */
function fromWorkspace(facts: ReadinessFacts, recorded: string): string {
  return toPortable(path.relative(facts.root, path.resolve(facts.workspaceRoot, recorded)));
}

function configFile(facts: ReadinessFacts): string {
  return facts.config.file ? toPortable(path.relative(facts.root, facts.config.file)) : 'nb2prod.toml';
}

/** Opens the configuration at a section; creates nb2prod.toml with the section when there is no config file. */
function openConfig(facts: ReadinessFacts, section: string, key: string, example: string): FixAction {
  const file = configFile(facts);
  const heading = facts.config.file ? sectionName(facts.config, section) : `[${section}]`;
  return {
    kind: 'openFile',
    label: `Open ${file} at ${heading}`,
    path: file,
    find: key,
    ...(facts.config.file ? {} : { create: `# nb2prod project configuration (docs/readiness.md)\n${heading}\n${example}\n` }),
  };
}

/** `name==version` of every package the run imported: a start for a requirements file. */
export function requirementsFromRun(run: RunEnvelope): string {
  const lines = Object.entries(run.environment.packages)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, version]) => `${name}==${version}`);
  return `# The versions run ${run.id} used (written by nb2prod's readiness check): review, then commit.\n${lines.join('\n')}\n`;
}

export function fixActions(item: ReadinessItem, facts: ReadinessFacts): FixAction[] {
  if (item.status === 'pass') return [];
  const run = latestRun(facts);
  const source = run ? fromWorkspace(facts, run.source.path) : (facts.files.find((f) => f.endsWith('.ipynb')) ?? null);
  const notebook = source?.endsWith('.ipynb') ? source : null;
  const actions: FixAction[] = [];
  const byId: Record<ItemId, () => void> = {
    seeds: () => {
      if (source) actions.push({ kind: 'openFile', label: `Open ${source} (the linter marks each unseeded call, with a quick fix)`, path: source });
      if (source) actions.push({ kind: 'track', label: `Track ${path.posix.basename(source)} again`, source });
    },
    'data-versioned': () => actions.push({ kind: 'sourceControl', label: 'Open Source Control to commit the data (or dvc add it)' }),
    'environment-locked': () => {
      const existing = ['requirements.txt', 'environment.yml', 'pyproject.toml'].find((f) => facts.files.includes(f));
      if (existing) actions.push({ kind: 'openFile', label: `Open ${existing}`, path: existing });
      else if (run) actions.push({ kind: 'openFile', label: 'Write requirements.txt from the versions the run used', path: 'requirements.txt', create: requirementsFromRun(run) });
    },
    replay: () => {
      if (run) actions.push({ kind: 'replay', label: `Replay ${run.name}`, runId: run.id });
      else if (source) actions.push({ kind: 'track', label: `Track ${path.posix.basename(source)}`, source });
    },
    'repeated-runs': () => {
      if (source) actions.push({ kind: 'trackWithParameters', label: `Track ${path.posix.basename(source)} with another seed…`, source });
    },
    'frozen-eval-set': () => actions.push(openConfig(facts, 'readiness', 'eval_set', 'eval_set = "data/holdout.csv"')),
    'input-contract': () => {
      if (notebook) actions.push({ kind: 'generateService', label: `Generate the service of ${path.posix.basename(notebook)} (it writes the contracts)`, notebook });
    },
    'drift-monitoring': () => {
      actions.push({ kind: 'showDrift', label: 'Check Data Drift' });
      actions.push(openConfig(facts, 'monitoring', 'reference', 'reference = "data/reference.csv"\nschedule = "daily"'));
    },
    'rollback-candidate': () => {
      if (run) actions.push({ kind: 'register', label: `Register a model version from ${run.name}`, runId: run.id });
      actions.push({ kind: 'promote', label: 'Promote a version to champion' });
    },
    'rollback-tested': () => actions.push({ kind: 'rollback', label: 'Roll back the champion (then promote again)' }),
    'prediction-audit': () => {
      if (notebook) actions.push({ kind: 'generateService', label: `Generate the service of ${path.posix.basename(notebook)}`, notebook });
    },
    'kill-switch': () => {
      if (notebook) actions.push({ kind: 'generateService', label: `Generate the service of ${path.posix.basename(notebook)}`, notebook });
    },
    'human-review': () => actions.push(openConfig(facts, 'readiness', 'human_review', 'human_review = "Scores between 0.4 and 0.6 go to a person\'s review queue."')),
    owner: () => actions.push(openConfig(facts, 'readiness', 'owner', 'owner = "Your Name <you@example.com>"')),
    'model-card': () => actions.push({ kind: 'openModelCard', label: 'Open the model card' }),
    approvals: () => actions.push({ kind: 'approve', label: 'Approve the champion' }),
  };
  byId[item.id]();
  return actions;
}
