/**
 * `nb2prod registry` over a real store: the full lifecycle of a model (register, gated
 * promotion, a refused gate and its recorded override, approvals with the separation rule,
 * rollback with the file restored, history at a time, model cards) and a damaged registry file.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personOf, runInProcess } from './inProcess';
import type { AliasMove } from '../../src/core/registry/fold';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

let root: string;
const ids: Record<string, string> = {};
const OLD = [0.81, 0.83, 0.82, 0.8, 0.84];
const NEW = [0.83, 0.85, 0.84, 0.82, 0.86];

/**
 * `nb2prod ARGS` as the person named by --by, at their own OS account (each name stands for a
 * different person, as on their own machines); `as` overrides the account.
 */
function cli(args: string[], as?: string) {
  return runInProcess(args, root, {}, personOf(args, as));
}
const pause = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-registry-cli-'));
  const store = new RunStore(path.join(root, '.nb2prod'));
  const start = Date.now() - 60 * 60 * 1000;
  for (let seed = 0; seed < 5; seed++) {
    const old = makeEnvelope({ name: `old ${seed}`, group: 'old', seed, params: { seed }, startedAt: new Date(start + seed * 1000), metrics: { roc_auc: OLD[seed]!, latency_ms: 10 + seed } });
    const neu = makeEnvelope({ name: `new ${seed}`, group: 'new', seed, params: { seed }, startedAt: new Date(start + 10_000 + seed * 1000), metrics: { roc_auc: NEW[seed]!, latency_ms: 11 + seed } });
    await store.writeRun(old);
    await store.writeRun(neu);
    ids.old ??= old.id;
    ids.new ??= neu.id;
  }
  const quick = makeEnvelope({ name: 'quick fix', startedAt: new Date(start + 20_000), metrics: { roc_auc: 0.79, latency_ms: 40 } });
  await store.writeRun(quick);
  ids.quick = quick.id;
  store.close();
  await fs.mkdir(path.join(root, 'models'));
  await fs.writeFile(path.join(root, 'models', 'old.bin'), 'old model');
  await fs.writeFile(path.join(root, 'models', 'new.bin'), 'new model');
  await fs.writeFile(
    path.join(root, 'nb2prod.toml'),
    `[registry.gates]
metric = "roc_auc"
minimum = 0.75
min_improvement = 0.005
min_runs = 3
significance = 0.05
aliases = ["champion"]
[registry.gates.guardrails]
latency_ms = { max_increase = 5 }
[registry.approvals]
required_roles = ["validator"]
aliases = ["champion"]
`,
  );
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod registry', () => {
  it('runs the full lifecycle: register, gates, approvals, override, rollback, history at a time', async () => {
    // v1 from the "old" group.
    const r1 = await cli(['registry', 'register', 'churn', ids.old!, '--file', 'models/old.bin', '--by', 'ana', '--note', 'first forest']);
    expect(r1).toMatchObject({ code: 0, stdout: expect.stringMatching(/Registered churn v1 from run .*models\/old\.bin.*copy kept in the store/) });

    // No approval yet: refused (exit 1) with the reason; nothing is recorded.
    const refused = await cli(['registry', 'promote', 'churn', '1', '--to', 'champion', '--by', 'ana']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/PASS +minimum roc_auc +v1 0\.82 \(mean of 5 runs\) ≥ minimum 0\.75/);
    expect(refused.stdout).toMatch(/SKIP +min improvement +no version holds the alias yet/);
    expect(refused.stdout).toMatch(/FAIL +approval validator/);
    expect(refused.stdout).toMatch(/Refused: 2 checks failed \(approval validator, separation of duties\)/);

    // The registrant approving alone does not satisfy the separation rule.
    const self = await cli(['registry', 'approve', 'churn', '1', '--role', 'validator', '--by', 'ana']);
    expect(self.code).toBe(0);
    expect(self.stderr).toMatch(/ana registered v1: an approval by someone else is still needed/);
    const stillRefused = await cli(['registry', 'promote', 'churn', '1', '--to', 'champion', '--by', 'ana']);
    expect(stillRefused.code).toBe(1);
    expect(stillRefused.stdout).toMatch(/FAIL +separation of duties +the only approver is ana, who registered v1/);

    expect((await cli(['registry', 'approve', 'churn', '1', '--role', 'validator', '--by', 'bo', '--note', 'checked holdout'])).code).toBe(0);
    const p1 = await cli(['registry', 'promote', 'churn', '1', '--to', 'champion', '--by', 'ana', '--reason', 'first model']);
    expect(p1).toMatchObject({ code: 0, stdout: expect.stringMatching(/Promoted: churn champion is v1\./) });
    await pause();

    // v2 from the "new" group: better, significantly (paired by seed), within the latency guardrail.
    expect((await cli(['registry', 'register', 'churn', ids.new!, '--file', 'models/new.bin', '--by', 'ana'])).stdout).toMatch(/churn v2/);
    await cli(['registry', 'approve', 'churn', '2', '--role', 'validator', '--by', 'bo']);
    const p2 = await cli(['registry', 'promote', 'churn', '2', '--to', 'champion', '--by', 'ana', '--json']);
    expect(p2.code).toBe(0);
    const result2 = JSON.parse(p2.stdout) as { promoted: boolean; previous: number; checks: Array<{ name: string; status: string; detail: string }> };
    expect(result2).toMatchObject({ promoted: true, previous: 1 });
    expect(result2.checks.map((c) => `${c.name}:${c.status}`)).toEqual(['minimum roc_auc:pass', 'min runs:pass', 'min improvement:pass', 'significance:pass', 'guardrail latency_ms:pass', 'approval validator:pass', 'separation of duties:pass']);
    expect(result2.checks.find((c) => c.name === 'significance')!.detail).toMatch(/paired t \(param seed\)/);
    await pause();

    // v3: a single quick run that overwrites models/new.bin — the gate refuses it with reasons.
    await fs.writeFile(path.join(root, 'models', 'new.bin'), 'hotfix model');
    expect((await cli(['registry', 'register', 'churn', ids.quick!, '--file', 'models/new.bin', '--by', 'cy'])).stdout).toMatch(/churn v3/);
    await cli(['registry', 'approve', 'churn', '3', '--role', 'validator', '--by', 'bo']);
    const gateRefused = await cli(['registry', 'promote', 'churn', '3', '--to', 'champion', '--by', 'cy']);
    expect(gateRefused.code).toBe(1);
    expect(gateRefused.stdout).toMatch(/FAIL +min runs +1 successful run with roc_auc behind the candidate; 3 required/);
    expect(gateRefused.stdout).toMatch(/FAIL +min improvement +v3 0\.79 vs v2 0\.84 \(mean of 5 runs\): improvement -0\.05, 0\.005 required/);
    expect(gateRefused.stdout).toMatch(/FAIL +significance +needs at least 2 runs/);
    expect(gateRefused.stdout).toMatch(/FAIL +guardrail latency_ms .*rises by more than 5/);
    expect((JSON.parse((await cli(['registry', 'list', 'churn', '--json'])).stdout) as { models: Array<{ aliases: Record<string, { version: number }> }> }).models[0]!.aliases.champion!.version).toBe(2);

    // An explicit override is recorded as such, with the failed checks.
    const forced = await cli(['registry', 'promote', 'churn', '3', '--to', 'champion', '--by', 'cy', '--override', 'incident 42: v2 crashes on new schema']);
    expect(forced).toMatchObject({ code: 0, stdout: expect.stringMatching(/Promoted with an OVERRIDE of min runs, min improvement, significance, guardrail latency_ms/) });
    await pause();

    // Another alias is not gated by this configuration.
    expect((await cli(['registry', 'promote', 'churn', '1', '--to', 'challenger', '--by', 'cy'])).stdout).toMatch(/no gate or approval applies/);

    // Rollback: champion back to v2, and its model file restored from the store's copy.
    const rolled = await cli(['registry', 'rollback', 'champion', '--by', 'dee', '--reason', 'hotfix worse in prod', '--restore-file']);
    expect(rolled).toMatchObject({ code: 0, stdout: expect.stringMatching(/Rolled back churn champion: v3 -> v2\.\nRestored models\/new\.bin/) });
    expect(await fs.readFile(path.join(root, 'models', 'new.bin'), 'utf8')).toBe('new model');
    // A second rollback walks back to v1; a third has nowhere to go.
    expect((await cli(['registry', 'rollback', 'champion', '--by', 'dee'])).stdout).toMatch(/v2 -> v1/);
    expect(await cli(['registry', 'rollback', 'champion', '--by', 'dee'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no earlier version/) });

    // History: every move with who and why; and which version was champion at a given time.
    const history = JSON.parse((await cli(['registry', 'history', 'champion', '--json'])).stdout) as { moves: AliasMove[] };
    expect(history.moves.map((m) => [m.kind, m.from, m.version, m.by])).toEqual([
      ['promote', null, 1, 'ana'],
      ['promote', 1, 2, 'ana'],
      ['promote', 2, 3, 'cy'],
      ['rollback', 3, 2, 'dee'],
      ['rollback', 2, 1, 'dee'],
    ]);
    expect(history.moves[2]!.override).toEqual({ reason: 'incident 42: v2 crashes on new schema', failed: ['min runs', 'min improvement', 'significance', 'guardrail latency_ms'] });
    expect(history.moves[3]!.reason).toBe('hotfix worse in prod');
    const text = await cli(['registry', 'history', 'champion']);
    expect(text.stdout).toMatch(/churn champion -> v3 \(was v2\) +by cy \[OVERRIDE of min runs/);
    const at = async (time: string) => (await cli(['registry', 'history', 'champion', '--at', time])).stdout;
    expect(await at(history.moves[0]!.at)).toMatch(/churn champion at .*: v1 \(since /);
    expect(await at(new Date(Date.parse(history.moves[2]!.at) + 1).toISOString())).toMatch(/: v3 /);
    expect(await at('2000-01-01T00:00:00Z')).toMatch(/no version \(the alias did not exist yet\)/);
    expect(await cli(['registry', 'history', 'champion', '--at', 'yesterday'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--at must be an ISO time/) });

    // show: data versions, metrics, approvals; and a warning when the file has changed.
    await fs.writeFile(path.join(root, 'models', 'old.bin'), 'retrained in place');
    const show = await cli(['registry', 'show', 'churn', '1']);
    expect(show.stdout).toMatch(/churn v1 \[challenger, champion\]/);
    expect(show.stdout).toMatch(/data\/churn\.csv +sha256 /);
    expect(show.stdout).toMatch(/validator +bo .*checked holdout/);
    expect(show.stdout).toMatch(/WARNING: the file at models\/old\.bin no longer matches the registered sha256/);
  });

  it('writes a model card and keeps the sections the user filled in', async () => {
    const first = await cli(['registry', 'card', 'churn', '2']);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/Wrote the model card of churn v2: model-cards\/churn-v2\.md/) });
    const file = path.join(root, 'model-cards', 'churn-v2.md');
    const card = await fs.readFile(file, 'utf8');
    expect(card).toMatch(/^# Model card: churn v2/);
    expect(card).toMatch(/\| roc_auc \| 0\.83 \| 0\.84 \| \[0\.\d+, 0\.\d+\] \| 5 \|/);
    expect(card).toMatch(/Promoted to \*\*champion\*\* \(replacing v1\) by ana/);
    expect(card).toMatch(/PASS significance: /);
    expect(card).toMatch(/\| validator \| bo \|/);
    expect(card).toMatch(/`data\/churn\.csv`/);
    await fs.writeFile(file, card.replace(/_Where the model is known to do badly[^\n]*/, 'Under-predicts churn for accounts younger than a month.'));
    const second = await cli(['registry', 'card', 'churn', '2']);
    expect(second.stdout).toMatch(/Updated .*kept/);
    const regenerated = await fs.readFile(file, 'utf8');
    expect(regenerated).toContain('Under-predicts churn for accounts younger than a month.');
    expect(regenerated).toMatch(/Rolled back to \*\*champion\*\*/);
  });

  it('reads the rest of a registry whose last line was cut short, reports it, and keeps appending', async () => {
    const file = path.join(root, '.nb2prod', 'registry.jsonl');
    const before = (await fs.readFile(file, 'utf8')).trimEnd().split('\n').length;
    await fs.appendFile(file, '{"schema":"nb2prod.registry/1","type":"approve","mod');
    const listed = await cli(['registry', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/churn: 3 versions; champion = v1, challenger = v1/);
    expect(listed.stderr).toContain(`registry.jsonl line ${before + 1}: the last line is incomplete`);
    expect((await cli(['registry', 'approve', 'churn', '2', '--role', 'auditor', '--by', 'eve'])).code).toBe(0);
    const after = await cli(['registry', 'show', 'churn', '2', '--json']);
    expect((JSON.parse(after.stdout) as { version: { approvals: Array<{ role: string }> } }).version.approvals.map((a) => a.role)).toEqual(['validator', 'auditor']);
    expect(after.stderr).toBe('');
    expect((await cli(['registry', 'list'])).stderr).toContain(`line ${before + 1}: not valid JSON`);
  });

  it('separation of duties compares the recorded identities, not the typed name: --by bo from ana\'s account is ana', async () => {
    await fs.writeFile(path.join(root, 'models', 'sod.bin'), 'separation model');
    expect((await cli(['registry', 'register', 'sod', ids.new!, '--file', 'models/sod.bin', '--by', 'ana'])).code).toBe(0);
    // ana types another name; her OS account and git email are recorded beside it.
    const typed = await cli(['registry', 'approve', 'sod', '1', '--role', 'validator', '--by', 'bo'], 'ana');
    expect(typed.code).toBe(0);
    expect(typed.stderr).toMatch(/v1 was registered by ana with the same OS account \(ana\) as yours: an approval by someone else is still needed/);
    const lines = (await fs.readFile(path.join(root, '.nb2prod', 'registry.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'approve', by: 'bo', actor: { osUser: 'ana', host: 'test-host', gitEmail: 'ana@example.com' } });
    const refused = await cli(['registry', 'promote', 'sod', '1', '--to', 'champion', '--by', 'ana']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/FAIL +separation of duties +the approval by bo was made with the same OS account \(ana on test-host\) as ana, who registered v1/);
    // The real bo, from his own account, makes it independent.
    expect((await cli(['registry', 'approve', 'sod', '1', '--role', 'validator', '--by', 'bo'])).code).toBe(0);
    expect((await cli(['registry', 'promote', 'sod', '1', '--to', 'champion', '--by', 'ana'])).code).toBe(0);
  });

  it('says what is wrong with its arguments', async () => {
    expect(await cli(['registry'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/name a subcommand/) });
    expect(await cli(['registry', 'frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown subcommand "frobnicate"/) });
    expect(await cli(['registry', 'promote', 'churn', '2'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--to ALIAS/) });
    expect(await cli(['registry', 'promote', 'churn', '9', '--to', 'champion'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/churn has no version "9"/) });
    expect(await cli(['registry', 'show', 'nope'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/No model "nope"/) });
    expect(await cli(['registry', 'approve', 'churn', '1', '--role', 'boss', '--by', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--role must be one of developer, validator, auditor/) });
    expect(await cli(['registry', 'register', 'churn', ids.old!, '--file', 'models/none.bin', '--by', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/No model file at/) });
    expect(await cli(['registry', 'register', 'bad name', ids.old!, '--by', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a valid model name/) });
  });
});
