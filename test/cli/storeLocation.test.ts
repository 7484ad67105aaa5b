/**
 * Where the store is, and what happens when it is not a store: `--store` and `NB2PROD_STORE`
 * behave alike; a file is a clear error (exit 2), a missing folder too, and an existing empty
 * folder is an empty store (as a missing default store lists no runs).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-store-location-'));
  await fs.writeFile(path.join(root, 'a-file'), 'not a store');
  await fs.mkdir(path.join(root, 'empty'));
  await fs.mkdir(path.join(root, 'project'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const oneLine = (text: string) => expect(text.trim().split('\n')).toHaveLength(1);

describe('locating the store', () => {
  it('NB2PROD_STORE or --store naming a file: exit 2 with one line', async () => {
    const byEnv = await runInProcess(['runs'], path.join(root, 'project'), { NB2PROD_STORE: path.join(root, 'a-file') });
    expect(byEnv.code).toBe(2);
    expect(byEnv.stderr).toMatch(/^nb2prod runs: NB2PROD_STORE names .*a-file, which is a file, not a store folder\./);
    oneLine(byEnv.stderr);
    const byOption = await runInProcess(['runs', '--store', path.join(root, 'a-file')], path.join(root, 'project'));
    expect(byOption).toMatchObject({ code: 2, stderr: expect.stringMatching(/--store names .*a-file, which is a file, not a store folder/) });
    expect((await runInProcess(['registry', 'list'], path.join(root, 'project'), { NB2PROD_STORE: path.join(root, 'a-file') })).code).toBe(2);
  });

  it('an existing empty folder is an empty store, given either way', async () => {
    for (const result of [await runInProcess(['runs', '--store', path.join(root, 'empty')], root), await runInProcess(['runs'], root, { NB2PROD_STORE: path.join(root, 'empty') })]) {
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No runs in .*empty\./), stderr: '' });
    }
    expect(await runInProcess(['registry', 'list', '--store', path.join(root, 'empty')], root)).toMatchObject({ code: 0, stdout: expect.stringMatching(/The registry is empty/) });
  });

  it('a folder that does not exist is an error given either way; a missing default store lists no runs', async () => {
    expect(await runInProcess(['runs', '--store', path.join(root, 'missing')], root)).toMatchObject({ code: 2, stderr: expect.stringMatching(/No run store at .*missing/) });
    expect(await runInProcess(['runs'], root, { NB2PROD_STORE: path.join(root, 'missing') })).toMatchObject({ code: 2, stderr: expect.stringMatching(/No run store at .*missing/) });
    expect(await runInProcess(['runs'], path.join(root, 'project'))).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No runs in /) });
  });
});
