import { describe, expect, it } from 'vitest';
import { unversionedData } from '../../../src/core/lint/rules/unversionedData';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

const UNTRACKED = { project: { defaultVersioning: 'untracked' as const } };

describe('unversioned-data', () => {
  it('reports an untracked local file read by pandas, pointing at the path argument', () => {
    const result = lintNotebook([unversionedData], ['import pandas as pd\ndf = pd.read_csv("data/customers.csv")'], {
      project: { versioned: { '/work/project/data/customers.csv': 'untracked' }, defaultVersioning: 'git' },
    });
    expect(where(result)).toEqual(['0:1:17 unversioned-data']);
    const finding = result.findings[0]!;
    expect(flagged(result, finding)).toBe('"data/customers.csv"');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toBe(
      '`data/customers.csv` is not tracked by git, DVC or git LFS: commit it (`git add data/customers.csv`), or track it with `dvc add data/customers.csv`, so a run can be tied to the data it read.',
    );
    expect(finding.fixes).toEqual([]);
  });

  it('does not report files that git, DVC or LFS version, or whose status is unknown', () => {
    const cells = ['import pandas as pd\na = pd.read_csv("a.csv")\nb = pd.read_parquet("b.parquet")\nc = pd.read_csv("c.csv")\nd = pd.read_csv("d.csv")'];
    const result = lintNotebook([unversionedData], cells, {
      project: { versioned: { '/work/project/a.csv': 'git', '/work/project/b.parquet': 'dvc', '/work/project/c.csv': 'lfs', '/work/project/d.csv': 'unknown' } },
    });
    expect(where(result)).toEqual([]);
  });

  it('resolves relative paths against the notebook folder and shows them relative to the project root', () => {
    const result = lintNotebook([unversionedData], ['import pandas as pd\ndf = pd.read_csv("../data/raw sales.csv")'], {
      path: '/work/project/notebooks/explore.ipynb',
      project: { versioned: { '/work/project/data/raw sales.csv': 'untracked' }, defaultVersioning: 'git' },
    });
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/^`data\/raw sales\.csv` is not tracked .*`git add 'data\/raw sales\.csv'`/);
  });

  it('recognises the common readers, through aliases, names, joins and pathlib', () => {
    const result = lintNotebook(
      [unversionedData],
      [
        'import numpy as np\nimport polars as pl\nimport joblib, torch, h5py, cv2, os\nfrom PIL import Image\nimport pyarrow.parquet as pq\nfrom pathlib import Path\nfrom pandas import read_excel',
        'DATA = "data"\nRAW = os.path.join(DATA, "raw.npy")',
        [
          'x = np.load(RAW)',
          'y = np.loadtxt(fname=Path(DATA) / "y.txt")',
          'p = pl.scan_parquet("data/p.parquet")',
          'm = joblib.load("models/m.joblib")',
          't = torch.load("models/t.pt")',
          'i = Image.open("img/cat.png")',
          'c = cv2.imread("img/dog.png")',
          'h = h5py.File("data/h.h5")',
          'q = pq.read_table("data/q.parquet")',
          'e = read_excel(io="data/e.xlsx")',
          'with open("data/notes.txt") as f:\n    notes = f.read()',
          'text = Path("data/t.json").read_text()',
          'CFG = Path("config.yaml")\ncfg = CFG.open()',
        ].join('\n'),
      ],
      UNTRACKED,
    );
    expect(result.findings.map((f) => flagged(result, f))).toEqual([
      'RAW',
      'Path(DATA) / "y.txt"',
      '"data/p.parquet"',
      '"models/m.joblib"',
      '"models/t.pt"',
      '"img/cat.png"',
      '"img/dog.png"',
      '"data/h.h5"',
      '"data/q.parquet"',
      '"data/e.xlsx"',
      '"data/notes.txt"',
      '"data/t.json"',
      'CFG',
    ]);
    expect(result.findings[0]!.message).toMatch(/^`data\/raw\.npy` is not tracked/);
    expect(result.findings[1]!.message).toMatch(/^`data\/y\.txt` is not tracked/);
  });

  it('does not report writes, files the notebook wrote itself, unknown paths, globs or non-reads', () => {
    const result = lintNotebook(
      [unversionedData],
      [
        'import pandas as pd\nimport numpy as np\nimport h5py',
        'df.to_csv("out/clean.csv")\nclean = pd.read_csv("out/clean.csv")',
        '!wget -q -O data/iris.csv https://example.org/iris.csv\niris = pd.read_csv("data/iris.csv")',
        'df.to_parquet("out/parts")\npart = pd.read_parquet("out/parts/p0.parquet")',
        'with open("log.txt", "w") as f:\n    pass\nwith open("log.txt", mode="a") as g:\n    pass\nh = h5py.File("out.h5", "w")',
        'path = input()\nx = pd.read_csv(path)\ny = pd.read_csv(f"data/{name}.csv")\nz = pd.read_csv(sys.argv[1])',
        'import glob\nfiles = glob.glob("data/*.csv")\nnp.save("arr.npy", x)\nopen(mode_var_path, mode)',
        'outside = pd.read_csv("/srv/shared/outside.csv")\nup = pd.read_csv("../../elsewhere.csv")',
        'def later():\n    return pd.read_csv("data/in_function.csv")',
      ],
      UNTRACKED,
    );
    // Reads inside a function still read data when it is called: reported.
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['"data/in_function.csv"']);
  });

  it('leaves URLs and remote storage to runtime-download', () => {
    const result = lintNotebook([unversionedData], ['import pandas as pd\na = pd.read_csv("https://example.org/iris.csv")\nb = pd.read_parquet("s3://acme/sales.parquet")'], UNTRACKED);
    expect(where(result)).toEqual([]);
  });

  it('does not take a file the notebook writes before reading it for an input', () => {
    const result = lintNotebook(
      [unversionedData],
      [
        'import numpy as np, pandas as pd, joblib, pickle, shutil, tarfile, urllib.request\nimport matplotlib.pyplot as plt\nfrom sklearn.tree import export_graphviz',
        'np.save("my_array", a)\nb = np.load("my_array.npy")\nnp.savez("my_arrays", a=a, b=b)\nwith open("my_arrays.npz", "rb") as f:\n    data = f.read()',
        'joblib.dump(model, "model.joblib")\nm = joblib.load("model.joblib")\npickle.dump(model, open("model.pkl", "wb"))\nm2 = pickle.load(open("model.pkl", "rb"))',
        'export_graphviz(tree, out_file="tree.dot")\nwith open("tree.dot") as f:\n    dot = f.read()\nmodel.save("net.h5")\nnet = open("net.h5", "rb")',
        'urllib.request.urlretrieve(URL, "data/raw.tgz")\ntarfile.open("data/raw.tgz").extractall("data/raw")\nraw = pd.read_csv("data/raw/train.csv")',
        'shutil.copy(source_path, "copy.csv")\ncopied = pd.read_csv("copy.csv")',
        '%%writefile helper_data.json\n{"a": 1}',
        'helper = open("helper_data.json").read()',
        '!cd data && curl -O https://example.org/files/cities.csv\n!wget -P downloads https://example.org/rain.csv\n!curl -L https://example.org/x.json -o x.json\n!gunzip -f data/recipes.json.gz',
        'cities = pd.read_csv("data/cities.csv")\nrain = pd.read_csv("downloads/rain.csv")\nx = pd.read_json("x.json")\nrecipes = pd.read_json("data/recipes.json")\nother = pd.read_csv("data/other.csv")',
      ],
      UNTRACKED,
    );
    // Only the one file nothing wrote.
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['"data/other.csv"']);
  });

  it('counts a write only when it runs before the read, and reports each file once, at its first read', () => {
    const result = lintNotebook(
      [unversionedData],
      ['import pandas as pd', 'old = pd.read_csv("results.csv")\nagain = pd.read_csv("results.csv")', 'old.to_csv("results.csv")', 'later = pd.read_csv("results.csv")'],
      UNTRACKED,
    );
    expect(where(result)).toEqual(['1:0:18 unversioned-data']);
  });

  it('resolves relative paths after os.chdir and %cd', () => {
    const result = lintNotebook(
      [unversionedData],
      ['import os, pickle\nimport pandas as pd', 'os.chdir("app")\nclf = pickle.load(open("pkl/model.pkl", "rb"))', '%cd ..\ndf = pd.read_csv("data/in.csv")', 'os.chdir(somewhere)\nunknown = pd.read_csv("x.csv")'],
      { project: { versioned: { '/work/project/app/pkl/model.pkl': 'untracked', '/work/project/data/in.csv': 'untracked' }, defaultVersioning: 'git' } },
    );
    expect(result.findings.map((f) => f.message.split('`')[1])).toEqual(['app/pkl/model.pkl', 'data/in.csv']);
  });

  it('lints scripts, and can be suppressed on the line', () => {
    const result = lintScript([unversionedData], 'import pandas as pd\na = pd.read_csv("a.csv")\nb = pd.read_csv("b.csv")  # nb2prod: ignore[unversioned-data]\n', UNTRACKED);
    expect(where(result)).toEqual(['0:1:16 unversioned-data']);
  });
});
