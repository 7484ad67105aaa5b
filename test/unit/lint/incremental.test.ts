/**
 * Incremental re-lint: a lint after an edit builds on the previous lint's model (per-name lists
 * and per-cell pieces kept where nothing they read changed). Whatever the edit — a cell edited,
 * added, removed or moved, an import removed, a definition moved below its use — its findings
 * must be exactly those of a cold lint of the edited notebook.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/core/lint/config';
import { forgetPreviousLints, lintCells, notebookCells } from '../../../src/core/lint/engine';
import { clearAnalysisCache, type SourceCell } from '../../../src/core/lint/model';
import { StaticProjectInfo } from '../../../src/core/lint/project';
import { ALL_RULES } from '../../../src/core/lint/rules';
import { notebookJson, PROJECT_ROOT } from './lintHelpers';

const target = { kind: 'notebook' as const, path: `${PROJECT_ROOT}/incremental.ipynb` };
const options = {
  project: new StaticProjectInfo({ root: PROJECT_ROOT, requirements: { files: ['requirements.txt'], names: new Set(['pandas', 'numpy', 'scikit-learn']) } }),
  config: DEFAULT_CONFIG,
  rules: ALL_RULES,
};

const BASE = [
  'import numpy as np\nimport pandas as pd\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.preprocessing import StandardScaler',
  'DATA = "/home/alice/data"\nTOKEN_NAME = "x"',
  'def load(name):\n    return pd.read_csv(f"{DATA}/{name}.csv")\n\ndf = load("train")',
  'def set_seed():\n    np.random.seed(0)\n\nset_seed()',
  'noise = np.random.rand(10)\nsample = df.sample(5)',
  'X_train, X_test, y_train, y_test = train_test_split(df[["a"]], df["y"])\nscaler = StandardScaler()\nscaler.fit(X_test)',
  'api_key = "sk-live-1234567890abcdefghijklmnop"\nprint(helper(3))',
  'def helper(n):\n    return n * 2',
];

function cells(sources: string[], counts?: Array<number | null>): SourceCell[] {
  return notebookCells(notebookJson(sources.map((source, i) => ({ source, count: counts?.[i] ?? i + 1 }))), target.path);
}

/** Findings as JSON, with the rule failures (none expected). */
function lint(input: SourceCell[]): string {
  const result = lintCells(input, target, options);
  expect(result.ruleFailures).toEqual([]);
  return JSON.stringify(result.findings);
}

function cold(input: SourceCell[]): string {
  forgetPreviousLints();
  clearAnalysisCache();
  // Parsed again so no fact object is shared with the incremental lint.
  return lint(notebookCells(notebookJson(input.map((c) => ({ source: c.source, kind: c.kind, count: c.executionCount }))), target.path));
}

/** Lints `before`, then `after` on top of it; the second must equal a cold lint of `after`. */
function expectIncrementalEqualsCold(before: SourceCell[], after: SourceCell[]): void {
  forgetPreviousLints();
  lint(before);
  const incremental = lint(after);
  expect(incremental).toEqual(cold(after));
}

const edit = (sources: string[], at: number, source: string) => sources.map((s, i) => (i === at ? source : s));

describe('incremental re-lint equals a cold lint', () => {
  it('has findings of many rules on the base notebook (the edits below change them)', () => {
    const rules = new Set((JSON.parse(cold(cells(BASE))) as Array<{ rule: string }>).map((f) => f.rule));
    expect([...rules].sort()).toEqual(['absolute-path', 'data-leakage', 'hardcoded-secret', 'undefined-name']);
  });

  it('a definition moved later (below its use)', () => {
    const moved = [...BASE.slice(0, 2), ...BASE.slice(3, 7), BASE[2]!, BASE[7]!];
    expectIncrementalEqualsCold(cells(BASE), cells(moved));
  });

  it('an import removed, then put back', () => {
    const removed = edit(BASE, 0, 'import pandas as pd\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.preprocessing import StandardScaler');
    expectIncrementalEqualsCold(cells(BASE), cells(removed));
    expectIncrementalEqualsCold(cells(removed), cells(BASE));
  });

  it('a cell deleted (the seeding helper, the last cell)', () => {
    expectIncrementalEqualsCold(cells(BASE), cells(BASE.filter((_, i) => i !== 3)));
    expectIncrementalEqualsCold(cells(BASE), cells(BASE.slice(0, -1)));
  });

  it('a cell added in the middle and at the end', () => {
    expectIncrementalEqualsCold(cells(BASE), cells([...BASE.slice(0, 4), 'rng = np.random.default_rng()\nnp.random.shuffle(noise)', ...BASE.slice(4)]));
    expectIncrementalEqualsCold(cells(BASE), cells([...BASE, 'print(undefined_thing)\nDATA = "/Users/bob/x"']));
  });

  it('an edit elsewhere in a cell that binds names others read (equal bindings, new fact objects)', () => {
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 0, `${BASE[0]}\n# a comment`)));
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 7, `${BASE[7]}\n\nprint("more")`)));
  });

  it('a binding whose value changes (a path constant, a seed removed, a secret added)', () => {
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 1, 'DATA = "data"\nTOKEN_NAME = "x"')));
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 3, 'def set_seed():\n    pass\n\nset_seed()')));
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 5, `${BASE[5]}\npassword = "hunter2hunter2"`)));
  });

  it('a constant another cell reads changes value, the number of bindings staying the same', () => {
    const solver = ['from sklearn.linear_model import LogisticRegression\nSOLVER = "liblinear"', 'model = LogisticRegression(solver=SOLVER)\nmodel.fit([[0]], [0])'];
    expect(cold(cells(solver))).toContain('unseeded-random');
    expectIncrementalEqualsCold(cells(solver), cells(edit(solver, 0, solver[0]!.replace('liblinear', 'lbfgs'))));
    expectIncrementalEqualsCold(cells(edit(solver, 0, solver[0]!.replace('liblinear', 'lbfgs'))), cells(solver));
  });

  it('a name rebound above its reads, and a star import added', () => {
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 1, 'np = None\nDATA = "/home/alice/data"')));
    expectIncrementalEqualsCold(cells(BASE), cells(edit(BASE, 0, `from os.path import *\n${BASE[0]}`)));
  });

  it('execution counts changed, a cell turned to markdown', () => {
    expectIncrementalEqualsCold(cells(BASE), cells(BASE, [1, 2, 3, 9, 5, 6, 7, null]));
    const markdown = cells(BASE);
    markdown[7] = { ...markdown[7]!, kind: 'markdown' };
    expectIncrementalEqualsCold(cells(BASE), markdown);
  });

  it('a chain of edits, each lint on top of the last', () => {
    forgetPreviousLints();
    let sources = [...BASE];
    const steps: Array<(s: string[]) => string[]> = [
      (s) => edit(s, 4, `${s[4]}\nmore = np.random.randn(3)`),
      (s) => [...s.slice(0, 3), ...s.slice(4)],
      (s) => edit(s, 0, s[0]!.replace('import numpy as np\n', '')),
      (s) => [s[s.length - 1]!, ...s.slice(0, -1)],
      (s) => edit(s, 2, `${s[2]}\nimport numpy as np`),
      (s) => [...s, 'np.random.seed(1)'],
    ];
    lint(cells(sources));
    for (const step of steps) {
      sources = step(sources);
      const incremental = lint(cells(sources));
      const expected = cold(cells(sources));
      expect(incremental).toEqual(expected);
      // cold() forgot the lineage: lint again on top of the cold model, as the editor would.
      lint(cells(sources));
    }
  });
});
