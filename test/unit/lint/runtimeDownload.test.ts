import { describe, expect, it } from 'vitest';
import { runtimeDownload } from '../../../src/core/lint/rules/runtimeDownload';
import { urlIsPinned } from '../../../src/core/lint/rules/urls';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

const rules = [runtimeDownload];

function texts(result: ReturnType<typeof lintNotebook>): string[] {
  return result.findings.map((f) => flagged(result, f));
}

describe('runtime-download: readers and fetchers', () => {
  it('reports a URL read by pandas, with advice for the host, pointing at the URL', () => {
    const result = lintNotebook(rules, [
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
    expect(github!.severity).toBe('warning');
    expect(github!.message).toBe(
      '`https://raw.githubusercontent.com/mwaskom/seaborn-data/master/iris.csv` is downloaded at run time by `pd.read_csv`, and the URL names no version: the data behind it can change or vanish between runs. ' +
        'Use a commit sha (or a release tag) instead of the branch name in the URL, or download it once and track the copy with `dvc import-url`.',
    );
    expect(s3!.message).toMatch(/is read from remote storage at run time.*`\?versionId=\.\.\.`/);
    expect(hf!.message).toMatch(/Pin a revision/);
    // The query (which may hold a token) is not repeated.
    expect(uci!.message).not.toContain('token=abc');
  });

  it('follows URLs built by concatenation, f-strings, os.path.join, urljoin-free names across cells', () => {
    const result = lintNotebook(rules, [
      'import os\nimport pandas as pd\nimport urllib.request',
      'ROOT = "https://raw.githubusercontent.com/acme/data/master/"\nNAME = "housing"\nVERSION = 2',
      'url = ROOT + "datasets/" + NAME + ".tgz"\nurllib.request.urlretrieve(url, "housing.tgz")',
      'df = pd.read_csv(f"{ROOT}{NAME}/v{VERSION}/train.csv")\nwine = pd.read_csv("https://archive.ics.uci.edu/ml/"\n                   "machine-learning-databases/wine/wine.data", header=None)',
      'def fetch(name):\n    urllib.request.urlretrieve(source_for(name), name)',
    ]);
    expect(texts(result)).toEqual(['url', 'f"{ROOT}{NAME}/v{VERSION}/train.csv"', '"https://archive.ics.uci.edu/ml/"\n                   "machine-learning-databases/wine/wine.data"', 'source_for(name)']);
    expect(result.findings[0]!.message).toMatch(/^`https:\/\/raw\.githubusercontent\.com\/acme\/data\/master\/datasets\/housing\.tgz` is downloaded at run time by `urllib\.request\.urlretrieve`/);
    // f-string fields with known values are filled in (`v2` alone is not a release: not pinned).
    expect(result.findings[1]!.message).toMatch(/master\/housing\/v2\/train\.csv/);
    expect(result.findings[3]!.message).toMatch(/^the URL in `source_for\(name\)` is downloaded at run time/);
  });

  it('shows the known part of a URL built in a loop, and follows a parameter to its default', () => {
    const result = lintNotebook(rules, [
      'import urllib.request\nROOT = "https://raw.githubusercontent.com/acme/data/master/"\nPINNED = "https://github.com/acme/data/raw/v1.2.0/housing.tgz"',
      'for name in ["a.csv", "b.csv"]:\n    url = ROOT + "datasets/" + name\n    urllib.request.urlretrieve(url, name)',
      'def fetch(url=ROOT + "housing.tgz", path="housing.tgz"):\n    urllib.request.urlretrieve(url, path)\ndef fetch_pinned(source=PINNED):\n    urllib.request.urlretrieve(source, "h.tgz")',
    ]);
    expect(texts(result)).toEqual(['url', 'url']);
    expect(result.findings[0]!.message).toMatch(/^`https:\/\/raw\.githubusercontent\.com\/acme\/data\/master\/datasets\/\{\}` is downloaded at run time.*Use a commit sha/);
    expect(result.findings[1]!.message).toMatch(/^`https:\/\/raw\.githubusercontent\.com\/acme\/data\/master\/housing\.tgz`/);
  });

  it('reports named datasets and library downloads, quiet when a version, revision or checksum pins them', () => {
    const result = lintNotebook(rules, [
      'import seaborn as sns\nimport tensorflow as tf\nimport tensorflow_datasets as tfds\nfrom tensorflow import keras\nfrom sklearn.datasets import fetch_openml, fetch_california_housing, load_iris\nfrom datasets import load_dataset\nimport nltk',
      [
        'iris = sns.load_dataset("iris")',
        'mnist = fetch_openml("mnist_784")',
        'housing = fetch_california_housing()',
        'path = keras.utils.get_file("shakespeare.txt", SHAKESPEARE_URL)',
        '(X, y), _ = keras.datasets.mnist.load_data()',
        'ds = tfds.load("imdb_reviews", as_supervised=True)',
        'hub = load_dataset("imdb")',
        'nltk.download("stopwords")',
      ].join('\n'),
      [
        'pinned = fetch_openml("mnist_784", version=1)',
        'by_id = fetch_openml(data_id=554)',
        'checked = tf.keras.utils.get_file("a.csv", origin="https://example.org/a.csv", file_hash="9b74c9897bac770ffc029102a200c5de")',
        'versioned = tfds.load("mnist:3.0.1")',
        'revised = load_dataset("imdb", revision="e6281661ce1c48d982bc483cf8a173c1bbeb5d31")',
        'bundled = load_iris()',
      ].join('\n'),
    ]);
    expect(texts(result)).toEqual([
      'sns.load_dataset("iris")',
      'fetch_openml("mnist_784")',
      'fetch_california_housing()',
      'SHAKESPEARE_URL',
      'keras.datasets.mnist.load_data()',
      'tfds.load("imdb_reviews", as_supervised=True)',
      'load_dataset("imdb")',
      'nltk.download("stopwords")',
    ]);
    expect(result.findings[0]!.message).toBe(
      '`sns.load_dataset` downloads `"iris"` at run time from the seaborn-data repository on GitHub: the data can change or vanish between runs. Save it once (`df.to_csv(...)`) and keep that copy under version control.',
    );
    expect(result.findings[1]!.message).toMatch(/pin the dataset version \(`version=1`, or `data_id=\.\.\.`\)/i);
    expect(result.findings[2]!.message).toMatch(/^`fetch_california_housing` downloads its data at run time \(scikit-learn checks what it gets/);
    expect(result.findings[3]!.message).toMatch(/or pass `file_hash=` so the download is checked/);
  });

  it('reports requests only when the response body is used as data', () => {
    const result = lintNotebook(rules, [
      'import io, requests\nimport pandas as pd',
      'r = requests.get("https://example.org/data.csv")\ndf = pd.read_csv(io.StringIO(r.text))',
      'rows = requests.get("https://api.example.org/rows").json()',
      'ping = requests.get("https://example.org/health")\nprint(ping.status_code)',
      'with requests.get("https://example.org/big.zip", stream=True) as resp:\n    for chunk in resp.iter_content(8192):\n        out.write(chunk)',
    ]);
    expect(texts(result)).toEqual(['"https://example.org/data.csv"', '"https://api.example.org/rows"', '"https://example.org/big.zip"']);
  });

  it('takes a hashlib check in the same cell for a checked download', () => {
    const result = lintNotebook(rules, [
      'import hashlib, urllib.request',
      'urllib.request.urlretrieve("https://example.org/a.csv", "a.csv")\nassert hashlib.sha256(open("a.csv", "rb").read()).hexdigest() == EXPECTED',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('does not report pinned URLs, local files and servers, or bundled datasets', () => {
    const result = lintNotebook(rules, [
      'import pandas as pd\nfrom urllib.request import urlopen\nfrom sklearn.datasets import load_digits',
      'a = pd.read_csv("https://raw.githubusercontent.com/acme/data/9f3c2ab/iris.csv")\nb = pd.read_csv("data/local.csv")\nc = urlopen("file:///tmp/x.txt")\nd = load_digits()',
      'e = pd.read_json("http://localhost:8000/api/rows")\nf = urlopen("http://127.0.0.1:5000/predict").read()\n!curl -o out.json http://localhost:8501/health',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts', () => {
    const result = lintScript(rules, 'import seaborn as sns\n\ntips = sns.load_dataset("tips")\n');
    expect(where(result)).toEqual(['0:2:7 runtime-download']);
  });
});

describe('runtime-download: shell commands', () => {
  it('reports wget, curl, git clone and kaggle downloads at the URL or dataset, expanding {name}', () => {
    const result = lintNotebook(rules, [
      'url = "https://raw.githubusercontent.com/acme/bikes/main/counts.csv"',
      [
        '!wget -q https://example.org/files/aclImdb.tar.gz -P data',
        '!curl -sSL -o rain.csv https://example.org/rain.csv',
        '!cd data && curl -O {url}',
        '!git clone https://github.com/acme/tools.git',
        '!kaggle datasets download -d acme/housing --unzip',
        'files = !curl -s https://example.org/list.txt',
      ].join('\n'),
      '%%bash\nset -e\nwget https://example.org/weather.csv\necho done > log.txt',
    ]);
    expect(texts(result)).toEqual([
      'https://example.org/files/aclImdb.tar.gz',
      'https://example.org/rain.csv',
      '{url}',
      'https://github.com/acme/tools.git',
      'acme/housing',
      'https://example.org/list.txt',
      'https://example.org/weather.csv',
    ]);
    expect(result.findings[2]!.message).toMatch(/^`https:\/\/raw\.githubusercontent\.com\/acme\/bikes\/main\/counts\.csv` is downloaded at run time by `curl`/);
    expect(result.findings[3]!.message).toMatch(/Check out a fixed commit or tag/);
    expect(result.findings[4]!.message).toMatch(/^`kaggle datasets download acme\/housing` downloads the data at run time/);
  });

  it('is quiet for uploads, installers piped to a shell or apt-key, pinned clones and URLs, checked downloads and commented-out commands', () => {
    const result = lintNotebook(rules, [
      [
        '!curl -X POST -d @payload.json https://api.example.org/predict',
        '!git clone --branch v1.4.2 https://github.com/acme/tools.git',
        '!wget https://github.com/acme/data/releases/download/v1.2/data.zip',
        '# !curl -O https://example.org/old.csv',
        '!curl -fsSL https://example.org/apt/release.pub.gpg | sudo apt-key add -',
        '!wget -qO- https://example.org/setup | bash',
      ].join('\n'),
      '!git clone https://github.com/acme/lib.git && cd lib && git checkout 3f9c2ab1',
      '!wget https://example.org/a.tgz\n!echo "9b74c9897bac770ffc029102a200c5de  a.tgz" | md5sum -c',
    ]);
    expect(where(result)).toEqual([]);
  });
});

describe('urlIsPinned', () => {
  it('tells URLs that name a fixed version from those that move', () => {
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
  });
});
