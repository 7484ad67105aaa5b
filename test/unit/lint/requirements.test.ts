import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLocalModuleIn, readDeclaredRequirements, requirementName } from '../../../src/core/lint/project/requirements';

let root: string;

function write(relative: string, text: string): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

async function read(fromDir = '.'): Promise<{ files: string[]; names: string[] } | null> {
  const declared = await readDeclaredRequirements(root, path.join(root, fromDir));
  return declared && { files: declared.files, names: [...declared.names].sort() };
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'nb2prod-req-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('readDeclaredRequirements', () => {
  it('returns null when the project has no requirement file', async () => {
    write('notebooks/analysis.ipynb', '{}');
    write('README.md', '# hello');
    expect(await read('notebooks')).toBeNull();
  });

  it('reads requirements.txt lines: specifiers, extras, markers, URLs, comments, options, includes', async () => {
    write(
      'requirements.txt',
      [
        '# pinned with pip freeze',
        'pandas==2.2.2  # data frames',
        'Scikit_Learn>=1.3',
        'uvicorn[standard]==0.30.1 ; python_version >= "3.9"',
        'torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0-cp311-none-linux_x86_64.whl',
        'https://example.org/pkgs/thing_one-1.0-py3-none-any.whl',
        '-e git+https://github.com/org/mylib.git@3f2a9c1#egg=my-lib',
        '-e .',
        './local/path',
        '--index-url https://pypi.example.org/simple',
        '-c constraints.txt',
        'numpy==1.26.4 \\',
        '    --hash=sha256:abc',
        '-r base.txt',
        '--requirement=nested/extra.txt',
        '',
      ].join('\n'),
    );
    write('base.txt', 'requests==2.32.3\n-r requirements.txt\n');
    write('nested/extra.txt', 'polars\n-r ../base.txt\n');
    write('constraints.txt', 'notdeclared==1.0\n');
    expect(await read()).toEqual({
      files: ['requirements.txt', 'base.txt', 'nested/extra.txt'],
      names: ['my-lib', 'numpy', 'pandas', 'polars', 'requests', 'scikit-learn', 'thing-one', 'torch', 'uvicorn'],
    });
  });

  it('collects requirement files from the file folder up to the root, including requirements/ folders and variants', async () => {
    write('requirements.txt', 'pandas\n');
    write('requirements/dev.txt', 'pytest\n');
    write('notebooks/requirements-extra.txt', 'seaborn\n');
    write('notebooks/dev-requirements.in', 'black\n');
    write('notebooks/deep/analysis.ipynb', '{}');
    expect(await read('notebooks/deep')).toEqual({
      files: ['notebooks/dev-requirements.in', 'notebooks/requirements-extra.txt', 'requirements.txt', 'requirements/dev.txt'],
      names: ['black', 'pandas', 'pytest', 'seaborn'],
    });
  });

  it('does not look above the root', async () => {
    write('requirements.txt', 'pandas\n');
    write('project/analysis.ipynb', '{}');
    const declared = await readDeclaredRequirements(path.join(root, 'project'), path.join(root, 'project'));
    expect(declared).toBeNull();
  });

  it('reads pyproject.toml: PEP 621, optional dependencies, dependency groups, Poetry, uv and setuptools dynamic files', async () => {
    write(
      'pyproject.toml',
      `[project]
name = "my_project"
dynamic = ["version"]
dependencies = ["pandas>=2", "scikit-learn[alldeps]==1.5.0; python_version>'3.9'"]

[project.optional-dependencies]
plots = ["matplotlib", "Seaborn==0.13"]

[dependency-groups]
test = ["pytest>=8", { include-group = "lint" }]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.32"

[tool.poetry.group.docs.dependencies]
mkdocs = "*"

[tool.uv]
dev-dependencies = ["ipykernel"]

[tool.black]
line-length = 100
`,
    );
    expect(await read()).toEqual({
      files: ['pyproject.toml'],
      names: ['ipykernel', 'matplotlib', 'mkdocs', 'my-project', 'pandas', 'pytest', 'requests', 'ruff', 'scikit-learn', 'seaborn'],
    });
  });

  it('follows setuptools dynamic dependencies to their requirement files', async () => {
    write('pyproject.toml', '[project]\nname = "x"\ndynamic = ["dependencies"]\n[tool.setuptools.dynamic]\ndependencies = { file = ["deps/main.txt"] }\n');
    write('deps/main.txt', 'xgboost==2.0.3\n');
    expect(await read()).toEqual({ files: ['deps/main.txt', 'pyproject.toml'], names: ['x', 'xgboost'] });
  });

  it('does not count a pyproject.toml that only configures tools', async () => {
    write('pyproject.toml', '[tool.ruff]\nline-length = 100\n');
    expect(await read()).toBeNull();
  });

  it('reads a conda environment file with its pip section', async () => {
    write(
      'environment.yml',
      `name: analysis
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy=1.26.4
  - conda-forge::pandas>=2
  - "scipy 1.13.*"
  - pip
  - pip:
      - xgboost==2.0.3
      - -r requirements-pip.txt
      - torch @ https://example.org/torch-2.3.0-cp311-none-any.whl
  - matplotlib  # plots
variables:
  - NOT_A_PACKAGE
`,
    );
    expect(await read()).toEqual({
      files: ['environment.yml'],
      names: ['matplotlib', 'numpy', 'pandas', 'pip', 'python', 'scipy', 'torch', 'xgboost'],
    });
  });

  it('reads Pipfile, setup.cfg and lock files', async () => {
    write('Pipfile', '[packages]\nrequests = "*"\n"Flask" = {version = "==3.0"}\n\n[dev-packages]\npytest = "*"\n');
    write('setup.cfg', '[metadata]\nname = thing\n\n[options]\ninstall_requires =\n    click>=8\n    rich==13.7.1  # pretty\n\n[options.extras_require]\nyaml =\n    PyYAML\n');
    write('poetry.lock', '[[package]]\nname = "certifi"\nversion = "2024.2.2"\n\n[[package]]\nname = "idna"\nversion = "3.7"\n');
    write('uv.lock', 'version = 1\n[[package]]\nname = "charset-normalizer"\nversion = "3.3.2"\n');
    expect(await read()).toEqual({
      files: ['Pipfile', 'setup.cfg', 'poetry.lock', 'uv.lock'],
      names: ['certifi', 'charset-normalizer', 'click', 'flask', 'idna', 'pytest', 'pyyaml', 'requests', 'rich'],
    });
  });

  it('skips a malformed file and keeps reading the others', async () => {
    write('pyproject.toml', '[project\nname = broken');
    write('Pipfile.lock', '{ not json');
    write('requirements.txt', 'pandas==2.2.2\n');
    expect(await read()).toEqual({ files: ['requirements.txt'], names: ['pandas'] });
  });

  it('counts an empty requirements.txt as a (declaring nothing) requirements file', async () => {
    write('requirements.txt', '# nothing yet\n');
    expect(await read()).toEqual({ files: ['requirements.txt'], names: [] });
  });
});

describe('requirementName', () => {
  it('reads the distribution name of a requirement', () => {
    expect(requirementName('pandas[parquet]>=2; python_version>"3.9"')).toBe('pandas');
    expect(requirementName('my-lib @ git+https://github.com/org/lib')).toBe('my-lib');
    expect(requirementName('git+https://github.com/org/lib#egg=thing')).toBe('thing');
    expect(requirementName('./local/pkg')).toBeNull();
    expect(requirementName('${PKG}')).toBeNull();
  });
});

describe('isLocalModuleIn', () => {
  it('finds modules and packages of the project, with or without __init__.py', () => {
    write('utils.py', 'x = 1\n');
    write('src/features/__init__.py', '');
    write('helpers/io.py', '');
    const dirs = [root, path.join(root, 'src')];
    expect(isLocalModuleIn(dirs, 'utils')).toBe(true);
    expect(isLocalModuleIn(dirs, 'features')).toBe(true);
    expect(isLocalModuleIn(dirs, 'helpers')).toBe(true);
    expect(isLocalModuleIn(dirs, 'pandas')).toBe(false);
    expect(isLocalModuleIn(dirs, '../etc')).toBe(false);
  });
});
