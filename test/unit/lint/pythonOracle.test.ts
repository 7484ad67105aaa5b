/**
 * The interpreter's verdicts on cells, with real interpreters: Debian's /usr/bin/python3 (with
 * IPython: cells go through IPython's own transformation) and a virtual environment without
 * IPython (nb2prod's masked code is compiled instead), and none at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonOracle } from '../../../src/core/lint/pythonOracle';

const PYTHON_DIR = path.resolve(__dirname, '../../../src/core/capture/python');
const oracles: PythonOracle[] = [];
function oracle(python: string, importModules = false): PythonOracle {
  const made = new PythonOracle({ python, pythonDir: PYTHON_DIR, importModules });
  oracles.push(made);
  return made;
}
afterAll(() => oracles.forEach((o) => o.dispose()));

const CELLS = {
  magics: '%matplotlib inline\n!pip install pandas\nfiles = !ls\n%time model = fit(X)\ndf.head?',
  bash: '%%bash\necho "not python {"',
  timeBody: '%%time\nreturn 5',
  continuedMagic: '%timeit np.fromiter((x for x in xs),\n                    dtype=float)',
  python2: 'x = 1\nprint "hello"',
  awaitTop: 'await asyncio.sleep(1)',
  trailingDot: 'bins = [0., 1.5, 6.]',
  unicode: 'é = "ü"; x = (1,',
  timeStatement: 'L = [3, 1]\n%time L.sort(',
};

describe('PythonOracle with IPython installed', () => {
  const withIPython = oracle('/usr/bin/python3', true);

  it('compiles each cell after IPython\'s transformation', async () => {
    await withIPython.ensure(Object.values(CELLS));
    expect(withIPython.versions).toMatchObject({ python: expect.stringMatching(/^3\./), ipython: expect.any(String) });
    const python = withIPython.knowledge()!;
    expect(python.label).toMatch(/^Python 3\.\d+$/);
    expect(python.syntax(CELLS.magics)).toEqual({ ok: true });
    expect(python.syntax(CELLS.bash)).toEqual({ ok: true });
    expect(python.syntax(CELLS.awaitTop)).toEqual({ ok: true });
    expect(python.syntax(CELLS.trailingDot)).toEqual({ ok: true });
    // The body of a %%time cell is Python, checked at its own lines.
    expect(python.syntax(CELLS.timeBody)).toMatchObject({ ok: false, message: "'return' outside function", line: 1, column: 0 });
    // IPython ends a line magic at the end of its line.
    expect(python.syntax(CELLS.continuedMagic)).toMatchObject({ ok: false, error: 'IndentationError', line: 1 });
    expect(python.syntax(CELLS.python2)).toMatchObject({ ok: false, message: expect.stringMatching(/^Missing parentheses in call to 'print'/), line: 1, column: 0 });
    // Columns count characters, not bytes.
    expect(python.syntax(CELLS.unicode)).toMatchObject({ ok: false, line: 0, column: 13 });
    // `%time stmt` compiles its statement when it runs: a broken one fails the cell.
    expect(python.syntax(CELLS.timeStatement)).toMatchObject({ ok: false, message: "'(' was never closed", line: 1, column: 12 });
  });

  it('answers each cell once, and asks nothing it knows', async () => {
    expect(withIPython.needs(Object.values(CELLS))).toBe(false);
    expect(withIPython.needs(['y = 2'])).toBe(true);
    // Concurrent requests for the same cell share one answer.
    await Promise.all([withIPython.ensure(['y = 2']), withIPython.ensure(['y = 2', 'z = 3'])]);
    expect(withIPython.knowledge()!.syntax('z = 3')).toEqual({ ok: true });
  });

  it('lists what `import *` binds from installed modules, in a process of its own', async () => {
    await withIPython.ensure([], ['json', 'no_such_module_here']);
    const python = withIPython.knowledge()!;
    expect([...python.moduleNames('json')!]).toEqual(['JSONDecodeError', 'JSONDecoder', 'JSONEncoder', 'dump', 'dumps', 'load', 'loads']);
    expect(python.moduleNames('no_such_module_here')).toBeNull();
    expect(python.moduleNames('os')).toBeUndefined();
  });

  it('does not import modules unless allowed', async () => {
    const restricted = oracle('/usr/bin/python3', false);
    await restricted.ensure(['x = 1'], ['json']);
    expect(restricted.knowledge()!.moduleNames('json')).toBeUndefined();
  });
});

describe('PythonOracle without IPython', () => {
  let venv: string;
  let bare: PythonOracle;
  beforeAll(() => {
    // A virtual environment of the pyenv Python: no site packages, so no IPython.
    venv = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-bare-venv-'));
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
    bare = oracle(path.join(venv, 'bin', 'python'));
  });
  afterAll(() => rmSync(venv, { recursive: true, force: true }));

  it('compiles nb2prod\'s masked code', async () => {
    await bare.ensure(Object.values(CELLS));
    expect(bare.versions).toMatchObject({ ipython: null });
    const python = bare.knowledge()!;
    expect(python.syntax(CELLS.magics)).toEqual({ ok: true });
    expect(python.syntax(CELLS.bash)).toEqual({ ok: true });
    expect(python.syntax(CELLS.timeBody)).toMatchObject({ ok: false, line: 1 });
    expect(python.syntax(CELLS.python2)).toMatchObject({ ok: false, line: 1, column: 0 });
    expect(python.syntax(CELLS.unicode)).toMatchObject({ ok: false, line: 0, column: 13 });
    expect(python.syntax(CELLS.timeStatement)).toMatchObject({ ok: false, line: 1, column: 12 });
  });
});

describe('PythonOracle with no interpreter', () => {
  it('says why, and answers nothing', async () => {
    const missing = oracle(path.join(os.tmpdir(), 'no-such-python-here'));
    await missing.ensure(['x = 1']);
    expect(missing.unavailable).toMatch(/was not found/);
    expect(missing.knowledge()).toBeNull();
    expect(missing.needs(['x = 1'])).toBe(false);
  });

  it('gives up on an interpreter that exits at once', async () => {
    const broken = oracle('/bin/false');
    await broken.ensure(['x = 1']);
    expect(broken.unavailable).toMatch(/exited/);
    expect(broken.knowledge()).toBeNull();
  });
});
