import { describe, expect, it } from 'vitest';
import { longestInOrder, outOfOrderExecution, unexecutedCell } from '../../../src/core/lint/rules/executionOrder';
import { modifiedAfterRun } from '../../../src/core/lint/rules/modifiedAfterRun';
import { undefinedName } from '../../../src/core/lint/rules/undefinedName';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

describe('out-of-order-execution', () => {
  it('reports a cell whose count is lower than one above it', () => {
    const result = lintNotebook([outOfOrderExecution], [
      { source: 'import pandas as pd', count: 1 },
      { source: 'df = pd.read_csv("a.csv")', count: 5 },
      { source: '# notes', kind: 'markdown' },
      { source: 'df.describe()\nprint(df)', count: 3 },
      { source: 'df.head()', count: 6 },
    ]);
    expect(where(result)).toEqual(['3:0:0 out-of-order-execution']);
    expect(flagged(result, result.findings[0]!)).toBe('df.describe()');
    expect(result.findings[0]!.message).toContain('[3], before cell 2 above it ran as [5]');
  });

  it('is one finding per notebook, at the first cell out of order, listing the cells and linking the others', () => {
    // Cells 1–2 re-run after the rest; 20 cells ran in order below them.
    const cells = [{ source: 'x = 0', count: 40 }, { source: 'y = 0', count: 41 }, ...Array.from({ length: 20 }, (_, i) => ({ source: `v${i} = ${i}`, count: i + 1 }))];
    const result = lintNotebook([outOfOrderExecution], cells);
    expect(where(result)).toEqual(['0:0:0 out-of-order-execution']);
    const [finding] = result.findings;
    expect(finding!.message).toBe(
      'Cells ran out of order (2 cells): cell 1 ran as [40], after cell 3 below it ran as [1]; cell 2 ran as [41], after cell 3 below it ran as [1]. The saved outputs come from that order, not from top to bottom. Restart the kernel and Run All.',
    );
    expect(finding!.related).toEqual([{ cell: 1, span: { from: 0, to: 5 }, message: 'Cell 2 ran as [41], after cell 3 below it ran as [1]' }]);
  });

  it('names the fewest cells: one cell re-run at the end is that cell, not every cell below it', () => {
    const cells = Array.from({ length: 30 }, (_, i) => ({ source: `v${i} = ${i}`, count: i === 4 ? 31 : i + 1 }));
    const result = lintNotebook([outOfOrderExecution], cells);
    expect(where(result)).toEqual(['4:0:0 out-of-order-execution']);
    expect(result.findings[0]!.message).toMatch(/^Cell 5 ran as \[31\], after cell 6 below it ran as \[6\]:/);
  });

  it('spells out three cells and counts the rest', () => {
    const cells = [...Array.from({ length: 8 }, (_, i) => ({ source: `v${i} = ${i}`, count: 20 + i })), ...Array.from({ length: 10 }, (_, i) => ({ source: `w${i} = ${i}`, count: i + 1 }))];
    const [finding] = lintNotebook([outOfOrderExecution], cells).findings;
    expect(finding!.message).toMatch(/^Cells ran out of order \(8 cells\): cell 1 ran as \[20\].*; cell 2 .*; cell 3 ran as \[22\], after cell 9 below it ran as \[1\]; and 5 more\. The saved outputs/);
    expect(finding!.related).toHaveLength(7);
  });

  it('keeps the cells higher up when two orders are as long, and counts ties as in order', () => {
    expect([...longestInOrder([{ cell: 0, count: 1 }, { cell: 1, count: 5 }, { cell: 2, count: 3 }, { cell: 3, count: 6 }])].sort()).toEqual([0, 1, 3]);
    expect(longestInOrder([{ cell: 0, count: 2 }, { cell: 1, count: 2 }, { cell: 2, count: 3 }]).size).toBe(3);
    expect(longestInOrder([]).size).toBe(0);
  });

  it('accepts increasing counts with gaps, unrun cells and a notebook that never ran', () => {
    expect(lintNotebook([outOfOrderExecution], [{ source: 'a = 1', count: 2 }, { source: 'b = 2', count: null }, { source: 'c = 3', count: 9 }]).findings).toEqual([]);
    expect(lintNotebook([outOfOrderExecution], ['a = 1', 'b = 2']).findings).toEqual([]);
  });

  it('does not apply to scripts', () => {
    expect(lintScript([outOfOrderExecution], 'x = 1').findings).toEqual([]);
  });
});

describe('unexecuted-cell', () => {
  it('reports code cells that never ran among cells that did', () => {
    const result = lintNotebook([unexecutedCell], [
      { source: 'a = 1', count: 1 },
      { source: 'b = a + 1', count: null },
      { source: 'c = 2', count: 2 },
      { source: 'print(c)', count: null },
    ]);
    expect(where(result)).toEqual(['1:0:0 unexecuted-cell', '3:0:0 unexecuted-cell']);
    expect(result.findings[0]!.message).toContain('above cells that did');
    expect(result.findings[0]!.severity).toBe('info');
  });

  it('reports the cells below the last one that ran once, as a notebook not run to the end', () => {
    const result = lintNotebook([unexecutedCell], [
      { source: 'a = 1', count: 1 },
      { source: 'b = 2', count: null },
      { source: 'c = 3', count: 2 },
      { source: 'd = 4', count: null },
      { source: '## More', kind: 'markdown' },
      { source: 'e = 5', count: null },
      { source: 'f = 6', count: null },
    ]);
    expect(where(result)).toEqual(['1:0:0 unexecuted-cell', '3:0:0 unexecuted-cell']);
    expect(result.findings[1]!.message).toMatch(/^This cell and the 2 code cells below it \(cells 4–7\) never ran, below the cells that did: the notebook was saved before it ran to the end/);
    expect(result.findings[1]!.related!.map((r) => [r.cell, r.message])).toEqual([
      [5, 'Cell 6 never ran.'],
      [6, 'Cell 7 never ran.'],
    ]);
  });

  it('ignores empty cells, markdown and notebooks saved without outputs', () => {
    expect(lintNotebook([unexecutedCell], [{ source: 'a = 1', count: 1 }, { source: '   \n' }, { source: '# Title', kind: 'markdown' }]).findings).toEqual([]);
    expect(lintNotebook([unexecutedCell], ['a = 1', 'b = 2']).findings).toEqual([]);
  });
});

describe('modified-after-run', () => {
  it('reports the cells the editor says were edited since they ran', () => {
    const result = lintNotebook([modifiedAfterRun], [{ source: 'a = 1', count: 1 }, { source: 'b = 2', count: 2 }], { session: { editedSinceRun: new Set([1]) } });
    expect(where(result)).toEqual(['1:0:0 modified-after-run']);
  });

  it('reports nothing without a live session (the CLI)', () => {
    expect(lintNotebook([modifiedAfterRun], [{ source: 'a = 1', count: 1 }]).findings).toEqual([]);
  });
});

describe('undefined-name', () => {
  it('reports a name only defined in a later cell, on its first use', () => {
    const result = lintNotebook([undefinedName], ['import pandas as pd', 'summary = df.describe()\nprint(df)', 'df = pd.read_csv("data.csv")']);
    expect(where(result)).toEqual(['1:0:10 undefined-name']);
    expect(flagged(result, result.findings[0]!)).toBe('df');
    expect(result.findings[0]!.message).toContain('only defined in cell 3');
  });

  it('reports a name no cell defines as hidden kernel state', () => {
    const result = lintNotebook([undefinedName], ['model.fit(X, y)\nX = 1\ny = 2']);
    expect(where(result)).toEqual(['0:0:0 undefined-name', '0:0:10 undefined-name', '0:0:13 undefined-name']);
    expect(result.findings[0]!.message).toContain('not defined by any cell');
    expect(result.findings[1]!.message).toContain('defined further down in this cell');
  });

  it('understands scopes: functions, parameters, comprehensions, lambdas, classes, globals, imports', () => {
    const result = lintNotebook([undefinedName], [
      'import numpy as np\nfrom sklearn.metrics import f1_score as f1',
      'def evaluate(model, X, y, *args, threshold=0.5, **kw):\n    global calls\n    calls = 1\n    local = [row for row in X if row > threshold]\n    square = lambda v: v * v\n    return f1(y, model.predict(X)), local, square, helper()',
      'def helper():\n    return config["seed"]',
      'class Model:\n    size = 3\n    twice = size * 2\n    def fit(self):\n        return self',
      'try:\n    import torch\nexcept ImportError as error:\n    torch = None\n    print(error)',
      'with open("f.txt") as handle:\n    text = handle.read()\nfor i, (a, b) in enumerate([(1, 2)]):\n    total = i + a + b\nif (n := len(text)) > 1:\n    print(n, total, np.pi, calls, Model, torch)',
      'config = {"seed": 0}',
      'squares = {k: v for k, v in zip("ab", range(2))}\nmatch squares:\n    case {"a": first}:\n        print(first)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('does not guess after a star import or %run', () => {
    expect(lintNotebook([undefinedName], ['from helpers import *', 'clean(df)']).findings).toEqual([]);
    expect(lintNotebook([undefinedName], ['%run setup.py', 'clean(df)']).findings).toEqual([]);
  });

  it('reports each name once, and builtins and IPython names never', () => {
    const result = lintNotebook([undefinedName], ['print(len(items), display, get_ipython)', 'items.append(1)']);
    expect(where(result)).toEqual(['0:0:10 undefined-name']);
  });

  it('in a function body, only a name defined nowhere', () => {
    const result = lintNotebook([undefinedName], ['def f():\n    return later + missing', 'later = 1']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['missing']);
  });

  it('in a script, a module-level use before the definition', () => {
    const result = lintScript([undefinedName], 'print(threshold)\nthreshold = 0.5\n\ndef main():\n    return threshold\n');
    expect(where(result)).toEqual(['0:0:6 undefined-name']);
    expect(result.findings[0]!.message).toContain('line 2');
  });

  it('reads the old value on the right of an assignment: x = x + 1 needs an earlier x', () => {
    const result = lintNotebook([undefinedName], ['count = count + 1', 'total = 0\ntotal = total + 1']);
    expect(where(result)).toEqual(['0:0:8 undefined-name']);
  });

  it('skips cells that do not parse', () => {
    expect(lintNotebook([undefinedName], ['x = (undefined_thing,']).findings).toEqual([]);
  });
});
