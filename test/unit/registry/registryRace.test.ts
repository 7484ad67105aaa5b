/**
 * Concurrent registry writers: 8 processes promoting, approving and rolling back the same model's
 * aliases at once. Every decision must be taken on the state it is appended after: the final log
 * is replayed and each alias event checked against the state folded from the lines before it
 * (its `previous`, its gate and approval checks, a rollback's target).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEnvelope } from '../../../src/core/envelope';
import { readRegistryFile } from '../../../src/core/registry/registryFile';
import { Registry } from '../../../src/core/registry/registry';
import { RunStore } from '../../../src/core/store/runStore';
import { makeEnvelope } from '../../fixtures/envelopes';
import { auditRaceLog, RACE_CONFIG } from '../../fixtures/registryRace';

const exec = promisify(execFile);
const REPO = path.join(__dirname, '..', '..', '..');
const WRITERS = 8;
const OPERATIONS = 10;

let root: string;
let storeRoot: string;
const runs = new Map<string, RunEnvelope>();

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-registry-race-'));
  storeRoot = path.join(root, '.nb2prod');
  const store = new RunStore(storeRoot);
  const registry = new Registry(store, root);
  await fs.mkdir(path.join(root, 'models'));
  for (const [i, auc] of [0.8, 0.82, 0.84, 0.86].entries()) {
    const run = makeEnvelope({ name: `v${i + 1}`, metrics: { roc_auc: auc }, startedAt: new Date(Date.now() - (10 - i) * 60_000) });
    await store.writeRun(run);
    runs.set(run.id, run);
    await fs.writeFile(path.join(root, 'models', `m${i + 1}.bin`), `model ${i + 1}`);
    await registry.register({ model: 'churn', run: run.id, file: path.join(root, 'models', `m${i + 1}.bin`), by: 'registrar@example.com' });
  }
  store.close();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('registry under concurrent writers', () => {
  it(`${WRITERS} processes promoting, approving and rolling back at once: every previous and every gate decision is right`, async () => {
    const actor = path.join(REPO, 'test', 'fixtures', 'registryActor.ts');
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, k) => exec(process.execPath, ['--import', 'tsx', actor, storeRoot, `w${k}`, String(OPERATIONS)], { cwd: REPO })),
    );
    const summaries = results.map((r) => JSON.parse(r.stdout.trim()) as { promoted: number; approved: number; rolledBack: number });

    const { events, problems } = await readRegistryFile(path.join(storeRoot, 'registry.jsonl'));
    expect(problems).toEqual([]);
    const aliasEvents = events.filter((e) => e.type === 'alias');
    // Nothing lost: every promotion and rollback a writer reported is in the log, and every approval.
    expect(aliasEvents.length).toBe(summaries.reduce((s, x) => s + x.promoted + x.rolledBack, 0));
    expect(events.filter((e) => e.type === 'approve').length).toBe(summaries.reduce((s, x) => s + x.approved, 0));
    expect(aliasEvents.length).toBeGreaterThan(10);
    expect(auditRaceLog(events, runs, RACE_CONFIG)).toEqual([]);
  }, 240_000);
});
