/**
 * Lint speed on a 1,000-cell notebook: a cold lint (every cell parsed) and a re-lint after one
 * cell changed (the editor's case: one cell re-parsed, the cross-cell rules re-run), each beside
 * the time to only `JSON.parse` the same file.
 */
import { DEFAULT_CONFIG } from '../src/core/lint/config';
import { lintCells, notebookCells } from '../src/core/lint/engine';
import { clearAnalysisCache, type SourceCell } from '../src/core/lint/model';
import { StaticProjectInfo } from '../src/core/lint/project';
import { ALL_RULES } from '../src/core/lint/rules';

const TEMPLATES = [
  () => `import pandas as pd\nimport numpy as np\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.ensemble import RandomForestClassifier`,
  (i: number) => `df_${i} = pd.read_csv("data/part_${i}.csv")\ndf_${i} = df_${i}.dropna()\ndf_${i}["ratio_${i}"] = df_${i}["a"] / (df_${i}["b"] + 1)\nprint(df_${i}.shape)`,
  (i: number) => `def feature_${i}(frame, column="a", scale=2.0):\n    values = [v * scale for v in frame[column] if v is not None]\n    total = sum(values)\n    return {"mean": total / max(len(values), 1), "n": len(values)}\n\nstats_${i} = feature_${i}(df_${i - 1})`,
  (i: number) => `X_${i} = df_${i - 2}[["a", "b", "ratio_${i - 2}"]]\ny_${i} = df_${i - 2}["label"]\nX_train_${i}, X_test_${i}, y_train_${i}, y_test_${i} = train_test_split(X_${i}, y_${i}, test_size=0.2, random_state=${i})`,
  (i: number) => `model_${i} = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0)\nmodel_${i}.fit(X_train_${i - 1}, y_train_${i - 1})\nscore_${i} = model_${i}.score(X_test_${i - 1}, y_test_${i - 1})\nprint(f"cell ${i}: {score_${i}:.3f}")`,
  (i: number) => `for k in range(3):\n    if k % 2:\n        print(k, stats_${i - 3}["mean"])\n    else:\n        continue\nresults_${i} = {name: value for name, value in stats_${i - 3}.items()}`,
  (i: number) => `# Notes for step ${i}\n%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot(np.arange(10) * ${i})\nax.set_title("step ${i}")`,
  (i: number) => `class Step${i}:\n    """Pipeline step ${i}."""\n    def __init__(self, factor=${i}):\n        self.factor = factor\n    def apply(self, values):\n        return [v * self.factor for v in values]\n\nstep_${i} = Step${i}()`,
];

export function makeNotebook(cellCount: number): string {
  const cells = Array.from({ length: cellCount }, (_, i) => {
    const source = TEMPLATES[i % TEMPLATES.length]!(i);
    return { cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: i + 1, outputs: [], source: source.split(/(?<=\n)/) };
  });
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }, null, 1);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export interface LintSpeed {
  cells: number;
  lines: number;
  bytes: number;
  jsonParseMs: number;
  coldLintMs: number;
  relintMs: number;
  findings: number;
}

export function measureLintSpeed(cellCount = 1_000): LintSpeed {
  const text = makeNotebook(cellCount);
  const path = '/bench/analysis.ipynb';
  const project = new StaticProjectInfo({ root: '/bench', defaultVersioning: 'git', requirements: { files: ['requirements.txt'], names: new Set(['pandas', 'numpy', 'scikit-learn', 'matplotlib']) } });
  const options = { project, config: DEFAULT_CONFIG, rules: ALL_RULES };
  const target = { kind: 'notebook' as const, path };
  // Warm up the JIT on a smaller notebook first.
  for (let i = 0; i < 3; i++) {
    clearAnalysisCache();
    lintCells(notebookCells(makeNotebook(200), path), target, options);
  }
  const parseSamples: number[] = [];
  const coldSamples: number[] = [];
  let findings = 0;
  for (let i = 0; i < 7; i++) {
    let started = performance.now();
    JSON.parse(text);
    parseSamples.push(performance.now() - started);
    clearAnalysisCache();
    started = performance.now();
    findings = lintCells(notebookCells(text, path), target, options).findings.length;
    coldSamples.push(performance.now() - started);
  }
  // The editor's case: the cells are already in memory; one of them changed.
  const cells: SourceCell[] = notebookCells(text, path);
  lintCells(cells, target, options);
  const relintSamples: number[] = [];
  for (let i = 0; i < 21; i++) {
    const edited = cells.slice();
    const at = 500 + i;
    edited[at] = { ...cells[at]!, source: `${cells[at]!.source}\nedit_${i} = ${i}` };
    const started = performance.now();
    lintCells(edited, target, options);
    relintSamples.push(performance.now() - started);
  }
  return {
    cells: cellCount,
    lines: cells.reduce((n, c) => n + c.source.split('\n').length, 0),
    bytes: Buffer.byteLength(text),
    jsonParseMs: median(parseSamples),
    coldLintMs: median(coldSamples),
    relintMs: median(relintSamples),
    findings,
  };
}
