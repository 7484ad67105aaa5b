import { describe, expect, it } from 'vitest';
import { unpinnedInstall } from '../../../src/core/lint/rules/unpinnedInstall';
import { applyFix, flagged, lintNotebook, lintScript, where } from './lintHelpers';

const installed = { pandas: '2.2.2', 'scikit-learn': '1.5.0', numpy: '1.26.4', requests: '2.32.3' };

function flaggedAll(cells: string[], options = {}): string[] {
  const result = lintNotebook([unpinnedInstall], cells, options);
  return result.findings.map((f) => flagged(result, f));
}

describe('unpinned-install', () => {
  it('reports each unpinned package of a pip install, at the package', () => {
    const result = lintNotebook([unpinnedInstall], ['import os', '!pip install -q pandas numpy==1.26.4 scikit-learn'], { project: { installed } });
    expect(where(result)).toEqual(['1:0:16 unpinned-install', '1:0:37 unpinned-install']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['pandas', 'scikit-learn']);
    expect(result.findings[0]!.message).toBe(
      '`pandas` is installed without an exact version: pin it (`pandas==2.2.2`) so the next run gets the same code; better, move it to requirements.txt',
    );
    expect(result.findings[0]!.severity).toBe('warning');
  });

  it('offers to pin to the installed version, keeping extras and quotes', () => {
    const result = lintNotebook([unpinnedInstall], ['%pip install "pandas[parquet]>=2.0" scikit-learn'], { project: { installed } });
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['"pandas[parquet]>=2.0"', 'scikit-learn']);
    const fix = result.findings[0]!.fixes[0]!;
    expect(fix.title).toBe('Pin pandas to 2.2.2 (the installed version)');
    expect(fix.preferred).toBe(true);
    expect(applyFix(result, fix)).toEqual(['%pip install "pandas[parquet]==2.2.2" scikit-learn']);
    expect(applyFix(result, result.findings[1]!.fixes[0]!)).toEqual(['%pip install "pandas[parquet]>=2.0" scikit-learn==1.5.0']);
  });

  it('offers no fix when the installed version is unknown', () => {
    const result = lintNotebook([unpinnedInstall], ['!pip install xgboost']);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.fixes).toEqual([]);
    expect(result.findings[0]!.message).toContain('pin it (`xgboost==<version>`)');
  });

  it('treats ranges, compatible releases, wildcards and bare extras as unpinned', () => {
    expect(flaggedAll(["!pip install 'requests~=2.31' 'numpy<2' torch==2.* pandas[excel] 'scipy>=1.10,<2'"])).toEqual([
      "'requests~=2.31'",
      "'numpy<2'",
      'torch==2.*',
      'pandas[excel]',
      "'scipy>=1.10,<2'",
    ]);
  });

  it('reads an unquoted specifier with > as the author meant it, and replaces all of it', () => {
    const result = lintNotebook([unpinnedInstall], ['!pip install pandas>=2.0 2>&1 > /dev/null'], { project: { installed } });
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['pandas>=2.0']);
    expect(applyFix(result, result.findings[0]!.fixes[0]!)).toEqual(['!pip install pandas==2.2.2 2>&1 > /dev/null']);
  });

  it('recognises python -m pip, sys.executable, uv pip, pip3 and installs after other commands', () => {
    expect(
      flaggedAll([
        '!python -m pip install --upgrade pandas',
        '!{sys.executable} -m pip install numpy',
        '!uv pip install --system polars',
        '!pip3 install --index-url https://pypi.example.org/simple requests',
        '!cd /tmp && pip install seaborn; echo done',
        'files = !pip install plotly',
        'for p in range(2):\n    !pip install tqdm',
      ]),
    ).toEqual(['pandas', 'numpy', 'polars', 'requests', 'seaborn', 'plotly', 'tqdm']);
  });

  it('reads conda installs: channels, =version pins and fuzzy specs', () => {
    const result = lintNotebook([unpinnedInstall], ['%conda install -y -c conda-forge numpy=1.26.4 conda-forge::pandas "scipy>=1.10" xgboost==2.0.3'], { project: { installed } });
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['conda-forge::pandas', '"scipy>=1.10"']);
    expect(result.findings[0]!.message).toContain('better, move it to environment.yml');
    expect(applyFix(result, result.findings[0]!.fixes[0]!)).toEqual(['%conda install -y -c conda-forge numpy=1.26.4 conda-forge::pandas==2.2.2 "scipy>=1.10" xgboost==2.0.3']);
  });

  it('reports VCS installs without a commit or on a moving branch', () => {
    const result = lintNotebook([unpinnedInstall], [
      '!pip install git+https://github.com/org/tool.git\n!pip install "mylib @ git+https://github.com/org/mylib@main"\n!pip install git+ssh://git@github.com/org/x.git@3f2a9c1',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['git+https://github.com/org/tool.git', '"mylib @ git+https://github.com/org/mylib@main"']);
    expect(result.findings[0]!.message).toBe(
      "`git+https://github.com/org/tool.git` installs whatever the repository's default branch holds when the cell runs: pin a commit (`...@<commit sha>`) so the next run gets the same code",
    );
    expect(result.findings[1]!.message).toContain('the branch `main`');
  });

  it('follows a command continued over several lines, and %%bash cells', () => {
    const result = lintNotebook([unpinnedInstall], ['!pip install \\\n    pandas==2.2.2 \\\n    numpy', '%%bash\nset -e\npip install requests\necho ok']);
    expect(where(result)).toEqual(['0:2:4 unpinned-install', '1:2:12 unpinned-install']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['numpy', 'requests']);
  });

  it('does not report exact pins, requirement files, local paths, archives, pinned VCS URLs or tooling', () => {
    expect(
      flaggedAll([
        '!pip install pandas==2.2.2 "scikit-learn[alldeps]==1.5.0" torch===2.3.0 "numpy==1.26.4; python_version>\'3.9\'"',
        '!pip install -r requirements.txt\n%pip install --requirement=requirements-dev.txt -c constraints.txt',
        '!pip install -e .\n!pip install .\n!pip install ./libs/mytool ../other dist/mypkg-0.1-py3-none-any.whl',
        '!pip install https://example.org/pkgs/thing-1.0.tar.gz',
        '!pip install git+https://github.com/org/tool.git@v1.4.2 "lib @ git+https://github.com/org/lib@3f2a9c1d"',
        '!pip install --upgrade pip setuptools wheel',
        '!pip install -i https://pypi.example.org/simple --extra-index-url https://mirror --target lib -f wheels -qU pandas==2.2.2',
        '!pip install -rrequirements.txt --progress-bar off --no-deps\n!pip --proxy proxyhost install -e src/mylib',
        '%conda install -c conda-forge --file environment.txt numpy==1.26.4 pandas=2.2.2=py311_0',
      ]),
    ).toEqual([]);
  });

  it('ignores packages only known when the cell runs, and other commands', () => {
    expect(
      flaggedAll([
        '!pip install {package}\n!pip install $PKG\n!pip install {" ".join(packages)}',
        '!pip uninstall -y pandas\n!pip show pandas\n!pip freeze > requirements.txt\n!pip download pandas',
        '!echo pip install pandas\n!conda create -n env pandas\n%time x = 1',
        'print("pip install pandas")  # !pip install numpy',
        '%%writefile setup.sh\npip install pandas',
        '!pip install pandas==2.2.2  # then pandas',
      ]),
    ).toEqual([]);
  });

  it('honours a suppression comment at the end of the shell line', () => {
    const result = lintNotebook([unpinnedInstall], ['!pip install pandas  # nb2prod: ignore[unpinned-install]\n%pip install numpy # nb2prod: ignore[other-rule]\n!pip install scipy # nb2prod: ignore']);
    expect(result.findings.map((f) => flagged(result, f))).toEqual(['numpy']);
  });

  it('does not apply to scripts', () => {
    expect(lintScript([unpinnedInstall], 'import os\n').findings).toEqual([]);
  });
});
