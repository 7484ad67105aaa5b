/**
 * Deploying registry versions into a generated service (src/core/registry/deploy.ts and the
 * Registry's deploy / promote --deploy / rollback --deploy): the champion entry of
 * service/deployment.json written from the store, re-hashed; a version of another input contract
 * refused with the differing columns, nothing recorded or written; the bare model of a composed
 * service refused; a store copy altered since registration refused; a rollback that deploys is
 * recorded with its service and counts for the readiness item; the editor's adapter logic.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnProfile, RunEnvelope } from '../../../src/core/envelope';
import { UserError } from '../../../src/core/errors';
import { loadService } from '../../../src/core/monitor/service';
import { registryFactsProvider } from '../../../src/core/readiness/registryFacts';
import { contractDifference, mergeDeployment, readDeploymentFile, rollbackDeployTargets, rollbackMessage, serviceIdentity, type ServiceIdentity } from '../../../src/core/registry/deploy';
import { NO_REGISTRY_CONFIG } from '../../../src/core/registry/gates';
import { Registry } from '../../../src/core/registry/registry';
import { readRegistryFile } from '../../../src/core/registry/registryFile';
import { RunStore } from '../../../src/core/store/runStore';
import { makeEnvelope } from '../../fixtures/envelopes';
import { sha256Hex } from '../../../src/core/hash';

const CHURN_COLUMNS: ColumnProfile[] = [
  { name: 'tenure', type: 'numeric', count: 2, nulls: 0 },
  { name: 'plan', type: 'categorical', count: 2, nulls: 0 },
  { name: 'churned', type: 'numeric', count: 2, nulls: 0 },
];
const CONFIG_SHA = sha256Hex('the generated model');

let root: string;
let store: RunStore;
let registry: Registry;
let service: string;

/** A tracked run whose training table (data/churn.csv) has `columns`. */
async function run(name: string, columns: ColumnProfile[], at: number): Promise<RunEnvelope> {
  const envelope = makeEnvelope({ name, startedAt: new Date(Date.now() - 3_600_000 + at * 1000) });
  envelope.inputs = [{ ...envelope.inputs[0]!, profile: { rows: 2, columns } }];
  await store.writeRun(envelope);
  return envelope;
}

async function registerFile(model: string, runId: string, file: string, content: string): Promise<void> {
  await fs.mkdir(path.join(root, 'models'), { recursive: true });
  await fs.writeFile(path.join(root, 'models', file), content);
  await registry.register({ model, run: runId, file: path.join(root, 'models', file), by: 'ana' });
}

/** A generated service folder (what nb2prod scaffold writes that a deployment reads). */
async function writeService(dir: string, options: { components?: Array<{ name: string; type: string; sha256: string }>; runModel?: string; deployments?: string[] | null } = {}): Promise<void> {
  await fs.mkdir(path.join(dir, 'service'), { recursive: true });
  await fs.mkdir(path.join(dir, 'contracts'), { recursive: true });
  await fs.writeFile(path.join(dir, 'service', 'config.json'), JSON.stringify({
    schema: 'nb2prod.service-config/1', name: 'churn', task: 'classification', target: 'churned',
    model: { path: 'model/churn.joblib', sha256: CONFIG_SHA, name: 'churn', version: null, registered: false, components: options.components ?? [], run_model: { path: 'models/raw.joblib', sha256: options.runModel ?? sha256Hex('raw') } },
    frame_columns: CHURN_COLUMNS.map((c) => c.name), input_columns: ['tenure', 'plan'], run_metrics: { accuracy: 0.8 },
  }));
  await fs.writeFile(path.join(dir, 'contracts', 'profile.json'), JSON.stringify({ source: 'data/churn.csv', rows: 2, target: 'churned', columns: CHURN_COLUMNS }));
  const marker: Record<string, unknown> = { schema: 'nb2prod.service/1', auditLog: true };
  if (options.deployments !== null) marker.deployments = options.deployments ?? ['champion', 'challenger'];
  await fs.writeFile(path.join(dir, 'service', 'nb2prod-service.json'), JSON.stringify(marker));
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-deploy-'));
  store = new RunStore(path.join(root, '.nb2prod'));
  registry = new Registry(store);
  service = path.join(root, 'production');
  await writeService(service);
  const r1 = await run('first', CHURN_COLUMNS, 0);
  const r2 = await run('second', CHURN_COLUMNS, 1);
  await registerFile('churn', r1.id, 'v1.joblib', 'model one');
  await registerFile('churn', r2.id, 'v2.joblib', 'model two');
  await registry.promote({ model: 'churn', version: 1, alias: 'champion', by: 'ana', config: NO_REGISTRY_CONFIG });
  await registry.promote({ model: 'churn', version: 2, alias: 'champion', by: 'ana', config: NO_REGISTRY_CONFIG });
});
afterEach(async () => {
  store.close();
  await fs.rm(root, { recursive: true, force: true });
});

const NO_GATES = NO_REGISTRY_CONFIG;

describe('registry deploy: the champion', () => {
  it('writes the champion entry from the store, re-hashed, and the service then serves that version', async () => {
    const result = await registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo', now: new Date('2025-06-01T10:00:00Z') });
    expect(result.role).toBe('champion');
    const deployment = await readDeploymentFile(service);
    expect(deployment?.champion).toMatchObject({ path: 'model/champion/churn-v2.joblib', sha256: sha256Hex('model two'), name: 'churn', version: 2, alias: 'champion', registered: true, deployed_at: '2025-06-01T10:00:00.000Z', by: 'bo' });
    expect(deployment?.champion?.run).toBe(result.version!.run);
    expect(await fs.readFile(path.join(service, 'model', 'champion', 'churn-v2.joblib'), 'utf8')).toBe('model two');
    expect(deployment?.challenger).toBeNull();
    // config.json's model is what it replaced: kept in the history, so the monitor knows its lines
    expect(deployment?.history).toEqual([expect.objectContaining({ role: 'champion', source: 'config', sha256: CONFIG_SHA })]);
    expect(await serviceIdentity(service)).toMatchObject({ model: 'churn', version: '2', challenger: null });
    const info = await loadService(service);
    expect(info.model).toEqual({ sha256: sha256Hex('model two'), name: 'churn', version: 2 });
    expect(info.servedBefore.map((m) => m.sha256)).toEqual([CONFIG_SHA]);
    // no temporary copies left beside it
    expect((await fs.readdir(path.join(service, 'model', 'champion'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the challenger when the champion is deployed, and removes it when it is the champion now', async () => {
    await registry.promote({ model: 'churn', version: 1, alias: 'challenger', by: 'ana', config: NO_GATES });
    await registry.deploy({ serviceDir: service, by: 'bo', mode: 'canary', percent: 20 });
    expect((await readDeploymentFile(service))?.challenger).toMatchObject({ version: 1, mode: 'canary', percent: 20, path: 'model/challenger/churn-v1.joblib' });
    await registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo' });
    expect((await readDeploymentFile(service))?.challenger).toMatchObject({ version: 1 });
    const promoted = await registry.promote({ model: 'churn', version: 1, alias: 'champion', by: 'ana', config: NO_GATES, deploy: { serviceDir: service } });
    expect(promoted.deployed).toMatchObject({ role: 'champion', clearedChallenger: true });
    const after = await readDeploymentFile(service);
    expect(after?.champion).toMatchObject({ version: 1 });
    expect(after?.challenger).toBeNull();
    // --clear of the champion: back to config.json's model
    await registry.deploy({ serviceDir: service, role: 'champion', by: 'bo', clear: true });
    expect((await readDeploymentFile(service))?.champion ?? null).toBeNull();
    expect((await loadService(service)).model.sha256).toBe(CONFIG_SHA);
  });

  it('refuses a version of another input contract, naming the columns, and records nothing', async () => {
    const other = await run('another shape', [{ name: 'tenure', type: 'categorical', count: 2, nulls: 0 }, { name: 'region', type: 'categorical', count: 2, nulls: 0 }, { name: 'churned', type: 'numeric', count: 2, nulls: 0 }], 2);
    await registerFile('churn', other.id, 'v3.joblib', 'model three');
    const before = (await readRegistryFile(registry.file)).events.length;
    const refused = registry.promote({ model: 'churn', version: 3, alias: 'champion', by: 'ana', config: NO_GATES, deploy: { serviceDir: service } });
    await expect(refused).rejects.toMatchObject({ code: 'deploy-refused' });
    await expect(refused).rejects.toThrow(/churn v3 does not take production's input contract: the training table its run read \(data\/churn\.csv\) differs in its columns \(missing plan; not in the service's contract: region; tenure is string in its run, numeric in the service\)/);
    expect((await readRegistryFile(registry.file)).events.length).toBe(before);
    expect(await readDeploymentFile(service)).toBeNull();
    await expect(fs.readdir(path.join(service, 'model', 'champion'))).rejects.toThrow();
    // the challenger deploy shares the check
    await registry.promote({ model: 'churn', version: 3, alias: 'challenger', by: 'ana', config: NO_GATES });
    await expect(registry.deploy({ serviceDir: service, by: 'bo' })).rejects.toMatchObject({ code: 'deploy-refused' });
  });

  it('refuses the notebook\u2019s bare model when the service composes fitted steps before it, and a service that cannot load a champion', async () => {
    await writeService(service, { components: [{ name: 'scaler', type: 'sklearn.preprocessing.StandardScaler', sha256: sha256Hex('s') }], runModel: sha256Hex('model two') });
    await expect(registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo' })).rejects.toThrow(/churn v2 is the notebook's bare model file .* composed with the fitted steps before it \(scaler\)/);
    await writeService(service, { deployments: null });
    await expect(registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo' })).rejects.toThrow(/does not load a deployed champion .* regenerate it with nb2prod scaffold/);
  });
});

describe('registry rollback --deploy', () => {
  it('moves the alias back and deploys the version it goes back to, recorded with the service', async () => {
    await registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo' });
    const result = await registry.rollback({ alias: 'champion', by: 'cy', reason: 'complaints', deploy: { serviceDir: service } });
    expect(result.version.version).toBe(1);
    expect(result.deployed).toMatchObject({ role: 'champion', service, file: path.join(service, 'model', 'champion', 'churn-v1.joblib') });
    expect(result.move.deployed).toEqual({ service: 'production', role: 'champion' });
    const deployment = await readDeploymentFile(service);
    expect(deployment?.champion).toMatchObject({ version: 1, sha256: sha256Hex('model one'), by: 'cy' });
    expect(deployment?.history?.map((h) => h.version)).toEqual([null, 2]);
    expect((await loadService(service)).model.version).toBe(1);
    // the readiness item's evidence: a rollback whose deployment was done
    const facts = await registryFactsProvider({ root, storeRoot: store.root });
    expect(facts?.deployedRollback).toMatchObject({ service: 'production', version: 1 });
  });

  it('refuses a store copy altered since it was registered: nothing recorded, the service untouched', async () => {
    await registry.deploy({ serviceDir: service, alias: 'champion', by: 'bo' });
    const before = await fs.readFile(path.join(service, 'service', 'deployment.json'), 'utf8');
    const events = (await readRegistryFile(registry.file)).events.length;
    const { state } = await registry.read();
    await fs.writeFile(registry.objectPath(state.models.churn!.versions[0]!)!, 'tampered');
    const refused = registry.rollback({ alias: 'champion', by: 'cy', deploy: { serviceDir: service } });
    await expect(refused).rejects.toBeInstanceOf(UserError);
    await expect(refused).rejects.toMatchObject({ code: 'object-corrupt' });
    expect((await readRegistryFile(registry.file)).events.length).toBe(events);
    expect(await fs.readFile(path.join(service, 'service', 'deployment.json'), 'utf8')).toBe(before);
    expect(await fs.readdir(path.join(service, 'model', 'champion'))).toEqual(['churn-v2.joblib']);
  });

  it('deploys only an alias that has a role in a service', async () => {
    await registry.promote({ model: 'churn', version: 1, alias: 'staging', by: 'ana', config: NO_GATES });
    await registry.promote({ model: 'churn', version: 2, alias: 'staging', by: 'ana', config: NO_GATES });
    await expect(registry.rollback({ alias: 'staging', by: 'cy', deploy: { serviceDir: service } })).rejects.toThrow(/"staging" is neither/);
  });
});

describe('deployment pieces', () => {
  it('finds the run\u2019s training table by path, then by name, then by shared columns', () => {
    const profile = (p: string, columns: ColumnProfile[]) => ({ path: p, sha256: 'a'.repeat(64), bytes: 1, profile: { rows: 1, columns } });
    const service = { columns: CHURN_COLUMNS.map((c) => ({ name: c.name, kind: c.type === 'categorical' ? 'string' : c.type })), source: 'data/churn.csv' };
    expect(contractDifference(service, { inputs: [profile('lookup.csv', []), profile('other/churn.csv', CHURN_COLUMNS)] })).toBeNull();
    // categorical and text are the same kind (the profile tells them apart by how many values it saw)
    expect(contractDifference(service, { inputs: [profile('x.csv', CHURN_COLUMNS.map((c) => (c.name === 'plan' ? { ...c, type: 'text' as const } : c)))] })).toBeNull();
    expect(contractDifference(service, { inputs: [] })).toMatchObject({ table: null });
  });

  it('keeps the history of what the service served, bounded', () => {
    const contract = { configModel: { name: 'churn', version: null, sha256: CONFIG_SHA } };
    let file = null;
    for (let v = 1; v <= 60; v++) {
      const entry = { path: `model/champion/churn-v${v}.joblib`, sha256: sha256Hex(String(v)), name: 'churn', version: v, format: 'joblib' as const, registered: true as const, alias: 'champion', run: 'r', metrics: {}, deployed_at: 't', by: 'b' };
      file = mergeDeployment(file, contract, 'champion', entry, 'b', 't').file;
    }
    expect(file!.history).toHaveLength(50);
    expect(file!.history!.at(-1)).toMatchObject({ version: 59 });
  });

  it('the editor offers to deploy a rollback to the services serving the model, and says to restart', () => {
    const s = (root: string, model: string, deployments: ServiceIdentity['deployments']): ServiceIdentity => ({ root, name: model, model, version: '2', challenger: null, deployments });
    const services = [s('/w/prod', 'churn', ['champion', 'challenger']), s('/w/old', 'churn', ['challenger']), s('/w/fraud', 'fraud', ['champion', 'challenger'])];
    expect(rollbackDeployTargets('churn', 'champion', services).map((x) => x.root)).toEqual(['/w/prod']);
    expect(rollbackDeployTargets('churn', 'challenger', services).map((x) => x.root)).toEqual(['/w/prod', '/w/old']);
    expect(rollbackDeployTargets('churn', 'staging', services)).toEqual([]);
    expect(rollbackMessage({ model: 'churn', alias: 'champion', from: 2, to: 1, service: 'prod', served: '2' })).toMatch(/v1 is deployed to prod .*restart the service to serve it/);
    expect(rollbackMessage({ model: 'churn', alias: 'champion', from: 2, to: 1, service: null, served: '2' })).toMatch(/still serves v2: deploy v1 to it/);
    expect(rollbackMessage({ model: 'churn', alias: 'champion', from: 2, to: 1, service: null, served: '1' })).toMatch(/already serves v1/);
  });
});
