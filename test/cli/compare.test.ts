/**
 * `nb2prod compare` over a real store: two groups of five seeds each, paired by seed, with the
 * numbers checked against the core's statistics (themselves checked against scipy) and the
 * traps printed in words.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import type { Comparison } from '../../src/core/stats/compare';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

let root: string;
const BASE = [0.81, 0.83, 0.82, 0.8, 0.84];
const DEEP = [0.83, 0.85, 0.83, 0.82, 0.86];

function cli(args: string[]) {
  return runInProcess(args, root);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-compare-'));
  const store = new RunStore(path.join(root, '.nb2prod'));
  const start = Date.now() - 60 * 60 * 1000;
  for (let seed = 0; seed < 5; seed++) {
    await store.writeRun(makeEnvelope({ name: `base ${seed}`, group: 'base', startedAt: new Date(start + seed * 1000), params: { max_depth: 8, seed }, seed, metrics: { accuracy: BASE[seed]! } }));
    await store.writeRun(makeEnvelope({ name: `deep ${seed}`, group: 'deep', startedAt: new Date(start + 10_000 + seed * 1000), params: { max_depth: 12, seed }, seed, metrics: { accuracy: DEEP[seed]! } }));
  }
  await store.writeRun(makeEnvelope({ name: 'lonely', startedAt: new Date(start + 20_000), params: { max_depth: 16 }, metrics: { accuracy: 0.9 } }));
  store.close();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod compare', () => {
  it('compares two groups paired by seed, with interval, Holm p-value and effect size', async () => {
    const { code, stdout } = await cli(['compare', 'group:base', 'group:deep']);
    expect(code).toBe(0);
    expect(stdout).toContain('Comparing 2 groups — base (baseline): 5 runs; deep: 5 runs.');
    expect(stdout).toMatch(/deep +5 +0\.838 +\[.+\] +\+0\.018/);
    expect(stdout).toMatch(/paired t \(param seed\)/);
    expect(stdout).toContain('max_depth: base=8  deep=12');
  });

  it('prints the comparison as JSON', async () => {
    const { code, stdout } = await cli(['compare', 'group:base', 'group:deep', '--json']);
    expect(code).toBe(0);
    const comparison = JSON.parse(stdout) as Comparison;
    const accuracy = comparison.metrics.find((m) => m.metric === 'accuracy')!;
    const difference = accuracy.differences[0]!;
    // Differences 0.02, 0.02, 0.01, 0.02, 0.02: mean 0.018, sd 0.004472, t = 9.0 on 4 df.
    expect(difference.estimate).toBeCloseTo(0.018, 12);
    expect(difference.t).toBeCloseTo(9.0, 6);
    expect(difference.test).toBe('paired-t');
    expect(difference.p).toBeLessThan(0.001);
  });

  it('flags a single run on a side in words', async () => {
    const { code, stdout } = await cli(['compare', 'group:base', 'latest']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Read with care:/);
    expect(stdout).toMatch(/lonely/);
    expect(stdout).toMatch(/"lonely" has a single run: there is no estimate of run-to-run noise/);
  });

  it('groups runs itself with --auto', async () => {
    const ids = JSON.parse((await cli(['runs', '--json'])).stdout) as { runs: Array<{ id: string; group: string | null }> };
    const named = ids.runs.filter((r) => r.group).map((r) => r.id);
    const { code, stdout } = await cli(['compare', '--auto', ...named]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Comparing 2 groups/);
  });

  it('says what is wrong with its arguments', async () => {
    expect(await cli(['compare'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/name the runs or groups/) });
    expect(await cli(['compare', 'group:base'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/at least two/) });
    expect(await cli(['compare', 'group:nope', 'group:base'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/No runs in group "nope"/) });
    expect(await cli(['compare', 'group:base', 'group:deep', '--baseline', '3'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--baseline must be/) });
  });
});
