import { describe, expect, it } from 'vitest';
import { unseededRandom } from '../../../src/core/lint/rules/unseededRandom';
import { applyFix, flagged, lintNotebook, lintScript, where } from './lintHelpers';

const rules = [unseededRandom];

function flaggedTexts(result: ReturnType<typeof lintNotebook>): string[] {
  return result.findings.map((f) => flagged(result, f));
}

describe('unseeded-random: global generators', () => {
  it('flags stdlib random and numpy legacy functions with no seed, on the whole call', () => {
    const result = lintNotebook(rules, ['import random\nimport numpy as np', 'random.shuffle(items)\nx = np.random.rand(3, 2)']);
    expect(where(result)).toEqual(['1:0:0 unseeded-random', '1:1:4 unseeded-random']);
    expect(flaggedTexts(result)).toEqual(['random.shuffle(items)', 'np.random.rand(3, 2)']);
    expect(result.findings[0]!.severity).toBe('warning');
    expect(result.findings[0]!.message).toMatch(/^`random\.shuffle` uses Python's global random generator.*random\.seed\(0\)/);
    expect(result.findings[1]!.message).toMatch(/^`np\.random\.rand` uses NumPy's global random generator.*np\.random\.seed\(0\)/);
  });

  it('offers one seed cell, before the first code cell, seeding exactly the libraries used unseeded', () => {
    const result = lintNotebook(rules, [
      { source: '# Analysis', kind: 'markdown' },
      'import random\nimport numpy as np',
      'random.shuffle(items)\nx = np.random.rand(3)',
    ]);
    const fix = result.findings[0]!.fixes[0]!;
    expect(fix.title).toMatch(/Add a seed cell at the top/);
    expect(result.findings[1]!.fixes[0]).toEqual(fix);
    expect(applyFix(result, fix)).toEqual([
      '# Analysis',
      'import random\nimport numpy as np\n\nrandom.seed(0)\nnp.random.seed(0)',
      'import random\nimport numpy as np',
      'random.shuffle(items)\nx = np.random.rand(3)',
    ]);
  });

  it('seeds numpy under its full name when the notebook imports it under another alias', () => {
    const result = lintNotebook(rules, ['import numpy as npy\nx = npy.random.randn(4)']);
    expect(result.findings[0]!.message).toMatch(/^`npy\.random\.randn`/);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import numpy\n\nnumpy.random.seed(0)');
  });

  it('resolves aliases: import numpy.random as npr, from numpy.random import rand, from random import choice', () => {
    const result = lintNotebook(rules, ['import numpy.random as npr\nfrom numpy.random import rand\nfrom random import choice', 'a = npr.normal(0, 1)\nb = rand(2)\nc = choice(options)']);
    expect(flaggedTexts(result)).toEqual(['npr.normal(0, 1)', 'rand(2)', 'choice(options)']);
    expect(result.findings[1]!.message).toMatch(/^`rand` \(`numpy\.random\.rand`\)/);
  });

  it('flags torch and tensorflow global randomness and seeds them in the fix', () => {
    const result = lintNotebook(rules, [
      'import torch\nimport tensorflow as tf\nfrom torch.utils.data import DataLoader',
      'w = torch.randn(3, 3)\nloader = DataLoader(ds, batch_size=32, shuffle=True)\nnoise = tf.random.uniform((2,))',
    ]);
    expect(flaggedTexts(result)).toEqual(['torch.randn(3, 3)', 'DataLoader(ds, batch_size=32, shuffle=True)', 'tf.random.uniform((2,))']);
    expect(result.findings[1]!.message).toMatch(/shuffle=True\) shuffles with PyTorch's global random generator.*torch\.manual_seed\(0\)/);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import torch\nimport tensorflow as tf\n\ntorch.manual_seed(0)\ntf.random.set_seed(0)');
  });

  it('still flags calls inside function bodies: a notebook function never called is judged at its def', () => {
    const result = lintNotebook(rules, ['import random', 'def pick(xs):\n    return random.choice(xs)']);
    expect(flaggedTexts(result)).toEqual(['random.choice(xs)']);
  });

  it('judges a draw in a function where the function first runs', () => {
    const result = lintNotebook(rules, [
      'import numpy as np\nimport tensorflow as tf',
      'def noise(n):\n    return tf.random.uniform((n,))\ndef walk(n):\n    return np.random.randn(n).cumsum()',
      'first = walk(3)',
      'tf.random.set_seed(1)\nnp.random.seed(1)\nz = noise(4)\nsecond = walk(3)',
    ]);
    // walk ran once before the seed (cell 2); noise only after it.
    expect(flaggedTexts(result)).toEqual(['np.random.randn(n)']);
  });

  it('covers a function called through another function, a class used after the seed, and a lambda handed over after it', () => {
    const result = lintNotebook(rules, [
      'import numpy as np\nimport random',
      'class Agent:\n    def act(self):\n        return np.random.choice(4)\ndef episode(agent):\n    return agent.act()\ndef main():\n    random.seed(0)\n    return random.random()',
      'np.random.seed(0)\nresults = [episode(Agent()) for _ in range(3)]\ndata = list(map(lambda x: x + np.random.rand(), range(3)))\nmain()',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('flags a function first run before the seed even when it is run again after it, through the caller chain', () => {
    const result = lintNotebook(rules, [
      'import random',
      'def roll():\n    return random.randint(1, 6)\ndef game():\n    return roll() + roll()',
      'game()\nrandom.seed(3)\ngame()',
    ]);
    expect(flaggedTexts(result)).toEqual(['random.randint(1, 6)']);
  });

  it('leaves a script module alone whose functions nothing in it calls (its importer seeds)', () => {
    const library = lintScript(rules, 'import numpy as np\n\nclass Agent:\n    def act(self):\n        return np.random.choice(4)\n');
    expect(where(library)).toEqual([]);
    const program = lintScript(rules, 'import numpy as np\n\ndef act():\n    return np.random.choice(4)\n\nif __name__ == "__main__":\n    act()\n');
    expect(flagged(program, program.findings[0]!)).toBe('np.random.choice(4)');
  });

  it('does not count a seed that comes later in the notebook', () => {
    const result = lintNotebook(rules, ['import numpy as np', 'x = np.random.rand(3)', 'np.random.seed(42)\ny = np.random.rand(3)']);
    expect(where(result)).toEqual(['1:0:4 unseeded-random']);
  });

  it('does not count a seed call without a seed (it seeds from the clock or the OS)', () => {
    const result = lintNotebook(rules, ['import random\nrandom.seed()\nrandom.random()']);
    expect(flaggedTexts(result)).toEqual(['random.random()']);
  });

  it('does not count a seed for another library', () => {
    const result = lintNotebook(rules, ['import random\nimport numpy as np\nrandom.seed(0)', 'np.random.shuffle(a)\nrandom.shuffle(b)']);
    expect(flaggedTexts(result)).toEqual(['np.random.shuffle(a)']);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import numpy as np\n\nnp.random.seed(0)');
  });
});

describe('unseeded-random: near misses', () => {
  it('accepts seeds set earlier: in a cell above, earlier in the same cell, or by an all-in-one helper', () => {
    const result = lintNotebook(rules, [
      'import random\nimport numpy as np\nimport torch\nimport tensorflow as tf',
      'np.random.seed(42)\nrandom.seed(42)',
      'torch.manual_seed(1); w = torch.rand(2)',
      'tf.keras.utils.set_random_seed(7)',
      'x = np.random.rand(3)\nrandom.shuffle(items)\nnoise = tf.random.normal((2,))',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts a seed helper function called before, and a seed earlier in the same function', () => {
    const result = lintNotebook(rules, [
      'import random\nimport numpy as np\n\ndef seed_everything(seed=42):\n    random.seed(seed)\n    np.random.seed(seed)\n\nseed_everything()',
      'x = np.random.rand(3)',
      'def sample(xs):\n    random.seed(0)\n    return random.choice(xs)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts all-in-one seeders from Lightning and transformers, and helpers calling helpers', () => {
    const result = lintNotebook(rules, [
      'import random\nimport numpy as np\nimport torch\nimport lightning as L\nfrom transformers import set_seed',
      'L.seed_everything(42)\nx = torch.randn(2)\ny = np.random.rand(2)',
      'set_seed(1)\nz = random.random()',
      'def inner():\n    torch.manual_seed(0)\ndef outer():\n    inner()\nouter()\nw = torch.rand(3)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('does not count a helper that is only defined, never called', () => {
    const result = lintNotebook(rules, ['import numpy as np\ndef set_seed():\n    np.random.seed(0)', 'x = np.random.rand(3)']);
    expect(flaggedTexts(result)).toEqual(['np.random.rand(3)']);
  });

  it('accepts seeded generators, method calls on them, user functions named like random ones', () => {
    const result = lintNotebook(rules, [
      'import numpy as np\nimport random',
      'rng = np.random.default_rng(123)\nvalues = rng.random(10)\nrng.shuffle(values)',
      'r = random.Random(5)\nr.shuffle(items)\nsample = r.sample(items, 2)',
      'def shuffle(xs):\n    return xs[::-1]\nshuffle(items)',
      'g = torch.Generator().manual_seed(0)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('accepts torch calls given a generator and TensorFlow ops given an op seed', () => {
    const result = lintNotebook(rules, [
      'import torch\nimport tensorflow as tf\nfrom torch.utils.data import DataLoader',
      'g = torch.Generator().manual_seed(0)\nx = torch.randn(3, generator=g)\nloader = DataLoader(ds, shuffle=True, generator=g)\nplain = DataLoader(ds, batch_size=8)\nnoise = tf.random.uniform((2,), seed=1)',
    ]);
    expect(where(result)).toEqual([]);
  });
});

describe('unseeded-random: generators built without a seed', () => {
  it('flags default_rng() even after np.random.seed, and fixes it by inserting 0', () => {
    const result = lintNotebook(rules, ['import numpy as np\nnp.random.seed(1)', 'rng = np.random.default_rng()']);
    expect(flaggedTexts(result)).toEqual(['np.random.default_rng()']);
    expect(result.findings[0]!.message).toMatch(/fresh OS entropy.*default_rng\(0\)/);
    const fix = result.findings[0]!.fixes[0]!;
    expect(fix.preferred).toBe(true);
    expect(applyFix(result, fix)[1]).toBe('rng = np.random.default_rng(0)');
  });

  it('flags RandomState(None) and random.Random(), replacing None by 0', () => {
    const result = lintNotebook(rules, ['import random\nfrom numpy.random import RandomState\nrs = RandomState(None)\nr = random.Random()']);
    expect(flaggedTexts(result)).toEqual(['RandomState(None)', 'random.Random()']);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import random\nfrom numpy.random import RandomState\nrs = RandomState(0)\nr = random.Random()');
    expect(applyFix(result, result.findings[1]!.fixes[0]!)[0]).toBe('import random\nfrom numpy.random import RandomState\nrs = RandomState(None)\nr = random.Random(0)');
  });
});

describe('unseeded-random: random_state', () => {
  it('flags train_test_split without random_state and offers random_state=0', () => {
    const result = lintNotebook(rules, ['from sklearn.model_selection import train_test_split', 'X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)']);
    expect(flaggedTexts(result)).toEqual(['train_test_split(X, y, test_size=0.2)']);
    expect(result.findings[0]!.message).toBe('`train_test_split` shuffles with no random_state, so its results change on every run: pass random_state=0 (or any fixed integer).');
    const fix = result.findings[0]!.fixes[0]!;
    expect(fix.preferred).toBe(true);
    expect(applyFix(result, fix)[1]).toBe('X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)');
  });

  it('resolves aliases and fills empty parens, trailing commas and random_state=None', () => {
    const result = lintNotebook(rules, [
      'from sklearn.ensemble import RandomForestClassifier as RF\nimport sklearn.cluster',
      'model = RF()\nkm = sklearn.cluster.KMeans(\n    n_clusters=3,\n)\nrf2 = RF(n_estimators=10, random_state=None)',
    ]);
    expect(flaggedTexts(result)).toEqual(['RF()', 'sklearn.cluster.KMeans(\n    n_clusters=3,\n)', 'RF(n_estimators=10, random_state=None)']);
    expect(result.findings[0]!.message).toMatch(/^`RandomForestClassifier` is random with no random_state/);
    expect(result.findings[2]!.message).toMatch(/with random_state=None/);
    const fixed = result.findings.map((f) => applyFix(result, f.fixes[0]!)[1]);
    expect(fixed[0]).toMatch(/^model = RF\(random_state=0\)\n/);
    expect(fixed[1]).toContain('km = sklearn.cluster.KMeans(\n    n_clusters=3, random_state=0,\n)');
    expect(fixed[2]).toMatch(/rf2 = RF\(n_estimators=10, random_state=0\)$/);
  });

  it('flags the conditional ones only when they are random as written', () => {
    const result = lintNotebook(rules, [
      'from sklearn.model_selection import KFold, RepeatedKFold, train_test_split\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.svm import SVC\nfrom sklearn.decomposition import PCA',
      'a = KFold(5, shuffle=True)\nb = RepeatedKFold(n_splits=5)\nc = LogisticRegression(solver="saga")\nd = SVC(probability=True)\ne = PCA(2, svd_solver="randomized")',
      'KFold(5)\nLogisticRegression()\nLogisticRegression(solver="lbfgs")\nSVC()\nPCA(2)\ntrain_test_split(X, shuffle=False)',
    ]);
    expect(result.findings.every((f) => f.cell === 1)).toBe(true);
    expect(flaggedTexts(result)).toEqual(['KFold(5, shuffle=True)', 'RepeatedKFold(n_splits=5)', 'LogisticRegression(solver="saga")', 'SVC(probability=True)', 'PCA(2, svd_solver="randomized")']);
    expect(result.findings[2]!.message).toMatch(/^`LogisticRegression` with solver 'saga' is random/);
  });

  it('does not flag an estimator only built to show its parameters', () => {
    const result = lintNotebook(rules, ['from sklearn.linear_model import LogisticRegression', 'LogisticRegression(penalty="l1", solver="liblinear")', 'lr = LogisticRegression(solver="liblinear")']);
    expect(flaggedTexts(result)).toEqual(['LogisticRegression(solver="liblinear")']);
  });

  it('takes KMeans from given starting centres, PCA with the default solver and lbfgs for deterministic', () => {
    const result = lintNotebook(rules, [
      'import numpy as np\nfrom sklearn.cluster import KMeans\nfrom sklearn.decomposition import PCA\nfrom sklearn.linear_model import Ridge, Lasso\nfrom sklearn.svm import LinearSVC',
      'centres = X[:3]\na = KMeans(n_clusters=3, init=centres, n_init=1)\nb = KMeans(3, init=np.array([[0, 0], [1, 1], [2, 2]]))\nc = PCA(n_components=2)\nd = PCA(0.99)\ne = PCA("mle")\nf = Ridge()\ng = Lasso(alpha=0.1)\nh = LinearSVC()',
      'def fit_from(X):\n    init = X[:3, :]\n    return KMeans(n_clusters=3, init=init, max_iter=1, n_init=1).fit(X)\nfit_from(X)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('flags KMeans drawing its centres, and the solver and selection variants that draw', () => {
    const result = lintNotebook(rules, [
      'from sklearn.cluster import KMeans\nfrom sklearn.decomposition import PCA\nfrom sklearn.linear_model import Ridge, Lasso\nfrom sklearn.svm import LinearSVC\ndef my_init(X, k, random_state):\n    return X[:k]',
      'a = KMeans(3)\nb = KMeans(3, init="random")\nc = KMeans(3, init=my_init)\nd = PCA(5, svd_solver="arpack")\ne = Ridge(solver="sag")\nf = Lasso(selection="random")\ng = LinearSVC(dual=True)',
    ]);
    expect(flaggedTexts(result)).toEqual(['KMeans(3)', 'KMeans(3, init="random")', 'KMeans(3, init=my_init)', 'PCA(5, svd_solver="arpack")', 'Ridge(solver="sag")', 'Lasso(selection="random")', 'LinearSVC(dual=True)']);
    expect(result.findings[5]!.message).toMatch(/^`Lasso`\(selection='random'\) is random/);
  });

  it('flags sklearn.utils.shuffle but not the stdlib shuffle as a random_state call', () => {
    const result = lintNotebook(rules, ['from sklearn.utils import shuffle\nX, y = shuffle(X, y)']);
    expect(result.findings[0]!.message).toMatch(/^`shuffle` is random with no random_state/);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('from sklearn.utils import shuffle\nX, y = shuffle(X, y, random_state=0)');
  });

  it('flags pandas sample without random_state', () => {
    const result = lintNotebook(rules, ['import pandas as pd\ndf = pd.read_csv("data.csv")', 'shuffled = df.sample(frac=1)']);
    expect(flaggedTexts(result)).toEqual(['df.sample(frac=1)']);
    expect(result.findings[0]!.message).toMatch(/^`df\.sample` picks random rows with no random_state/);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[1]).toBe('shuffled = df.sample(frac=1, random_state=0)');
  });

  it('accepts seeded variants: random_state given (literal or variable), np.random.seed above', () => {
    const result = lintNotebook(rules, [
      'import pandas as pd\nimport numpy as np\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.ensemble import RandomForestClassifier\nSEED = 7',
      'df = pd.read_csv("d.csv")\nsmall = df.sample(n=5, random_state=1)\nsplit = train_test_split(X, y, random_state=SEED)\nmodel = RandomForestClassifier(random_state=42)',
      'np.random.seed(0)\nmore = df.sample(frac=0.5)\nsplit2 = train_test_split(X, y)',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('does not take random.sample or a spark frame for pandas', () => {
    const result = lintNotebook(rules, ['import random\nrandom.seed(1)\nx = random.sample(items, 3)', 'from pyspark.sql import SparkSession\nsdf.sample(fraction=0.1)']);
    expect(where(result)).toEqual([]);
  });

  it('does not flag calls whose random_state may come through **kwargs', () => {
    const result = lintNotebook(rules, ['from sklearn.ensemble import RandomForestClassifier\nparams = {"random_state": 0}\nm = RandomForestClassifier(**params)']);
    expect(where(result)).toEqual([]);
  });
});

describe('unseeded-random: scripts', () => {
  it('inserts the seed lines after the leading imports, importing only what is missing', () => {
    const source = '"""Train the model."""\nimport random\nfrom numpy.random import rand  # noise\n\nx = rand(3)\nrandom.shuffle(x)\n';
    const result = lintScript(rules, source);
    expect(result.findings).toHaveLength(2);
    expect(result.findings[0]!.message).toMatch(/at the top of the script/);
    const [fixed] = applyFix(result, result.findings[0]!.fixes[0]!);
    expect(fixed).toBe('"""Train the model."""\nimport random\nfrom numpy.random import rand  # noise\nimport numpy as np\n\nrandom.seed(0)\nnp.random.seed(0)\n\nx = rand(3)\nrandom.shuffle(x)\n');
  });

  it('inserts after a docstring when there are no leading imports, and at the top otherwise', () => {
    const withDoc = lintScript(rules, '"""Doc."""\nx = __import__("random").random()\nimport random\nrandom.random()\n');
    expect(applyFix(withDoc, withDoc.findings[0]!.fixes[0]!)[0]).toBe('"""Doc."""\n\nimport random\n\nrandom.seed(0)\n\nx = __import__("random").random()\nimport random\nrandom.random()\n');
    const bare = lintScript(rules, 'print(1)\nimport numpy as np\nnp.random.rand()');
    expect(applyFix(bare, bare.findings[0]!.fixes[0]!)[0]).toBe('import numpy as np\n\nnp.random.seed(0)\n\nprint(1)\nimport numpy as np\nnp.random.rand()');
  });

  it('seeds a script whose code follows the imports directly', () => {
    const result = lintScript(rules, 'import torch\nw = torch.rand(2)');
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import torch\n\ntorch.manual_seed(0)\n\nw = torch.rand(2)');
  });
});
