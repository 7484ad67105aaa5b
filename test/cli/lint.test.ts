/**
 * `nb2prod lint` as CI runs it: folders, formats (text, JSON, SARIF 2.1.0), exit codes, the
 * project config file, and files that are not notebooks — each gets a clear error of its own and
 * the other files are still linted.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import { notebookJson } from '../unit/lint/lintHelpers';
import { ALL_RULES } from '../../src/core/lint/rules';

const exec = promisify(execFile);
let root: string;

function cli(args: string[], cwd = root) {
  return runInProcess(args, cwd);
}

async function write(relative: string, content: string | Buffer): Promise<string> {
  const file = path.join(root, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return file;
}

const git = (...args: string[]) => exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: root });

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-lint-cli-'));
  await write('requirements.txt', 'pandas==2.2.2\nscikit-learn==1.5.1\nnumpy==1.26.4\n');
  await write('data/train.csv', 'x,y\n1,0\n2,1\n');
  await write('data/extra.csv', 'x,y\n3,0\n');
  await write(
    'notebooks/train.ipynb',
    notebookJson([
      { source: 'import pandas as pd\nfrom sklearn.model_selection import train_test_split', count: 1 },
      { source: 'df = pd.read_csv("../data/train.csv")\nextra = pd.read_csv("../data/extra.csv")', count: 2 },
      { source: 'X_train, X_test, y_train, y_test = train_test_split(df[["x"]], df["y"])', count: 3 },
      { source: 'API_KEY = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"', count: 4 },
      { source: 'print(score_threshold)', count: 5 },
    ]),
  );
  await write('scripts/clean.py', 'import numpy as np\n\nvalues = np.random.rand(10)\nprint(values)\n');
  await write('notebooks/clean.ipynb', notebookJson([{ source: 'import numpy as np\nrng = np.random.default_rng(0)\nprint(rng.random())', count: 1 }]));
  await git('init', '-q');
  await git('add', 'requirements.txt', 'data/train.csv', 'notebooks', 'scripts');
  await git('commit', '-qm', 'init');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod lint', () => {
  it('lints a folder: findings with cell, line and rule, and exit 1 on errors', async () => {
    const { code, stdout } = await cli(['lint', '.']);
    expect(code).toBe(1);
    expect(stdout).toContain('notebooks/train.ipynb');
    expect(stdout).toMatch(/cell 3 1:\d+ +warning .*train_test_split.*unseeded-random/);
    expect(stdout).toMatch(/cell 2 2:\d+ +warning .*extra\.csv.*unversioned-data/);
    expect(stdout).not.toMatch(/train\.csv.*unversioned-data/);
    expect(stdout).toMatch(/cell 4 1:\d+ +warning .*hardcoded-secret/);
    // The one error: a name no cell defines, so a fresh Run All breaks there.
    expect(stdout).toMatch(/cell 5 1:7 +error .*score_threshold.*undefined-name/);
    // The secret itself is never printed.
    expect(stdout).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(stdout).toContain('scripts/clean.py');
    expect(stdout).toMatch(/3:10 +warning .*unseeded-random/);
    expect(stdout).not.toContain('notebooks/clean.ipynb');
    expect(stdout).toMatch(/\d+ errors?, \d+ warnings?, \d+ notes? in 3 files\./);
  });

  it('exits 0 when there are only warnings, and lints the files it is given', async () => {
    const { code, stdout } = await cli(['lint', 'scripts/clean.py', 'notebooks/clean.ipynb']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/0 errors, 1 warning, 0 notes in 2 files\./);
  });

  it('prints JSON with 1-based positions and the fixes on offer', async () => {
    const { code, stdout } = await cli(['lint', 'notebooks/train.ipynb', '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      summary: { files: number; errors: number };
      files: Array<{ path: string; findings: Array<{ rule: string; cell: number; cellId: string | null; line: number; column: number; fileLine: number; fixes: string[] }> }>;
    };
    expect(report.summary.files).toBe(1);
    const split = report.files[0]!.findings.find((f) => f.rule === 'unseeded-random')!;
    // `cell` is the number Jupyter shows (the third cell), the same as the text report's.
    expect(split).toMatchObject({ cell: 3, cellId: 'cell-2', line: 1 });
    expect(split.fixes.some((title) => /random_state/.test(title))).toBe(true);
    // Line of that source line in the .ipynb file itself.
    const fileLines = (await fs.readFile(path.join(root, 'notebooks/train.ipynb'), 'utf8')).split('\n');
    expect(fileLines[split.fileLine - 1]).toContain('train_test_split(df');
  });

  it('writes SARIF 2.1.0 for code scanning, pointing into the notebook file', async () => {
    const { code, stderr } = await cli(['lint', '.', '--format', 'sarif', '--output', 'lint.sarif']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/errors?.* in 3 files/);
    const sarif = JSON.parse(await fs.readFile(path.join(root, 'lint.sarif'), 'utf8')) as {
      version: string;
      $schema: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }> } };
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          level: string;
          message: { text: string };
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number } }; logicalLocations?: Array<{ name: string; fullyQualifiedName?: string }> }>;
          properties?: { cell: number; cellId: string | null };
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toContain('sarif-2.1.0');
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('nb2prod');
    expect(run.tool.driver.rules).toHaveLength(ALL_RULES.length);
    for (const result of run.results) {
      expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
      expect(['error', 'warning', 'note']).toContain(result.level);
      expect(result.locations[0]!.physicalLocation.region.startLine).toBeGreaterThan(0);
    }
    const secret = run.results.find((r) => r.ruleId === 'hardcoded-secret')!;
    expect(secret.level).toBe('warning');
    expect(secret.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: 'notebooks/train.ipynb', uriBaseId: 'SRCROOT' });
    expect(secret.locations[0]!.logicalLocations?.[0]).toEqual({ name: 'cell 4', kind: 'module', fullyQualifiedName: 'cell 4 id cell-3' });
    expect(secret.properties).toMatchObject({ cell: 4, cellId: 'cell-3' });
    expect(JSON.stringify(sarif)).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
  });

  it('reads rule severities and excludes from the project config', async () => {
    await write('nb2prod.toml', '[lint]\nexclude = ["scripts/**"]\n[lint.rules]\nhardcoded-secret = "error"\nundefined-name = "warning"\nunversioned-data = "off"\n');
    try {
      const { code, stdout } = await cli(['lint', '.']);
      expect(code).toBe(1);
      expect(stdout).not.toContain('scripts/clean.py');
      expect(stdout).not.toContain('unversioned-data');
      expect(stdout).toMatch(/error .*hardcoded-secret/);
      expect(stdout).toMatch(/warning .*undefined-name/);
    } finally {
      await fs.rm(path.join(root, 'nb2prod.toml'));
    }
  });

  it('rejects an invalid config file with a message naming it', async () => {
    await write('pyproject.toml', '[tool.nb2prod.lint.rules]\nno-such-rule = "error"\n');
    try {
      const { code, stderr } = await cli(['lint', '.']);
      expect(code).toBe(2);
      expect(stderr).toMatch(/pyproject\.toml: unknown rule `no-such-rule`/);
    } finally {
      await fs.rm(path.join(root, 'pyproject.toml'));
    }
  });

  it('gives each broken file its own error and still lints the others', async () => {
    const dir = 'broken';
    await write(`${dir}/not-json.ipynb`, '{"cells": [');
    await write(`${dir}/v3.ipynb`, JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [{ cells: [] }] }));
    await write(`${dir}/garbage.py`, Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x0a, 0x28, 0x28, 0x00, 0x80]));
    await write(`${dir}/no-cells.ipynb`, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {} }));
    // 50 MB of output in one cell: read, linted, not choked on.
    const big = JSON.parse(notebookJson([{ source: 'import random\nx = random.random()', count: 1 }])) as { cells: Array<{ outputs: unknown[] }> };
    big.cells[0]!.outputs = [{ output_type: 'stream', name: 'stdout', text: ['y'.repeat(50 * 1024 * 1024)] }];
    await write(`${dir}/big-output.ipynb`, JSON.stringify(big));
    await write(`${dir}/good.py`, 'import random\nrandom.shuffle([1, 2])\n');
    const { code, stdout } = await cli(['lint', dir, '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { summary: { fileErrors: number }; files: Array<{ path: string; error: string | null; findings: Array<{ rule: string }> }> };
    const byName = Object.fromEntries(report.files.map((f) => [path.basename(f.path), f]));
    expect(byName['not-json.ipynb']!.error).toMatch(/not a valid notebook: it is not JSON/);
    expect(byName['v3.ipynb']!.error).toMatch(/nbformat 3/);
    expect(byName['no-cells.ipynb']!.error).toMatch(/cells/);
    expect(byName['garbage.py']!.error).toBeNull();
    expect(byName['garbage.py']!.findings.map((f) => f.rule)).toContain('syntax-error');
    expect(byName['big-output.ipynb']!.error).toBeNull();
    expect(byName['big-output.ipynb']!.findings.map((f) => f.rule)).toContain('unseeded-random');
    expect(byName['good.py']!.findings.map((f) => f.rule)).toEqual(['unseeded-random']);
    expect(report.summary.fileErrors).toBe(3);
  }, 60_000);

  it('exits 1 for a file it could not lint even when the others have only warnings, and says which', async () => {
    const dir = 'mixed';
    await write(`${dir}/truncated.ipynb`, notebookJson([{ source: 'import random', count: 1 }]).slice(0, 120));
    await write(`${dir}/old.ipynb`, JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [{ cells: [{ cell_type: 'code', input: 'x = 1' }] }] }));
    await write(`${dir}/binary.py`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0x0a, 0x89, 0x50]));
    await write(`${dir}/ok.ipynb`, notebookJson([{ source: 'import random\nrandom.shuffle([1, 2])', count: 1 }]));
    await write(`${dir}/ok.py`, 'import random\nprint(random.random())\n');
    const { code, stdout } = await cli(['lint', dir]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/mixed\/truncated\.ipynb\n {2}error {2}not a valid notebook: it is not JSON/);
    expect(stdout).toMatch(/mixed\/old\.ipynb\n {2}error {2}nbformat 3; nb2prod reads nbformat 4/);
    // A binary .py is linted (as Python it does not parse), the good files keep their warnings.
    expect(stdout).toMatch(/mixed\/binary\.py\n.*error .*syntax-error/);
    expect(stdout).toMatch(/mixed\/ok\.ipynb\n {2}cell 1 2:1 +warning .*unseeded-random/);
    expect(stdout).toMatch(/mixed\/ok\.py\n {2}2:7 +warning .*unseeded-random/);
    expect(stdout).toMatch(/in 5 files, 2 files not linted\./);
    // Without the broken ones, warnings alone never fail the run.
    const good = await cli(['lint', `${dir}/ok.ipynb`, `${dir}/ok.py`]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/0 errors, 2 warnings, 0 notes in 2 files\./);
  });

  it('reports a notebook run out of order once, naming the cells, in every format', async () => {
    await write(
      'order/out-of-order.ipynb',
      notebookJson([
        { source: 'import math', count: 1 },
        { source: '# Notes', kind: 'markdown' },
        { source: 'a = math.sqrt(2)', count: 7 },
        { source: 'b = a + 1', count: 3 },
        { source: 'c = b + 1', count: 4 },
        { source: 'd = c + 1', count: 5 },
        { source: 'print(d)', count: 8 },
      ]),
    );
    const text = await cli(['lint', 'order/out-of-order.ipynb']);
    // A warning: the run passes.
    expect(text.code).toBe(0);
    expect(text.stdout.match(/out-of-order-execution/g)).toHaveLength(1);
    // The fewest cells that explain it: the one re-run late, not every cell below it.
    expect(text.stdout).toMatch(/cell 3 1:1 +warning +Cell 3 ran as \[7\], after cell 4 below it ran as \[3\]: .*Restart the kernel and Run All/);
    const json = JSON.parse((await cli(['lint', 'order/out-of-order.ipynb', '--format', 'json'])).stdout) as { files: Array<{ findings: Array<{ rule: string; cell: number; cellId: string }> }> };
    expect(json.files[0]!.findings).toEqual([expect.objectContaining({ rule: 'out-of-order-execution', cell: 3, cellId: 'cell-2' })]);

    await write(
      'order/many.ipynb',
      notebookJson([
        { source: 'a = 1', count: 9 },
        { source: 'b = 2', count: 10 },
        { source: 'c = 3', count: 1 },
        { source: 'd = 4', count: 2 },
        { source: 'e = 5', count: 3 },
        { source: 'f = 6', count: 4 },
        { source: 'g = 7', count: 5 },
      ]),
    );
    const many = JSON.parse((await cli(['lint', 'order/many.ipynb', '--format', 'json'])).stdout) as {
      files: Array<{ findings: Array<{ rule: string; cell: number; message: string; related?: Array<{ cell: number; cellId: string; line: number; message: string }> }> }>;
    };
    const [finding] = many.files[0]!.findings;
    expect(many.files[0]!.findings).toHaveLength(1);
    expect(finding).toMatchObject({ rule: 'out-of-order-execution', cell: 1 });
    expect(finding!.message).toMatch(/^Cells ran out of order \(2 cells\): cell 1 ran as \[9\], after cell 3 below it ran as \[1\]; cell 2 ran as \[10\], after cell 3 below it ran as \[1\]\./);
    expect(finding!.related).toEqual([{ cell: 2, cellId: 'cell-1', line: 1, column: 1, fileLine: expect.any(Number), message: 'Cell 2 ran as [10], after cell 3 below it ran as [1]' }]);
    const sarif = JSON.parse((await cli(['lint', 'order/many.ipynb', '--format', 'sarif'])).stdout) as {
      runs: Array<{ results: Array<{ relatedLocations?: Array<{ message: { text: string }; logicalLocations: Array<{ name: string }>; physicalLocation: { region: { startLine: number } } }> }> }>;
    };
    const related = sarif.runs[0]!.results[0]!.relatedLocations!;
    expect(related.map((r) => r.logicalLocations[0]!.name)).toEqual(['cell 2']);
    const fileLines = (await fs.readFile(path.join(root, 'order/many.ipynb'), 'utf8')).split('\n');
    expect(fileLines[related[0]!.physicalLocation.region.startLine - 1]).toContain('b = 2');
  });

  it('asks the interpreter given with --python which distribution provides an import, and goes on without one that fails', async () => {
    const dir = 'with-python';
    await write(`${dir}/requirements.txt`, 'numpy==1.26.4\n');
    await write(`${dir}/uses.py`, 'import numpy\nimport fancylib\n');
    // A stand-in interpreter: prints what the real one's importlib.metadata query prints.
    const fake = await write(`${dir}/fake-python`, `#!/bin/sh\necho '{"versions": {"Fancy-Lib-Dist": "0.4.2"}, "modules": {"Fancy-Lib-Dist": ["fancylib"]}}'\n`);
    await fs.chmod(fake, 0o755);
    const { stdout } = await cli(['lint', `${dir}/uses.py`, '--format', 'json', '--python', fake]);
    const report = JSON.parse(stdout) as { files: Array<{ findings: Array<{ rule: string; message: string }> }> };
    expect(report.files[0]!.findings.filter((f) => f.rule === 'missing-requirements').map((f) => f.message)).toEqual([
      '`fancylib` (fancy-lib-dist) is imported but not declared in with-python/requirements.txt or requirements.txt: add `fancy-lib-dist==0.4.2`',
    ]);
    const broken = await cli(['lint', `${dir}/uses.py`, '--python', path.join(root, dir, 'no-such-python')]);
    expect(broken.stderr.trim().split('\n')).toHaveLength(1);
    expect(broken.stderr).toMatch(/syntax was checked without Python \(.*no-such-python was not found\)/);
    expect(broken.stdout).toContain('`fancylib` is imported but not declared');
  });

  it('says what is wrong with its arguments', async () => {
    expect(await cli(['lint', 'no/such/place'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no such file or folder: no\/such\/place/) });
    expect(await cli(['lint', '--format', 'xml'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format must be one of text, json, sarif/) });
    const list = await cli(['lint', '--list-rules']);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(ALL_RULES.length);
  });
});
