import { describe, expect, it } from 'vitest';
import { analyzeCell, type Expr } from '../../../src/core/lint/python/analyze';
import { maskIPython } from '../../../src/core/lint/python/ipython';
import { stringTokenValue } from '../../../src/core/lint/python/strings';
import { NotebookModel, type SourceCell } from '../../../src/core/lint/model';

const cells = (...sources: string[]): SourceCell[] => sources.map((source, index) => ({ index, kind: 'code', source, executionCount: null }));

describe('IPython masking', () => {
  it('blanks magics to spaces of the same length and reports them', () => {
    const source = '%matplotlib inline\nx = 1\n!pip install pandas\nfiles = !ls -la\ndf.head?\nif x:\n    %time f()';
    const masked = maskIPython(source);
    expect(masked.code).toHaveLength(source.length);
    expect(masked.magics.map((m) => `${m.kind}:${m.command}`)).toEqual(['line:matplotlib inline', 'shell:pip install pandas', 'shell:ls -la', 'line:df.head?', 'line:time f()']);
    expect(source.slice(masked.magics[1]!.commandFrom, masked.magics[1]!.to)).toBe('pip install pandas');
    expect(analyzeCell(source).syntaxErrors).toEqual([]);
  });

  it('does not take a modulo on a continuation line for a magic', () => {
    expect(maskIPython('total = (a\n% b)').magics).toEqual([]);
  });

  it('skips non-Python cell magics and reads Python ones', () => {
    expect(analyzeCell('%%bash\necho {').isPython).toBe(false);
    expect(analyzeCell('%%time\nimport numpy as np').imports.map((i) => i.path)).toEqual(['numpy']);
  });
});

describe('string literal values', () => {
  it('decodes prefixes, quotes and escapes as Python does', () => {
    expect(stringTokenValue('"a\\tb"').value).toBe('a\tb');
    expect(stringTokenValue("r'C:\\Users\\me'").value).toBe('C:\\Users\\me');
    expect(stringTokenValue('"C:\\Users\\me"').value).toBe('C:\\Users\\me');
    expect(stringTokenValue('"""multi\nline"""').value).toBe('multi\nline');
    expect(stringTokenValue('b"\\x41"')).toMatchObject({ value: 'A', bytes: true });
    expect(stringTokenValue('f"/home/{user}/{{x}}.csv"')).toMatchObject({ value: '/home/{}/{x}.csv', formatted: true });
    expect(stringTokenValue('"\\u00e9"').value).toBe('é');
  });
});

describe('cell facts', () => {
  it('resolves imports to the paths they bind', () => {
    const facts = analyzeCell('import numpy as np\nimport os.path\nfrom sklearn.model_selection import train_test_split as tts, KFold\nfrom . import local\nfrom ..pkg import mod');
    expect(facts.imports.map((i) => `${i.bound}=${i.path}`)).toEqual([
      'np=numpy',
      'os=os',
      'tts=sklearn.model_selection.train_test_split',
      'KFold=sklearn.model_selection.KFold',
      'local=.local',
      'mod=..pkg.mod',
    ]);
    expect(facts.imports[4]!.level).toBe(1);
  });

  it('records calls with keyword, positional and star arguments', () => {
    const facts = analyzeCell('model = RandomForestClassifier(100, max_depth=3, *extra, **options)');
    const call = facts.calls[0]!;
    expect(call.args.map((a) => `${a.star}${a.keyword ?? '_'}`)).toEqual(['_', 'max_depth', '*_', '**_']);
    expect(facts.source.slice(call.argsSpan.from, call.argsSpan.to)).toBe('(100, max_depth=3, *extra, **options)');
    expect(facts.bindings[0]).toMatchObject({ name: 'model', kind: 'assign', dependsOn: ['RandomForestClassifier', 'extra', 'options'] });
  });

  it('tells module-level reads from reads in function bodies, and keeps locals local', () => {
    const facts = analyzeCell('def f(a, b=default):\n    c = a + outer\n    return [c * i for i in b]\nresult = f(1)');
    expect(facts.uses.map((u) => `${u.name}:${u.timing}`)).toEqual(['default:immediate', 'outer:deferred', 'f:immediate']);
    expect(facts.bindings.map((b) => b.name)).toEqual(['f', 'result']);
  });

  it('binds tuple targets with the unpacked value', () => {
    const facts = analyzeCell('X_train, X_test = split(X)\na, b = 1, "two"');
    expect(facts.bindings.map((b) => `${b.name}:${b.unpacked ? `${b.unpacked.index}/${b.unpacked.of}` : (b.value as Expr | null)?.kind}`)).toEqual(['X_train:0/2', 'X_test:1/2', 'a:number', 'b:string']);
  });

  it('records values given to names in any scope, and decorators', () => {
    const facts = analyzeCell('cfg.password = "a"\nd["token"] = "b"\nconnect(user="c")\ndef f(key="d"):\n    secret = "e"\n    return {"api_key": "f", **extra}\n@app.get("/home/x")\ndef g(): pass');
    expect(facts.namedValues.map((n) => `${n.kind}:${n.qualifier ? n.qualifier + '.' : ''}${n.name}=${n.value.kind === 'string' ? n.value.value : n.value.kind}`)).toEqual([
      'attribute:cfg.password=a',
      'key:token=b',
      'keyword:user=c',
      'parameter:key=d',
      'assign:secret=e',
      'key:api_key=f',
    ]);
    expect(facts.decorators.map((d) => facts.source.slice(d.from, d.to).trim())).toEqual(['@app.get("/home/x")']);
  });

  it('marks imports guarded by except ImportError as optional', () => {
    const facts = analyzeCell('import numpy\ntry:\n    import torch\nexcept ImportError:\n    torch = None\ntry:\n    import jax\nexcept ValueError:\n    pass');
    expect(facts.imports.map((i) => `${i.bound}:${i.optional}`)).toEqual(['numpy:false', 'torch:true', 'jax:false']);
  });

  it('marks star imports and collects comments', () => {
    const facts = analyzeCell('from helpers import *  # nb2prod: ignore[undefined-name]');
    expect(facts.starImport).toBe(true);
    expect(facts.comments[0]!.text).toBe('# nb2prod: ignore[undefined-name]');
  });
});

describe('NotebookModel', () => {
  it('resolves callee paths through aliases across cells', () => {
    const model = new NotebookModel(cells('import numpy as np\nfrom numpy.random import default_rng as rng', 'x = np.random.rand(3)\ng = rng()'));
    const paths = [...model.calls()].map(({ call, at }) => model.calleePath(call, at));
    expect(paths).toEqual(['numpy.random.rand', 'numpy.random.default_rng']);
  });

  it('does not resolve a name rebound after its import', () => {
    const model = new NotebookModel(cells('import random', 'random = MyRandom()', 'random.shuffle(x)'));
    const last = [...model.calls()].at(-1)!;
    expect(model.calleePath(last.call, last.at)).toBeNull();
  });

  it('knows constant strings through names, os.path.join and Path division', () => {
    const model = new NotebookModel(cells('import os\nfrom pathlib import Path\nDATA = "data"\nname = "train.csv"', 'a = open(os.path.join(DATA, name))\nb = open(Path(DATA) / "raw" / name)'));
    const values = [...model.calls()].filter(({ call }) => call.callee.kind === 'name' && call.callee.name === 'open').map(({ call, at }) => model.stringValue(call.args[0]!.value, at));
    expect(values).toEqual(['data/train.csv', 'data/raw/train.csv']);
  });

  it('knows what built an instance and what a value derives from', () => {
    const model = new NotebookModel(cells('from sklearn.preprocessing import StandardScaler', 'scaler = StandardScaler()\nX2 = scaler.fit_transform(X)\nX3 = X2 * 2'));
    const at = { cell: 1, offset: 1000 };
    expect(model.constructedBy({ kind: 'name', name: 'scaler', span: { from: 0, to: 0 } }, at)).toBe('sklearn.preprocessing.StandardScaler');
    expect([...model.derivedFrom('X3', at)].sort()).toEqual(['X', 'X2', 'X3', 'scaler', 'StandardScaler'].sort());
  });
});
