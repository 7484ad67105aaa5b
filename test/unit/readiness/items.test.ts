/**
 * Each checklist item's pass / fail / unknown on small real projects (files, git, a real run
 * store with makeEnvelope runs), and the three questions derived from the items.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../fixtures/envelopes';
import { parsePins } from '../../../src/core/readiness/items';
import { formatReadiness } from '../../../src/core/readiness/format';
import { ITEM_IDS } from '../../../src/core/readiness/model';
import { goodRegistry, TempProject } from './helpers';

const NOTEBOOK = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', id: 'a', metadata: {}, execution_count: 1, outputs: [], source: ['import numpy as np\n', 'x = np.random.rand(3)\n'] }],
});

const projects: TempProject[] = [];
async function project(files: Record<string, string> = {}, options: { git?: boolean } = {}): Promise<TempProject> {
  const p = await TempProject.create();
  projects.push(p);
  for (const [name, content] of Object.entries(files)) await p.write(name, content);
  if (options.git !== false) await p.commitAll();
  return p;
}
afterEach(async () => {
  while (projects.length) await projects.pop()!.dispose();
});

const DATA = 'tenure,plan,churned\n1,basic,1\n24,pro,0\n';
const BASE_FILES = { 'train.ipynb': NOTEBOOK, 'data/churn.csv': DATA, 'requirements.txt': 'pandas==1.5.3\nnumpy==1.24.2\nscikit-learn==1.2.1\n' };

describe('report shape', () => {
  it('lists every item once, in order, and a project with nothing fails the three questions', async () => {
    const p = await project({}, { git: false });
    const report = await p.check();
    expect(report.items.map((i) => i.id)).toEqual([...ITEM_IDS]);
    expect(report.productionReady).toBe(false);
    expect(report.questions.map((q) => [q.id, q.answer])).toEqual([
      ['monitoring', 'no'],
      ['rollback', 'no'],
      ['audit-trail', 'no'],
    ]);
    for (const item of report.items) {
      if (item.status !== 'pass') expect(item.fix, item.id).toBeTruthy();
    }
    expect(formatReadiness(report, 'text')).toMatch(/^Is there automated monitoring for drift and degradation\?\n {2}No: /m);
  });
});

describe('seeds', () => {
  it('passes when the latest run set seeds and drew no unseeded randomness', async () => {
    const p = await project(BASE_FILES);
    await p.addRun();
    const item = await p.item('seeds');
    expect(item.status).toBe('pass');
    expect(item.evidence[0]).toMatchObject({ kind: 'run' });
  });
  it('fails with the call and its location when the latest run drew unseeded randomness', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({}, { unseeded: [{ library: 'sklearn', call: 'sklearn.model_selection.train_test_split', location: 'cell 5, line 1' }] });
    const item = await p.item('seeds');
    expect(item.status).toBe('fail');
    // Recorded as index 5; shown as the sixth cell, with its id.
    expect(item.summary).toContain('train_test_split at cell 6 (id cell-5), line 1');
    expect(item.fix).toMatch(/random_state/);
  });
  it('judges the latest run only: an old unseeded run does not count', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({}, { unseeded: [{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 1, line 2' }] });
    await p.addRun();
    expect((await p.item('seeds')).status).toBe('pass');
  });
  it('without runs, fails on the linter finding unseeded randomness, else is unknown', async () => {
    const p = await project(BASE_FILES);
    const item = await p.item('seeds');
    expect(item.status).toBe('fail');
    expect(item.evidence[0]).toMatchObject({ kind: 'file', path: 'train.ipynb' });
    const clean = await project({ 'train.py': 'import numpy as np\nrng = np.random.default_rng(0)\nprint(rng.random())\n' });
    expect((await clean.item('seeds')).status).toBe('unknown');
  });
});

describe('data-versioned', () => {
  it('passes when every input is committed to git', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({}, { inputs: [await p.input('data/churn.csv')] });
    const item = await p.item('data-versioned');
    expect(item.status).toBe('pass');
    expect(item.evidence).toContainEqual(expect.objectContaining({ kind: 'file', path: 'data/churn.csv', label: 'data/churn.csv (git)' }));
  });
  it('fails naming an input git does not track, and one outside the project', async () => {
    const p = await project(BASE_FILES);
    await p.write('data/extra.csv', DATA);
    await p.addRun({}, { inputs: [await p.input('data/churn.csv'), await p.input('data/extra.csv'), { path: '/srv/shared/big.csv', sha256: 'b'.repeat(64), bytes: 10 }] });
    const item = await p.item('data-versioned');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('data/extra.csv');
    expect(item.summary).toContain('/srv/shared/big.csv');
    expect(item.fix).toMatch(/dvc add|git add/);
  });
  it('counts a file declared with DVC as versioned', async () => {
    const p = await project(BASE_FILES);
    await p.write('data/big.csv', DATA);
    await p.write('data/big.csv.dvc', 'outs:\n- md5: abc\n  path: big.csv\n');
    await p.addRun({}, { inputs: [await p.input('data/big.csv')] });
    expect((await p.item('data-versioned')).evidence).toContainEqual(expect.objectContaining({ label: 'data/big.csv (dvc)' }));
  });
  it('is unknown outside a git repository', async () => {
    const p = await project(BASE_FILES, { git: false });
    await p.addRun({}, { inputs: [await p.input('data/churn.csv')] });
    expect((await p.item('data-versioned')).status).toBe('unknown');
  });
  it('fails without runs', async () => {
    const p = await project(BASE_FILES);
    const item = await p.item('data-versioned');
    expect(item.status).toBe('fail');
    expect(item.fix).toContain('nb2prod track train.ipynb');
  });
});

describe('environment-locked', () => {
  it('passes on a pinned requirements file matching the versions the run used', async () => {
    const p = await project(BASE_FILES);
    await p.addRun();
    const item = await p.item('environment-locked');
    expect(item.status).toBe('pass');
    expect(item.summary).toContain('requirements.txt pins all 3 packages');
  });
  it('fails on unpinned requirements, naming them', async () => {
    const p = await project({ ...BASE_FILES, 'requirements.txt': 'pandas>=1.5\nnumpy\nscikit-learn==1.2.1\n' });
    await p.addRun();
    const item = await p.item('environment-locked');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('pandas, numpy');
  });
  it('fails when the pins differ from what the run used', async () => {
    const p = await project({ ...BASE_FILES, 'requirements.txt': 'pandas==2.2.2\nnumpy==1.24.2\n' });
    await p.addRun();
    expect((await p.item('environment-locked')).summary).toContain('pandas 2.2.2 pinned, 1.5.3 used');
  });
  it('passes on a lock file, and fails when there is none', async () => {
    const p = await project({ 'train.ipynb': NOTEBOOK, 'uv.lock': 'version = 1\n' });
    await p.addRun({}, { environment: { ...(await p.addRun()).environment, lockFile: { path: 'uv.lock', sha256: 'c'.repeat(64) } } });
    expect((await p.item('environment-locked')).status).toBe('pass');
    const none = await project({ 'train.ipynb': NOTEBOOK });
    const run = await none.addRun();
    await none.addRun({}, { environment: { ...run.environment, lockFile: null } });
    expect((await none.item('environment-locked')).status).toBe('fail');
  });
  it('reads pins from requirements and conda files', () => {
    expect(parsePins('# c\npandas==1.5.3  # note\nnumpy>=1\n-r other.txt\nscikit-learn[all]===1.2.1\nflask==2.*\n', 'requirements')).toEqual({
      pinned: new Map([
        ['pandas', '1.5.3'],
        ['scikit-learn', '1.2.1'],
      ]),
      unpinned: ['numpy', 'flask'],
    });
    const conda = parsePins('name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - conda-forge::numpy=1.26.4\n  - pandas\n  - pip:\n    - requests==2.31.0\n', 'conda');
    expect([...conda.pinned.keys()]).toEqual(['python', 'numpy', 'requests']);
    expect(conda.unpinned).toEqual(['pandas']);
  });
});

describe('replay', () => {
  it('passes when a replay of the latest code reproduced the metrics', async () => {
    const p = await project(BASE_FILES);
    const original = await p.addRun({ metrics: { accuracy: 0.87 } });
    const replay = await p.addRun({ metrics: { accuracy: 0.87 + 1e-12 }, tags: ['replay'] }, { parent: original.id });
    const item = await p.item('replay');
    expect(item.status).toBe('pass');
    expect(item.evidence).toContainEqual(expect.objectContaining({ kind: 'run', id: replay.id }));
  });
  it('fails saying what differed when the replay did not reproduce', async () => {
    const p = await project(BASE_FILES);
    const original = await p.addRun({ metrics: { accuracy: 0.87 } });
    await p.addRun({ metrics: { accuracy: 0.85 }, tags: ['replay'] }, { parent: original.id });
    const item = await p.item('replay');
    expect(item.status).toBe('fail');
    expect(item.summary).toMatch(/Metric accuracy differs: 0\.87 → 0\.85/);
    expect(item.fix).toContain(`nb2prod replay ${original.id}`);
  });
  it('fails when the code changed since the replay, and when nothing was replayed', async () => {
    const p = await project(BASE_FILES);
    const original = await p.addRun();
    await p.addRun({ tags: ['replay'] }, { parent: original.id });
    const changed = await p.addRun({ cells: ['print("new code")'] });
    const item = await p.item('replay');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('never been replayed');
    expect(item.fix).toContain(`nb2prod replay ${changed.id}`);
  });
});

describe('repeated-runs', () => {
  it('passes with a group of 3 runs with different seeds, giving the interval', async () => {
    const p = await project(BASE_FILES);
    for (const [seed, auc] of [[1, 0.9], [2, 0.91], [3, 0.92]] as const) await p.addRun({ seed, group: 'rf', params: { seed }, metrics: { roc_auc: auc } });
    const item = await p.item('repeated-runs');
    expect(item.status).toBe('pass');
    expect(item.evidence[0]!.label).toMatch(/group rf: 3 runs, roc_auc 0\.91 \[0\.8852, 0\.9348\] \(95% interval\)/);
  });
  it('fails with too few runs, or repeats of one seed, and says how to run them', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({ group: 'rf', params: { seed: 1 } });
    await p.addRun({ group: 'rf', params: { seed: 2 } });
    let item = await p.item('repeated-runs');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('has 2 succeeded runs (3 needed)');
    expect(item.fix).toContain('nb2prod track train.ipynb -p seed=$s --group train-repeats');
    const same = await project(BASE_FILES);
    for (let i = 0; i < 3; i++) await same.addRun({ group: 'rf', seed: 42 });
    item = await same.item('repeated-runs');
    expect(item.status).toBe('fail');
    // Three runs with one seed, same code, params and data: exact duplicates, counted once.
    expect(item.summary).toContain('has 1 distinct succeeded run (3 needed); 2 more repeat an earlier run exactly (same code, params, seeds and data) and count once');
  });
  it('sees repeats without a --group: same code and params, the seed from -p and the estimator\'s autologged random_state', async () => {
    const p = await project(BASE_FILES);
    for (const [seed, auc] of [[1, 0.9], [2, 0.91], [3, 0.92]] as const) {
      const params = { max_depth: 8, seed, 'RandomForestClassifier.max_depth': 8, 'RandomForestClassifier.random_state': seed };
      await p.addRun({ seed, params, metrics: { roc_auc: auc } }, { paramSources: { max_depth: 'notebook', seed: 'override', 'RandomForestClassifier.max_depth': 'autolog', 'RandomForestClassifier.random_state': 'autolog' } });
    }
    // Another configuration with a single run does not hide the repeated one.
    await p.addRun({ params: { max_depth: 12, seed: 1, 'RandomForestClassifier.max_depth': 12, 'RandomForestClassifier.random_state': 1 }, metrics: { roc_auc: 0.8 } });
    const item = await p.item('repeated-runs');
    expect(item.status).toBe('pass');
    expect(item.evidence[0]!.label).toMatch(/^the group of train\.ipynb runs with the same code and params \(max_depth=8\): 3 runs, roc_auc 0\.91 \[/);
  });
  it('suggests the seed param the user can set, not the estimator\'s autologged one', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({ params: { 'RandomForestClassifier.random_state': 1, seed: 1 } }, { paramSources: { 'RandomForestClassifier.random_state': 'autolog', seed: 'notebook' } });
    const item = await p.item('repeated-runs');
    expect(item.status).toBe('fail');
    expect(item.fix).toContain('-p seed=$s');
  });
  it('ignores failed runs and replays', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({ group: 'rf', params: { seed: 1 } });
    await p.addRun({ group: 'rf', params: { seed: 2 } });
    await p.addRun({ group: 'rf', params: { seed: 3 }, status: 'failed' });
    await p.addRun({ group: 'rf', params: { seed: 4 }, tags: ['replay'] });
    expect((await p.item('repeated-runs')).status).toBe('fail');
  });
});

describe('frozen-eval-set', () => {
  it('passes when recent runs read the same versioned holdout file', async () => {
    const p = await project({ ...BASE_FILES, 'data/holdout.csv': DATA });
    for (let i = 0; i < 2; i++) await p.addRun({}, { inputs: [await p.input('data/churn.csv'), await p.input('data/holdout.csv')] });
    const item = await p.item('frozen-eval-set');
    expect(item.status).toBe('pass');
    expect(item.evidence[0]).toMatchObject({ kind: 'file', path: 'data/holdout.csv' });
  });
  it('fails when the runs read no evaluation file, or when it changed between runs', async () => {
    const p = await project(BASE_FILES);
    await p.addRun({}, { inputs: [await p.input('data/churn.csv')] });
    expect((await p.item('frozen-eval-set')).summary).toContain('read no evaluation file');
    await p.write('data/test.csv', DATA);
    await p.commitAll();
    await p.addRun({}, { inputs: [await p.input('data/test.csv')] });
    await p.write('data/test.csv', `${DATA}5,basic,0\n`);
    await p.commitAll();
    await p.addRun({}, { inputs: [await p.input('data/test.csv')] });
    const item = await p.item('frozen-eval-set');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('data/test.csv changed between the last 2 runs');
  });
  it('uses [readiness] eval_set, and requires the file to be versioned', async () => {
    const p = await project({ ...BASE_FILES, 'nb2prod.toml': '[readiness]\neval_set = "data/frozen_rows.csv"\n' });
    await p.write('data/frozen_rows.csv', DATA); // not committed
    await p.addRun({}, { inputs: [await p.input('data/frozen_rows.csv')] });
    const item = await p.item('frozen-eval-set');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('data/frozen_rows.csv is not versioned');
    await p.commitAll();
    expect((await p.item('frozen-eval-set')).status).toBe('pass');
  });
});

describe('input-contract', () => {
  it('passes on a JSON Schema under contracts/ or a *.schema.json, naming its fields', async () => {
    const p = await project({ 'contracts/input.json': JSON.stringify({ type: 'object', properties: { tenure: { type: 'integer' }, plan: { enum: ['basic', 'pro'] } } }) });
    const item = await p.item('input-contract');
    expect(item.status).toBe('pass');
    expect(item.evidence[0]!.label).toBe('contracts/input.json (2 fields: tenure, plan)');
    const other = await project({ 'api/request.schema.json': JSON.stringify({ columns: [{ name: 'tenure' }] }) });
    expect((await other.item('input-contract')).status).toBe('pass');
  });
  it('passes on a pandera or pydantic schema', async () => {
    const p = await project({ 'contracts/schema.py': 'import pandera as pa\nschema = pa.DataFrameSchema({"tenure": pa.Column(int)})\n' });
    expect((await p.item('input-contract')).evidence[0]!.label).toContain('pandera');
    const q = await project({ 'service/request_schema.py': 'from pydantic import BaseModel\n\nclass Request(BaseModel):\n    tenure: int\n' });
    expect((await q.item('input-contract')).evidence[0]!.label).toContain('pydantic');
  });
  it('fails without one, or on a contract that is not JSON or names no fields, suggesting the columns', async () => {
    const p = await project({ ...BASE_FILES, 'contracts/bad.json': '{', 'contracts/empty.json': '{"type": "object"}' });
    await p.addRun({}, { inputs: [{ ...(await p.input('data/churn.csv')), profile: { rows: 2, columns: [{ name: 'tenure', type: 'numeric', count: 2, nulls: 0 }] } }] });
    const item = await p.item('input-contract');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('contracts/bad.json is not valid JSON');
    expect(item.summary).toContain('contracts/empty.json names no fields');
    expect(item.fix).toContain('tenure (numeric)');
  });
});

const MONITORING = `[monitoring]
reference = "data/churn.csv"
schedule = "daily"
[monitoring.drift]
monitor = 0.1
retrain = 0.2
[monitoring.metrics]
accuracy = 0.8
`;

describe('drift-monitoring', () => {
  it('passes with a reference, thresholds, a logged metric floor and a schedule', async () => {
    const p = await project({ ...BASE_FILES, 'nb2prod.toml': MONITORING });
    await p.addRun();
    const item = await p.item('drift-monitoring');
    expect(item.status).toBe('pass');
    expect(item.evidence.map((e) => e.kind)).toEqual(['file', 'config', 'config', 'config']);
  });
  it('takes thresholds from [drift], a run:ID reference, and a CI workflow running nb2prod drift', async () => {
    const p = await project({ ...BASE_FILES, '.github/workflows/drift.yml': 'on: {schedule: [{cron: "0 6 * * *"}]}\njobs:\n  d:\n    steps:\n      - run: npx nb2prod drift run:latest data/today.csv --fail-on retrain\n' });
    const run = await p.addRun({}, { inputs: [{ ...(await p.input('data/churn.csv')), profile: { rows: 2, columns: [] } }] });
    await p.write('nb2prod.toml', `[monitoring]\nreference = "run:${run.id}"\n[monitoring.metrics]\naccuracy = 0.8\n[drift]\nmonitor = 0.15\nretrain = 0.3\n`);
    const item = await p.item('drift-monitoring');
    expect(item.status).toBe('pass');
    expect(item.evidence).toContainEqual(expect.objectContaining({ kind: 'file', path: '.github/workflows/drift.yml' }));
    expect(item.evidence).toContainEqual(expect.objectContaining({ kind: 'run', id: run.id }));
  });
  it('takes a scheduled nb2prod monitor --check as the automation and the degradation alert', async () => {
    const workflow = 'on: {schedule: [{cron: "0 6 * * *"}]}\njobs:\n  m:\n    steps:\n      - run: nb2prod monitor production --since 7d --check --on-alert "make train"\n';
    const p = await project({ ...BASE_FILES, '.github/workflows/monitor.yml': workflow, 'nb2prod.toml': '[monitoring]\nreference = "data/churn.csv"\n[monitoring.drift]\nmonitor = 0.1\nretrain = 0.2\n' });
    await p.addRun();
    const item = await p.item('drift-monitoring');
    expect(item.status).toBe('pass');
    expect(item.summary).toContain('an accuracy drop');
    expect(item.evidence).toContainEqual(expect.objectContaining({ kind: 'file', path: '.github/workflows/monitor.yml', label: expect.stringContaining('nb2prod monitor --check') }));
    // without --check the monitor only reports: no alert, no automation
    await p.write('.github/workflows/monitor.yml', workflow.replace(' --check --on-alert "make train"', ''));
    expect((await p.item('drift-monitoring')).status).toBe('fail');
  });
  it('fails listing what is missing', async () => {
    const p = await project({ ...BASE_FILES, 'nb2prod.toml': '[monitoring]\nreference = "data/missing.csv"\n[monitoring.metrics]\nrecall = 0.5\n' });
    await p.addRun();
    const item = await p.item('drift-monitoring');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('data/missing.csv was not found');
    expect(item.summary).toContain('drift thresholds');
    expect(item.summary).toContain('recall is not logged');
    expect(item.summary).toContain('a schedule');
    const none = await project(BASE_FILES);
    expect((await none.item('drift-monitoring')).summary).toContain('No monitoring is configured');
  });
  it('refuses invalid thresholds as a config error', async () => {
    const p = await project({ 'nb2prod.toml': '[monitoring.drift]\nmonitor = 0.3\nretrain = 0.2\n' });
    await expect(p.check()).rejects.toThrow(/0 ≤ monitor ≤ retrain/);
  });
});

describe('registry items', () => {
  it('fail without a registry, and are unknown when the registry file cannot be read', async () => {
    const p = await project(BASE_FILES);
    for (const id of ['rollback-candidate', 'rollback-tested', 'approvals'] as const) {
      const item = await p.item(id);
      expect(item.status, id).toBe('fail');
      expect(item.fix).toContain('registry');
    }
    await p.write('.nb2prod/registry.jsonl', '{}\n');
    expect((await p.item('rollback-candidate')).status).toBe('unknown');
  });
  it('pass on a champion with a stored previous version, a rollback done and independent approvals', async () => {
    const p = await project(BASE_FILES);
    const v1 = await p.addRun();
    const v2 = await p.addRun();
    const report = await p.check(goodRegistry({ champion: v2.id, previous: v1.id }));
    const status = Object.fromEntries(report.items.map((i) => [i.id, i.status]));
    expect([status['rollback-candidate'], status['rollback-tested'], status.approvals]).toEqual(['pass', 'pass', 'pass']);
    expect(report.items.find((i) => i.id === 'rollback-candidate')!.evidence).toContainEqual({ kind: 'registry', id: 'churn@1', label: `churn v1 (previous champion, run ${v1.id})` });
    expect(report.questions.find((q) => q.id === 'rollback')!.answer).toBe('yes');
  });
  it('fail on no champion, no previous version, a previous version whose run is gone, no rollback', async () => {
    const p = await project(BASE_FILES);
    const v2 = await p.addRun();
    expect((await p.item('rollback-candidate', goodRegistry({ champion: v2.id, previous: null }, { champion: null }))).summary).toContain('No version is champion');
    expect((await p.item('rollback-candidate', goodRegistry({ champion: v2.id, previous: null }, { previousChampion: null }))).status).toBe('fail');
    expect((await p.item('rollback-candidate', goodRegistry({ champion: v2.id, previous: '01JAAAAAAAAAAAAAAAAAAAAAAA' }))).summary).toContain('not in the run store');
    expect((await p.item('rollback-tested', goodRegistry({ champion: v2.id, previous: null }, { rollbackDone: false }))).status).toBe('fail');
  });
  it('approvals fail on a missing role, one person in two roles, or a self-validation', async () => {
    const p = await project(BASE_FILES);
    const ids = { champion: null, previous: null };
    expect((await p.item('approvals', goodRegistry(ids, { approvals: [{ role: 'developer', by: 'dana' }] }))).summary).toContain('no approval as validator');
    expect((await p.item('approvals', goodRegistry(ids, { approvals: [{ role: 'developer', by: 'sam' }, { role: 'validator', by: 'sam' }] }))).summary).toContain('sam approved as developer and validator');
    expect((await p.item('approvals', goodRegistry(ids, { approvals: [{ role: 'developer', by: 'lee' }, { role: 'validator', by: 'dana' }] }))).summary).toContain('dana registered the version and approved it as validator');
    const audited = goodRegistry(ids, { requiredRoles: ['developer', 'validator', 'auditor'] });
    expect((await p.item('approvals', audited)).summary).toContain('no approval as auditor');
  });
});

describe('service items', () => {
  it('fail until the service manifest exists, then follow its fields', async () => {
    const p = await project();
    let audit = await p.item('prediction-audit');
    expect(audit.status).toBe('fail');
    expect(audit.fix).toMatch(/Generate the service \(Generate Production Service, or nb2prod scaffold NOTEBOOK\)/);
    await p.write('service/nb2prod-service.json', '{"auditLog": true, "killSwitch": true}');
    audit = await p.item('prediction-audit');
    expect(audit.status).toBe('pass');
    const kill = await p.item('kill-switch');
    expect(kill.status).toBe('fail');
    expect(kill.summary).toContain('declares no fallback');
    await p.write('service/nb2prod-service.json', '{"auditLog": true, "killSwitch": true, "fallback": "predict no churn"}');
    expect((await p.item('kill-switch')).status).toBe('pass');
    expect((await p.check()).questions.find((q) => q.id === 'audit-trail')!.answer).toBe('yes');
  });
  it('fail on a manifest that is not JSON or has wrong types, and honour [readiness] service', async () => {
    const p = await project({ 'service/nb2prod-service.json': '{"auditLog": "yes"}' });
    expect((await p.item('prediction-audit')).summary).toContain('"auditLog" must be true or false');
    await p.write('nb2prod.toml', '[readiness]\nservice = "deploy/manifest.json"\n');
    await p.write('deploy/manifest.json', '{"auditLog": true}');
    expect((await p.item('prediction-audit')).status).toBe('pass');
  });
  it('find the manifest nb2prod scaffold wrote into a project folder when the default path is absent', async () => {
    const p = await project();
    await p.write('churn-service/service/nb2prod-service.json', '{"auditLog": true, "killSwitch": true, "fallback": "the majority class"}');
    const audit = await p.item('prediction-audit');
    expect(audit.status).toBe('pass');
    expect(JSON.stringify(audit.evidence)).toContain('churn-service/service/nb2prod-service.json');
    expect((await p.item('kill-switch')).status).toBe('pass');
    // the days of audit log the service wrote beside it are evidence too
    await p.write('churn-service/var/audit/predictions-2031-01-01.jsonl', '{}\n');
    await p.write('churn-service/var/audit/predictions-2031-01-03.jsonl', '{}\n');
    const withLog = await p.item('prediction-audit');
    expect(withLog.summary).toContain('2 days of it are here');
    expect(withLog.evidence).toContainEqual(expect.objectContaining({ kind: 'file', path: 'churn-service/var/audit/predictions-2031-01-03.jsonl', label: expect.stringContaining('2031-01-01 to 2031-01-03') }));
  });
});

describe('people and documents', () => {
  it('owner and human review come from [readiness] (also in pyproject.toml)', async () => {
    const p = await project();
    expect((await p.item('owner')).status).toBe('fail');
    expect((await p.item('human-review')).fix).toContain('human_review = ');
    await p.write('pyproject.toml', '[tool.nb2prod.readiness]\nowner = "Dana Lee"\nhuman_review = "Scores between 0.4 and 0.6 go to the retention team."\n');
    const owner = await p.item('owner');
    expect(owner.status).toBe('pass');
    expect(owner.evidence[0]).toEqual({ kind: 'config', path: 'pyproject.toml', key: 'readiness.owner', label: 'pyproject.toml [tool.nb2prod.readiness] owner' });
    expect((await p.item('human-review')).status).toBe('pass');
  });
  it('model card: found by name, its four sections required', async () => {
    const p = await project();
    expect((await p.item('model-card')).status).toBe('fail');
    await p.write('MODEL_CARD.md', '# Churn model\n\n## Intended use\nx\n\n## Training data\nx\n');
    const item = await p.item('model-card');
    expect(item.status).toBe('fail');
    expect(item.summary).toContain('Evaluation, Limitations');
    await p.write('MODEL_CARD.md', '# Churn model\n\n## Intended use\nx\n\n## Training data\nx\n\nMetrics\n-------\nx\n\n## Limitations\nx\n');
    expect((await p.item('model-card')).status).toBe('pass');
  });
  it('model card: the registry path wins', async () => {
    const p = await project({ 'docs/card.md': '## Intended use\n## Training data\n## Evaluation\n## Limitations\n' });
    const item = await p.item('model-card', goodRegistry({ champion: null, previous: null }, { modelCardPath: 'docs/card.md' }));
    expect(item.status).toBe('pass');
    expect(item.evidence[0]).toMatchObject({ kind: 'file', path: 'docs/card.md' });
  });
});

describe('fix buttons', () => {
  it('offer to run the fix or open the place, for failing items only', async () => {
    const p = await project(BASE_FILES);
    const run = await p.addRun({ params: { seed: 1 }, metrics: { roc_auc: 0.9 } }, { paramSources: { seed: 'notebook' } });
    const report = await p.check();
    const actionsOf = (id: string) => report.items.find((i) => i.id === id)!.actions ?? [];
    expect(actionsOf('repeated-runs')).toEqual([{ kind: 'trackWithParameters', label: 'Track train.ipynb with another seed…', source: 'train.ipynb' }]);
    expect(actionsOf('replay')).toEqual([{ kind: 'replay', label: `Replay ${run.name}`, runId: run.id }]);
    expect(actionsOf('input-contract')[0]).toMatchObject({ kind: 'generateService', notebook: 'train.ipynb' });
    expect(actionsOf('owner')[0]).toMatchObject({ kind: 'openFile', find: 'owner' });
    for (const item of report.items.filter((i) => i.status === 'pass')) expect(item.actions).toEqual([]);
    for (const item of report.items) expect(`${item.fix ?? ''} ${item.summary}`).not.toMatch(/coming/);
  });
  it('write a requirements file from the versions the run used when there is none', async () => {
    const p = await project({ 'train.ipynb': BASE_FILES['train.ipynb']! });
    const environment = { ...makeEnvelope().environment, lockFile: null, packages: { pandas: '1.5.3', 'scikit-learn': '1.2.1' } };
    const run = await p.addRun({}, { environment });
    const report = await p.check();
    const env = report.items.find((i) => i.id === 'environment-locked')!;
    expect(env.status).toBe('fail');
    expect(env.actions).toEqual([{ kind: 'openFile', label: 'Write requirements.txt from the versions the run used', path: 'requirements.txt', create: expect.stringContaining('pandas==1.5.3\nscikit-learn==1.2.1\n') }]);
    expect(env.actions![0]).toMatchObject({ create: expect.stringContaining(`run ${run.id}`) });
  });
});
