import { describe, expect, it } from 'vitest';
import { REGISTRY_SCHEMA, type RegistryEvent } from '../../../src/core/registry/events';
import { aliasAt, foldRegistry, getVersion, rollbackTarget } from '../../../src/core/registry/fold';
import { evaluateApprovals, evaluateGate, parseRegistryConfig, type GateConfig } from '../../../src/core/registry/gates';
import { mergeKeptSections } from '../../../src/core/registry/card';
import { sha256Hex } from '../../../src/core/hash';
import { newRunId } from '../../../src/core/ids';
import { makeEnvelope } from '../../fixtures/envelopes';

const RUN = newRunId();
let minute = 0;
const at = () => new Date(Date.UTC(2025, 0, 1, 0, minute++)).toISOString();
const base = () => ({ schema: REGISTRY_SCHEMA, id: newRunId(), at: at(), by: 'ana' }) as const;

function reg(model: string, proposed = 1): RegistryEvent & { type: 'register' } {
  return { ...base(), type: 'register', model, proposedVersion: proposed, run: RUN, file: { path: 'm.bin', sha256: sha256Hex(String(Math.random())), bytes: 1, stored: false }, data: [], metrics: {}, group: null, runs: [RUN], note: null };
}
function move(r: { id: string; model: string }, version: number, kind: 'promote' | 'rollback' = 'promote', alias = 'champion'): RegistryEvent {
  return { ...base(), type: 'alias', kind, alias, model: r.model, version, versionId: r.id, previous: null, reason: null, checks: [], override: null };
}

describe('foldRegistry', () => {
  it('numbers versions by line order, not by the number the writer proposed (two writers registering at once)', () => {
    const a = reg('churn', 1);
    const b = reg('churn', 2);
    const c = reg('churn', 2); // written concurrently with b: also proposed 2
    const state = foldRegistry([a, b, c, move(c, 2)]);
    expect(state.models.churn!.versions.map((v) => [v.id, v.version])).toEqual([[a.id, 1], [b.id, 2], [c.id, 3]]);
    // The alias event points at c by id: it lands on v3 whatever number it carried.
    expect(state.models.churn!.aliases.champion!.version).toBe(3);
  });

  it('walks rollbacks back through the promotions and answers which version held an alias at a time', () => {
    const [v1, v2, v3] = [reg('churn'), reg('churn'), reg('churn')];
    const events = [v1, v2, v3, move(v1, 1), move(v2, 2), move(v3, 3)];
    let state = foldRegistry(events);
    const champion = state.models.churn!.aliases.champion!;
    expect(champion.stack).toEqual([1, 2, 3]);
    expect(rollbackTarget(champion)).toBe(2);
    events.push(move(v2, 2, 'rollback'));
    state = foldRegistry(events);
    expect(rollbackTarget(state.models.churn!.aliases.champion!)).toBe(1);
    events.push(move(v1, 1, 'rollback'));
    state = foldRegistry(events);
    expect(state.models.churn!.aliases.champion!.version).toBe(1);
    expect(rollbackTarget(state.models.churn!.aliases.champion!)).toBeNull();
    expect(state.moves.map((m) => [m.kind, m.from, m.version])).toEqual([['promote', null, 1], ['promote', 1, 2], ['promote', 2, 3], ['rollback', 3, 2], ['rollback', 2, 1]]);
    const times = state.moves.map((m) => new Date(m.at));
    expect(aliasAt(state, 'churn', 'champion', new Date(times[0]!.getTime() - 1))).toBeNull();
    expect(aliasAt(state, 'churn', 'champion', times[1]!)!.version).toBe(2);
    expect(aliasAt(state, 'churn', 'champion', new Date(times[3]!.getTime() + 30_000))!.version).toBe(2);
    expect(getVersion(state, 'churn', 'champion').version).toBe(1);
    expect(state.models.churn!.versions[0]!.aliases).toEqual(['champion']);
  });

  it('skips, with a warning, a move that points at no registered version', () => {
    const state = foldRegistry([move({ id: newRunId(), model: 'ghost' }, 1)]);
    expect(state.moves).toEqual([]);
    expect(state.warnings[0]!.message).toMatch(/not registered/);
  });
});

const gates = (section: Record<string, unknown>) => parseRegistryConfig({ gates: section }, 'nb2prod.toml [registry]').gates!;
const runs = (label: string, values: number[], extra: Record<string, number[]> = {}) =>
  values.map((v, seed) => makeEnvelope({ name: `${label} ${seed}`, group: label, seed, params: { seed }, metrics: { auc: v, ...Object.fromEntries(Object.entries(extra).map(([k, xs]) => [k, xs[seed]!])) } }));

describe('promotion gates', () => {
  it('parses the documented configuration and refuses unknown keys and bad values', () => {
    const config = parseRegistryConfig(
      { gates: { metric: 'auc', minimum: 0.75, min_improvement: 0.005, min_relative_improvement: 0.01, min_runs: 3, significance: 0.05, guardrails: { latency_ms: { max_increase: 5 }, f1_small: { max_decrease: 0.01 } } }, approvals: { required_roles: ['validator'] } },
      'nb2prod.toml [registry]',
    );
    expect(config.gates).toMatchObject({ metric: 'auc', direction: 'higher', minRuns: 3, guardrails: [{ metric: 'latency_ms', maxIncrease: 5, maxDecrease: null }, { metric: 'f1_small', maxIncrease: null, maxDecrease: 0.01 }] });
    expect(config.approvals.requiredRoles).toEqual(['validator']);
    expect(() => gates({ metric: 'auc', minimun: 1 })).toThrow(/unknown key `minimun`/);
    expect(() => gates({ minimum: 1 })).toThrow(/needs `metric`/);
    expect(() => gates({ metric: 'auc', significance: 5 })).toThrow(/between 0 and 1/);
    expect(() => parseRegistryConfig({ approvals: { required_roles: ['boss'] } }, 'x')).toThrow(/developer/);
  });

  it('passes a candidate that is better, significantly, on enough runs, within the guardrails', () => {
    const config: GateConfig = gates({ metric: 'auc', minimum: 0.8, min_improvement: 0.01, min_relative_improvement: 0.01, min_runs: 3, significance: 0.05, guardrails: { latency_ms: { max_increase: 5 } } });
    const holder = { label: 'v1', version: 1, runs: runs('old', [0.81, 0.83, 0.82, 0.8, 0.84], { latency_ms: [10, 11, 10, 12, 11] }) };
    const candidate = { label: 'v2', version: 2, runs: runs('new', [0.83, 0.85, 0.84, 0.82, 0.86], { latency_ms: [12, 13, 12, 14, 13] }) };
    const result = evaluateGate(config, candidate, holder);
    expect(result.checks.map((c) => [c.name, c.status])).toEqual([['minimum auc', 'pass'], ['min runs', 'pass'], ['min improvement', 'pass'], ['min relative improvement', 'pass'], ['significance', 'pass'], ['guardrail latency_ms', 'pass']]);
    expect(result.checks.find((c) => c.name === 'significance')!.detail).toMatch(/paired t \(param seed\), Holm-adjusted p = /);
    expect(result.passed).toBe(true);
  });

  it('fails with reasons: too few runs, no significance, a guardrail broken; skips holder checks without a holder', () => {
    const config = gates({ metric: 'auc', min_runs: 3, significance: 0.05, guardrails: { latency_ms: { max_increase: 5 } } });
    const holder = { label: 'v1', version: 1, runs: runs('old', [0.8, 0.82], { latency_ms: [10, 10] }) };
    const candidate = { label: 'v2', version: 2, runs: runs('new', [0.81, 0.8], { latency_ms: [20, 22] }) };
    const result = evaluateGate(config, candidate, holder);
    expect(result.passed).toBe(false);
    expect(result.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['min runs', 'significance', 'guardrail latency_ms']);
    expect(result.checks.find((c) => c.name === 'guardrail latency_ms')!.detail).toMatch(/change \+11.*rises by more than 5/);
    const first = evaluateGate(gates({ metric: 'auc', min_improvement: 0.01, minimum: 0.5 }), candidate, null);
    expect(first.checks.map((c) => c.status)).toEqual(['pass', 'skip']);
    expect(first.passed).toBe(true);
  });

  it('lower-is-better metrics improve downwards', () => {
    const result = evaluateGate(gates({ metric: 'auc', direction: 'lower', min_improvement: 0.01 }), { label: 'v2', version: 2, runs: runs('a', [0.5]) }, { label: 'v1', version: 1, runs: runs('b', [0.6]) });
    expect(result.checks[0]).toMatchObject({ status: 'pass', detail: expect.stringMatching(/improvement \+0.1/) });
  });
});

describe('approvals', () => {
  const version = (approvals: Array<{ by: string; role: 'developer' | 'validator' | 'auditor' }>) => {
    const state = foldRegistry([reg('churn')]);
    const v = state.models.churn!.versions[0]!;
    v.approvals = approvals.map((a) => ({ ...a, actor: { by: a.by, osUser: null, host: null, gitEmail: null }, id: newRunId(), at: at(), note: null }));
    return v;
  };
  const config = { requiredRoles: ['validator' as const], aliases: null };

  it('requires each role and someone other than the registrant', () => {
    expect(evaluateApprovals(config, version([])).map((c) => c.status)).toEqual(['fail', 'fail']);
    const self = evaluateApprovals(config, version([{ by: 'ana', role: 'validator' }]));
    expect(self.map((c) => c.status)).toEqual(['pass', 'fail']);
    expect(self[1]!.detail).toMatch(/the only approver is ana, who registered v1/);
    expect(evaluateApprovals(config, version([{ by: 'ana', role: 'developer' }, { by: 'bo', role: 'validator' }])).map((c) => c.status)).toEqual(['pass', 'pass']);
    expect(evaluateApprovals({ requiredRoles: [], aliases: null }, version([]))).toEqual([]);
  });
});

describe('model card kept sections', () => {
  it('keeps the user text of kept sections across regenerations', () => {
    const generated = (n: number) => `# Card ${n}\n<!-- nb2prod:keep known-limitations -->\n_fill in_\n<!-- nb2prod:end known-limitations -->\nfooter ${n}\n`;
    const edited = generated(1).replace('_fill in_', () => 'Poor on customers under 18.\nCosts $1 per $& call.');
    const merged = mergeKeptSections(edited, generated(2));
    expect(merged).toContain('# Card 2');
    expect(merged).toContain('Poor on customers under 18.\nCosts $1 per $& call.');
    expect(merged).toContain('footer 2');
    expect(mergeKeptSections(null, generated(3))).toBe(generated(3));
  });
});
