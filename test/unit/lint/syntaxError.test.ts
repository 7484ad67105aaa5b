/**
 * `syntax-error`: CPython decides when an interpreter answered (Debian's /usr/bin/python3, with
 * IPython, here); without one, nb2prod's parser's findings are warnings. Python 2 code is one
 * finding per notebook.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonOracle, type PythonKnowledge } from '../../../src/core/lint/pythonOracle';
import { syntaxError } from '../../../src/core/lint/rules/syntaxError';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

const PYTHON_DIR = path.resolve(__dirname, '../../../src/core/capture/python');
const oracle = new PythonOracle({ python: '/usr/bin/python3', pythonDir: PYTHON_DIR, importModules: false });

/** Lints with the interpreter's verdicts on these cells gathered first, as the CLI does. */
async function withPython(cells: string[]): Promise<ReturnType<typeof lintNotebook>> {
  await oracle.ensure(cells);
  const python = oracle.knowledge();
  expect(python, oracle.unavailable ?? '').not.toBeNull();
  return lintNotebook([syntaxError], cells, { python });
}

beforeAll(async () => {
  await oracle.ensure(['x = 1']);
});
afterAll(() => oracle.dispose());

describe('syntax-error without an interpreter', () => {
  it('reports a cell that does not parse, at the offending token, as a warning', () => {
    const result = lintNotebook([syntaxError], ['x = 1', 'def f(:\n    pass', 'y = 2']);
    expect(where(result)).toEqual(['1:0:6 syntax-error']);
    expect(flagged(result, result.findings[0]!)).toBe(':');
    expect(result.findings[0]!.severity).toBe('warning');
    expect(result.findings[0]!.message).toMatch(/not confirmed by Python/);
  });

  it('reports an unclosed bracket at the end of the cell', () => {
    const result = lintNotebook([syntaxError], ['values = [1, 2,\n']);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/unclosed/);
  });

  it('reports one problem per cell: the first, as Python would', () => {
    const result = lintNotebook([syntaxError], ['x = (1,\ny = ]\nz = [[']);
    expect(result.findings).toHaveLength(1);
  });

  it('survives binary garbage in a cell', () => {
    const result = lintNotebook([syntaxError], ['x = 1 \u0000\u0001\u00ff\ufffd )) ((', 'y = 2']);
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.findings.every((f) => f.cell === 0)).toBe(true);
  });

  it('does not report IPython magics, shell escapes, help requests, trailing-dot floats or valid modern syntax', () => {
    const result = lintNotebook([syntaxError], [
      '%matplotlib inline\n!pip install pandas==2.2.2\nfiles = !ls data\ndf.head?',
      '%%bash\necho "not python {"',
      '%%time\ntotal = sum(range(10))',
      'match command:\n    case [x, *rest]:\n        pass\n    case _:\n        pass',
      'if (n := len(items)) > 3:\n    print(f"{n=} items {items!r:>{width}}")',
      'async def main():\n    async with session() as s:\n        await s.get()',
      'for i in range(3):\n    !echo {i}',
      'bins = [0., 1.5, 6.]\nX = X / 255.\nz = 1_000.',
      '!saved_model_cli run --dir {d} \\\n    --signature_def serving_default',
      'import seaborn; seaborn.set()',
      '',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts too, with a message about the file', () => {
    const result = lintScript([syntaxError], 'import os\nx = (1,\n');
    expect(result.findings[0]!.message).toMatch(/^This file does not parse/);
  });

  it('groups Python 2 code into one finding per notebook, at its first place', () => {
    const result = lintNotebook([syntaxError], ['x = 1', 'print "hello"', 'y = 2', 'try:\n    f()\nexcept ValueError, e:\n    pass', 'if a <> b:\n    print "different"', 'z = (1,']);
    expect(where(result)).toEqual(['1:0:0 syntax-error', '5:0:6 syntax-error']);
    expect(result.findings[0]!.message).toBe(
      "Python 2 code: cells 2, 4 and 5 use Python 2 syntax (print statement, `except X, e`, `<>`): port it to Python 3 (`2to3` does most of it) (found by nb2prod's parser; not confirmed by Python).",
    );
    expect(result.findings[0]!.severity).toBe('warning');
  });

  it('names the lines of Python 2 code in a script', () => {
    const result = lintScript([syntaxError], 'import sys\nprint "a"\nx = 1\nprint >>sys.stderr, "b"\n');
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/^Python 2 code: lines 2 and 4 use Python 2 syntax \(print statement\)/);
  });
});

describe('syntax-error with the interpreter', () => {
  it('trusts Python over nb2prod\'s parser: a cell CPython compiles is never a syntax error', async () => {
    // Lezer rejects these (a relaxed decorator, a yield in a lambda); CPython accepts them.
    const result = await withPython(['@buttons[0].on_click\ndef f(b):\n    pass', 'g = lambda: (yield)', 'await asyncio.sleep(0)']);
    expect(result.findings).toEqual([]);
  });

  it('reports what CPython rejects, at its position, with its message, as an error', async () => {
    const result = await withPython(['x = 1', 'def f():\n    return 1\nreturn 2', 'value = 1.__class__', 'y = (1,\n']);
    expect(where(result)).toEqual(['1:2:0 syntax-error', '2:0:9 syntax-error', '3:0:4 syntax-error']);
    expect(result.findings.map((f) => f.severity)).toEqual(['error', 'error', 'error']);
    expect(result.findings[0]!.message).toMatch(/^Python 3\.\d+ cannot compile this cell: 'return' outside function\.$/);
    expect(flagged(result, result.findings[0]!)).toBe('return 2');
    expect(result.findings[1]!.message).toMatch(/invalid decimal literal/);
    expect(result.findings[2]!.message).toMatch(/'\(' was never closed/);
    expect(flagged(result, result.findings[2]!)).toBe('(');
  });

  it('reads cells as IPython does: a line magic does not continue over a bracket on the next line', async () => {
    const result = await withPython(['%timeit np.fromiter((x for x in xs),\n                    dtype=float)']);
    expect(where(result)).toEqual(['0:1:20 syntax-error']);
    expect(result.findings[0]!.message).toMatch(/unexpected indent \(IndentationError\)/);
  });

  it('confirms Python 2 code as an error, one finding for the notebook', async () => {
    const result = await withPython(['print "hello"', 'x = 1', 'mode = 0777']);
    expect(where(result)).toEqual(['0:0:0 syntax-error']);
    expect(result.findings[0]!.message).toMatch(/^Python 2 code: cells 1 and 3 use Python 2 syntax \(print statement, octal literal `0777`\): port it to Python 3/);
    expect(result.findings[0]!.severity).toBe('error');
  });

  it('says when the interpreter has not answered yet', () => {
    const pending: PythonKnowledge = { label: 'Python 3.11', syntax: () => undefined, moduleNames: () => undefined };
    const result = lintNotebook([syntaxError], ['def f(:\n    pass'], { python: pending });
    expect(result.findings[0]!.severity).toBe('warning');
    expect(result.findings[0]!.message).toMatch(/Python has not confirmed it yet/);
  });
});
