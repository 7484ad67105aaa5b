/**
 * Tracking real runs with real Python, through the built CLI, as a user would: the envelope must
 * agree with sha256sum and the interpreter, seeds and metrics must be right, secrets must not
 * leak, and failures, cancellation and a killed tracker must leave a valid store. Every test runs
 * once with Debian's Python and once with the venv of current releases (test/fixtures/pythons.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEnvelope } from '../../src/core/envelope';
import { installedVersions, PYTHONS, requirePython } from '../fixtures/pythons';
import { allFiles, cliWith, notebookJson, readRuns, requireBuild, sha256sum, tempWorkspace, waitFor } from './helpers';

const SECRET = 'planted-secret-value-7f3a9c';
const workspaces: string[] = [];

async function workspaceWith(files: Record<string, string>): Promise<string> {
  const dir = await tempWorkspace('track');
  workspaces.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  return dir;
}

const TRAIN_NOTEBOOK = notebookJson([
  { markdown: '# Train' },
  '#parameters\nn_estimators = 20\nmax_depth = 4',
  "import numpy as np\nimport pandas as pd\nimport joblib\nimport nb2prod\nfrom sklearn.ensemble import RandomForestClassifier\ndf = pd.read_csv('data/train.csv')",
  'np.random.seed(42)\nmodel = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=7)\nmodel.fit(df[["x1", "x2"]], df["y"])',
  "acc = float(model.score(df[['x1', 'x2']], df['y']))\nnb2prod.log_metric('accuracy', acc)\nfor step in range(3):\n    nb2prod.log_metric('loss', 1.0 / (step + 1), step=step)\njoblib.dump(model, 'model.joblib')",
]);

function trainCsv(rows = 200): string {
  const lines = ['x1,x2,y'];
  for (let i = 0; i < rows; i++) lines.push(`${(i * 37) % 101},${(i * 53) % 97},${i % 3 === 0 ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

afterAll(async () => {
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  const PYTHON = python.path;
  const { nb2prod, spawnCli } = cliWith(PYTHON);

  beforeAll(() => {
    requirePython(python);
    requireBuild();
  });

  describe('nb2prod track', () => {
    let workspace: string;
    let run: RunEnvelope;

    beforeAll(async () => {
      workspace = await workspaceWith({ 'train.ipynb': TRAIN_NOTEBOOK, 'data/train.csv': trainCsv(), 'requirements.txt': 'pandas==1.5.3\n' });
      const result = await nb2prod(['track', 'train.ipynb', '-p', 'max_depth=5', '--tag', 'test', '--json'], workspace, { MY_API_TOKEN: SECRET });
      expect(result.stderr).not.toContain('Traceback');
      expect(result.code).toBe(0);
      run = JSON.parse(result.stdout) as RunEnvelope;
    }, 120_000);

    it('records inputs and outputs whose sha256 equal sha256sum', () => {
      expect(run.status).toBe('succeeded');
      expect(run.inputs.map((f) => f.path)).toEqual(['data/train.csv']);
      expect(run.inputs[0]!.sha256).toBe(sha256sum(path.join(workspace, 'data/train.csv')));
      expect(run.outputs.map((f) => f.path)).toEqual(['model.joblib']);
      expect(run.outputs[0]!.sha256).toBe(sha256sum(path.join(workspace, 'model.joblib')));
      expect(run.artifacts.find((a) => a.path === 'model.joblib')?.kind).toBe('model');
      const executed = run.artifacts.find((a) => a.kind === 'notebook');
      expect(executed?.path).toMatch(/^\.nb2prod\/artifacts\/.+\/executed\.ipynb$/);
    });

    it('profiles the CSV it read', () => {
      const profile = run.inputs[0]!.profile!;
      expect(profile.rows).toBe(200);
      const x1 = profile.columns.find((c) => c.name === 'x1')!;
      expect(x1).toMatchObject({ type: 'numeric', count: 200, nulls: 0 });
      expect(x1.bins!.counts.reduce((a, b) => a + b, 0)).toBe(200);
    });

    it("records packages at the interpreter's versions", () => {
      const versions = installedVersions(python, ['pandas', 'numpy', 'scikit-learn', 'joblib']);
      // each interpreter is the generation it stands for
      expect(versions.pandas!.split('.')[0]).toBe(python.label === 'debian' ? '1' : '2');
      for (const [name, version] of Object.entries(versions)) expect(run.environment.packages[name]).toBe(version);
      expect(run.environment.python?.executable).toBe(PYTHON);
      expect(run.environment.lockFile?.path).toBe('requirements.txt');
    });

    it('records seeds, params with their sources, and metrics', () => {
      expect(run.seeds).toEqual(
        expect.arrayContaining([
          { library: 'numpy', value: 42, location: 'cell 3, line 1' },
          { library: 'sklearn', value: 7, location: 'cell 3, line 3' },
        ]),
      );
      expect(run.unseeded).toEqual([]);
      expect(run.params).toMatchObject({ n_estimators: 20, max_depth: 5, 'RandomForestClassifier.max_depth': 5 });
      expect(run.paramSources).toMatchObject({ n_estimators: 'notebook', max_depth: 'override', 'RandomForestClassifier.max_depth': 'autolog' });
      expect(run.metrics.accuracy!.value).toBeGreaterThan(0.5);
      expect(run.metrics.loss).toEqual({ value: 1 / 3, series: [{ step: 0, value: 1 }, { step: 1, value: 0.5 }, { step: 2, value: 1 / 3 }] });
      expect(run.tags).toEqual(['test']);
    });

    it('records code, cells and the code snapshot', async () => {
      expect(run.source.path).toBe('train.ipynb');
      expect(run.source.cells.map((c) => [c.index, c.status])).toEqual([
        [1, 'succeeded'],
        [2, 'succeeded'],
        [3, 'succeeded'],
        [4, 'succeeded'],
      ]);
      const snapshot = JSON.parse(await fs.readFile(path.join(workspace, '.nb2prod', 'objects', run.source.snapshot!), 'utf8')) as { cells: Array<{ outputs?: unknown[] }> };
      expect(snapshot.cells).toHaveLength(5);
      expect(snapshot.cells.every((c) => !c.outputs || c.outputs.length === 0)).toBe(true);
    });

    it('keeps the fitted model in objects/: the same bytes the notebook wrote', async () => {
      expect(run.fitted).toEqual([{ name: 'model', type: 'sklearn.ensemble.RandomForestClassifier', sha256: run.outputs[0]!.sha256, bytes: run.outputs[0]!.bytes, format: 'joblib' }]);
      expect(sha256sum(path.join(workspace, '.nb2prod', 'objects', run.fitted![0]!.sha256))).toBe(run.fitted![0]!.sha256);
      expect(run.fittedSkipped).toBeUndefined();
    });

    it('keeps nothing when [track] keep_fitted = false', async () => {
      const other = await workspaceWith({ 'train.ipynb': TRAIN_NOTEBOOK, 'data/train.csv': trainCsv(), 'nb2prod.toml': '[track]\nkeep_fitted = false\n' });
      const result = await nb2prod(['track', 'train.ipynb', '--json'], other);
      expect(result.code, result.stderr).toBe(0);
      const kept = JSON.parse(result.stdout) as RunEnvelope;
      expect(kept.status).toBe('succeeded');
      expect(kept.fitted).toBeUndefined();
    }, 120_000);

    it('records environment variable names but never their values', async () => {
      expect(run.environment.envVarNames).toContain('MY_API_TOKEN');
      for (const file of await allFiles(path.join(workspace, '.nb2prod'))) {
        const content = await fs.readFile(file);
        expect(content.includes(SECRET), `secret found in ${file}`).toBe(false);
      }
    });

    it('replays a deterministic run as reproduced, and names the changed file after the CSV is edited', async () => {
      const replay = await nb2prod(['replay', run.id], workspace);
      expect(replay.stdout).toMatch(/^reproduced: run /);
      expect(replay.code).toBe(0);

      await fs.appendFile(path.join(workspace, 'data/train.csv'), '5,5,1\n');
      const changed = await nb2prod(['replay', run.id, '--json'], workspace);
      expect(changed.code).toBe(1);
      const report = JSON.parse(changed.stdout) as { reproduced: boolean; differences: Array<{ kind: string; subject: string; message: string }> };
      expect(report.reproduced).toBe(false);
      expect(report.differences).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'data', subject: 'data/train.csv' })]));
      const text = await nb2prod(['replay', run.id], workspace);
      expect(text.stdout).toContain('Data changed: data/train.csv');
      const replays = (await readRuns(workspace)).filter((r) => r.parent === run.id);
      expect(replays.length).toBe(3);
    }, 120_000);
  });

  describe('unseeded randomness', () => {
    it('is reported with where it happened', async () => {
      const workspace = await workspaceWith({
        'noisy.ipynb': notebookJson(['import numpy as np', 'x = np.random.rand(3)\nprint(x)']),
      });
      const result = await nb2prod(['track', 'noisy.ipynb', '--json'], workspace);
      expect(result.code).toBe(0);
      const run = JSON.parse(result.stdout) as RunEnvelope;
      expect(run.unseeded).toEqual([{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 1, line 1' }]);
    }, 60_000);
  });

  describe('runs that do not succeed', () => {
    it('a failing cell records failed, with the cell and the traceback; later cells are not run', async () => {
      const workspace = await workspaceWith({ 'fail.ipynb': notebookJson(['x = 1', "raise ValueError('bad input')", 'y = 2']) });
      const result = await nb2prod(['track', 'fail.ipynb', '--json'], workspace);
      expect(result.code).toBe(1);
      const run = JSON.parse(result.stdout) as RunEnvelope;
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ type: 'ValueError', cell: 1, message: 'ValueError: bad input' });
      expect(run.error?.traceback).toContain('bad input');
      expect(run.source.cells.map((c) => c.status)).toEqual(['succeeded', 'failed', 'not-run']);
      expect((await nb2prod(['runs', '--json'], workspace)).stdout).toContain('"status": "failed"');
      // People are told the cell's number as Jupyter shows it (the envelope keeps the 0-based index).
      const human = await nb2prod(['track', 'fail.ipynb'], workspace);
      expect(human.stdout + human.stderr).toMatch(/in cell 2 \(id [^)]+\): ValueError: bad input/);
      expect(human.stderr).toMatch(/cell 1(?: \(id [^)]+\))?, 1 of 3 code cells/);
    }, 60_000);

    it('Ctrl-C cancels: the kernel stops and the run is recorded as cancelled', async () => {
      const workspace = await workspaceWith({ 'slow.ipynb': notebookJson(['import time', 'time.sleep(60)', 'print("never")']) });
      const cli = spawnCli(['track', 'slow.ipynb'], workspace);
      await waitFor(() => cli.stderr().includes('2 of 3 code cells'), 30_000, 'the slow cell to start');
      const started = Date.now();
      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      const [run] = await readRuns(workspace);
      expect(run).toMatchObject({ status: 'cancelled' });
      const list = await nb2prod(['runs', '--json'], workspace);
      expect(JSON.parse(list.stdout)).toMatchObject({ problems: [] });
    }, 60_000);

    it('a tracker killed with SIGKILL half-way is recorded as interrupted, and the store stays valid', async () => {
      const workspace = await workspaceWith({ 'slow.ipynb': notebookJson(['x = 1', 'import time\ntime.sleep(5)', 'y = 2']) });
      const cli = spawnCli(['track', 'slow.ipynb'], workspace);
      await waitFor(() => cli.stderr().includes('2 of 3 code cells'), 30_000, 'the slow cell to start');
      cli.child.kill('SIGKILL');
      await cli.exit;
      const list = await nb2prod(['runs', '--json'], workspace);
      expect(list.code).toBe(0);
      const { runs, problems } = JSON.parse(list.stdout) as { runs: Array<{ id: string; status: string }>; problems: unknown[] };
      expect(problems).toEqual([]);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.status).toBe('interrupted');
      const shown = JSON.parse((await nb2prod(['show', runs[0]!.id, '--json'], workspace)).stdout) as RunEnvelope;
      expect(shown.source.cells[0]!.status).toBe('succeeded');
    }, 60_000);

    it('a corrupt notebook is a clear error, and no run is recorded', async () => {
      const workspace = await workspaceWith({ 'broken.ipynb': '{"cells": [' });
      const result = await nb2prod(['track', 'broken.ipynb'], workspace);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/broken\.ipynb is not a valid notebook: it is not JSON/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      await expect(fs.readdir(path.join(workspace, '.nb2prod', 'runs'))).rejects.toThrow();
    });

    it('an interpreter without nbclient is a clear error', async () => {
      const workspace = await workspaceWith({ 'a.ipynb': notebookJson(['x = 1']) });
      const bare = await workspaceWith({});
      // A Python whose only site-packages is empty: nbclient cannot be imported.
      const fake = path.join(bare, 'python');
      await fs.writeFile(fake, `#!/bin/sh\nexec ${PYTHON} -I -S "$@"\n`, { mode: 0o755 });
      const result = await nb2prod(['track', 'a.ipynb', '--python', fake], workspace);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/nbclient/);
      expect((await readRuns(workspace).catch(() => [])).length).toBe(0);
    }, 30_000);
  });

  describe('nb2prod run (scripts)', () => {
    it('records the command, its argv params, data and metrics', async () => {
      const workspace = await workspaceWith({
        'data/train.csv': trainCsv(50),
        'train.py': [
          'import sys, pandas as pd, random, nb2prod',
          'random.seed(3)',
          "df = pd.read_csv('data/train.csv')",
          "nb2prod.log_metric('rows', len(df))",
          "open('out.txt', 'w').write(str(random.random()))",
          '',
        ].join('\n'),
      });
      const result = await nb2prod(['run', '--json', '--', PYTHON, 'train.py', '--lr', '0.1', '--epochs=3'], workspace);
      expect(result.code).toBe(0);
      const run = JSON.parse(result.stdout) as RunEnvelope;
      expect(run).toMatchObject({ kind: 'script', status: 'succeeded', source: { path: 'train.py', command: [PYTHON, 'train.py', '--lr', '0.1', '--epochs=3'] } });
      expect(run.params).toMatchObject({ lr: 0.1, epochs: 3 });
      expect(run.paramSources).toMatchObject({ lr: 'argv', epochs: 'argv' });
      expect(run.seeds).toEqual([{ library: 'random', value: 3, location: 'train.py:2' }]);
      expect(run.metrics.rows).toEqual({ value: 50 });
      expect(run.inputs.map((f) => f.path)).toEqual(['data/train.csv']);
      expect(run.outputs.map((f) => f.path)).toEqual(['out.txt']);
      const replay = await nb2prod(['replay', run.id], workspace);
      expect(replay.stdout).toMatch(/^reproduced/);
    }, 60_000);

    it('records a failing script as failed with its last error line', async () => {
      const workspace = await workspaceWith({ 'bad.py': "raise SystemExit('config missing')\n" });
      const result = await nb2prod(['run', '--json', '--', PYTHON, 'bad.py'], workspace);
      expect(result.code).toBe(1);
      const run = JSON.parse(result.stdout) as RunEnvelope;
      expect(run.status).toBe('failed');
      expect(run.error?.message).toBe('config missing');
    }, 30_000);
  });
});
