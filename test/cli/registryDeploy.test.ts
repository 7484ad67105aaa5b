/**
 * `nb2prod registry deploy|promote|rollback … --deploy SERVICE_DIR` over a real store and a
 * generated service's files: the champion deployed, a rollback that deploys and says to restart,
 * promote-or-keep in one command, a version of another input contract refused (exit 2) with the
 * differing columns, the JSON answer.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnProfile } from '../../src/core/envelope';
import { sha256Hex } from '../../src/core/hash';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { runInProcess } from './inProcess';

const COLUMNS: ColumnProfile[] = [
  { name: 'tenure', type: 'numeric', count: 2, nulls: 0 },
  { name: 'plan', type: 'categorical', count: 2, nulls: 0 },
  { name: 'churned', type: 'numeric', count: 2, nulls: 0 },
];
let root: string;
const ids: string[] = [];
const cli = (...args: string[]) => runInProcess(args, root, {}, { identity: { osUser: 'ana', host: 'h', gitEmail: 'ana@example.com' } });
const deployment = async () => JSON.parse(await fs.readFile(path.join(root, 'production', 'service', 'deployment.json'), 'utf8')) as { champion?: { version: number; sha256: string; by: string }; challenger: unknown };

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-registry-deploy-cli-'));
  const store = new RunStore(path.join(root, '.nb2prod'));
  const shapes = [COLUMNS, COLUMNS, [...COLUMNS, { name: 'region', type: 'categorical' as const, count: 2, nulls: 0 }]];
  for (const [i, columns] of shapes.entries()) {
    const run = makeEnvelope({ name: `run ${i}`, startedAt: new Date(Date.now() - 3_600_000 + i * 1000) });
    run.inputs = [{ ...run.inputs[0]!, profile: { rows: 2, columns } }];
    await store.writeRun(run);
    ids.push(run.id);
  }
  store.close();
  await fs.mkdir(path.join(root, 'models'));
  for (const n of [1, 2, 3]) await fs.writeFile(path.join(root, 'models', `v${n}.joblib`), `model ${n}`);
  const service = path.join(root, 'production');
  await fs.mkdir(path.join(service, 'service'), { recursive: true });
  await fs.mkdir(path.join(service, 'contracts'));
  await fs.writeFile(path.join(service, 'service', 'config.json'), JSON.stringify({ schema: 'nb2prod.service-config/1', name: 'churn', task: 'classification', target: 'churned', model: { path: 'model/churn.joblib', sha256: sha256Hex('model 1'), name: 'churn', version: 1, registered: true, components: [] }, frame_columns: ['tenure', 'plan', 'churned'], input_columns: ['tenure', 'plan'] }));
  await fs.writeFile(path.join(service, 'contracts', 'profile.json'), JSON.stringify({ source: 'data/churn.csv', rows: 2, target: 'churned', columns: COLUMNS }));
  await fs.writeFile(path.join(service, 'service', 'nb2prod-service.json'), JSON.stringify({ schema: 'nb2prod.service/1', deployments: ['champion', 'challenger'] }));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod registry: deploying the champion', () => {
  it('promotes and deploys in one command, rolls back with --deploy, refuses another contract', async () => {
    for (const n of [1, 2, 3]) expect((await cli('registry', 'register', 'churn', ids[n - 1]!, '--file', `models/v${n}.joblib`)).code).toBe(0);
    expect((await cli('registry', 'promote', 'churn', '1', '--to', 'champion')).code).toBe(0);

    const promoted = await cli('registry', 'promote', 'churn', '2', '--to', 'champion', '--deploy', 'production', '--reason', 'better');
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(/Promoted: churn champion is v2\./);
    expect(promoted.stdout).toMatch(/Deployed churn v2 to production as its champion: production\/model\/champion\/churn-v2\.joblib and production\/service\/deployment\.json\. Restart the service to serve it .*GET \/ready then names v2/);
    expect((await deployment()).champion).toMatchObject({ version: 2, sha256: sha256Hex('model 2') });

    const rolled = await cli('registry', 'rollback', 'champion', '--deploy', 'production', '--reason', 'complaints', '--json');
    expect(rolled.code).toBe(0);
    const answer = JSON.parse(rolled.stdout) as { version: { version: number }; deployed: { role: string; file: string }; move: { deployed: unknown } };
    expect(answer.version.version).toBe(1);
    expect(answer.deployed).toMatchObject({ role: 'champion', file: path.join(root, 'production', 'model', 'champion', 'churn-v1.joblib') });
    expect(answer.move.deployed).toEqual({ service: 'production', role: 'champion' });
    expect((await deployment()).champion).toMatchObject({ version: 1, sha256: sha256Hex('model 1') });
    const history = await cli('registry', 'history', 'champion', '--json');
    expect((JSON.parse(history.stdout) as { moves: Array<{ kind: string; deployed: unknown }> }).moves.at(-1)).toMatchObject({ kind: 'rollback', deployed: { service: 'production', role: 'champion' } });

    // v3 read a table with another column: refused (exit 2), the alias and the service unchanged
    const refused = await cli('registry', 'promote', 'churn', '3', '--to', 'champion', '--deploy', 'production');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/churn v3 does not take production's input contract: .*not in the service's contract: region.*needs its own service/);
    expect((JSON.parse((await cli('registry', 'list', 'churn', '--json')).stdout) as { models: Array<{ aliases: Record<string, { version: number }> }> }).models[0]!.aliases.champion!.version).toBe(1);
    expect((await deployment()).champion).toMatchObject({ version: 1 });

    // deploy --alias champion names the role by default; --clear goes back to config.json's model
    const deployed = await cli('registry', 'deploy', 'production', '--alias', 'champion');
    expect(deployed.stdout).toMatch(/Deployed churn v1 to production as its champion/);
    const cleared = await cli('registry', 'deploy', 'production', '--role', 'champion', '--clear');
    expect(cleared.stdout).toMatch(/Removed the deployed champion .*the model its service\/config\.json names/);
    expect((await deployment()).champion).toBeUndefined();
  });

  it('refuses --deploy for an alias with no role in a service', async () => {
    const refused = await cli('registry', 'promote', 'churn', '2', '--to', 'staging', '--deploy', 'production');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/"staging" is neither/);
  });
});
