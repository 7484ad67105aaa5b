import { describe, expect, it } from 'vitest';
import { unversionedData, urlIsPinned } from '../../../src/core/lint/rules/unversionedData';
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

  it('reports URLs that name no version, with advice for the host', () => {
    const result = lintNotebook([unversionedData], [
      [
        'import pandas as pd',
        'a = pd.read_csv("https://raw.githubusercontent.com/mwaskom/seaborn-data/master/iris.csv")',
        'b = pd.read_parquet("s3://acme-lake/sales/2024.parquet")',
        'c = pd.read_csv("https://huggingface.co/datasets/acme/churn/resolve/main/train.csv")',
        'd = pd.read_csv("https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data?token=abc")',
      ].join('\n'),
    ]);
    expect(result.findings).toHaveLength(4);
    const [github, s3, hf, uci] = result.findings;
    expect(flagged(result, github!)).toBe('"https://raw.githubusercontent.com/mwaskom/seaborn-data/master/iris.csv"');
    expect(github!.message).toBe(
      '`https://raw.githubusercontent.com/mwaskom/seaborn-data/master/iris.csv` is read from a URL that names no version: the data behind it can change between runs. ' +
        'Use a commit sha (or a release tag) instead of the branch name in the URL, or download it once and track the copy with `dvc import-url`.',
    );
    expect(s3!.message).toMatch(/`\?versionId=\.\.\.`/);
    expect(hf!.message).toMatch(/Pin a revision/);
    // The query (which may hold a token) is not repeated.
    expect(uci!.message).toMatch(/^`https:\/\/archive\.ics\.uci\.edu\/ml\/machine-learning-databases\/iris\/iris\.data` is read from a URL/);
    expect(uci!.message).not.toContain('token=abc');
  });

  it('does not report pinned URLs', () => {
    const pinned = [
      'https://raw.githubusercontent.com/mwaskom/seaborn-data/7ee3f1f6c8a3e2b3d1c4f5a6b7c8d9e0f1a2b3c4/iris.csv',
      'https://raw.githubusercontent.com/mwaskom/seaborn-data/9f3c2ab/iris.csv',
      'https://raw.githubusercontent.com/acme/data/refs/tags/release-7/iris.csv',
      'https://github.com/acme/data/raw/v1.2.0/iris.csv',
      's3://acme-lake/sales.parquet?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
      'gs://acme-lake/sales.parquet#1360887759327000',
      'https://huggingface.co/datasets/acme/churn/resolve/4f2e1c0b/train.csv',
      'https://huggingface.co/datasets/acme/churn/resolve/v2.0/train.csv',
      'hf://datasets/acme/churn@4f2e1c0b9a/train.parquet',
      'https://data.example.org/exports/2024-01-15/sales.csv',
      'https://data.example.org/exports/sales_v1.3.csv',
      'https://cdn.example.org/blobs/sha256-9b74c9897bac770ffc029102a200c5de/sales.csv',
      'https://zenodo.org/records/7654321/files/sales.csv',
      'https://example.org/sales.csv?revision=12',
    ];
    for (const url of pinned) expect(urlIsPinned(url), url).toBe(true);
    const moving = [
      'https://raw.githubusercontent.com/acme/data/main/iris.csv',
      'https://raw.githubusercontent.com/acme/data/refs/heads/main/iris.csv',
      'https://huggingface.co/datasets/acme/churn/resolve/main/train.csv',
      'hf://datasets/acme/churn@main/train.parquet',
      'https://example.org/api/v2/sales.csv',
      'https://example.org/data/1234567/sales.csv',
      'https://example.org/sales.csv?version=latest',
      'https://earthquake.usgs.gov/feeds/summary/2.5_day.csv',
    ];
    for (const url of moving) expect(urlIsPinned(url), url).toBe(false);
    const result = lintNotebook([unversionedData], [`import pandas as pd\ndf = pd.read_csv("${pinned[0]}")`]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts, and can be suppressed on the line', () => {
    const result = lintScript([unversionedData], 'import pandas as pd\na = pd.read_csv("a.csv")\nb = pd.read_csv("b.csv")  # nb2prod: ignore[unversioned-data]\n', UNTRACKED);
    expect(where(result)).toEqual(['0:1:16 unversioned-data']);
  });
});
