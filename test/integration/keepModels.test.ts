/**
 * The registered model is the run's own: a run's model files are kept in the store when it ends,
 * so registering an earlier run after a later one overwrote the file takes the earlier run's
 * bytes; where no copy was kept and the file has changed, `register` refuses unless the file is
 * named explicitly. Real Python writes the files (joblib, pickle, a model saver's JSON), through
 * the built CLI; once per interpreter of test/fixtures/pythons.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEnvelope } from '../../src/core/envelope';
import type { ModelVersion } from '../../src/core/registry/fold';
import { PYTHONS, requirePython } from '../fixtures/pythons';
import { cliWith, requireBuild, sha256sum, tempWorkspace } from './helpers';

const TRAIN = [
  'import os, sys, joblib',
  "seed = int(sys.argv[sys.argv.index('--seed') + 1])",
  "os.makedirs('models', exist_ok=True)",
  "joblib.dump({'weights': [seed * i for i in range(2000)]}, 'models/churn_model.joblib')",
  '',
].join('\n');

const SAVERS = [
  'import json, pickle, gzip, joblib',
  "with open('model.bin', 'wb') as f:",
  "    pickle.dump({'w': list(range(100))}, f)",
  "joblib.dump({'w': 1}, 'compressed.out', compress=3)",
  "with open('booster.json', 'w') as f:",
  "    json.dump({'learner': {'gradient_booster': {'name': 'gbtree'}}, 'version': [2, 0, 3]}, f)",
  "with open('metrics.json', 'w') as f:",
  "    json.dump({'auc': 0.8}, f)",
  "with gzip.open('table.csv.gz', 'wt') as f:",
  "    f.write('a,b\\n1,2\\n')",
  '',
].join('\n');

const workspaces: string[] = [];
afterAll(async () => {
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  const { nb2prod } = cliWith(python.path);
  let workspace: string;

  beforeAll(async () => {
    requirePython(python);
    requireBuild();
    workspace = await tempWorkspace('keep-models');
    workspaces.push(workspace);
    await fs.writeFile(path.join(workspace, 'train.py'), TRAIN);
    await fs.writeFile(path.join(workspace, 'savers.py'), SAVERS);
  });

  async function train(seed: number): Promise<RunEnvelope> {
    const result = await nb2prod(['run', '--json', '--', python.path, 'train.py', '--seed', String(seed)], workspace);
    expect(result.stderr).not.toContain('Traceback');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as RunEnvelope;
  }

  it('registering the first of two runs that wrote the same path takes the first run\'s bytes', async () => {
    const first = await train(1);
    const model1 = first.outputs.find((o) => o.path === 'models/churn_model.joblib')!;
    expect(model1).toMatchObject({ kept: true });
    expect(await fs.readFile(path.join(workspace, '.nb2prod', 'objects', model1.sha256))).toEqual(await fs.readFile(path.join(workspace, 'models', 'churn_model.joblib')));
    const second = await train(2);
    const model2 = second.outputs.find((o) => o.path === 'models/churn_model.joblib')!;
    expect(model2.sha256).not.toBe(model1.sha256);
    expect(sha256sum(path.join(workspace, 'models', 'churn_model.joblib'))).toBe(model2.sha256);

    const registered = await nb2prod(['registry', 'register', 'churn', first.id, '--json'], workspace);
    expect(registered.code).toBe(0);
    const { version, warnings } = JSON.parse(registered.stdout) as { version: ModelVersion; warnings: string[] };
    expect(version).toMatchObject({ version: 1, run: first.id, file: { path: 'models/churn_model.joblib', sha256: model1.sha256, stored: true } });
    expect(warnings).toEqual([]);

    // Rolling back to it later restores the first run's bytes, not the file that is there now.
    expect((await nb2prod(['registry', 'register', 'churn', second.id], workspace)).code).toBe(0);
    expect((await nb2prod(['registry', 'promote', 'churn', '1', '--to', 'champion'], workspace)).code).toBe(0);
    expect((await nb2prod(['registry', 'promote', 'churn', '2', '--to', 'champion'], workspace)).code).toBe(0);
    expect((await nb2prod(['registry', 'rollback', 'champion', '--restore-file'], workspace)).code).toBe(0);
    expect(sha256sum(path.join(workspace, 'models', 'churn_model.joblib'))).toBe(model1.sha256);
  }, 120_000);

  it('without a kept copy, a changed file is refused (exit 2) unless it is named with --file, and then its own sha256 is registered', async () => {
    await fs.writeFile(path.join(workspace, 'nb2prod.toml'), '[track]\nmodel_file_limit_mb = 0\n');
    try {
      const third = await train(3);
      expect(third.outputs.find((o) => o.path === 'models/churn_model.joblib')).toMatchObject({ kept: false });
      const fourth = await train(4);
      const now = fourth.outputs.find((o) => o.path === 'models/churn_model.joblib')!.sha256;

      const refused = await nb2prod(['registry', 'register', 'fraud', third.id], workspace);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^nb2prod registry: models\/churn_model\.joblib is not the file run \w+ wrote \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\) and the store kept no copy of the run's: track the run again, or register the current file explicitly with --file models\/churn_model\.joblib\.\n$/);
      expect((await nb2prod(['registry', 'list', 'fraud'], workspace)).code).toBe(2); // nothing was registered

      const explicit = await nb2prod(['registry', 'register', 'fraud', third.id, '--file', 'models/churn_model.joblib', '--json'], workspace);
      expect(explicit.code).toBe(0);
      const { version, warnings } = JSON.parse(explicit.stdout) as { version: ModelVersion; warnings: string[] };
      expect(version.file.sha256).toBe(now);
      expect(warnings).toEqual([expect.stringMatching(/has changed since run .* wrote it .*: the registered file is the one you named/)]);
    } finally {
      await fs.rm(path.join(workspace, 'nb2prod.toml'));
    }
  }, 120_000);

  it('keeps what joblib, pickle and a model saver wrote under any name, not other JSON or data', async () => {
    const result = await nb2prod(['run', '--json', '--', python.path, 'savers.py'], workspace);
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as RunEnvelope;
    const output = (name: string) => run.outputs.find((o) => o.path === name)!;
    for (const name of ['model.bin', 'compressed.out', 'booster.json']) {
      expect(output(name), name).toMatchObject({ kept: true });
      expect(run.artifacts.find((a) => a.path === name)?.kind, name).toBe('model');
      expect(sha256sum(path.join(workspace, '.nb2prod', 'objects', output(name).sha256))).toBe(output(name).sha256);
    }
    for (const name of ['metrics.json', 'table.csv.gz']) {
      expect(output(name).kept, name).toBeUndefined();
      expect(run.artifacts.some((a) => a.path === name), name).toBe(false);
    }
  }, 60_000);
});
