/**
 * The checklist items: each a rule over the gathered facts that says pass, fail or unknown, with
 * its evidence and what to do. The rules are documented one by one in docs/readiness.md; keep
 * the two in step.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compareRuns } from '../capture/replay';
import type { RunEnvelope } from '../envelope';
import { cellIdsOf, cellLabel, locationLabel } from '../notebook/cellLabel';
import { DEFAULT_CONFIG } from '../lint/config';
import { lintFile } from '../lint/lintFiles';
import { normalizeDistributionName } from '../lint/project';
import { findProjectRoot, ProjectScanner } from '../lint/project/scan';
import { unseededRandom } from '../lint/rules/unseededRandom';
import { sectionName } from '../project/config';
import { describeSample } from '../stats/describe';
import { configurationKey, distinctRuns, isSeedParam, repetitionKey } from '../stats/repeats';
import { isModelRun, RECENT_RUNS, type ReadinessFacts, toPortable } from './facts';
import type { EvidenceRef, ItemId, ItemStatus, ReadinessItem, RegistryFacts } from './model';

type ItemResult = Omit<ReadinessItem, 'id' | 'title'>;

export interface ItemDefinition {
  id: ItemId;
  title: string;
  check(facts: ReadinessFacts): Promise<ItemResult> | ItemResult;
}

const pass = (summary: string, evidence: EvidenceRef[] = []): ItemResult => ({ status: 'pass', summary, evidence, fix: null });
const fail = (summary: string, fix: string, evidence: EvidenceRef[] = []): ItemResult => ({ status: 'fail', summary, evidence, fix });
const unknown = (summary: string, fix: string, evidence: EvidenceRef[] = []): ItemResult => ({ status: 'unknown', summary, evidence, fix });

// ---------------------------------------------------------------------------------------------
// Helpers over runs

/** Run ids in full: `nb2prod show` and `replay` take them (or a prefix). */
const short = (id: string) => id;
const runRef = (run: RunEnvelope, what = ''): EvidenceRef => ({ kind: 'run', id: run.id, label: `run ${short(run.id)} (${run.source.path}${what ? `, ${what}` : ''})` });
const fileRef = (p: string, label?: string): EvidenceRef => ({ kind: 'file', path: p, label: label ?? p });

function configRef(facts: ReadinessFacts, section: string, key: string): EvidenceRef {
  const file = facts.config.file ? toPortable(path.relative(facts.root, facts.config.file)) : 'nb2prod.toml';
  return { kind: 'config', path: file, key: `${section}.${key}`, label: `${file} ${sectionName(facts.config, section)} ${key}` };
}

/** The config file to edit, as a person would name it. */
function configFileName(facts: ReadinessFacts): string {
  return facts.config.file ? toPortable(path.relative(facts.root, facts.config.file)) || path.basename(facts.config.file) : 'nb2prod.toml';
}

function section(facts: ReadinessFacts, name: string): string {
  return facts.config.file ? sectionName(facts.config, name) : `[${name}]`;
}

/** Succeeded runs of the model's code (no replays) of a source, oldest first. */
function modelRuns(facts: ReadinessFacts, source: string): RunEnvelope[] {
  return facts.runs.filter((r) => r.source.path === source && isModelRun(r) && r.status === 'succeeded');
}

/** The newest succeeded model run of each source in scope (sources never run successfully are listed apart). */
function latestRuns(facts: ReadinessFacts): { latest: RunEnvelope[]; untracked: string[] } {
  const latest: RunEnvelope[] = [];
  const untracked: string[] = [];
  for (const source of facts.sources) {
    const run = modelRuns(facts, source).at(-1);
    if (run) latest.push(run);
    else untracked.push(source);
  }
  return { latest, untracked };
}

/** A workspace-relative path (as runs record them) relative to the checked folder. */
function fromWorkspace(facts: ReadinessFacts, recorded: string): { path: string; inside: boolean } {
  const absolute = path.resolve(facts.workspaceRoot, recorded);
  const relative = path.relative(facts.root, absolute);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return { path: inside ? toPortable(relative) : toPortable(absolute), inside };
}

function trackHint(facts: ReadinessFacts): string {
  const notebook = facts.files.find((f) => f.endsWith('.ipynb')) ?? 'NOTEBOOK.ipynb';
  return `nb2prod track ${notebook}`;
}

function noRuns(facts: ReadinessFacts, what: string): ItemResult {
  return fail(`No tracked run of this project${facts.storeExists ? '' : ` (no run store at ${toPortable(path.relative(facts.root, facts.store.root)) || '.'})`}, so ${what} cannot be shown.`, `Track a run: ${trackHint(facts)} (or nb2prod run -- python SCRIPT.py).`);
}

/**
 * The seed param a user can set for the next run (`-p seed=…`): one of the notebook's or script's
 * own, not an estimator's autologged `RandomForestClassifier.random_state`.
 */
function seedParam(run: RunEnvelope): string | null {
  const settable = (name: string) => !['autolog', 'logged'].includes(run.paramSources?.[name] ?? '') && !name.includes('.');
  return Object.keys(run.params).find((name) => isSeedParam(name) && settable(name)) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Reproducibility

const seeds: ItemDefinition = {
  id: 'seeds',
  title: 'Seeds set',
  async check(facts) {
    const { latest } = latestRuns(facts);
    if (!latest.length) return seedsFromLint(facts);
    const evidence: EvidenceRef[] = [];
    const problems: string[] = [];
    for (const run of latest) {
      if (run.unseeded.length) {
        const first = run.unseeded[0]!;
        const idOf = cellIdsOf(run.source.cells);
        problems.push(`${run.source.path} drew randomness without a seed: ${run.unseeded.map((u) => `${u.call} at ${locationLabel(u.location, idOf)}`).slice(0, 3).join('; ')}${run.unseeded.length > 3 ? ` and ${run.unseeded.length - 3} more` : ''}`);
        evidence.push(runRef(run, `${first.call} at ${locationLabel(first.location, idOf)}`));
      } else evidence.push(runRef(run, run.seeds.length ? `seeds ${run.seeds.map((s) => `${s.library}=${JSON.stringify(s.value)}`).join(', ')}` : 'no randomness drawn'));
    }
    if (problems.length) {
      return fail(`${problems.join('. ')}.`, 'Seed every random source before it is used (np.random.seed(SEED), random_state=SEED, np.random.default_rng(SEED)); nb2prod lint shows each place with a quick fix. Then track the run again.', evidence);
    }
    return pass(`The latest run of ${latest.map((r) => r.source.path).join(', ')} set its seeds and drew no unseeded randomness.`, evidence);
  },
};

/** Without runs, the linter's unseeded-random rule on the project's notebooks and scripts. */
async function seedsFromLint(facts: ReadinessFacts): Promise<ItemResult> {
  const code = facts.files.filter((f) => f.endsWith('.ipynb') || f.endsWith('.py'));
  if (!code.length) return noRuns(facts, 'seeding');
  const scanner = new ProjectScanner(findProjectRoot(facts.root), { useGit: false });
  const evidence: EvidenceRef[] = [];
  for (const file of code) {
    const report = await lintFile(path.join(facts.root, file), { config: DEFAULT_CONFIG, rules: [unseededRandom], scanner });
    for (const finding of report.findings.slice(0, 3)) {
      const where = report.kind === 'notebook' ? `${cellLabel(finding.cell, finding.cellId)}, line ${finding.start.line + 1}` : `line ${finding.start.line + 1}`;
      evidence.push({ kind: 'file', path: file, line: finding.fileLine, label: `${file} ${where}: ${finding.message}` });
    }
  }
  if (evidence.length) {
    return fail(`No tracked run yet, and the linter finds randomness without a seed in ${[...new Set(evidence.map((e) => (e as { path: string }).path))].join(', ')}.`, `Seed each place the linter shows (nb2prod lint offers the fix), then track a run: ${trackHint(facts)}.`, evidence);
  }
  return unknown('No tracked run yet; the linter finds no unseeded randomness in the code.', `Track a run to confirm what the code actually seeds: ${trackHint(facts)}.`);
}

const dataVersioned: ItemDefinition = {
  id: 'data-versioned',
  title: 'Data versioned',
  check(facts) {
    const { latest } = latestRuns(facts);
    if (!latest.length) return noRuns(facts, 'which data it reads');
    const versioned: EvidenceRef[] = [];
    const bad: EvidenceRef[] = [];
    const unsure: EvidenceRef[] = [];
    const seen = new Set<string>();
    for (const run of latest) {
      for (const input of run.inputs) {
        const where = fromWorkspace(facts, input.path);
        if (seen.has(where.path)) continue;
        seen.add(where.path);
        if (!where.inside) {
          bad.push(fileRef(where.path, `${where.path} (outside the project, read by run ${short(run.id)})`));
          continue;
        }
        const how = facts.versioning(where.path);
        if (how === 'git' || how === 'dvc' || how === 'lfs') versioned.push(fileRef(where.path, `${where.path} (${how})`));
        else if (how === 'untracked') bad.push(fileRef(where.path, `${where.path} (not versioned, read by run ${short(run.id)})`));
        else unsure.push(fileRef(where.path, `${where.path} (versioning unknown)`));
      }
    }
    if (bad.length) {
      return fail(
        `${bad.length} input${bad.length > 1 ? 's are' : ' is'} not versioned: ${bad.map((b) => (b as { path: string }).path).join(', ')}.`,
        `Version each input so a run can be reproduced from a commit: git add it (small files), or dvc add / git lfs track it (large ones). Files outside the project: copy them in first.`,
        [...bad, ...versioned],
      );
    }
    if (unsure.length) return unknown(`Could not tell how ${unsure.map((u) => (u as { path: string }).path).join(', ')} ${unsure.length > 1 ? 'are' : 'is'} versioned (git unavailable, or not a git repository).`, 'Put the project under git (git init, then commit) or declare the data with DVC or git LFS.', [...unsure, ...versioned]);
    if (!versioned.length) return unknown('The latest runs read no files: data from a database or a URL is not seen by nb2prod.', 'Read data from versioned files, or snapshot a query result to a file you version (dvc add), and track a run again.', latest.map((r) => runRef(r)));
    return pass(`Every input of the latest runs is versioned (${versioned.length} file${versioned.length > 1 ? 's' : ''}).`, versioned);
  },
};

const STRICT_LOCKS = new Set(['uv.lock', 'poetry.lock', 'Pipfile.lock', 'requirements.lock', 'pdm.lock', 'pylock.toml', 'pixi.lock', 'conda-lock.yml']);
const LOCK_CANDIDATES = ['uv.lock', 'poetry.lock', 'Pipfile.lock', 'requirements.lock', 'pdm.lock', 'pylock.toml', 'environment.yml', 'environment.yaml', 'requirements.txt'];

interface Pins {
  pinned: Map<string, string>;
  unpinned: string[];
}

/** Requirement lines of a requirements file or conda environment: pinned (==, ===, conda =) or not. */
export function parsePins(text: string, kind: 'requirements' | 'conda'): Pins {
  const pinned = new Map<string, string>();
  const unpinned: string[] = [];
  let inDependencies = kind === 'requirements';
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    if (kind === 'conda') {
      if (/^dependencies\s*:/.test(line)) {
        inDependencies = true;
        continue;
      }
      if (!raw.startsWith(' ') && !raw.startsWith('-') && /^[\w-]+\s*:/.test(line)) inDependencies = false;
      if (!inDependencies || !line.startsWith('-')) continue;
      line = line.slice(1).trim();
      if (/^pip\s*:/.test(line) || !line) continue;
      line = line.replace(/^[\w.-]+::/, ''); // channel::name
    }
    if (line.startsWith('-') || line.includes('://') || line.startsWith('.') || line.startsWith('/')) continue; // options, URLs, local paths
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(===?|=)?\s*([^\s;,]*)?/.exec(line);
    if (!match) continue;
    const name = normalizeDistributionName(match[1]!);
    const op = match[3];
    const version = match[4] ?? '';
    const exact = (op === '==' || op === '===' || (kind === 'conda' && op === '=')) && version && !version.includes('*') && !line.slice(match[0].length).trim().startsWith(',');
    if (exact) pinned.set(name, version.split('=')[0]!);
    else unpinned.push(match[1]!);
  }
  return { pinned, unpinned };
}

const environmentLocked: ItemDefinition = {
  id: 'environment-locked',
  title: 'Environment locked',
  async check(facts) {
    const { latest } = latestRuns(facts);
    const run = latest.at(-1);
    let lockPath: string | null = null;
    const evidence: EvidenceRef[] = [];
    if (run?.environment.lockFile) {
      const where = fromWorkspace(facts, run.environment.lockFile.path);
      lockPath = where.path;
      evidence.push(runRef(run, `lock file ${where.path}`));
    } else lockPath = LOCK_CANDIDATES.find((name) => facts.files.includes(name)) ?? null;
    if (!lockPath) {
      return fail(
        run ? `The latest run (${short(run.id)}) found no lock or requirements file.` : 'The project has no lock or requirements file.',
        'Pin the environment: pip freeze > requirements.txt (or uv lock / poetry lock), commit it, and track a run again.',
        evidence,
      );
    }
    const name = path.posix.basename(lockPath);
    evidence.push(fileRef(lockPath));
    if (STRICT_LOCKS.has(name)) return pass(`${lockPath} locks the environment.`, evidence);
    const text = await facts.readText(lockPath, 'a run file (its lock file)');
    if (text === null) return fail(`${lockPath}, the lock file the run used, is gone.`, `Restore ${lockPath} (or write a new one: pip freeze > requirements.txt) and track a run again.`, evidence);
    const pins = parsePins(text, /\.ya?ml$/.test(name) ? 'conda' : 'requirements');
    if (pins.unpinned.length) {
      return fail(`${lockPath} leaves ${pins.unpinned.length} package${pins.unpinned.length > 1 ? 's' : ''} unpinned: ${pins.unpinned.slice(0, 6).join(', ')}${pins.unpinned.length > 6 ? ', …' : ''}.`, `Pin every package to an exact version (name==version: the versions the run used are on its run page), or use a lock file (uv lock, poetry lock).`, evidence);
    }
    if (!pins.pinned.size) return fail(`${lockPath} declares no packages.`, 'List every package the code imports with its exact version (pip freeze > requirements.txt).', evidence);
    if (run) {
      const mismatched: string[] = [];
      for (const [pkg, used] of Object.entries(run.environment.packages)) {
        const pin = pins.pinned.get(normalizeDistributionName(pkg));
        if (pin !== undefined && pin !== used) mismatched.push(`${pkg} ${pin} pinned, ${used} used`);
      }
      if (mismatched.length) {
        return fail(`${lockPath} does not match what the latest run used: ${mismatched.slice(0, 4).join('; ')}.`, `Update the pins to the versions the run used (or install the pinned versions and track the run again).`, evidence);
      }
    }
    return pass(`${lockPath} pins all ${pins.pinned.size} packages${run ? ', matching what the latest run used' : ''}.`, evidence);
  },
};

const replay: ItemDefinition = {
  id: 'replay',
  title: 'A tracked run that replays',
  check(facts) {
    const { latest, untracked } = latestRuns(facts);
    if (!latest.length) return noRuns(facts, 'a replay');
    const replays = facts.runs.filter((r) => r.tags.includes('replay') && r.parent);
    const byId = new Map(facts.runs.map((r) => [r.id, r]));
    const evidence: EvidenceRef[] = [];
    const failures: string[] = [];
    let fixRun: RunEnvelope | null = null;
    for (const run of latest) {
      // A replay of this run, or of an earlier run of the same code, counts.
      const candidates = replays
        .map((r) => ({ replay: r, original: byId.get(r.parent!) }))
        .filter((c): c is { replay: RunEnvelope; original: RunEnvelope } => !!c.original && c.original.source.path === run.source.path && c.original.source.sha256 === run.source.sha256);
      const judged = candidates.map((c) => ({ ...c, differences: compareRuns(c.original, c.replay, facts.readiness.replayTolerance).filter((d) => d.severity === 'error') }));
      const reproduced = judged.filter((j) => j.replay.status === 'succeeded' && j.differences.length === 0).at(-1);
      if (reproduced) {
        evidence.push(runRef(reproduced.original), { kind: 'run', id: reproduced.replay.id, label: `replay ${short(reproduced.replay.id)}: reproduced` });
        continue;
      }
      const lastTry = judged.at(-1);
      if (lastTry) {
        failures.push(`the replay ${short(lastTry.replay.id)} of ${run.source.path} did not reproduce: ${lastTry.differences.slice(0, 3).map((d) => d.message).join(' ') || `it ${lastTry.replay.status}.`}`);
        evidence.push(runRef(lastTry.original), { kind: 'run', id: lastTry.replay.id, label: `replay ${short(lastTry.replay.id)}: differs` });
      } else {
        failures.push(`${run.source.path} at its current code has never been replayed`);
        evidence.push(runRef(run));
      }
      fixRun ??= run;
    }
    for (const source of untracked) failures.push(`${source} has no successful run`);
    if (failures.length) {
      const fix = fixRun
        ? `Replay the run: nb2prod replay ${fixRun.id}. If it does not reproduce, it says what differs (data, a package, a seed, a metric); fix that and replay again.`
        : `Track a run of ${untracked[0]}, then replay it: nb2prod replay latest.`;
      return fail(`${capitalise(failures.join('; '))}.`, fix, evidence);
    }
    return pass(`The latest code of ${latest.map((r) => r.source.path).join(', ')} was replayed and reproduced (metrics within ${facts.readiness.replayTolerance}).`, evidence);
  },
};

const repeatedRuns: ItemDefinition = {
  id: 'repeated-runs',
  title: 'Repeated runs with intervals',
  check(facts) {
    const { latest, untracked } = latestRuns(facts);
    if (!latest.length) return noRuns(facts, 'run-to-run variation');
    const evidence: EvidenceRef[] = [];
    const failures: string[] = [];
    let fixFor: RunEnvelope | null = null;
    for (const run of latest) {
      // Repeats of one configuration: an explicit group, or runs of the same code and params with
      // only their seeds changed (seed params, an estimator's random_state, recorded seeds).
      // Exact duplicates (same seeds and data too) count once.
      const groups = new Map<string, RunEnvelope[]>();
      for (const r of modelRuns(facts, run.source.path)) groups.set(configurationKey(r), [...(groups.get(configurationKey(r)) ?? []), r]);
      let best: { group: string; runs: RunEnvelope[]; metric: string | null; seeds: number; duplicates: number } | null = null;
      for (const all of groups.values()) {
        const { distinct: runs, duplicates } = distinctRuns(all);
        const group = all[0]!.group !== null ? `group ${all[0]!.group}` : `the group of ${run.source.path} runs with the same code and params${configurationText(all[0]!)}`;
        const metric = sharedMetric(runs, Object.keys(facts.monitoring?.metrics ?? {}));
        const seedsSeen = new Set(runs.map(repetitionKey)).size;
        const candidate = { group, runs, metric, seeds: seedsSeen, duplicates: duplicates.length };
        const score = (c: typeof candidate) => (c.runs.length >= 3 && c.metric && c.seeds >= 3 ? 1e6 : 0) + c.runs.length;
        if (!best || score(candidate) > score(best)) best = candidate;
      }
      if (best && best.runs.length >= 3 && best.metric && best.seeds >= 3) {
        const values = best.runs.map((r) => r.metrics[best.metric!]!.value);
        const summary = describeSample(values);
        const interval = summary.interval ? ` ${best.metric} ${fmt(summary.mean!)} [${fmt(summary.interval[0])}, ${fmt(summary.interval[1])}] (95% interval)` : '';
        evidence.push({ kind: 'run', id: best.runs.at(-1)!.id, label: `${best.group}: ${best.runs.length} runs,${interval}` });
        continue;
      }
      fixFor ??= run;
      const duplicates = best?.duplicates
        ? `; ${best.duplicates} more ${best.duplicates > 1 ? 'repeat' : 'repeats'} an earlier run exactly (same code, params, seeds and data) and ${best.duplicates > 1 ? 'count' : 'counts'} once: change the seed between repeats`
        : '';
      if (!best) failures.push(`${run.source.path} has no group of repeated runs`);
      else if (best.runs.length < 3) failures.push(`${best.runs[0]!.group !== null ? `${best.group} of ${run.source.path}` : best.group} has ${best.runs.length}${duplicates ? ' distinct' : ''} succeeded run${best.runs.length > 1 ? 's' : ''} (3 needed)${duplicates}`);
      else if (!best.metric) failures.push(`the runs of ${best.group} share no metric`);
      else failures.push(`the runs of ${best.group} use ${best.seeds} distinct seed${best.seeds > 1 ? 's' : ''}${duplicates}: repeats with one seed show no run-to-run variation`);
      if (best) evidence.push({ kind: 'run', id: best.runs.at(-1)!.id, label: `${best.group}: ${best.runs.length} runs` });
    }
    for (const source of untracked) failures.push(`${source} has no successful run`);
    if (failures.length) {
      const run = fixFor ?? latest[0]!;
      const param = seedParam(run);
      const group = `${path.posix.basename(run.source.path).replace(/\.[^.]+$/, '')}-repeats`;
      const command = run.kind === 'notebook' ? `nb2prod track ${fromWorkspace(facts, run.source.path).path}${param ? ` -p ${param}=$s` : ''} --group ${group}` : `nb2prod run --group ${group} -- ${(run.source.command ?? ['python', run.source.path]).join(' ')}`;
      return fail(
        `${capitalise(failures.join('; '))}.`,
        `Run the same configuration at least 3 times with different seeds in one group${param ? '' : ' (vary the seed between runs)'}: for s in 1 2 3; do ${command}; done — then nb2prod compare group:${group} shows each metric's mean with its 95% interval.`,
        evidence,
      );
    }
    return pass('Repeated runs with different seeds give the metrics an interval (see the evidence).', evidence);
  },
};

/** ` (max_depth=8, n_estimators=200)`: a configuration's own params, short, for the readiness texts. */
function configurationText(run: RunEnvelope): string {
  const own = Object.entries(run.params).filter(([name]) => !isSeedParam(name) && !name.includes('.'));
  if (!own.length) return '';
  const shown = own.slice(0, 4).map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return ` (${shown.join(', ')}${own.length > 4 ? ', …' : ''})`;
}

/**
 * The metric an interval is shown for: one every run logged, preferring those monitoring watches,
 * then one that varies between the runs.
 */
function sharedMetric(runs: RunEnvelope[], preferred: string[]): string | null {
  const shared = Object.keys(runs[0]!.metrics).filter((m) => runs.every((r) => r.metrics[m] !== undefined));
  const varies = (m: string) => new Set(runs.map((r) => r.metrics[m]!.value)).size > 1;
  return shared.find((m) => preferred.includes(m)) ?? shared.find(varies) ?? shared[0] ?? null;
}

const EVAL_NAME = /(^|[/_.-])(test|tests|testing|eval|evaluation|holdout|hold-out|valid|validation|val)([/_.-]|$)/i;

const frozenEvalSet: ItemDefinition = {
  id: 'frozen-eval-set',
  title: 'Frozen evaluation set',
  check(facts) {
    const { latest, untracked } = latestRuns(facts);
    if (!latest.length) return noRuns(facts, 'the evaluation set');
    const configured = facts.readiness.evalSet ? toPortable(path.relative(facts.root, path.resolve(facts.config.baseDir ?? facts.root, facts.readiness.evalSet))) : null;
    const evidence: EvidenceRef[] = [];
    const failures: string[] = [];
    for (const run of latest) {
      const evalInput = run.inputs.find((input) => {
        const where = fromWorkspace(facts, input.path).path;
        return configured ? where === configured : EVAL_NAME.test(where);
      });
      if (!evalInput) {
        failures.push(configured ? `the latest run of ${run.source.path} did not read ${configured}` : `the latest run of ${run.source.path} read no evaluation file (${run.inputs.map((i) => i.path).join(', ') || 'no files'}): its test rows are drawn at run time`);
        evidence.push(runRef(run));
        continue;
      }
      const where = fromWorkspace(facts, evalInput.path).path;
      const recent = modelRuns(facts, run.source.path).slice(-RECENT_RUNS).filter((r) => r.inputs.some((i) => i.path === evalInput.path));
      const hashes = new Set(recent.map((r) => r.inputs.find((i) => i.path === evalInput.path)!.sha256));
      if (hashes.size > 1) {
        failures.push(`${where} changed between the last ${recent.length} runs of ${run.source.path} (${hashes.size} different contents): their metrics are not comparable`);
        evidence.push(fileRef(where), ...recent.map((r) => runRef(r, `${where} ${r.inputs.find((i) => i.path === evalInput.path)!.sha256.slice(0, 12)}`)));
        continue;
      }
      const how = facts.versioning(where);
      if (how !== 'git' && how !== 'dvc' && how !== 'lfs') {
        failures.push(`${where} is ${how === 'untracked' ? 'not versioned' : 'of unknown versioning'}, so it can change unnoticed`);
        evidence.push(fileRef(where, `${where} (${how})`));
        continue;
      }
      evidence.push(fileRef(where, `${where} (${how}, sha256 ${evalInput.sha256.slice(0, 12)}, same in ${recent.length} recent run${recent.length > 1 ? 's' : ''})`));
    }
    for (const source of untracked) failures.push(`${source} has no successful run`);
    if (failures.length) {
      return fail(
        `${capitalise(failures.join('; '))}.`,
        `Save the evaluation rows once to a file (e.g. data/holdout.csv), version it (git add or dvc add), and evaluate every run on that file; name it in ${section(facts, 'readiness')} eval_set = "..." if its name does not say test, eval, holdout or valid.`,
        evidence,
      );
    }
    return pass(`The recent runs evaluate on the same versioned file${evidence.length > 1 ? 's' : ''}: ${evidence.map((e) => (e as { path: string }).path).join(', ')}.`, evidence);
  },
};

// ---------------------------------------------------------------------------------------------
// Serving contract and monitoring

const inputContract: ItemDefinition = {
  id: 'input-contract',
  title: 'Input contract present',
  async check(facts) {
    const candidates = facts.files.filter((f) => isContractCandidate(f));
    const found: EvidenceRef[] = [];
    const broken: string[] = [];
    for (const file of candidates) {
      if (found.length >= 5) break;
      const text = await facts.readText(file);
      if (text === null) continue;
      if (file.endsWith('.json')) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          broken.push(`${file} is not valid JSON`);
          continue;
        }
        const fields = contractFields(value);
        if (fields === null) broken.push(`${file} names no fields ("properties" or "columns")`);
        else found.push(fileRef(file, `${file} (${fields.length} field${fields.length === 1 ? '' : 's'}: ${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ', …' : ''})`));
      } else {
        const pandera = /^\s*(import pandera|from pandera)/m.test(text) && /(DataFrameSchema|DataFrameModel|SchemaModel)/.test(text);
        const pydantic = /^\s*(import pydantic|from pydantic)/m.test(text) && /^\s*class \w+\(.*BaseModel.*\)\s*:/m.test(text);
        if (pandera || pydantic) found.push(fileRef(file, `${file} (${pandera ? 'pandera' : 'pydantic'} schema)`));
      }
    }
    if (found.length) return pass(`The model's input is specified in ${found.map((f) => (f as { path: string }).path).join(', ')}.`, found);
    const { latest } = latestRuns(facts);
    const columns = latest.flatMap((r) => r.inputs.flatMap((i) => (i.profile ? i.profile.columns.map((c) => `${c.name} (${c.type})`) : []))).slice(0, 12);
    const hint = columns.length ? ` The training data's columns, from the latest run: ${columns.join(', ')}.` : '';
    return fail(
      broken.length ? `No usable input contract: ${broken.join('; ')}.` : 'No input contract: nothing says what a prediction request must contain.',
      `Write contracts/input.schema.json: a JSON Schema of one prediction request with every feature, its type and its allowed range or values (or a pandera DataFrameSchema / pydantic model under contracts/).${hint}`,
    );
  },
};

/** JSON under contracts/ or named *.schema.json; Python under contracts/ or named *schema*.py / *contract*.py. */
function isContractCandidate(file: string): boolean {
  const inContracts = file.startsWith('contracts/') || file.includes('/contracts/');
  if (file.endsWith('.json')) return inContracts || file.endsWith('.schema.json');
  if (file.endsWith('.py')) return inContracts || /(schema|contract)[^/]*\.py$/i.test(path.posix.basename(file));
  return false;
}

/** Field names of a JSON Schema (`properties`, also of `items`) or of an nb2prod contract (`columns`). */
function contractFields(value: unknown): string[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const props = (typeof v.items === 'object' && v.items !== null ? (v.items as Record<string, unknown>).properties : undefined) ?? v.properties;
  if (typeof props === 'object' && props !== null && !Array.isArray(props) && Object.keys(props).length) return Object.keys(props);
  if (Array.isArray(v.columns) && v.columns.length) return v.columns.map((c) => (typeof c === 'object' && c !== null && 'name' in c ? String((c as { name: unknown }).name) : String(c)));
  if (typeof v.columns === 'object' && v.columns !== null && Object.keys(v.columns).length) return Object.keys(v.columns);
  return null;
}

const driftMonitoring: ItemDefinition = {
  id: 'drift-monitoring',
  title: 'Drift monitoring configured with thresholds',
  async check(facts) {
    const m = facts.monitoring;
    const where = `${configFileName(facts)} ${section(facts, 'monitoring')}`;
    const { latest } = latestRuns(facts);
    const training = latest.flatMap((r) => r.inputs).find((i) => !EVAL_NAME.test(i.path));
    const reference = training ? fromWorkspace(facts, training.path).path : 'data/train.csv';
    const metric = latest.flatMap((r) => Object.keys(r.metrics))[0] ?? 'METRIC';
    const example = `${section(facts, 'monitoring')} reference = "${reference}" (or "run:ID"), schedule = "daily"; ${section(facts, 'monitoring.drift')} monitor = 0.1, retrain = 0.2; ${section(facts, 'monitoring.metrics')} ${metric} = MINIMUM`;
    if (!m) return fail('No monitoring is configured: drift and degradation would go unnoticed.', `Add to ${configFileName(facts)}: ${example} — and run nb2prod drift ${reference} CURRENT --fail-on retrain on that schedule (e.g. a CI job).`);
    const missing: string[] = [];
    const evidence: EvidenceRef[] = [];
    // The reference distribution.
    if (!m.reference) missing.push('a reference (the training data or run:ID)');
    else {
      const ok = await referenceExists(facts, m.reference);
      if (ok) evidence.push(ok);
      else missing.push(`a reference that exists (${m.reference} was not found)`);
    }
    // Thresholds.
    if (m.drift) evidence.push(configRef(facts, m.driftKey ?? 'monitoring.drift', `monitor = ${m.drift.monitor}, retrain = ${m.drift.retrain}`));
    else missing.push('drift thresholds (monitor and retrain PSI)');
    // Degradation.
    const metrics = Object.entries(m.metrics);
    const logged = new Set(latest.flatMap((r) => Object.keys(r.metrics)));
    const unknownMetrics = latest.length ? metrics.filter(([name]) => !logged.has(name)).map(([name]) => name) : [];
    // Automation: a schedule, or a CI job running nb2prod drift or nb2prod monitor --check.
    const ci = await ciRunningDrift(facts);
    const monitorCheck = ci?.monitor === true;
    if (!metrics.length && monitorCheck) evidence.push(fileRef(ci!.file, `${ci!.file} runs nb2prod monitor --check: accuracy drop alerts ([monitoring.alerts] accuracy_drop)`));
    else if (!metrics.length) missing.push('a degradation alert (a metric with its minimum, or nb2prod monitor --check on the service)');
    else if (unknownMetrics.length === metrics.length) missing.push(`a degradation metric the runs log (${unknownMetrics.join(', ')} ${unknownMetrics.length > 1 ? 'are' : 'is'} not logged; they log ${[...logged].join(', ') || 'nothing'})`);
    else evidence.push(configRef(facts, 'monitoring.metrics', metrics.map(([n, v]) => `${n} ≥ ${v}`).join(', ')));
    if (ci) evidence.push(fileRef(ci.file, `${ci.file} runs ${ci.monitor ? 'nb2prod monitor --check' : 'nb2prod drift'}`));
    else if (m.schedule) evidence.push(configRef(facts, 'monitoring', `schedule = ${m.schedule}`));
    else missing.push('a schedule (schedule = "daily", or a CI job running nb2prod monitor --check or nb2prod drift)');
    if (missing.length) return fail(`Monitoring in ${where} lacks ${missing.join('; ')}.`, `Complete it: ${example}.`, evidence);
    const degradation = metrics.length ? `degradation below ${metrics.map(([n, v]) => `${n} ${v}`).join(', ')}` : "an accuracy drop against the training run's (nb2prod monitor)";
    return pass(`Drift against ${m.reference} is alerted at PSI ${m.drift!.monitor}/${m.drift!.retrain} and ${degradation}, ${ci ? `by ${ci.file}` : m.schedule}.`, evidence);
  },
};

async function referenceExists(facts: ReadinessFacts, reference: string): Promise<EvidenceRef | null> {
  const run = /^run:([^:]+)(?::(.+))?$/.exec(reference);
  if (run) {
    try {
      const id = await facts.store.resolveRunId(run[1]!);
      const envelope = await facts.store.getRun(id);
      const profiled = envelope.inputs.filter((i) => i.profile && (!run[2] || i.path === run[2] || i.path.endsWith(`/${run[2]}`)));
      return profiled.length ? runRef(envelope, `reference profile of ${profiled[0]!.path}`) : null;
    } catch {
      return null;
    }
  }
  const absolute = path.resolve(facts.config.baseDir ?? facts.root, reference);
  const relative = toPortable(path.relative(facts.root, absolute));
  const text = await facts.readText(relative, `${facts.config.file ?? 'the project configuration'} (monitoring reference)`);
  return text === null ? null : fileRef(relative, `${relative} (drift reference)`);
}

const CI_FILES = ['.gitlab-ci.yml', 'azure-pipelines.yml', 'Jenkinsfile', 'bitbucket-pipelines.yml'];

/** A CI file that runs `nb2prod monitor … --check` (preferred: it alerts on degradation too) or `nb2prod drift`. */
async function ciRunningDrift(facts: ReadinessFacts): Promise<{ file: string; monitor: boolean } | null> {
  const candidates = [...CI_FILES];
  try {
    for (const name of await fs.readdir(path.join(facts.root, '.github', 'workflows'))) if (/\.ya?ml$/.test(name)) candidates.push(`.github/workflows/${name}`);
  } catch {
    // no GitHub workflows
  }
  let drift: string | null = null;
  for (const file of candidates) {
    const text = await facts.readText(file);
    if (text && /nb2prod\s+monitor\b[^\n]*--check\b/.test(text)) return { file, monitor: true };
    if (text && !drift && /nb2prod\s+drift\b/.test(text)) drift = file;
  }
  return drift ? { file: drift, monitor: false } : null;
}

// ---------------------------------------------------------------------------------------------
// Registry

function registryProblem(facts: ReadinessFacts, what: string): ItemResult | RegistryFacts {
  if (facts.registry.state === 'unreadable') return unknown(`The registry could not be read: ${facts.registry.reason}.`, 'Use an nb2prod version that reads this registry, or repair the file.');
  if (facts.registry.state === 'none') return fail(`There is no model registry, so ${what}.`, `Register the model versions you train (Register Model Version on a run, or nb2prod registry register MODEL RUN) and promote one to champion (nb2prod registry promote MODEL VERSION champion).`);
  return facts.registry.facts;
}

const versionLabel = (v: { model: string; version: number | string }) => `${v.model} v${v.version}`;
const registryRef = (v: { model: string; version: number | string; runId: string | null }, what: string): EvidenceRef => ({ kind: 'registry', id: `${v.model}@${v.version}`, label: `${versionLabel(v)} (${what}${v.runId ? `, run ${short(v.runId)}` : ''})` });

const rollbackCandidate: ItemDefinition = {
  id: 'rollback-candidate',
  title: 'A rollback candidate in the registry',
  check(facts) {
    const registry = registryProblem(facts, 'there is no earlier version to roll back to');
    if (!('champion' in registry)) return registry;
    if (!registry.champion) return fail('No version is champion in the registry: nothing is deployed, and nothing to roll back from.', 'Promote the version you deploy to champion.');
    const evidence = [registryRef(registry.champion, 'champion')];
    const previous = registry.previousChampion;
    if (!previous || (previous.model === registry.champion.model && String(previous.version) === String(registry.champion.version))) {
      return fail(`${versionLabel(registry.champion)} is champion with no earlier champion to go back to.`, 'Keep a known-good earlier version registered and promoted once before (the alias history is the rollback path): promote the previous model, then the new one.', evidence);
    }
    evidence.push(registryRef(previous, 'previous champion'));
    if (previous.runId && !facts.runs.some((r) => r.id === previous.runId)) {
      return fail(`The rollback candidate ${versionLabel(previous)} came from run ${short(previous.runId)}, which is not in the run store: it cannot be reproduced or audited.`, `Restore the run store (.nb2prod/runs) or register a rollback candidate whose run is stored.`, evidence);
    }
    if (previous.runId) evidence.push({ kind: 'run', id: previous.runId, label: `run ${short(previous.runId)} (produced ${versionLabel(previous)})` });
    return pass(`${versionLabel(registry.champion)} is champion; ${versionLabel(previous)} is ready to roll back to.`, evidence);
  },
};

const rollbackTested: ItemDefinition = {
  id: 'rollback-tested',
  title: 'Rollback tested',
  check(facts) {
    const registry = registryProblem(facts, 'no rollback has been rehearsed');
    if (!('champion' in registry)) return registry;
    if (!registry.rollbackDone) {
      return fail('The champion alias has never been moved back to an earlier version: a rollback has not been rehearsed.', 'Rehearse it: roll the champion back to the previous version and deploy it to the service (Roll Back… in the Monitor panel, Roll Back Alias in the Model Registry view, or nb2prod registry rollback champion --deploy SERVICE_DIR --reason "rehearsal"), restart the service and check it answers with that version (GET /ready, the audit log and nb2prod monitor show the version), then promote again with --deploy. Time it: it should take minutes.', registry.champion ? [registryRef(registry.champion, 'champion')] : []);
    }
    const evidence: EvidenceRef[] = registry.champion ? [registryRef(registry.champion, `champion; last rollback ${registry.lastRollbackAt ?? 'recorded'}`)] : [];
    const deployed = registry.deployedRollback;
    if (deployed) {
      evidence.push({ kind: 'file', path: `${deployed.service === '.' ? '' : `${deployed.service}/`}service/deployment.json`, label: `${deployed.service} (v${deployed.version} deployed by the rollback of ${deployed.at})` });
      return pass(`A rollback of the champion alias was deployed to the service ${deployed.service} (v${deployed.version}, ${deployed.at}).`, evidence);
    }
    return pass(`A rollback of the champion alias is recorded${registry.lastRollbackAt ? ` (last on ${registry.lastRollbackAt})` : ''}; it moved the alias only (nb2prod registry rollback champion --deploy SERVICE_DIR also puts the version back in the service).`, evidence);
  },
};

// ---------------------------------------------------------------------------------------------
// The service

function serviceFix(facts: ReadinessFacts, what: string): string {
  return `Generate the service (Generate Production Service, or nb2prod scaffold NOTEBOOK): it has both. Or, in your own service, ${what} and declare it in ${facts.service.path}, e.g. {"auditLog": true, "killSwitch": true, "fallback": "..."}.`;
}

const predictionAudit: ItemDefinition = {
  id: 'prediction-audit',
  title: 'Audit trail of predictions',
  check(facts) {
    const s = facts.service;
    const what = 'log every prediction (request id, inputs, model version, output, time) to an append-only log';
    if (!s.manifest) return fail(s.exists ? `${s.problem}.` : `No prediction service manifest (${s.path}): nothing shows that predictions are logged.`, serviceFix(facts, what), s.exists ? [fileRef(s.path)] : []);
    if (!s.manifest.auditLog) return fail(`${s.path} says predictions are not logged ("auditLog": false or absent).`, serviceFix(facts, what), [fileRef(s.path)]);
    const evidence = [fileRef(s.path, `${s.path} (auditLog)`)];
    const files = s.auditFiles ?? [];
    if (files.length) {
      const day = (f: string) => /(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(f)![1]!;
      evidence.push(fileRef(files.at(-1)!, `${files.length} day${files.length === 1 ? '' : 's'} of audit log, ${day(files[0]!)} to ${day(files.at(-1)!)} (read back by nb2prod monitor)`));
    }
    return pass(`The service logs every prediction${s.manifest.auditLogPath ? ` to ${s.manifest.auditLogPath}` : ''}${files.length ? `; ${files.length} day${files.length === 1 ? '' : 's'} of it are here` : ''}.`, evidence);
  },
};

const killSwitch: ItemDefinition = {
  id: 'kill-switch',
  title: 'Kill switch and fallback',
  check(facts) {
    const s = facts.service;
    const what = 'add a switch that turns the model off without a deploy, and a fallback that answers meanwhile (a rule, the previous model, or "defer to a person")';
    if (!s.manifest) return fail(s.exists ? `${s.problem}.` : `No prediction service manifest (${s.path}): nothing shows the model can be switched off.`, serviceFix(facts, what), s.exists ? [fileRef(s.path)] : []);
    const missing = [...(s.manifest.killSwitch ? [] : ['kill switch']), ...(s.manifest.fallback ? [] : ['fallback'])];
    if (missing.length) return fail(`${s.path} declares no ${missing.join(' and no ')}.`, serviceFix(facts, what), [fileRef(s.path)]);
    return pass(`The model can be switched off; meanwhile: ${s.manifest.fallback}.`, [fileRef(s.path, `${s.path} (killSwitch, fallback)`)]);
  },
};

// ---------------------------------------------------------------------------------------------
// People and documents

const humanReview: ItemDefinition = {
  id: 'human-review',
  title: 'Human review criteria for low confidence',
  check(facts) {
    const text = facts.readiness.humanReview;
    if (!text) {
      return fail(
        'Nothing says which predictions a person reviews.',
        `Add to ${configFileName(facts)} ${section(facts, 'readiness')}: human_review = "Scores between 0.4 and 0.6 go to the review queue of TEAM within one working day" — when confidence is too low to act on, and who decides.`,
      );
    }
    return pass(`Low-confidence predictions: ${text}`, [configRef(facts, 'readiness', 'human_review')]);
  },
};

const owner: ItemDefinition = {
  id: 'owner',
  title: 'An owner named',
  check(facts) {
    const name = facts.readiness.owner;
    if (!name) return fail('No owner is named: nobody is on the hook when the model misbehaves.', `Add to ${configFileName(facts)} ${section(facts, 'readiness')}: owner = "Name <email>" (a person or an on-call team).`);
    return pass(`Owned by ${name}.`, [configRef(facts, 'readiness', 'owner')]);
  },
};

const MODEL_CARD_NAMES = /(^|\/)model[-_ ]?card\.(md|markdown|txt|rst)$/i;
const CARD_SECTIONS: Array<{ name: string; pattern: RegExp }> = [
  { name: 'Intended use', pattern: /intended use|use cases?|purpose/i },
  { name: 'Training data', pattern: /training data|data(set)?s?\b/i },
  { name: 'Evaluation', pattern: /evaluation|metrics|performance|results/i },
  { name: 'Limitations', pattern: /limitations|caveats|risks|ethical/i },
];

/** Headings of a Markdown (ATX or setext) or reStructuredText document. */
function headings(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  lines.forEach((line, i) => {
    const atx = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (atx) out.push(atx[1]!);
    else if (i > 0 && /^(=+|-+|~+)\s*$/.test(line) && lines[i - 1]!.trim()) out.push(lines[i - 1]!.trim());
  });
  return out;
}

const modelCard: ItemDefinition = {
  id: 'model-card',
  title: 'Model card written',
  async check(facts) {
    const registryCard = facts.registry.state === 'ok' ? facts.registry.facts.modelCardPath : undefined;
    const configured = registryCard ?? (facts.readiness.modelCard ? toPortable(path.relative(facts.root, path.resolve(facts.config.baseDir ?? facts.root, facts.readiness.modelCard))) : undefined);
    const file = configured ?? facts.files.find((f) => MODEL_CARD_NAMES.test(f) && !f.includes('/')) ?? facts.files.find((f) => MODEL_CARD_NAMES.test(f));
    const sections = CARD_SECTIONS.map((s) => s.name.toLowerCase()).join(', ');
    const fix = `Write MODEL_CARD.md with sections ${CARD_SECTIONS.map((s) => `"${s.name}"`).join(', ')} (what the model is for and not for, the data it learned from, its metrics on the frozen evaluation set with intervals, where it fails).`;
    if (!file) return fail('No model card (MODEL_CARD.md, or model_card in the registry or [readiness]).', fix);
    const text = await facts.readText(file, configured ? 'the registry or the project configuration (model card)' : 'the project');
    if (text === null) return fail(`The model card ${file} does not exist.`, fix, [fileRef(file)]);
    const found = headings(text);
    const missing = CARD_SECTIONS.filter((s) => !found.some((h) => s.pattern.test(h))).map((s) => s.name);
    if (missing.length) return fail(`${file} lacks ${missing.length > 1 ? 'sections' : 'a section'}: ${missing.join(', ')}.`, `Add ${missing.map((m) => `"## ${m}"`).join(', ')} to ${file} (a model card covers ${sections}).`, [fileRef(file)]);
    return pass(`${file} covers ${sections}.`, [fileRef(file)]);
  },
};

const DEFAULT_ROLES = ['developer', 'validator'];

const approvals: ItemDefinition = {
  id: 'approvals',
  title: 'Approvals complete',
  check(facts) {
    const registry = registryProblem(facts, 'nothing records who approved the model');
    if (!('champion' in registry)) return registry;
    if (!registry.champion) return fail('No version is champion in the registry, so there is nothing approved to deploy.', 'Register the version to deploy, have it approved by each required role, and promote it to champion.');
    const champion = registry.champion;
    const roles = registry.requiredRoles.length ? registry.requiredRoles : DEFAULT_ROLES;
    const evidence: EvidenceRef[] = registry.approvals.map((a) => ({ kind: 'registry', id: `${champion.model}@${champion.version}`, label: `${versionLabel(champion)} approved by ${a.by} as ${a.role}` }));
    const missing = roles.filter((role) => !registry.approvals.some((a) => a.role === role));
    const problems: string[] = [];
    if (missing.length) problems.push(`no approval as ${missing.join(', ')}`);
    const byPerson = new Map<string, Set<string>>();
    for (const a of registry.approvals) if (roles.includes(a.role)) byPerson.set(a.by, new Set([...(byPerson.get(a.by) ?? []), a.role]));
    for (const [person, held] of byPerson) if (held.size > 1) problems.push(`${person} approved as ${[...held].join(' and ')}: required roles need different people`);
    const selfValidated = registry.approvals.find((a) => a.role !== 'developer' && a.role !== 'author' && a.by === champion.registeredBy && roles.includes(a.role));
    if (selfValidated) problems.push(`${selfValidated.by} registered the version and approved it as ${selfValidated.role}`);
    if (problems.length) {
      return fail(`${versionLabel(champion)} (champion): ${problems.join('; ')}.`, `Have ${roles.join(', ')} each approve ${versionLabel(champion)} (Approve Model Version in the Model Registry view, or nb2prod registry approve MODEL VERSION --role ROLE), each a different person, and not the one who registered it except as developer.`, evidence);
    }
    return pass(`${versionLabel(champion)} is approved by ${roles.map((r) => `${r} (${registry.approvals.find((a) => a.role === r)!.by})`).join(', ')}.`, evidence);
  },
};

export const ITEMS: readonly ItemDefinition[] = [
  seeds,
  dataVersioned,
  environmentLocked,
  replay,
  repeatedRuns,
  frozenEvalSet,
  inputContract,
  driftMonitoring,
  rollbackCandidate,
  rollbackTested,
  predictionAudit,
  killSwitch,
  humanReview,
  owner,
  modelCard,
  approvals,
];

/** Capitalises a sentence that starts with a word, never one that starts with a path or name. */
function capitalise(text: string): string {
  return /^[a-z]+\s/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

function fmt(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

export type { ItemStatus };
