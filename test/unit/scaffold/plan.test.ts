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
  it('churn: one step per H2 section, the get_dummies line as shared feature code, evaluation on the held-out split, tracking calls left out', () => {
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
    expect(plan.features).toMatchObject({ step: 'features', frame: 'df', matrix: 'X', params: [], columns: { allBut: ['churned'] }, mutatesFrame: false });
    expect(plan.features!.body).toBe('X = pd.get_dummies(df.drop(columns=["churned"]), columns=["contract", "payment_method"])\nreturn X');
    expect(plan.steps[1]!.body).toBe('X = build_features(df)\ny = df["churned"]');
    expect(plan.data).toMatchObject({ frame: 'df', path: 'data/customers.csv', reader: 'pandas.read_csv', helper: null, step: 'load_data', cell: 3 });
    expect(plan.target).toBe('churned');
    expect(plan.model).toMatchObject({ variable: 'model', attribute: null, estimator: 'sklearn.ensemble.RandomForestClassifier', path: 'models/churn_model.joblib', saver: 'joblib' });
    expect(plan.chain).toEqual([]);
    expect(plan.evaluation).toEqual({ step: 'train', model: 'model', X: 'X_test', y: 'y_test', chain: [], frame: false });
    expect(plan.task).toBe('classification');
    // nb2prod's optional import and `if nb2prod: nb2prod.log_metrics(...)` are not production code
    expect(plan.imports).toContain('from sklearn.ensemble import RandomForestClassifier');
    expect(plan.imports.some((i) => i.includes('nb2prod'))).toBe(false);
    expect(plan.steps.some((s) => s.body.includes('nb2prod'))).toBe(false);
    expect(plan.steps.at(-1)!.body).toBe('os.makedirs("models", exist_ok=True)\njoblib.dump(model, model_output("models/churn_model.joblib"))');
    expect(plan.notes.map((n) => n.message)).toEqual([
      'Cell 4: left out the import of `nb2prod` (tracking: the pipeline is tracked with `nb2prod run`).',
      'Cell 4: left out `df.shape` (a value shown in the notebook).',
      'Cell 6: left out `X.columns.tolist()` (a value shown in the notebook).',
      'Cell 10: left out the tracking call `if nb2prod: …` (the pipeline is tracked with `nb2prod run`).',
      'Cell 10: left out `metrics` (a value shown in the notebook).',
    ]);
  });

  it('houses: an in-place derived column and a constant go into build_features, which gets a copy of the table; the regressor is a regression', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/houses/houses.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.features!.body).toBe(
      'CATEGORICAL = ["neighborhood"]\nhouses["sqft_per_bedroom"] = houses["sqft"] / houses["bedrooms"]\nfeatures = pd.get_dummies(houses.drop(columns=["price"]), columns=CATEGORICAL)\nreturn features',
    );
    expect(plan.features!.mutatesFrame).toBe(true);
    expect(plan.steps.find((s) => s.name === 'features')!.body).toBe('features = build_features(houses.copy())\ntarget = houses["price"]');
    expect(plan.task).toBe('regression');
    expect(plan.target).toBe('price');
    // The held-out names are returned so the pipeline can evaluate, though no later cell reads them.
    expect(plan.steps.find((s) => s.name === 'fit')!.outputs).toEqual(expect.arrayContaining(['regressor', 'X_valid', 'y_valid']));
    expect(plan.evaluation).toEqual({ step: 'fit', model: 'regressor', X: 'X_valid', y: 'y_valid', chain: [], frame: false });
  });

  it('renewals: step tags, pickle through `with open`, constants the model also reads stay in the pipeline, magics reported', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/plans/renewals.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => s.name)).toEqual(['load', 'features', 'train', 'save']);
    expect(plan.model).toMatchObject({ variable: 'classifier', path: 'models/renewals.pkl', saver: 'pickle' });
    expect(plan.features!.body).toContain('X = accounts[NUMERIC + CATEGORIES]');
    expect(plan.features!.columns).toEqual({ only: ['seats', 'monthly_spend', 'tickets', 'plan', 'region'] });
    const features = plan.steps.find((s) => s.name === 'features')!;
    expect(features.body).toContain('NUMERIC = ["seats", "monthly_spend", "tickets"]');
    expect(plan.steps.find((s) => s.name === 'train')!.inputs).toEqual(expect.arrayContaining(['NUMERIC', 'CATEGORIES']));
    expect(plan.steps.at(-1)!.body).toBe('with open(model_output("models/renewals.pkl"), "wb") as f:\n    pickle.dump(classifier, f)');
    const notes = plan.notes.map((n) => n.message);
    expect(notes).toContain('Cell 2: left out the magic `%precision 3` (IPython only).');
    expect(notes).toContain('Cell 4: left out the shell command `!ls data` (run it outside the pipeline, or port it to Python).');
    expect(plan.steps.some((s) => s.body.includes('!ls') || s.body.includes('%precision'))).toBe(false);
  });

  it('voyage: a reader in a helper, preprocessing fitted outside the model, a derived column before the table is split', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/voyage/voyage.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.data).toMatchObject({ frame: 'passengers', path: null, pathHint: 'passengers.csv', helper: 'load_passengers', reader: 'pandas.read_csv', step: 'load' });
    expect(plan.chain).toEqual([{ variable: 'preprocess_pipeline', name: 'preprocess_pipeline', estimator: 'sklearn.compose.ColumnTransformer', cell: 8, line: 2, lastLine: 2 }]);
    expect(plan.model).toMatchObject({ variable: 'forest_clf', estimator: 'sklearn.ensemble.RandomForestClassifier' });
    expect(plan.target).toBe('Survived');
    // The table is split before the features: build_features gets each part, the split stays in training.
    expect(plan.features).toMatchObject({ frame: 'train_set', matrix: null, mutatesFrame: true, columns: { only: ['SibSp', 'Parch', 'RelativesOnboard', 'Age', 'Fare', 'Pclass', 'Sex', 'Embarked'] } });
    expect(plan.features!.body).toBe(
      'passengers = train_set\npassengers["RelativesOnboard"] = passengers["SibSp"] + passengers["Parch"]\nnum_attribs = ["Age", "RelativesOnboard", "Fare"]\ncat_attribs = ["Pclass", "Sex", "Embarked"]\nreturn train_set[num_attribs + cat_attribs]',
    );
    const train = plan.steps.find((s) => s.name === 'train')!.body;
    expect(train).toContain('X_train = preprocess_pipeline.fit_transform(build_features(train_set.copy()))');
    // The notebook's own held-out code calls the same feature code.
    expect(plan.steps.find((s) => s.name === 'evaluate')!.body).toContain('X_valid = preprocess_pipeline.transform(build_features(valid_set.copy()))');
    expect(plan.evaluation).toEqual({ step: 'train', model: 'forest_clf', X: 'valid_set', y: null, chain: ['preprocess_pipeline'], frame: true });
    expect(plan.steps.find((s) => s.name === 'save')!.body).toContain('joblib.dump(serving_bundle([("preprocess_pipeline", preprocess_pipeline)], forest_clf), model_output("models/forest.joblib"))');
    // num_pipeline stays in the step that builds preprocess_pipeline (no NameError in steps.py).
    expect(plan.steps.find((s) => s.name === 'features')!.body).toContain('num_pipeline = Pipeline(');
    expect(plan.environment.pipeline).toEqual({ required: [], optional: ['VOYAGE_DATA'] });
    expect(plan.steps.some((s) => s.body.includes('nb2prod'))).toBe(false);
  });

  it('subscribers: a ColumnTransformer fitted on the training split, a chained fit, an id dropped, a `;` file', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/subscribers/cancellations.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.chain.map((c) => [c.name, c.estimator])).toEqual([['encoder', 'sklearn.compose.ColumnTransformer']]);
    expect(plan.model).toMatchObject({ variable: 'booster', estimator: 'sklearn.ensemble.GradientBoostingClassifier', saver: 'pickle' });
    expect(plan.data).toMatchObject({ path: 'data/subscribers.csv', readerArgs: { sep: '";"' } });
    expect(plan.features!.columns).toEqual({ allBut: ['subscriber_id', 'cancelled'] });
    expect(plan.evaluation).toEqual({ step: 'encode_and_train', model: 'booster', X: 'X_test', y: 'y_test', chain: ['encoder'], frame: false });
  });

  it('reviews: text through a TfidfVectorizer, rows without text dropped in training only', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/reviews/sentiment.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.chain.map((c) => c.name)).toEqual(['vectorizer']);
    expect(plan.features).toMatchObject({ frame: 'reviews', body: 'texts = reviews["text"]\nreturn texts', columns: { only: ['text'] } });
    // The read is a step of its own (the contract is checked right after it); the dropna stays in training.
    expect(plan.steps.map((s) => s.name)).toEqual(['prepare', 'prepare_continued']);
    expect(plan.steps[1]!.body).toMatch(/^reviews = reviews\.dropna\(subset=\["text"\]\)\ntexts = build_features\(reviews\)/);
    expect(plan.steps[1]!.inputs).toEqual(['reviews']);
  });

  it('flats: make_pipeline is the model (no fitted step before it), `drop([...], axis=1)` reads every other column', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/flats/rents.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.chain).toEqual([]);
    expect(plan.model).toMatchObject({ variable: 'model', estimator: 'sklearn.linear_model.Ridge' });
    expect(plan.task).toBe('regression');
    expect(plan.features!.columns).toEqual({ allBut: ['flat_id', 'rent'] });
  });

  it('wine: the best estimator of a grid search is the model; `df.pop` is the target, `df.loc[:, cols]` the features', () => {
    const plan = planScaffold(notebookFile('test/fixtures/scaffold/wine/wine.ipynb'));
    expect(plan.problems).toEqual([]);
    expect(plan.model).toMatchObject({ variable: 'best_model', estimator: 'sklearn.linear_model.LogisticRegression' });
    expect(plan.target).toBe('good');
    expect(plan.features!.columns).toEqual({ only: ['acidity', 'sugar', 'alcohol', 'sulphates'] });
    expect(plan.task).toBe('classification');
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
    expect(plan.steps.map((s) => s.body)).toEqual(['df = pd.read_csv("d.csv")', 'print(len(df))', 'X = build_features(df)\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, model_output("m.joblib"))']);
    expect(plan.notes.map((n) => n.message)).toEqual([
      'Cell 1: left out the magic `%matplotlib inline` (IPython only).',
      'Cell 3: left out `plt.hist(df["a"])` (a plot).',
      'Cell 3: left out `df.head()` (a value shown in the notebook).',
      'Cell 5: left out `m` (a value shown in the notebook).',
    ]);
  });

  it('a notebook without headings is one step, and says how to split it', () => {
    const plan = planScaffold(cells(['code', `${IMPORTS}\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = df["t"]\nm = LogisticRegression()\nm.fit(X, y)\njoblib.dump(m, "m.joblib")`]));
    // one section; the read is a step of its own, so the table's contract is checked before it is used
    expect(plan.steps.map((s) => s.name)).toEqual(['prepare', 'prepare_continued']);
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

describe('planScaffold: the serving chain in the shapes real notebooks have', () => {
  const SK = `${IMPORTS}\nimport numpy as np\nfrom sklearn.preprocessing import StandardScaler, LabelEncoder\nfrom sklearn.model_selection import GridSearchCV\nfrom sklearn.pipeline import make_pipeline`;

  it('a transformer built and fitted in one expression gets a name in the pipeline; a chained fit is the model', () => {
    const plan = planScaffold(
      cells(['code', `${SK}\ndf = pd.read_csv("d.csv")\nX = df[["a", "b"]]\ny = df["t"]\nX_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)\nX_train_s = StandardScaler().fit_transform(X_train)\nm = LogisticRegression(C=2.0).fit(X_train_s, y_train)\njoblib.dump(m, "m.joblib")`]),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.chain).toEqual([{ variable: null, name: 'standard_scaler', estimator: 'sklearn.preprocessing.StandardScaler', cell: 0, line: 13, lastLine: 13, constructorSpan: expect.any(Object) }]);
    expect(plan.model).toMatchObject({ variable: 'm', estimator: 'sklearn.linear_model.LogisticRegression' });
    const body = plan.steps.at(-1)!.body;
    expect(body).toContain('X_train_s = (standard_scaler := StandardScaler()).fit_transform(X_train)');
    expect(body).toContain('joblib.dump(serving_bundle([("standard_scaler", standard_scaler)], m), model_output("m.joblib"))');
    expect(plan.evaluation).toMatchObject({ X: 'X_test', y: 'y_test', chain: ['standard_scaler'] });
    expect(plan.steps.at(-1)!.outputs).toEqual(expect.arrayContaining(['standard_scaler', 'm', 'X_test', 'y_test']));
  });

  it('fit_transform then transform, several fitted steps in order, a DataFrame around a transform', () => {
    const plan = planScaffold(
      cells([
        'code',
        `${SK}\nfrom sklearn.impute import SimpleImputer\ndf = pd.read_csv("d.csv")\nX = df.drop(columns=["id", "t"])\ny = df["t"]\nX_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)\nimputer = SimpleImputer()\nscaler = StandardScaler()\nX_train_i = imputer.fit_transform(X_train)\nX_train_s = pd.DataFrame(scaler.fit_transform(X_train_i), columns=X.columns)\nX_test_s = scaler.transform(imputer.transform(X_test))\nclf = LogisticRegression()\nclf.fit(X_train_s, y_train)\njoblib.dump(clf, "m.joblib")`,
      ]),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.chain.map((c) => c.name)).toEqual(['imputer', 'scaler']);
    expect(plan.features!.columns).toEqual({ allBut: ['id', 't'] });
    expect(plan.evaluation).toMatchObject({ X: 'X_test', chain: ['imputer', 'scaler'] });
  });

  it('the best estimator of a grid search saved directly, the matrix written inline in the fit', () => {
    const plan = planScaffold(
      cells(['code', `${SK}\nFEATURES = ["a", "b"]\ndf = pd.read_csv("d.csv")\ngrid = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {"logisticregression__C": [1, 10]})\ngrid.fit(df[FEATURES], df["y"])\njoblib.dump(grid.best_estimator_, "m.joblib")`]),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.model).toMatchObject({ variable: 'grid', attribute: 'best_estimator_', estimator: 'sklearn.linear_model.LogisticRegression' });
    expect(plan.features!.body).toBe('FEATURES = ["a", "b"]\nreturn df[FEATURES]');
    expect(plan.steps.at(-1)!.body).toContain('grid.fit(build_features(df), df["y"])');
    expect(plan.target).toBe('y');
  });

  it('rows selected before the feature code stay in training; a filter on raw columns after it is kept before it', () => {
    const plan = planScaffold(
      cells(['code', `${SK}\ndf = pd.read_csv("d.csv")\ndf = df.dropna(subset=["a"])\ndf["ratio"] = df["a"] / df["b"]\ndf = df[df["c"] > 0]\nX = df[["ratio", "c"]]\ny = df["t"]\nm = LogisticRegression().fit(X, y)\njoblib.dump(m, "m.joblib")`]),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.features!.body).toBe('df["ratio"] = df["a"] / df["b"]\nX = df[["ratio", "c"]]\nreturn X');
    const steps = plan.steps.map((s) => s.body).join('\n');
    expect(steps).toContain('df = df.dropna(subset=["a"])\ndf = df[df["c"] > 0]\nX = build_features(df.copy())');
    expect(plan.features!.columns).toEqual({ only: ['a', 'b', 'ratio', 'c'] });
  });

  it('a helper that reads the data is followed into its definition; the path is what it would read', () => {
    const plan = planScaffold(
      cells(
        ['code', `${SK}\nimport os\nDATA = "data"\n\ndef load(name, folder=DATA):\n    path = os.path.join(folder, name)\n    return pd.read_csv(path, sep=";")`],
        ['code', 'df = load("train.csv")\nX = df[["a"]]\ny = df["t"]\nm = LogisticRegression().fit(X, y)\njoblib.dump(m, "m.joblib")'],
      ),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.data).toMatchObject({ frame: 'df', path: 'data/train.csv', helper: 'load', reader: 'pandas.read_csv', readerArgs: { sep: '";"' } });
  });

  it('tracking (mlflow, nb2prod) and plots inside blocks are left out; a `with mlflow.start_run()` body is kept one level out', () => {
    const plan = planScaffold(
      cells([
        'code',
        `${SK}\nimport mlflow\nimport seaborn as sns\ndf = pd.read_csv("d.csv")\nfor c in ["a", "b"]:\n    sns.histplot(df[c])\nX = df[["a"]]\ny = df["t"]\nwith mlflow.start_run():\n    mlflow.log_param("C", 1.0)\n    m = LogisticRegression(C=1.0).fit(X, y)\n    run_id = mlflow.active_run().info.run_id\n    mlflow.sklearn.log_model(m, "model")\njoblib.dump(m, "m.joblib")`,
      ]),
    );
    expect(plan.problems).toEqual([]);
    const body = plan.steps.map((s) => s.body).join('\n');
    expect(body).not.toMatch(/mlflow|sns|for c in/);
    expect(body).toContain('m = LogisticRegression(C=1.0).fit(X, y)\njoblib.dump(m, model_output("m.joblib"))');
    expect(plan.imports.some((i) => /mlflow/.test(i))).toBe(false);
    expect(plan.notes.map((n) => n.message)).toEqual(
      expect.arrayContaining([
        'Cell 1: left out `with mlflow.start_run(): …` and kept its body (the pipeline is tracked by `nb2prod run`).',
        'Cell 1: left out `sns.histplot(df[c])` (a plot).',
        'Cell 1: left out `mlflow.log_param("C", 1.0)` (a tracking call: the pipeline is tracked with `nb2prod run`).',
      ]),
    );
  });

  it('environment variables the code reads are listed, required or with a fallback', () => {
    const plan = planScaffold(
      cells(['code', `${SK}\nimport os\nTOKEN = os.environ["DATA_TOKEN"]\nROOT = os.getenv("DATA_ROOT", ".")\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = df["t"]\nm = LogisticRegression().fit(X, y)\njoblib.dump(m, "m.joblib")`]),
    );
    expect(plan.problems).toEqual([]);
    expect(plan.environment).toEqual({ pipeline: { required: ['DATA_TOKEN'], optional: ['DATA_ROOT'] }, features: { required: [], optional: [] } });
  });
});

describe('planScaffold: feature code a one-record service cannot compute is refused, saying what to change', () => {
  const SK = `${IMPORTS}\nimport numpy as np\nfrom sklearn.preprocessing import StandardScaler, LabelEncoder`;
  const refused = (code: string) => planScaffold(cells(['markdown', '# t'], ['code', `${SK}\n${code}\nm = LogisticRegression().fit(X, y)\njoblib.dump(m, "m.joblib")`])).problems;

  it('a statistic of the training rows (a median to fill nulls)', () => {
    expect(refused('df = pd.read_csv("d.csv")\ndf["Age"] = df["Age"].fillna(df["Age"].median())\nX = df[["Age", "Fare"]]\ny = df["y"]')).toEqual([
      {
        code: 'learned-in-features',
        cell: 1,
        message: expect.stringMatching(/^Cell 2, line 8: `df\["Age"\]\.median\(\)` is computed from the training rows; the service, which sees one record at a time, would compute something else\. Fit it instead: `SimpleImputer\(strategy="median"\)`/),
      },
    ]);
  });

  it('an encoder fitted on one column inside the feature code', () => {
    const [problem] = refused('df = pd.read_csv("d.csv")\nle = LabelEncoder()\ndf["Sex"] = le.fit_transform(df["Sex"])\nX = df[["Sex", "Fare"]]\ny = df["y"]');
    expect(problem).toMatchObject({ code: 'learned-in-features', message: expect.stringContaining('`le.fit_transform(df["Sex"])` fits or applies `le` inside the feature code') });
    expect(problem!.message).toContain('a ColumnTransformer (an OrdinalEncoder, a OneHotEncoder');
  });

  it('stateless code between fitted steps (not a linear chain)', () => {
    const [problem] = refused('df = pd.read_csv("d.csv")\nsc = StandardScaler().fit(df[["a"]])\nX = np.hstack([sc.transform(df[["a"]]), df[["b"]].values])\ny = df["y"]');
    expect(problem).toMatchObject({ code: 'learned-in-features', message: expect.stringContaining('inside the feature code') });
  });

  it('get_dummies(drop_first=True), bins from pd.qcut, groupby statistics', () => {
    expect(refused('df = pd.read_csv("d.csv")\nX = pd.get_dummies(df[["Sex", "Fare"]], drop_first=True)\ny = df["y"]')[0]!.message).toContain('drops the first category of the rows it is given');
    expect(refused('df = pd.read_csv("d.csv")\ndf["band"] = pd.qcut(df["Fare"], 4, labels=False)\nX = df[["band"]]\ny = df["y"]')[0]!.message).toContain('takes its bin edges from the training rows');
    expect(refused('df = pd.read_csv("d.csv")\ndf["m"] = df.groupby("g")["a"].transform("mean")\nX = df[["m"]]\ny = df["y"]')[0]!.message).toContain('computes statistics of groups of training rows');
    // row-wise reductions and written bins are fine
    expect(refused('df = pd.read_csv("d.csv")\ndf["s"] = df[["a", "b"]].sum(axis=1)\ndf["band"] = pd.cut(df["Age"], bins=[0, 18, 65, 120], labels=False)\nX = df[["s", "band"]]\ny = df["y"]')).toEqual([]);
  });

  it('rows dropped after the feature code changed the columns they look at', () => {
    const [problem] = refused('df = pd.read_csv("d.csv")\ndf = df.drop(columns=["Cabin"])\ndf = df.dropna()\nX = df[["Age", "Fare"]]\ny = df["y"]');
    expect(problem).toEqual({
      code: 'rows-after-features',
      cell: 1,
      message:
        'Cell 2, line 9: `df = df.dropna()` drops rows after cell 2, line 8 changed the columns it looks at. The service answers every record and drops none, so nb2prod keeps row filters in training only, before the feature code: move the filter above the feature code, on the raw columns, and name the columns it checks (`dropna(subset=[...])`).',
    });
  });

  it('the table changed inside a loop', () => {
    const [problem] = refused('train = pd.read_csv("d.csv")\nfor d in [train]:\n    d["x2"] = d["x"] * 2\nX = train[["x2"]]\ny = train["y"]');
    expect(problem).toMatchObject({ code: 'unsupported-feature-code', message: expect.stringMatching(/^Cell 2, line 8: `for d in \[train\]:` changes `train` inside a loop or a block/) });
  });

  it('the table changed inside a loop through .loc, a compound assignment or inplace=True', () => {
    for (const body of ['    d.loc[d["x"] > 1, "x"] = 1', '    d["x"] += 1', '    d["x"].fillna(0, inplace=True)']) {
      const [problem] = refused(`train = pd.read_csv("d.csv")\ntest = pd.read_csv("t.csv")\nfor d in [train, test]:\n${body}\nX = train[["x"]]\ny = train["y"]`);
      expect(problem, body).toMatchObject({ code: 'unsupported-feature-code', message: expect.stringContaining('changes `train` inside a loop or a block') });
    }
  });

  it('a secret written in a cell stops the scaffold, naming the cell and line and how to read it from the environment', () => {
    const plan = planScaffold(cells(['markdown', '# t'], ['code', `${SK}\ndb_password = "hunter2-Xq81!"\ndf = pd.read_csv("d.csv")\nX = df[["a"]]\ny = df["t"]\nm = LogisticRegression().fit(X, y)\njoblib.dump(m, "m.joblib")`]));
    expect(plan.problems).toEqual([
      {
        code: 'hardcoded-secret',
        cell: 1,
        message: expect.stringMatching(/^Cell 2, line 7: A password is written into `db_password`: move it to an environment variable or a secrets manager and read it with `os\.environ\["DB_PASSWORD"\]`.* nb2prod does not copy secrets into generated code/),
      },
    ]);
    expect(plan.steps).toEqual([]);
  });
});
