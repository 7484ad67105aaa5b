import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NotebookCell, parseNotebook } from '../../../src/core/notebook/ipynb';
import { identifier, planScaffold } from '../../../src/core/scaffold/plan';

const ROOT = path.resolve(__dirname, '../../..');

function notebookFile(rel: string): NotebookCell[] {
  return parseNotebook(readFileSync(path.join(ROOT, rel), 'utf8'), rel).cells;
}

/** Cells from [kind, source, tags?] triples. */
function cells(...specs: Array<[NotebookCell['kind'], string, string[]?]>): NotebookCell[] {
  return specs.map(([kind, source, tags], index) => ({ index, kind, id: null, source, tags: tags ?? [], executionCount: null }));
}

const IMPORTS = 'import joblib\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import train_test_split';

describe('planScaffold on the example notebooks', () => {
  it('churn: one step per H2 section, the get_dummies line as shared feature code, evaluation on the held-out split', () => {
    const plan = planScaffold(notebookFile('examples/churn/churn.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => [s.name, s.inputs, s.outputs])).toEqual([
      ['load_data', [], ['df']],
      ['features', ['df'], ['X', 'y']],
      ['train', ['X', 'y'], ['X_test', 'y_test', 'model']],
      ['evaluate', ['model', 'X_test', 'y_test'], []],
      ['save_the_model', ['model'], []],
    ]);
    expect(plan.steps[2]!.params.sort()).toEqual(['max_depth', 'n_estimators', 'seed', 'test_size']);
    expect(plan.parameters).toEqual({ n_estimators: '200', max_depth: '8', test_size: '0.25', seed: '42' });
    expect(plan.features).toMatchObject({ step: 'features', frame: 'df', matrix: 'X', params: [] });
    expect(plan.features!.body).toBe('X = pd.get_dummies(df.drop(columns=["churned"]), columns=["contract", "payment_method"])\nreturn X');
    expect(plan.steps[1]!.body).toBe('X = build_features(df)\ny = df["churned"]');
    expect(plan.data).toEqual({ frame: 'df', path: 'data/customers.csv', reader: 'pandas.read_csv', step: 'load_data', cell: 3 });
    expect(plan.target).toBe('churned');
    expect(plan.model).toMatchObject({ variable: 'model', estimator: 'sklearn.ensemble.RandomForestClassifier', path: 'models/churn_model.joblib', saver: 'joblib' });
    expect(plan.evaluation).toEqual({ step: 'train', model: 'model', X: 'X_test', y: 'y_test' });
    expect(plan.task).toBe('classification');
    // Imports are hoisted once, the optional nb2prod import with its try.
    expect(plan.imports).toContain('from sklearn.ensemble import RandomForestClassifier');
    expect(plan.imports.some((i) => i.startsWith('try:\n    import nb2prod'))).toBe(true);
    expect(plan.notes.map((n) => n.message)).toEqual([
      'Cell 4: left out `df.shape` (a value shown in the notebook).',
      'Cell 6: left out `X.columns.tolist()` (a value shown in the notebook).',
      'Cell 10: left out `metrics` (a value shown in the notebook).',
    ]);
  });

  it('houses: an in-place derived column and a constant go into build_features; the regressor is a regression', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/houses/houses.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.features!.body).toBe(
      'CATEGORICAL = ["neighborhood"]\nhouses["sqft_per_bedroom"] = houses["sqft"] / houses["bedrooms"]\nfeatures = pd.get_dummies(houses.drop(columns=["price"]), columns=CATEGORICAL)\nreturn features',
    );
    expect(plan.task).toBe('regression');
    expect(plan.target).toBe('price');
    // The held-out names are returned so the pipeline can evaluate, though no later cell reads them.
    expect(plan.steps.find((s) => s.name === 'fit')!.outputs).toEqual(expect.arrayContaining(['regressor', 'X_valid', 'y_valid']));
    expect(plan.evaluation).toEqual({ step: 'fit', model: 'regressor', X: 'X_valid', y: 'y_valid' });
  });

  it('renewals: step tags, pickle through `with open`, constants the model also reads stay in the pipeline, magics reported', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/plans/renewals.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => s.name)).toEqual(['load', 'features', 'train', 'save']);
    expect(plan.model).toMatchObject({ variable: 'classifier', path: 'models/renewals.pkl', saver: 'pickle' });
    expect(plan.features!.body).toContain('X = accounts[NUMERIC + CATEGORIES]');
    const features = plan.steps.find((s) => s.name === 'features')!;
    expect(features.body).toContain('NUMERIC = ["seats", "monthly_spend", "tickets"]');
    expect(plan.steps.find((s) => s.name === 'train')!.inputs).toEqual(expect.arrayContaining(['NUMERIC', 'CATEGORIES']));
    const notes = plan.notes.map((n) => n.message);
    expect(notes).toContain('Cell 2: left out the magic `%precision 3` (IPython only).');
    expect(notes).toContain('Cell 4: left out the shell command `!ls data` (run it outside the pipeline, or port it to Python).');
    expect(plan.steps.some((s) => s.body.includes('!ls') || s.body.includes('%precision'))).toBe(false);
  });
});

describe('planScaffold: what it refuses, with what to add', () => {
  it('a star import', () => {
    const plan = planScaffold(cells(['code', 'from pandas import *\ndf = read_csv("a.csv")']));
    expect(plan.problems).toEqual([expect.objectContaining({ code: 'star-import', message: expect.stringContaining('import the names it uses explicitly') })]);
  });

  it('a model that is trained but never written', () => {
    const plan = planScaffold(cells(['code', `${IMPORTS}\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = df["t"]\nclf = LogisticRegression()\nclf.fit(X, y)`]));
    expect(plan.problems).toEqual([expect.objectContaining({ code: 'no-model-written', message: expect.stringContaining('joblib.dump(clf, "models/model.joblib")') })]);
  });

  it('no model at all', () => {
    const plan = planScaffold(cells(['code', 'import pandas as pd\ndf = pd.read_csv("d.csv")\ndf.describe()']));
    expect(plan.problems[0]).toMatchObject({ code: 'no-model-fit' });
  });

  it('features from two files', () => {
    const plan = planScaffold(
      cells(['code', `${IMPORTS}\na = pd.read_csv("a.csv")\nb = pd.read_csv("b.csv")\ndf = a.merge(b, on="id")\nX = df[["x"]]\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")`]),
    );
    expect(plan.problems[0]).toMatchObject({ code: 'several-data-files', message: expect.stringContaining('a.csv, b.csv') });
  });

  it('a target it cannot name', () => {
    const plan = planScaffold(cells(['code', `${IMPORTS}\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = make_labels(df)\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")`]));
    expect(plan.problems[0]).toMatchObject({ code: 'no-target', message: expect.stringContaining('y = df["<column>"]') });
  });

  it('a syntax error names the cell and line', () => {
    const plan = planScaffold(cells(['markdown', '# t'], ['code', 'x = 1\ny = (']));
    expect(plan.problems[0]).toMatchObject({ code: 'syntax-error', cell: 1, message: expect.stringMatching(/^Cell 2, line 2: /) });
  });
});

describe('planScaffold: what production code leaves out', () => {
  it('plots, displays and magics are dropped and reported; calls that do work are kept', () => {
    const plan = planScaffold(
      cells(
        ['code', `${IMPORTS}\nimport matplotlib.pyplot as plt\n%matplotlib inline`],
        ['markdown', '## Load'],
        ['code', 'df = pd.read_csv("d.csv")\nplt.hist(df["a"])\ndf.head()\nprint(len(df))'],
        ['markdown', '## Fit'],
        ['code', 'X = df[["a"]]\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")\nm'],
      ),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => s.body)).toEqual(['df = pd.read_csv("d.csv")\nprint(len(df))', 'X = build_features(df)\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")']);
    expect(plan.notes.map((n) => n.message)).toEqual([
      'Cell 1: left out the magic `%matplotlib inline` (IPython only).',
      'Cell 3: left out `plt.hist(df["a"])` (a plot).',
      'Cell 3: left out `df.head()` (a value shown in the notebook).',
      'Cell 5: left out `m` (a value shown in the notebook).',
    ]);
  });

  it('a notebook without headings is one step, and says how to split it', () => {
    const plan = planScaffold(cells(['code', `${IMPORTS}\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")`]));
    expect(plan.steps.map((s) => s.name)).toEqual(['prepare']);
    expect(plan.notes.at(-1)!.message).toContain('Add headings to split it into steps');
  });

  it('feature code reading a notebook parameter gets it as a keyword argument', () => {
    const plan = planScaffold(
      cells(
        ['code', 'clip = 10', ['parameters']],
        ['code', `${IMPORTS}\ndf = pd.read_csv("d.csv")`],
        ['markdown', '## Features'],
        ['code', 'X = df[["a"]].clip(upper=clip)\ny = df["t"]'],
        ['markdown', '## Model'],
        ['code', 'm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")'],
      ),
    );
    expect(plan.features!.params).toEqual(['clip']);
    expect(plan.steps.find((s) => s.name === 'features')!.body).toBe('X = build_features(df, clip=clip)\ny = df["t"]');
    expect(plan.steps.find((s) => s.name === 'features')!.params).toEqual(['clip']);
  });
});

describe('identifier', () => {
  it.each([
    ['Load data', 'load_data'],
    ['1. Split', 'step_1_split'],
    ['Évaluation', 'evaluation'],
    ['import', 'import_'],
    ['!!!', 'step'],
  ])('%s → %s', (text, expected) => {
    expect(identifier(text)).toBe(expected);
  });
});
