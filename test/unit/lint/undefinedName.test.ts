/**
 * `undefined-name` resolving names as Python (and IPython) would: statement groups, decorators,
 * star imports and %run resolved from the project's files or the interpreter, magics that bind
 * names, guards, `del`, and severities that follow certainty.
 */
import { describe, expect, it } from 'vitest';
import type { PythonKnowledge } from '../../../src/core/lint/pythonOracle';
import { undefinedName } from '../../../src/core/lint/rules/undefinedName';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

const lint = (cells: string[], options: Parameters<typeof lintNotebook>[2] = {}) => lintNotebook([undefinedName], cells, options);
const names = (result: ReturnType<typeof lint>) => result.findings.map((f) => `${flagged(result, f)}:${f.severity}`);

/** An interpreter's answers for installed modules (the oracle's own tests use a real one). */
function knowing(modules: Record<string, string[] | null>): PythonKnowledge {
  return {
    label: 'Python 3.11',
    syntax: () => undefined,
    moduleNames: (module) => (module in modules ? (modules[module] ? new Set(modules[module]) : null) : undefined),
  };
}

describe('undefined-name: statements and decorators', () => {
  it('reads each statement of a `;` group: an import there defines its name', () => {
    const result = lint(['import seaborn; seaborn.set()\nimport seaborn as sns; sns.set()', 'fig, ax = plt.subplots(); leg = ax.legend();', 'leg.set_title("x")']);
    expect(names(result)).toEqual(['plt:error']);
  });

  it('reads decorators as expressions: the object is read, attributes and keywords are not names', () => {
    const result = lint([
      'import functools\nimport tensorflow as tf\nfrom flask import Flask\napp = Flask(__name__)',
      '@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n\n@app.route("/x", methods=["POST"])\ndef view():\n    pass\n@tf.function\ndef step():\n    pass\n@memory.cache\ndef slow():\n    pass',
    ]);
    expect(names(result)).toEqual(['memory:error']);
  });
});

describe('undefined-name: names from elsewhere', () => {
  const helpers = { 'helpers.py': 'import numpy as np\nfrom pandas import DataFrame\n\ndef clean(df):\n    return df\n\n_cache = {}\n' };

  it('resolves a star import of a local module from its public top-level names', () => {
    const result = lint(['from helpers import *', 'clean(np.zeros(3))\nDataFrame()\n_cache\nundefined_here'], { project: { files: helpers } });
    expect(names(result)).toEqual(['_cache:error', 'undefined_here:error']);
  });

  it('uses __all__ when the module declares it', () => {
    const files = { 'preamble.py': 'import numpy as np\nimport pandas as pd\nimport mglearn\n__all__ = ["np", "pd"]\n' };
    const result = lint(['from preamble import *', 'np.zeros(1)\npd.Series()\nmglearn.plots'], { project: { files } });
    expect(names(result)).toEqual(['mglearn:error']);
  });

  it('follows star imports inside local modules, and gives up on ones it cannot resolve', () => {
    const files = { 'a.py': 'from b import *\nalpha = 1\n', 'b.py': 'beta = 2\n', 'c.py': 'from unknown_lib import *\n' };
    expect(names(lint(['from a import *', 'alpha + beta + gamma'], { project: { files } }))).toEqual(['gamma:error']);
    expect(names(lint(['from c import *', 'anything_at_all'], { project: { files } }))).toEqual([]);
  });

  it('asks the interpreter for an installed module, and is quiet after one nobody can list', () => {
    const python = knowing({ 'matplotlib.pylab': ['plot', 'show'], broken: null });
    expect(names(lint(['from matplotlib.pylab import *', 'plot(x)\nshow()'], { python }))).toEqual(['x:error']);
    expect(names(lint(['from broken import *', 'whatever()']))).toEqual([]);
    expect(names(lint(['from somelib import *', 'whatever()']))).toEqual([]);
  });

  it('still checks names read above an unresolved star import: a warning, since it may supply them', () => {
    const result = lint(['whatever()', 'from somelib import *']);
    expect(names(result)).toEqual(['whatever:warning']);
    expect(result.findings[0]!.message).toContain('may come from `from somelib import *` in cell 2');
  });

  it('reports a name read above the star import that is known to supply it', () => {
    const result = lint(['clean(df)', 'from helpers import *', 'df = 1'], { project: { files: helpers } });
    expect(names(result)).toEqual(['clean:error', 'df:error']);
    expect(result.findings[0]!.message).toContain('only comes from `from helpers import *` in cell 2');
  });

  it('reads the globals of a script run with %run, private ones too; an unknown script makes it quiet', () => {
    const files = { 'setup.py': 'import pandas as pd\n_seed = 0\ndef load():\n    return pd.DataFrame()\n' };
    expect(names(lint(['%run setup.py', 'load()\n_seed\nmissing'], { project: { files } }))).toEqual(['missing:error']);
    expect(names(lint(['%run setup', 'load()'], { project: { files } }))).toEqual([]);
    expect(names(lint(['%run elsewhere.py', 'anything()'], { project: { files } }))).toEqual([]);
  });

  it('binds the names of %store -r a b; %store -r alone restores anything', () => {
    expect(names(lint(['%store -r model scores', 'model.predict(scores)\nother']))).toEqual(['other:error']);
    expect(names(lint(['%store -r', 'model.predict(other)']))).toEqual([]);
  });

  it('binds %%capture targets, x = !cmd and %time statements; not %timeit ones', () => {
    const result = lint(['%%capture out\nprint(1)', 'files = !ls\n%time model = fit(files)', '%timeit scratch = model.predict(files)', 'out.show()\nscratch'], { project: {} });
    expect(names(result)).toEqual(['fit:error', 'scratch:error']);
  });

  it("knows IPython's own names", () => {
    expect(names(lint(['display(_, __, ___, _3, _i3, _ii, In[1], Out[2], _oh, get_ipython())\nexit()']))).toEqual([]);
  });

  it('knows the `c` of a Jupyter configuration file', () => {
    const result = lintScript([undefinedName], 'c.ServerApp.port = 8888\n', { path: '/work/project/jupyter_server_config.py' });
    expect(result.findings).toEqual([]);
    expect(lintScript([undefinedName], 'c.x = 1\n').findings).toHaveLength(1);
  });
});

describe('undefined-name: certainty', () => {
  it('is an error when no cell defines the name, or only one below', () => {
    expect(names(lint(['print(hidden)', 'later + 1', 'later = 2']))).toEqual(['hidden:error', 'later:error']);
  });

  it('is a warning for a function body reading a name no cell defines', () => {
    const result = lint(['def f():\n    return nowhere']);
    expect(names(result)).toEqual(['nowhere:warning']);
    expect(result.findings[0]!.message).toContain('calling the function fails');
  });

  it('is quiet in code that expects the name may be missing', () => {
    expect(names(lint(['try:\n    get_ipython_shell\nexcept NameError:\n    pass', 'import sys\nif sys.version_info < (3, 0):\n    text = unicode(text)\nelse:\n    text = str(b"x")']))).toEqual([]);
    expect(names(lint(['try:\n    value\nexcept KeyError:\n    pass']))).toEqual(['value:error']);
  });

  it('counts a name bound in either branch of an ImportError fallback', () => {
    expect(names(lint(['try:\n    import ujson as json\nexcept ImportError:\n    import json', 'json.dumps({})']))).toEqual([]);
  });

  it('is quiet about a name bound later in the same loop (an earlier iteration binds it)', () => {
    expect(names(lint(['for i in range(3):\n    if i:\n        print(previous)\n    previous = i']))).toEqual([]);
    expect(names(lint(['print(after)\nfor i in range(3):\n    after = i']))).toEqual(['after:error']);
  });

  it('reports a read after `del` with nothing defining the name again', () => {
    const result = lint(['x = 1', 'del x', 'print(x)', 'y = 1\ndel y\ny = 2\nprint(y)', 'z = 1\nif flag:\n    del z\nprint(z)', 'flag = 0']);
    expect(where(result)).toEqual(['2:0:6 undefined-name', '4:1:3 undefined-name']);
    expect(result.findings[0]!.message).toContain('`del x` in cell 2');
    expect(flagged(result, result.findings[1]!)).toBe('flag');
  });
});
