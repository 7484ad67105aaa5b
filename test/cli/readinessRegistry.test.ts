/**
 * `nb2prod check` reading the real model registry: register two versions, approve, promote both
 * to champion and roll back once — the registry items of the checklist then pass, with evidence
 * pointing at registry entries. Before any of that they fail and say what to run.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personOf, runInProcess } from './inProcess';
import type { ReadinessReport } from '../../src/core/readiness/model';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

let root: string;
const runIds: string[] = [];

function cli(args: string[]) {
  return runInProcess(args, root, {}, personOf(args));
}

async function check(): Promise<Record<string, ReadinessReport['items'][number]>> {
  const { stdout } = await cli(['check', '--format', 'json']);
  const report = JSON.parse(stdout) as ReadinessReport;
  return Object.fromEntries(report.items.map((item) => [item.id, item]));
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-readiness-registry-'));
  await fs.writeFile(path.join(root, 'nb2prod.toml'), '[registry.approvals]\nrequired_roles = ["developer", "validator"]\n');
  const store = new RunStore(path.join(root, '.nb2prod'));
  for (let i = 0; i < 2; i++) {
    await fs.mkdir(path.join(root, 'models'), { recursive: true });
    await fs.writeFile(path.join(root, 'models', `model-${i}.joblib`), `model bytes ${i}`);
    const run = makeEnvelope({ name: `train ${i}`, metrics: { accuracy: 0.8 + i / 100 }, startedAt: new Date(Date.now() - (2 - i) * 60_000) });
    await store.writeRun(run);
    runIds.push(run.id);
  }
  store.close();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod check with the model registry', () => {
  it('fails the registry items while nothing is registered, saying what to do', async () => {
    const items = await check();
    for (const id of ['rollback-candidate', 'rollback-tested', 'approvals'] as const) {
      expect(items[id]!.status, id).not.toBe('pass');
      expect(items[id]!.fix, id).toBeTruthy();
    }
  });

  it('passes them once two versions were promoted, approved, and a rollback was rehearsed', async () => {
    for (const [i, id] of runIds.entries()) {
      expect((await cli(['registry', 'register', 'churn', id, '--file', `models/model-${i}.joblib`, '--by', 'alice'])).code).toBe(0);
      expect((await cli(['registry', 'approve', 'churn', String(i + 1), '--role', 'developer', '--by', 'alice'])).code).toBe(0);
      expect((await cli(['registry', 'approve', 'churn', String(i + 1), '--role', 'validator', '--by', 'bob'])).code).toBe(0);
      const promoted = await cli(['registry', 'promote', 'churn', String(i + 1), '--to', 'champion', '--by', 'carol']);
      expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    }
    // Rehearse: roll back to v1, then promote v2 again.
    expect((await cli(['registry', 'rollback', 'champion', '--model', 'churn', '--reason', 'drill', '--by', 'carol'])).code).toBe(0);
    expect((await cli(['registry', 'promote', 'churn', '2', '--to', 'champion', '--by', 'carol'])).code).toBe(0);

    const items = await check();
    expect(items['rollback-candidate']!.status).toBe('pass');
    expect(items['rollback-tested']!.status).toBe('pass');
    expect(items.approvals!.status).toBe('pass');
    expect(items['rollback-candidate']!.evidence.some((e) => e.kind === 'registry')).toBe(true);
  });
});
