/**
 * Paths that come from files — a run envelope's file links, the Drift panel's saved state, the
 * project configuration, the readiness report's evidence — are kept inside the workspace or the
 * store before anything reads them. Each consumer gets a crafted file (`../`, an absolute path
 * elsewhere, a link inside the workspace pointing out) and must refuse with one line; what is
 * inside still works. (The registry's consumers: registrySafety.test.ts.)
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepDriftFilesInside } from '../../src/core/drift/panelState';
import { linkedRunFile } from '../../src/core/safePath';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { runInProcess } from './inProcess';

let root: string;
let workspace: string;
let store: string;
let secret: string;

beforeEach(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-path-safety-')));
  workspace = path.join(root, 'project');
  store = path.join(workspace, '.nb2prod');
  await fs.mkdir(path.join(workspace, 'data'), { recursive: true });
  await fs.mkdir(path.join(root, 'home'));
  secret = path.join(root, 'home', 'secrets.csv');
  await fs.writeFile(secret, 'token\nhunter2\n');
  await fs.writeFile(path.join(workspace, 'data', 'ok.csv'), 'a\n1\n');
  await fs.symlink(path.join(root, 'home'), path.join(workspace, 'data', 'home-link'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('run page file links from a crafted envelope', () => {
  it('opens what the run recorded inside the workspace, refuses ../, absolute and linked-out paths', async () => {
    const run = makeEnvelope();
    run.inputs = [
      { path: 'data/ok.csv', sha256: run.inputs[0]!.sha256, bytes: 4 },
      { path: '../home/secrets.csv', sha256: run.inputs[0]!.sha256, bytes: 4 },
      { path: secret, sha256: run.inputs[0]!.sha256, bytes: 4 },
      { path: 'data/home-link/secrets.csv', sha256: run.inputs[0]!.sha256, bytes: 4 },
    ];
    const [ok, climbing, absolute, linked] = run.inputs.map((i) => i.path);
    expect(await linkedRunFile(ok!, workspace, store)).toBe(path.join(workspace, 'data', 'ok.csv'));
    await expect(linkedRunFile(climbing!, workspace, store)).rejects.toThrow(/^Refused to open a file the run page links to: "\.\.\/home\/secrets\.csv" \(from the run file\) is outside the workspace/);
    await expect(linkedRunFile(absolute!, workspace, store)).rejects.toThrow(/is outside the workspace/);
    await expect(linkedRunFile(linked!, workspace, store)).rejects.toThrow(/leads outside .* through a symbolic link/);
    // The executed notebook lives in the store, which may be elsewhere (--store / nb2prod.storePath).
    const elsewhere = path.join(root, 'store-elsewhere');
    expect(await linkedRunFile(path.join(elsewhere, 'artifacts', 'x', 'executed.ipynb'), workspace, elsewhere)).toBe(path.join(elsewhere, 'artifacts', 'x', 'executed.ipynb'));
  });
});

describe('Drift panel state restored from a crafted webview state', () => {
  it('keeps files inside the workspace or store and drops the others with the reason', async () => {
    const inside = await keepDriftFilesInside({ reference: { kind: 'file', path: path.join(workspace, 'data', 'ok.csv') }, current: 'data/ok.csv', column: 'a' }, workspace, store);
    expect(inside).toEqual({ state: { reference: { kind: 'file', path: path.join(workspace, 'data', 'ok.csv') }, current: 'data/ok.csv', column: 'a' }, refused: [] });

    const crafted = await keepDriftFilesInside({ reference: { kind: 'file', path: secret }, current: 'data/home-link/secrets.csv' }, workspace, store);
    expect(crafted.state).toEqual({});
    expect(crafted.refused).toEqual([
      expect.stringMatching(/^Refused the reference data: ".*secrets\.csv" \(from the Drift panel’s saved state\) is outside the workspace/),
      expect.stringMatching(/^Refused the current data: "data\/home-link\/secrets\.csv" .* through a symbolic link/),
    ]);

    const run = await keepDriftFilesInside({ reference: { kind: 'run', runId: '01J0000000000000000000000A', input: '../anything' }, current: '../home/secrets.csv' }, workspace, store);
    expect(run.state).toEqual({ reference: { kind: 'run', runId: '01J0000000000000000000000A', input: '../anything' } }); // a run input is a key into the envelope, not a path read
    expect(run.refused).toHaveLength(1);

    expect((await keepDriftFilesInside({ current: 'data/ok.csv' }, undefined, undefined)).refused).toEqual([expect.stringMatching(/no workspace folder is open/)]);
  });
});

describe('nb2prod check with paths from a crafted configuration', () => {
  async function project(toml: string): Promise<void> {
    await fs.writeFile(path.join(workspace, 'nb2prod.toml'), toml);
    const runs = new RunStore(store);
    await runs.writeRun(makeEnvelope({ sourcePath: 'train.ipynb' }));
    runs.close();
  }

  it('refuses a monitoring reference outside the project with one line, exit 2', async () => {
    await project('[monitoring]\nreference = "../home/secrets.csv"\nschedule = "daily"\n');
    const result = await runInProcess(['check'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^nb2prod check: Refused a file the readiness check reads: "\.\.\/home\/secrets\.csv" \(from .*nb2prod\.toml \(monitoring reference\)\) is outside the workspace/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a model card reached through a link pointing out, and a service manifest elsewhere', async () => {
    await project('[readiness]\nmodel_card = "data/home-link/secrets.csv"\n');
    expect(await runInProcess(['check'], workspace)).toMatchObject({ code: 2, stderr: expect.stringMatching(/through a symbolic link/) });
    await project(`[readiness]\nservice = ${JSON.stringify(secret)}\n`);
    expect(await runInProcess(['check'], workspace)).toMatchObject({ code: 2, stderr: expect.stringMatching(/\(service\)\) is outside the workspace/) });
  });

  it('still reads configured files inside the project', async () => {
    await project('[monitoring]\nreference = "data/ok.csv"\n');
    const result = await runInProcess(['check', '--format', 'json'], workspace);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('data/ok.csv (drift reference)');
  });
});

describe('nb2prod replay of a crafted run file', () => {
  it('refuses a source path outside the workspace before writing the snapshot beside it or running anything', async () => {
    const runs = new RunStore(store);
    const code = "open('/dev/null', 'w')\n";
    const run = makeEnvelope({ sourcePath: '../home/train.py' });
    run.kind = 'script';
    run.source = { ...run.source, cells: [], snapshot: await runs.putObject(code), command: ['python3', '../home/train.py'] };
    await runs.writeRun(run);
    runs.close();
    const result = await runInProcess(['replay', run.id, '--python', '/bin/false'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^nb2prod replay: Refused to replay run \w+: "\.\.\/home\/train\.py" \(from runs\/\w+\.json \(source\.path\)\) is outside the workspace/);
    expect(await fs.readdir(path.join(root, 'home'))).toEqual(['secrets.csv']);
  });
});
