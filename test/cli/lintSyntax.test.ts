/**
 * `nb2prod lint` with and without a Python interpreter: `--python` (and $NB2PROD_PYTHON) names
 * the interpreter that confirms syntax and lists installed modules' names; without one, one
 * note on stderr and syntax findings are warnings.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notebookJson } from '../unit/lint/lintHelpers';
import { runInProcess } from './inProcess';

let root: string;

interface JsonReport {
  summary: { errors: number; warnings: number };
  files: Array<{ path: string; findings: Array<{ rule: string; severity: string; message: string; cell: number; line: number; column: number }> }>;
}

async function lint(args: string[], env: Record<string, string> = {}): Promise<{ code: number; report: JsonReport; stderr: string }> {
  const { code, stdout, stderr } = await runInProcess(['lint', ...args, '--format', 'json'], root, env);
  return { code, report: JSON.parse(stdout) as JsonReport, stderr };
}

function findings(report: JsonReport, rule: string): string[] {
  return report.files.flatMap((f) => f.findings.filter((x) => x.rule === rule).map((x) => `${path.basename(f.path)} cell ${x.cell} ${x.line}:${x.column} ${x.severity}`));
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-lint-python-'));
  await fs.writeFile(
    path.join(root, 'floats.ipynb'),
    notebookJson([
      { source: 'import numpy as np\nbins = [0., 1.5, 6.]\nX = np.ones(3) / 255.', count: 1 },
      // nb2prod's parser rejects this decorator; Python 3.9+ accepts it.
      { source: 'buttons = [np]\n@buttons[0].vectorize\ndef f(x):\n    return x', count: 2 },
    ]),
  );
  await fs.writeFile(path.join(root, 'broken.ipynb'), notebookJson([{ source: 'import numpy as np', count: 1 }, { source: 'def f():\n    pass\nreturn 1', count: 2 }]));
  await fs.writeFile(path.join(root, 'preamble.py'), 'import numpy as np\n__all__ = ["np"]\n');
  await fs.writeFile(
    path.join(root, 'stars.ipynb'),
    notebookJson([{ source: 'from preamble import *\nfrom json import *', count: 1 }, { source: 'np.zeros(1)\ndumps({})\nloads_everything()', count: 2 }]),
  );
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod lint --python', () => {
  it('confirms syntax with the interpreter: no finding where Python compiles, an error where it does not', async () => {
    const { code, report, stderr } = await lint(['floats.ipynb', 'broken.ipynb', '--python', '/usr/bin/python3']);
    expect(stderr).toBe('');
    expect(findings(report, 'syntax-error')).toEqual(['broken.ipynb cell 2 3:1 error']);
    const [finding] = report.files.flatMap((f) => f.findings.filter((x) => x.rule === 'syntax-error'));
    expect(finding!.message).toMatch(/^Python 3\.\d+ cannot compile this cell: 'return' outside function\.$/);
    expect(code).toBe(1);
  });

  it('takes the interpreter from $NB2PROD_PYTHON when --python is not given', async () => {
    const { report, stderr } = await lint(['broken.ipynb'], { NB2PROD_PYTHON: path.join(root, 'no-python-here') });
    expect(stderr).toMatch(/no-python-here was not found/);
    // `return` outside a function is only caught by compiling: nb2prod's parser accepts it.
    expect(findings(report, 'syntax-error')).toEqual([]);
  });

  it('lists what an installed module\'s `import *` binds, and reads a local module\'s __all__', async () => {
    const { report } = await lint(['stars.ipynb', '--python', '/usr/bin/python3']);
    expect(report.files[0]!.findings.filter((f) => f.rule === 'undefined-name').map((f) => f.message.split(' ')[0])).toEqual(['`loads_everything`']);
  });
});

describe('nb2prod lint without an interpreter', () => {
  it('notes once that syntax was checked without Python, and reports what nb2prod\'s parser finds as warnings', async () => {
    const { code, report, stderr } = await lint(['floats.ipynb', 'broken.ipynb', 'stars.ipynb', '--python', path.join(root, 'missing', 'python3')]);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^nb2prod lint: syntax was checked without Python \(.*missing\/python3 was not found\)/);
    // The relaxed decorator is beyond nb2prod's parser: a warning, not an error.
    expect(findings(report, 'syntax-error')).toEqual(['floats.ipynb cell 2 2:9 warning']);
    // Without the interpreter, names after `from json import *` cannot be known: quiet.
    expect(findings(report, 'undefined-name')).toEqual([]);
    expect(report.summary.errors).toBe(0);
    expect(code).toBe(0);
  });
});
