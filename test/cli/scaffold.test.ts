/**
 * `nb2prod scaffold` on a real tracked run of the example notebook, tracked and scaffolded with
 * each of the test interpreters (Debian's Python and the venv of current releases,
 * test/fixtures/pythons.ts): the dry run's tree, the files written with requirements pinned at
 * the interpreter's versions, a second run that changes nothing, a file the user edited that is
 * never overwritten without --overwrite, and the notebooks and states it refuses with a message
 * saying what to add.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedVersions, PYTHONS, requirePython } from '../fixtures/pythons';
import { runInProcess } from './inProcess';

const REPO = path.resolve(__dirname, '../..');

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  let root: string;
  let workspace: string;

  function cli(args: string[], cwd = workspace) {
    return runInProcess(args, cwd, { NB2PROD_PYTHON: python.path });
  }

  beforeAll(async () => {
    requirePython(python);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-scaffold-cli-'));
    workspace = path.join(root, 'churn');
    await fs.cp(path.join(REPO, 'examples', 'churn'), workspace, { recursive: true, filter: (s) => !/[\\/](\.nb2prod|models|__pycache__)$/.test(s) });
    const tracked = await cli(['track', 'churn.ipynb']);
    expect(tracked.code, tracked.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  describe('nb2prod scaffold', () => {
    it('--dry-run prints the planned tree and what it leaves out, and writes nothing', async () => {
      const result = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--dry-run']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^\s+app\.py\s+create$/m);
      expect(result.stdout).toMatch(/^\s+steps\.py\s+create$/m);
      expect(result.stdout).toContain('left out `df.shape` (a value shown in the notebook)');
      expect(result.stdout).toContain('(dry run: nothing written)');
      expect(await exists(path.join(workspace, 'service'))).toBe(false);
    });

    it('writes the project; a second run changes nothing; --json lists every file', async () => {
      const first = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--no-golden']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/Wrote \d+ files to service from run /);
      for (const file of ['service/app.py', 'service/routes.py', 'service/schemas.py', 'service/config.json', 'service/nb2prod-service.json', 'pipeline/steps.py', 'common/features.py', 'contracts/input.schema.json', 'model/churn_model.joblib', 'requirements.txt', 'pytest.ini', 'tests/test_openapi.py', 'Dockerfile', 'Makefile', '.github/workflows/ci.yml', 'README.md', 'nb2prod-scaffold.json']) {
        expect(await exists(path.join(workspace, 'service', file)), file).toBe(true);
      }
      // the project root is importable through pytest.ini, not a conftest.py editing sys.path
      expect(await exists(path.join(workspace, 'service', 'conftest.py'))).toBe(false);
      const schemas = await fs.readFile(path.join(workspace, 'service', 'service', 'schemas.py'), 'utf8');
      expect(schemas).toContain('tenure_months: int = Field(..., description="integer; training range 1 to 72'); // an integer column of the data
      expect(schemas).toContain('class Prediction(ApiModel):');
      const config = JSON.parse(await fs.readFile(path.join(workspace, 'service', 'service', 'config.json'), 'utf8')) as { task: string; target: string; model: { sha256: string; registered: boolean } };
      expect(config).toMatchObject({ task: 'classification', target: 'churned', model: { registered: false } });
      const model = await fs.readFile(path.join(workspace, 'service', 'model', 'churn_model.joblib'));
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(model).digest('hex')).toBe(config.model.sha256);
      const requirements = await fs.readFile(path.join(workspace, 'service', 'requirements.txt'), 'utf8');
      for (const [name, version] of Object.entries(installedVersions(python, ['scikit-learn', 'pandas', 'fastapi', 'pydantic']))) {
        expect(requirements, name).toMatch(new RegExp(`^${name}==${version.replace(/\./g, '\\.')}$`, 'm'));
      }

      const again = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--no-golden', '--json']);
      expect(again.code, again.stderr).toBe(0);
      const summary = JSON.parse(again.stdout) as { written: string[]; files: Array<{ path: string; action: string }> };
      expect(summary.written).toEqual([]);
      expect(new Set(summary.files.map((f) => f.action))).toEqual(new Set(['unchanged']));
    });

    it('never overwrites a file the user changed without --overwrite', async () => {
      const features = path.join(workspace, 'service', 'common', 'features.py');
      const edited = (await fs.readFile(features, 'utf8')) + '\n# tuned by hand\n';
      await fs.writeFile(features, edited);
      const refused = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--no-golden']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('changed since nb2prod generated it; nothing was written');
      expect(refused.stderr).toContain('common/features.py');
      expect(await fs.readFile(features, 'utf8')).toBe(edited);
      const forced = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--no-golden', '--overwrite']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(await fs.readFile(features, 'utf8')).not.toContain('# tuned by hand');
    });

    it('says to track the notebook first when it has no successful run', async () => {
      await fs.copyFile(path.join(workspace, 'churn.ipynb'), path.join(workspace, 'copy.ipynb'));
      const result = await cli(['scaffold', 'copy.ipynb', '--out', 'copy-service']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('copy.ipynb has no successful tracked run: track it first (nb2prod track copy.ipynb');
    });

    it('names what to add to a notebook that writes no model, and one with a star import', async () => {
      const notebook = JSON.parse(await fs.readFile(path.join(workspace, 'churn.ipynb'), 'utf8')) as { cells: Array<{ source: string | string[] }> };
      const noSave = { ...notebook, cells: notebook.cells.filter((c) => !String(c.source instanceof Array ? c.source.join('') : c.source).includes('joblib.dump')) };
      await fs.writeFile(path.join(workspace, 'nosave.ipynb'), JSON.stringify(noSave));
      const result = await cli(['scaffold', 'nosave.ipynb', '--out', 'x']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('never writes it to a file: add `joblib.dump(model, "models/model.joblib")`');
      const star = { ...notebook, cells: [{ cell_type: 'code', source: 'from sklearn.ensemble import *', metadata: {}, outputs: [], execution_count: null }, ...notebook.cells] };
      await fs.writeFile(path.join(workspace, 'star.ipynb'), JSON.stringify(star));
      const starResult = await cli(['scaffold', 'star.ipynb', '--out', 'x']);
      expect(starResult.code).toBe(2);
      expect(starResult.stderr).toContain('`from sklearn.ensemble import *`: import the names it uses explicitly');
    });

    it('stops at a secret written in a cell, naming the cell and line and how to read it from the environment', async () => {
      const notebook = JSON.parse(await fs.readFile(path.join(workspace, 'churn.ipynb'), 'utf8')) as { cells: Array<{ cell_type: string; source: string | string[] }> };
      const loadCell = notebook.cells.findIndex((c) => String(Array.isArray(c.source) ? c.source.join('') : c.source).includes('pd.read_csv'));
      const source = notebook.cells[loadCell]!.source;
      notebook.cells[loadCell]!.source = `${Array.isArray(source) ? source.join('') : source}\nwarehouse_token = "tok_9f8Qz2LmXw41Rb7"`;
      await fs.writeFile(path.join(workspace, 'secret.ipynb'), JSON.stringify(notebook));
      const result = await cli(['scaffold', 'secret.ipynb', '--out', 'secret-service']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`Cell ${loadCell + 1}, line \\d+: A token is written into \`warehouse_token\``));
      expect(result.stderr).toContain('read it with `os.environ["WAREHOUSE_TOKEN"]`');
      expect(result.stderr).toContain('nb2prod does not copy secrets into generated code');
      expect(result.stderr).not.toContain('tok_9f8Qz2LmXw41Rb7');
      expect(await exists(path.join(workspace, 'secret-service'))).toBe(false);
    });

    it('builds from the model the run kept when the workspace file changed, and refuses when there is no copy', async () => {
      const modelFile = path.join(workspace, 'models', 'churn_model.joblib');
      const original = await fs.readFile(modelFile);
      const { createHash } = await import('node:crypto');
      const kept = path.join(workspace, '.nb2prod', 'objects', createHash('sha256').update(original).digest('hex'));
      await fs.writeFile(modelFile, Buffer.concat([original, Buffer.from('tampered')]));
      try {
        // the run kept its fitted model in the store: the same bytes as the file it wrote
        const fromStore = await cli(['scaffold', 'churn.ipynb', '--out', 'from-store', '--no-golden']);
        expect(fromStore.code, fromStore.stderr).toBe(0);
        expect(await fs.readFile(path.join(workspace, 'from-store', 'model', 'churn_model.joblib'))).toEqual(original);
        await fs.rename(kept, `${kept}.away`);
        const result = await cli(['scaffold', 'churn.ipynb', '--out', 'other']);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain('models/churn_model.joblib changed since run');
      } finally {
        await fs.writeFile(modelFile, original);
        await fs.rename(`${kept}.away`, kept).catch(() => undefined);
      }
    }, 120_000);

    it("reads the run's model only inside the workspace: not through a link that leads out", async () => {
      const run = JSON.parse((await cli(['show', 'latest', '--json'])).stdout) as { outputs: Array<{ path: string; sha256: string }> };
      const record = run.outputs.find((o) => o.path === 'models/churn_model.joblib')!;
      const object = path.join(workspace, '.nb2prod', 'objects', record.sha256);
      const models = path.join(workspace, 'models');
      const outside = path.join(root, 'outside-models');
      await fs.rename(object, `${object}.aside`);
      await fs.rename(models, outside);
      await fs.symlink(outside, models);
      try {
        const result = await cli(['scaffold', 'churn.ipynb', '--out', 'linked', '--dry-run']);
        expect(result.code).toBe(2);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toMatch(/Refused to read the model of run \w+: "models\/churn_model\.joblib" \(from runs\/\w+\.json\) leads outside the workspace .* through a symbolic link/);
      } finally {
        await fs.rm(models);
        await fs.rename(outside, models);
        await fs.rename(`${object}.aside`, object);
      }
    });

    it('names the registered model version whose file is the run\'s model', async () => {
      const runs = JSON.parse((await cli(['runs', '--json'])).stdout) as { runs: Array<{ id: string }> };
      const registered = await cli(['registry', 'register', 'churn', runs.runs[0]!.id]);
      expect(registered.code, registered.stderr).toBe(0);
      const result = await cli(['scaffold', 'churn.ipynb', '--out', 'service', '--dry-run', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as { model: { name: string; version: number | null; registered: boolean } };
      expect(summary.model).toMatchObject({ name: 'churn', version: 1, registered: true });
      // The registry keeps a copy of the file: a changed workspace file no longer matters.
      const modelFile = path.join(workspace, 'models', 'churn_model.joblib');
      const original = await fs.readFile(modelFile);
      await fs.writeFile(modelFile, Buffer.concat([original, Buffer.from('changed')]));
      try {
        const fromCopy = await cli(['scaffold', 'churn.ipynb', '--out', 'from-copy', '--no-golden']);
        expect(fromCopy.code, fromCopy.stderr).toBe(0);
        expect(await fs.readFile(path.join(workspace, 'from-copy', 'model', 'churn_model.joblib'))).toEqual(original);
      } finally {
        await fs.writeFile(modelFile, original);
      }
    }, 180_000);

    it('usage errors exit 2', async () => {
      expect((await cli(['scaffold', 'churn.ipynb'])).stderr).toContain('--out DIR');
      expect((await cli(['scaffold', 'churn.ipynb', '--out', '.'])).stderr).toContain('is the workspace itself');
      expect((await cli(['scaffold', 'train.py', '--out', 's'])).code).toBe(2);
    });
  });
});
