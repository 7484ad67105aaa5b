/**
 * The store writes its own .gitignore: `git add` of a store in use takes the run records, objects,
 * executed notebooks and the registry, and leaves the index, caches, locks, in-flight markers and
 * temporary files (checked with git itself). A .gitignore the team edited is left alone.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';
import { STORE_GITIGNORE } from '../../src/core/store/storeGitignore';
import { makeEnvelope } from '../fixtures/envelopes';

let workspace: string;
beforeEach(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-gitignore-'));
});
afterEach(async () => {
  await fs.rm(workspace, { recursive: true, force: true });
});

async function touch(relative: string, content = 'x'): Promise<void> {
  await fs.mkdir(path.dirname(path.join(workspace, relative)), { recursive: true });
  await fs.writeFile(path.join(workspace, relative), content);
}

describe("the store's .gitignore", () => {
  it('is written with the first run; git then adds what is precious and nothing else', async () => {
    const store = new RunStore(path.join(workspace, '.nb2prod'));
    const run = makeEnvelope();
    await store.writeRun(run);
    const object = await store.putObject('code');
    await store.list(); // writes the index
    await touch(`.nb2prod/artifacts/${run.id}/executed.ipynb`);
    await touch('.nb2prod/registry.jsonl');
    for (const transient of ['.nb2prod/registry.jsonl.lock', '.nb2prod/cache/file-hashes.json', `.nb2prod/tmp/${run.id}/events.jsonl`, `.nb2prod/running/${run.id}.json`, `.nb2prod/runs/.${run.id}.json.123.abcd.tmp`, '.nb2prod/.index.sqlite.1.ab.tmp', '.nb2prod/some-future-cache.db']) {
      await touch(transient);
    }
    expect(await fs.readFile(path.join(store.root, '.gitignore'), 'utf8')).toBe(STORE_GITIGNORE);

    execFileSync('git', ['init', '-q'], { cwd: workspace });
    const added = execFileSync('git', ['add', '--dry-run', '-A', '.nb2prod'], { cwd: workspace, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^add '(.*)'$/, '$1'))
      .sort();
    expect(added).toEqual([`.nb2prod/.gitignore`, `.nb2prod/artifacts/${run.id}/executed.ipynb`, `.nb2prod/objects/${object}`, `.nb2prod/registry.jsonl`, `.nb2prod/runs/${run.id}.json`].sort());
    store.close();
  });

  it('is left alone when the team has its own', async () => {
    await touch('.nb2prod/.gitignore', 'objects/\n');
    const store = new RunStore(path.join(workspace, '.nb2prod'));
    await store.writeRun(makeEnvelope());
    expect(await fs.readFile(path.join(store.root, '.gitignore'), 'utf8')).toBe('objects/\n');
  });
});
