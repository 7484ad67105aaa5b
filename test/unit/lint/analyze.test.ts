import { describe, expect, it } from 'vitest';
import { analyzeCell, type Expr } from '../../../src/core/lint/python/analyze';
import { maskIPython } from '../../../src/core/lint/python/ipython';
import { adjustForLezer } from '../../../src/core/lint/python/lezerCompat';
import { python2Construct } from '../../../src/core/lint/python/python2';
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

describe('what Lezer reads differently from CPython', () => {
  it('adjusts floats ending in a dot, same length, outside strings and comments', () => {
    expect(adjustForLezer('y = 2.\nbins=[0., 1.5, 6.]\nz = 1_000. + 1.e-3 + 2.j\nw = 1..real')).toBe('y = 20\nbins=[00, 1.5, 60]\nz = 1_0000 + 10e-3 + 20j\nw = 10.real');
    expect(adjustForLezer('s = "2." # 3.\nt = f"{x / 2.:.1f} {{4.}}"')).toBe('s = "2." # 3.\nt = f"{x / 20:.1f} {{4.}}"');
    // Not floats CPython accepts, or not numbers at all: left as written.
    expect(adjustForLezer('x1. a\n1.__class__\n0x1F.real')).toBe('x1. a\n1.__class__\n0x1F.real');
  });

  it('parses trailing-dot floats without syntax errors, keeping their text in the facts', () => {
    const facts = analyzeCell('expon_distrib = expon(scale=1.)\nX = X.std() / 2.\ny = 2.');
    expect(facts.syntaxErrors).toEqual([]);
    expect(facts.calls[0]!.args[0]!.value).toMatchObject({ kind: 'number', text: '1.' });
    expect(facts.bindings.find((b) => b.name === 'y')!.value).toMatchObject({ kind: 'number', text: '2.' });
  });
});

describe('names, as Python resolves them', () => {
  it('walks each statement of a `;`-separated group', () => {
    const facts = analyzeCell('import seaborn; seaborn.set()\nleg = ax.legend();\nif x: a = 1; b = a');
    expect(facts.uses.map((u) => u.name)).toEqual(['seaborn', 'ax', 'x', 'a']);
    expect(facts.bindings.map((b) => b.name)).toEqual(['seaborn', 'leg', 'a', 'b']);
    expect(facts.statements.map((s) => facts.source.slice(s.span.from, s.span.to))).toEqual(['import seaborn', 'seaborn.set()', 'leg = ax.legend()', 'if x: a = 1; b = a']);
    expect(facts.statements[1]).toMatchObject({ kind: 'expression', call: 0 });
  });

  it('reads decorators as the expressions they are, with their calls', () => {
    const facts = analyzeCell('@functools.lru_cache(maxsize=None)\ndef f(): pass\n@app.route("/x", methods=["POST"])\n@tf.function\ndef g(): pass');
    expect(facts.uses.map((u) => u.name)).toEqual(['functools', 'app', 'tf']);
    const callees = facts.calls.map((c) => c.callee.kind === 'attribute' && c.callee.object.kind === 'name' ? `${c.callee.object.name}.${c.callee.name}` : '?');
    expect(callees).toEqual(['functools.lru_cache', 'app.route']);
    expect(facts.calls[0]!.args[0]).toMatchObject({ keyword: 'maxsize', value: { kind: 'constant', value: 'None' } });
    expect(facts.source.slice(facts.calls[1]!.span.from, facts.calls[1]!.span.to)).toBe('app.route("/x", methods=["POST"])');
  });

  it('marks reads that expect a NameError, or run only on some Python versions', () => {
    const facts = analyzeCell('try:\n    a\nexcept NameError:\n    pass\nif sys.version_info < (3, 0):\n    b = unicode(b)\nelse:\n    c\ntry:\n    d\nexcept ValueError:\n    pass');
    expect(facts.uses.map((u) => `${u.name}:${u.guard ?? '-'}`)).toEqual(['a:name-error', 'NameError:-', 'sys:-', 'unicode:python-version', 'b:python-version', 'c:python-version', 'd:-', 'ValueError:-']);
  });

  it('knows the module-level loop holding a read', () => {
    const facts = analyzeCell('for i in range(3):\n    if i:\n        print(prev)\n    prev = i\nwhile go:\n    x\nprint(prev)');
    const loops = facts.uses.map((u) => `${u.name}:${u.loop ? facts.source.slice(u.loop.from, u.loop.from + 5) : '-'}`);
    expect(loops).toEqual(['range:-', 'i:for i', 'print:for i', 'prev:for i', 'i:for i', 'go:while', 'x:while', 'print:-', 'prev:-']);
  });

  it('records top-level del statements, and del makes a name local in a function', () => {
    const facts = analyzeCell('x = 1\ndel x\nif c:\n    del y\ndef f():\n    del z\n    return z');
    expect(facts.deletions.map((d) => d.name)).toEqual(['x']);
    expect(facts.uses.map((u) => u.name)).toEqual(['x', 'c', 'y']);
  });

  it('binds names in %time statements, not in %timeit ones, and reads both', () => {
    const facts = analyzeCell('%time model = fit(X)\n%timeit -n 3 -r1 tmp = predict(model)\nprint(tmp)');
    expect(facts.bindings.map((b) => b.name)).toEqual(['model']);
    expect(facts.uses.map((u) => u.name)).toEqual(['fit', 'X', 'predict', 'model', 'print', 'tmp']);
    expect(facts.syntaxErrors).toEqual([]);
  });

  it('reads %%time cells, and not the names a %%timeit cell binds', () => {
    expect(analyzeCell('%%time\nresult = train(data)').bindings.map((b) => b.name)).toEqual(['result']);
    const timeit = analyzeCell('%%timeit -n 10\nscratch = train(data)\nscratch.fit()');
    expect(timeit.bindings).toEqual([]);
    expect(timeit.uses.map((u) => u.name)).toEqual(['train', 'data']);
  });

  it('binds names from %store -r, %%capture and x = !cmd; records %run and %store -r without names', () => {
    const store = analyzeCell('%store -r model  scores\nfiles = !ls data');
    expect(store.bindings.map((b) => `${b.name}:${b.kind}`)).toEqual(['model:magic', 'scores:magic', 'files:assign']);
    expect(analyzeCell('%%capture --no-stderr captured\nprint(1)').bindings.map((b) => b.name)).toEqual(['captured']);
    const sources = analyzeCell('%run -i helpers.py --fast\n%store -r\n%run -m tools.setup');
    expect(sources.nameSources.map((s) => `${s.kind}:${s.target}`)).toEqual(['run:helpers.py', 'store:', 'run:-m tools.setup']);
  });

  it('masks a shell command continued with backslashes', () => {
    const facts = analyzeCell('!saved_model_cli show --dir {path} \\\n      --signature_def serving_default\nx = 1');
    expect(facts.syntaxErrors).toEqual([]);
    expect(facts.magics).toHaveLength(1);
    expect(facts.source.slice(facts.magics[0]!.from, facts.magics[0]!.to)).toContain('serving_default');
  });
});

describe('Python 2 code', () => {
  it('recognises Python 2 constructs, including those Lezer accepts', () => {
    const constructs = (source: string) => analyzeCell(source).syntaxErrors.map((p) => p.python2 ?? `not python 2: ${p.message}`);
    expect(constructs('print "hello"')).toEqual(['print statement']);
    expect(constructs('try:\n    pass\nexcept ValueError, e:\n    pass')).toEqual(['`except X, e`']);
    expect(constructs('if a <> b: pass')).toEqual(['`<>`']);
    expect(constructs('mode = 0777')).toEqual(['octal literal `0777`']);
    expect(constructs('raise ValueError, "bad"')).toEqual(['`raise E, "message"`']);
    expect(constructs('s = ur"abc"')).toEqual(['`ur""` string']);
    expect(constructs('x = `y`')).toEqual(['backtick repr']);
    expect(constructs('exec "code"')).toEqual(['exec statement']);
    expect(constructs('n = 10L')).toEqual(['long literal `10L`']);
    expect(constructs('x = (1,')[0]).toMatch(/^not python 2/);
    expect(constructs('mode = 0o777\nzero = 000\nprint(x)')).toEqual([]);
  });

  it('classifies what CPython says', () => {
    expect(python2Construct('print x', 0, "Missing parentheses in call to 'print'. Did you mean print(...)?")).toBe('print statement');
    expect(python2Construct('except ValueError, e:', 7, 'multiple exception types must be parenthesized')).toBe('`except X, e`');
    expect(python2Construct('x = 0777', 4, 'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers')).toBe('octal literal `0777`');
    expect(python2Construct('if a <> b:', 5, 'invalid syntax')).toBe('`<>`');
    expect(python2Construct('x = (1,', 4, "'(' was never closed")).toBeNull();
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
