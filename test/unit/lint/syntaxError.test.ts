import { describe, expect, it } from 'vitest';
import { syntaxError } from '../../../src/core/lint/rules/syntaxError';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

describe('syntax-error', () => {
  it('reports a cell that does not parse, at the offending token', () => {
    const result = lintNotebook([syntaxError], ['x = 1', 'def f(:\n    pass', 'y = 2']);
    expect(where(result)).toEqual(['1:0:6 syntax-error']);
    expect(flagged(result, result.findings[0]!)).toBe(':');
    expect(result.findings[0]!.severity).toBe('error');
  });

  it('reports an unclosed bracket at the end of the cell', () => {
    const result = lintNotebook([syntaxError], ['values = [1, 2,\n']);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/unclosed/);
  });

  it('reports a Python 2 print statement', () => {
    const result = lintNotebook([syntaxError], ['print "hello"']);
    expect(result.findings[0]!.message).toMatch(/print is a function/);
  });

  it('survives binary garbage in a cell', () => {
    const result = lintNotebook([syntaxError], ['x = 1 \u0000\u0001\u00ff\ufffd )) ((', 'y = 2']);
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.findings.every((f) => f.cell === 0)).toBe(true);
  });

  it('does not report IPython magics, shell escapes, help requests or valid modern syntax', () => {
    const result = lintNotebook([syntaxError], [
      '%matplotlib inline\n!pip install pandas==2.2.2\nfiles = !ls data\ndf.head?',
      '%%bash\necho "not python {"',
      '%%time\ntotal = sum(range(10))',
      'match command:\n    case [x, *rest]:\n        pass\n    case _:\n        pass',
      'if (n := len(items)) > 3:\n    print(f"{n=} items {items!r:>{width}}")',
      'async def main():\n    async with session() as s:\n        await s.get()',
      'for i in range(3):\n    !echo {i}',
      '',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts too, with a message about the file', () => {
    const result = lintScript([syntaxError], 'import os\nx = (1,\n');
    expect(result.findings[0]!.message).toMatch(/^This file does not parse/);
  });
});
