import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';
import { SQL_WASM_PATH } from '../fixtures/fixtureWorkspace';

const run = promisify(execFile);
let dir: string | undefined;
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('two writer processes', () => {
  it('write 500 runs each into one store: all 1,000 are there and the index agrees', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-concurrent-'));
    const root = path.join(dir, '.nb2prod');
    const writer = path.join(__dirname, '..', 'fixtures', 'storeWriter.ts');
    const spawnWriter = (label: string) => run(process.execPath, ['--import', 'tsx', writer, root, '500', label], { cwd: path.join(__dirname, '..', '..') });
    const results = await Promise.all([spawnWriter('alpha'), spawnWriter('beta')]);
    expect(results.map((r) => r.stdout.trim())).toEqual(['wrote 500', 'wrote 500']);

    const files = (await fs.readdir(path.join(root, 'runs'))).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1000);
    expect((await fs.readdir(path.join(root, 'runs'))).filter((f) => f.startsWith('.'))).toEqual([]);

    const store = new RunStore(root, { sqlWasmPath: SQL_WASM_PATH });
    const { runs, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(runs).toHaveLength(1000);
    expect(new Set(runs.map((r) => `${r.id}.json`))).toEqual(new Set(files));
    expect((await store.list({ tag: 'alpha' })).runs).toHaveLength(500);
    expect((await store.list({ tag: 'beta' })).runs).toHaveLength(500);
    store.close();
  }, 120_000);
});
