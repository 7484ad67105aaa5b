import { describe, expect, it } from 'vitest';
import { dataLeakage } from '../../../src/core/lint/rules/dataLeakage';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

const rules = [dataLeakage];

const IMPORTS = [
  'import numpy as np\nimport pandas as pd',
  'from sklearn.model_selection import train_test_split, cross_val_score, KFold',
  'from sklearn.preprocessing import StandardScaler, MinMaxScaler, FunctionTransformer',
  'from sklearn.decomposition import PCA',
  'from sklearn.impute import SimpleImputer',
  'from sklearn.ensemble import RandomForestClassifier',
  'from sklearn.pipeline import make_pipeline',
].join('\n');

describe('data-leakage: fit before the split', () => {
  it('flags a scaler fit on X whose output is split afterwards, on the fit call', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X = df.drop(columns=["target"])\ny = df["target"]',
      'scaler = StandardScaler()\nX_scaled = scaler.fit_transform(X)',
      'X_train, X_test, y_train, y_test = train_test_split(X_scaled, y, random_state=0)',
    ]);
    expect(where(result)).toEqual(['2:1:11 data-leakage']);
    expect(flagged(result, result.findings[0]!)).toBe('scaler.fit_transform(X)');
    expect(result.findings[0]!.severity).toBe('warning');
    expect(result.findings[0]!.message).toBe('`StandardScaler` is fit on `X` before it is split into train and test (cell 4): fit it on the training split only, or put it in a Pipeline.');
    expect(result.findings[0]!.fixes).toEqual([]);
  });

  it('flags X rebound to its scaled self, and a direct StandardScaler().fit_transform', () => {
    const result = lintNotebook(rules, [IMPORTS, 'X = StandardScaler().fit_transform(X)\nX_train, X_test, y_train, y_test = train_test_split(X, y)']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['StandardScaler().fit_transform(X)']);
  });

  it('flags columns replaced in place before the split', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'num_cols = ["age", "income"]\ndf[num_cols] = MinMaxScaler().fit_transform(df[num_cols])',
      'train, test = train_test_split(df, test_size=0.2)',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['MinMaxScaler().fit_transform(df[num_cols])']);
    expect(result.findings[0]!.message).toMatch(/^`MinMaxScaler` is fit on `df\[num_cols\]` before it is split/);
  });

  it('flags a step fit on all of X and used on the training split after the split', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'imputer = SimpleImputer(strategy="median")\nimputer.fit(X)',
      'X_train, X_test, y_train, y_test = train_test_split(X, y)',
      'X_train = imputer.transform(X_train)',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['imputer.fit(X)']);
    expect(result.findings[0]!.message).toMatch(/^`SimpleImputer` is fit on `X` before it is split into train and test \(cell 3\)/);
  });

  it('flags a scaled matrix passed to cross_val_score, with the Pipeline advice', () => {
    const result = lintNotebook(rules, [IMPORTS, 'X_s = StandardScaler().fit_transform(X)\nscores = cross_val_score(RandomForestClassifier(), X_s, y, cv=5)']);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/before `cross_val_score` splits it into folds \(cell 2\).*Pipeline/);
  });

  it('flags the split of a KFold splitter', () => {
    const result = lintNotebook(rules, [IMPORTS, 'X_p = PCA(n_components=5).fit_transform(X)\nkf = KFold(5)\nfor tr, te in kf.split(X_p):\n    pass']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['PCA(n_components=5).fit_transform(X)']);
    expect(result.findings[0]!.message).toMatch(/`KFold\.split`/);
  });

  it('names the line in a script', () => {
    const result = lintScript(rules, `${IMPORTS}\nX_s = StandardScaler().fit_transform(X)\nparts = train_test_split(X_s, y)\n`);
    expect(result.findings[0]!.message).toMatch(/\(line 10\)/);
  });
});

describe('data-leakage: preprocessing outside cross-validation', () => {
  const SEARCH = IMPORTS + '\nfrom sklearn.model_selection import GridSearchCV, RandomizedSearchCV\nfrom sklearn.svm import SVC';

  it('flags a scaler fit on the training split whose output a grid search cross-validates, with the Pipeline advice', () => {
    const result = lintNotebook(rules, [
      SEARCH,
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
      'scaler = MinMaxScaler().fit(X_train)\nX_train_scaled = scaler.transform(X_train)',
      'grid = GridSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=5)\ngrid.fit(X_train_scaled, y_train)',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['MinMaxScaler().fit(X_train)']);
    expect(result.findings[0]!.message).toBe(
      '`MinMaxScaler` is fit on `X_train` before `GridSearchCV.fit` splits it into folds (cell 4): every fold\'s test part was seen by the fit. Put the MinMaxScaler in a Pipeline (make_pipeline(MinMaxScaler(), model)) and cross-validate the pipeline.',
    );
  });

  it('flags fit_transform on the training split fed to cross_val_score and a chained RandomizedSearchCV(...).fit', () => {
    const result = lintNotebook(rules, [
      SEARCH,
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
      'X_train_s = StandardScaler().fit_transform(X_train)\nscores = cross_val_score(SVC(), X_train_s, y_train, cv=3)',
      'X_train_p = PCA(10).fit_transform(X_train)\nRandomizedSearchCV(SVC(), {"C": [1, 10]}, random_state=0).fit(X_train_p, y_train)',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['StandardScaler().fit_transform(X_train)', 'PCA(10).fit_transform(X_train)']);
  });

  it('accepts a search over a pipeline given the raw training split, even after a separate scaler was fit', () => {
    const result = lintNotebook(rules, [
      SEARCH,
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
      'scaler = StandardScaler().fit(X_train)\nX_test_s = scaler.transform(X_test)',
      'grid = GridSearchCV(make_pipeline(StandardScaler(), SVC()), {"svc__C": [1, 10]})\ngrid.fit(X_train, y_train)\nprint(scaler.mean_)',
    ]);
    expect(where(result)).toEqual([]);
  });
});

describe('data-leakage: values, not names', () => {
  it('does not tie a fit on a toy X to the split of a later, reassigned X', () => {
    const result = lintNotebook(rules, [
      IMPORTS + '\nfrom sklearn.preprocessing import OneHotEncoder',
      'X = toy[["color", "size", "price"]].values\nencoder = OneHotEncoder()\nencoder.fit_transform(X[:, 0].reshape(-1, 1)).toarray()',
      'X, y = wine.iloc[:, 1:].values, wine.iloc[:, 0].values\nX_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('still ties a fit to the split of a value derived from the same X', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X = raw.values\nX_s = StandardScaler().fit_transform(X)',
      'X_more = np.hstack([X_s, extra])\nX_train, X_test = train_test_split(X_more)',
      'X = other.values',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['StandardScaler().fit_transform(X)']);
  });
});

describe('data-leakage: fit on test data', () => {
  it('flags a scaler fit on the test split', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
      'scaler = StandardScaler()\nX_train = scaler.fit_transform(X_train)\nX_test = scaler.fit_transform(X_test)',
    ]);
    expect(where(result)).toEqual(['2:2:9 data-leakage']);
    expect(flagged(result, result.findings[0]!)).toBe('scaler.fit_transform(X_test)');
    expect(result.findings[0]!.message).toBe('`StandardScaler` is fit on test data (`X_test`, from the train_test_split in cell 2): fit it on the training split only and just call transform on the test split.');
  });

  it('flags a fit on data derived from the test split', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X_tr, X_te = train_test_split(X, test_size=0.3)',
      'X_all = pd.concat([X_tr, X_te])\npca = PCA(2).fit(X_all)',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['PCA(2).fit(X_all)']);
    expect(result.findings[0]!.message).toMatch(/fit on test data \(`X_te`/);
  });
});

describe('data-leakage: near misses', () => {
  it('accepts fit on X_train, transform on X_test', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
      'scaler = StandardScaler().fit(X_train)\nX_train_s = scaler.transform(X_train)\nX_test_s = scaler.transform(X_test)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts fit_transform with no split after it (unsupervised notebook)', () => {
    const result = lintNotebook(rules, [IMPORTS, 'X_s = StandardScaler().fit_transform(X)\nembedding = PCA(2).fit_transform(X_s)']);
    expect(where(result)).toEqual([]);
  });

  it('accepts a split that comes before the fit', () => {
    const result = lintNotebook(rules, [IMPORTS, 'train, test = train_test_split(df)', 'X_s = StandardScaler().fit_transform(train)']);
    expect(where(result)).toEqual([]);
  });

  it('accepts a Pipeline passed to cross_val_score', () => {
    const result = lintNotebook(rules, [IMPORTS, 'pipe = make_pipeline(StandardScaler(), RandomForestClassifier(random_state=0))\nscores = cross_val_score(pipe, X, y, cv=5)']);
    expect(where(result)).toEqual([]);
  });

  it('accepts stateless transformers, models and get_dummies before the split', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'X_log = FunctionTransformer(np.log1p).fit_transform(X)\nX_d = pd.get_dummies(X_log)\nmodel = RandomForestClassifier(random_state=0).fit(X_d, y)',
      'X_train, X_test, y_train, y_test = train_test_split(X_d, y, random_state=0)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts a step fit on X only for a plot, before an honest split', () => {
    const result = lintNotebook(rules, [
      IMPORTS + '\nimport matplotlib.pyplot as plt',
      'plt.scatter(*PCA(2).fit_transform(X).T)\ncoords = PCA(2).fit_transform(X)\nplt.scatter(coords[:, 0], coords[:, 1])',
      'X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts a scaler refit on the training split after an exploratory fit on X', () => {
    const result = lintNotebook(rules, [
      IMPORTS,
      'scaler = StandardScaler()\nscaler.fit(X)\nprint(scaler.mean_)',
      'X_train, X_test, y_train, y_test = train_test_split(X, y)',
      'scaler = StandardScaler()\nX_train = scaler.fit_transform(X_train)\nX_test = scaler.transform(X_test)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('ignores fits inside function bodies (their names are locals)', () => {
    const result = lintNotebook(rules, [IMPORTS, 'def prep(X):\n    return StandardScaler().fit_transform(X)', 'X_train, X_test = train_test_split(X)']);
    expect(where(result)).toEqual([]);
  });
});
