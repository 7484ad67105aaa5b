import { describe, expect, it } from 'vitest';
import { absolutePath } from '../../../src/core/lint/rules/absolutePath';
import { applyFix, flagged, lintNotebook, lintScript, where } from './lintHelpers';

const HOME_PROJECT = { project: { root: '/home/alice/churn' }, path: '/home/alice/churn/notebooks/analysis.ipynb' };

describe('absolute-path', () => {
  it('reports a home-directory path read by pandas, pointing at the literal', () => {
    const result = lintNotebook([absolutePath], ['import pandas as pd\ndf = pd.read_csv("/home/alice/Downloads/customers.csv")']);
    expect(where(result)).toEqual(['0:1:17 absolute-path']);
    const finding = result.findings[0]!;
    expect(flagged(result, finding)).toBe('"/home/alice/Downloads/customers.csv"');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toBe(
      "`/home/alice/Downloads/customers.csv` is a path in one user's home directory: it only exists on the author's machine, so the code fails anywhere else (another machine, CI). " +
        'Move the data into the project and use a relative path, or read the location from configuration or an environment variable.',
    );
    // Outside the project: no fix.
    expect(finding.fixes).toEqual([]);
  });

  it('offers a relative path when the absolute path is inside the project, keeping prefix and quotes', () => {
    const result = lintNotebook(
      [absolutePath],
      ["import pandas as pd\ndf = pd.read_csv('/home/alice/churn/data/customers.csv')", 'from pathlib import Path\nraw = Path(r"/home/alice/churn/data/raw/")'],
      HOME_PROJECT,
    );
    expect(result.findings.map((f) => flagged(result, f))).toEqual(["'/home/alice/churn/data/customers.csv'", 'r"/home/alice/churn/data/raw/"']);
    const [first, second] = result.findings;
    expect(first!.message).toMatch(/Use a path relative to the notebook: `\.\.\/data\/customers\.csv`\.$/);
    expect(first!.fixes[0]!.title).toBe('Make the path relative to the notebook: ../data/customers.csv');
    expect(first!.fixes[0]!.preferred).toBe(true);
    expect(applyFix(result, first!.fixes[0]!)[0]).toBe("import pandas as pd\ndf = pd.read_csv('../data/customers.csv')");
    expect(applyFix(result, second!.fixes[0]!)[1]).toBe('from pathlib import Path\nraw = Path(r"../data/raw/")');
  });

  it('reports an absolute path into the project checkout even outside a home directory', () => {
    const result = lintNotebook([absolutePath], ['import numpy as np\nX = np.load("/work/project/data/X.npy")']);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/is an absolute path into the author's copy of the project: .* `data\/X\.npy`\.$/);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import numpy as np\nX = np.load("data/X.npy")');
  });

  it('follows a name to the literal it was assigned in another cell, and joins', () => {
    const result = lintNotebook([absolutePath], [
      'DATA_DIR = "/mnt/c/Users/bob/data"\nOUT = "C:/exports"',
      'import os\nimport pandas as pd\ndf = pd.read_csv(os.path.join(DATA_DIR, "sales.csv"))\ndf.to_parquet(OUT + "/sales.parquet")',
    ]);
    expect(where(result)).toEqual(['0:0:11 absolute-path', '0:1:6 absolute-path']);
    expect(result.findings[0]!.message).toMatch(/^`\/mnt\/c\/Users\/bob\/data` is a WSL mount of a Windows drive/);
    expect(result.findings[1]!.message).toMatch(/^`C:\/exports` is a Windows drive path/);
  });

  it('reports Windows, UNC, tilde and mount paths used as paths', () => {
    const result = lintNotebook([absolutePath], [
      [
        'import os, sys',
        'import matplotlib.pyplot as plt',
        'os.chdir("D:\\\\projects\\\\churn")',
        'sys.path.append("~/code/helpers")',
        'sys.path.insert(0, r"\\\\fileserver\\share\\libs")',
        'plt.savefig("/content/drive/MyDrive/fig.png")',
        'with open("/Volumes/Backup/notes.txt") as f:',
        '    pass',
      ].join('\n'),
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual([
      '"D:\\\\projects\\\\churn"',
      '"~/code/helpers"',
      'r"\\\\fileserver\\share\\libs"',
      '"/content/drive/MyDrive/fig.png"',
      '"/Volumes/Backup/notes.txt"',
    ]);
    expect(result.findings.map((f) => /^`[^`]*` is ([^:]+):/.exec(f.message)?.[1])).toEqual([
      'a Windows drive path',
      'a path in the home directory of whoever runs it',
      'a network share path',
      'a Google Drive mount in Colab',
      'a path on a macOS volume',
    ]);
  });

  it('reports home-directory literals anywhere, and Windows user folders', () => {
    const result = lintNotebook([absolutePath], ['CONFIG = {"cache": "/Users/carol/.cache/models", "win": r"C:\\Users\\carol\\data"}']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['"/Users/carol/.cache/models"', 'r"C:\\Users\\carol\\data"']);
  });

  it('reports `%cd` to a home directory', () => {
    const result = lintNotebook([absolutePath], ['%cd /home/alice/work\nimport pandas as pd']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['/home/alice/work']);
  });

  it('does not report URLs, routes, regexes, relative paths, temp files or text', () => {
    const result = lintNotebook([absolutePath], [
      'import pandas as pd\ndf = pd.read_csv("https://example.org/home/alice/data.csv")\nlocal = pd.read_csv("data/customers.csv")',
      'from flask import Flask\napp = Flask(__name__)\n@app.route("/home/about")\ndef about():\n    return "ok"',
      'import re\npattern = re.compile(r"/home/[^/]+/data")\nis_home = path.startswith("/home/")',
      'open("/dev/null", "w")\nopen("/tmp/scratch.csv")\nopen("../shared/data.csv")',
      'print("approx ~5 rows")\nlabel = "~"\nratio = "C: 3/4"\nmsg = f"{n}/{total} done"',
      'tmpl = f"/home/{user}/data"\nopen("/usr/share/dict/words")\nroot = "/root"',
      'import os\nfrom pathlib import Path\nhome = os.path.expanduser("~")\ncache = Path.home() / ".cache"',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts, suggesting a path built from the script folder instead of a fix', () => {
    const result = lintScript([absolutePath], 'import pandas as pd\ndf = pd.read_csv("/home/alice/churn/data/x.csv")\n', { project: { root: '/home/alice/churn' }, path: '/home/alice/churn/train.py' });
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toMatch(/Build it from the script's folder instead: `Path\(__file__\)\.parent \/ "data\/x\.csv"`\.$/);
    expect(result.findings[0]!.fixes).toEqual([]);
  });

  it('resolves Windows projects with Windows path rules', () => {
    const result = lintNotebook([absolutePath], ['import pandas as pd\ndf = pd.read_csv(r"C:\\Users\\dana\\churn\\data\\x.csv")'], {
      project: { root: 'C:\\Users\\dana\\churn' },
      path: 'C:\\Users\\dana\\churn\\analysis.ipynb',
    });
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.fixes[0]!.title).toBe('Make the path relative to the notebook: data/x.csv');
    expect(applyFix(result, result.findings[0]!.fixes[0]!)[0]).toBe('import pandas as pd\ndf = pd.read_csv(r"data/x.csv")');
  });
});
