import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataVersionIndex, gitattributesPattern, parseDvcOuts } from '../../../src/core/lint/project/versioning';

const made: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nb2prod-versioning-'));
  made.push(dir);
  return dir;
}

function write(root: string, file: string, text = 'x\n'): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

function git(root: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: root, stdio: 'ignore' });
}

function gitRepo(): string {
  const root = tempDir();
  git(root, 'init', '-q');
  return root;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('DataVersionIndex', () => {
  it('tells committed, staged and untracked files apart in a real git repository', async () => {
    const root = gitRepo();
    write(root, 'data/committed.csv');
    write(root, 'data/staged.csv');
    write(root, 'data/untracked.csv');
    write(root, 'data/with space ü.csv');
    git(root, 'add', 'data/committed.csv', 'data/with space ü.csv');
    git(root, 'commit', '-q', '-m', 'data');
    git(root, 'add', 'data/staged.csv');
    const index = await DataVersionIndex.scan(root, { useGit: true });
    const at = (file: string) => index.versioning(path.join(root, file));
    expect(at('data/committed.csv')).toBe('git');
    expect(at('data/with space ü.csv')).toBe('git');
    // Staged is in the index: it will be in the next commit.
    expect(at('data/staged.csv')).toBe('git');
    expect(at('data/untracked.csv')).toBe('untracked');
    expect(at('data/missing.csv')).toBe('untracked');
    // A folder holding tracked files counts as tracked (a partitioned dataset).
    expect(at('data')).toBe('git');
    // Outside the root: cannot tell.
    expect(index.versioning(path.join(path.dirname(root), 'elsewhere.csv'))).toBe('unknown');
  });

  it('reports DVC-tracked files and folders: .dvc files, their outs, and dvc.lock outs', async () => {
    const root = gitRepo();
    write(root, 'data/raw.csv.dvc', 'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12\n  path: raw.csv\n');
    write(root, 'images.dvc', 'outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: images\n');
    write(root, 'legacy.parquet.dvc', 'not yaml at all');
    write(
      root,
      'pipeline/dvc.lock',
      [
        'schema: "2.0"',
        'stages:',
        '  prepare:',
        '    cmd: python prepare.py',
        '    deps:',
        '    - path: ../data/raw.csv',
        '      md5: abc',
        '    outs:',
        '    - path: prepared/train.parquet  # the split',
        '      md5: def',
        "    - path: 'prepared/test.parquet'",
        '  train:',
        '    deps:',
        '    - path: prepared/train.parquet',
        '',
      ].join('\n'),
    );
    write(root, 'dvc.yaml', 'stages:\n  featurize:\n    cmd: python f.py\n    deps:\n      - data/raw.csv\n    outs:\n      - features/\n      - metrics.json:\n          cache: false\n');
    write(root, 'data/raw.csv');
    write(root, 'data/other.csv');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'dvc');
    const index = await DataVersionIndex.scan(root, { useGit: true });
    const at = (file: string) => index.versioning(path.join(root, file));
    expect(at('data/raw.csv')).toBe('dvc');
    expect(at('images/cats/001.png')).toBe('dvc');
    expect(at('legacy.parquet')).toBe('dvc');
    expect(at('pipeline/prepared/train.parquet')).toBe('dvc');
    expect(at('pipeline/prepared/test.parquet')).toBe('dvc');
    expect(at('features/part-0.parquet')).toBe('dvc');
    expect(at('metrics.json')).toBe('dvc');
    // Committed to git and not a DVC out.
    expect(at('data/other.csv')).toBe('git');
    // A dependency is not an output.
    expect(at('pipeline/data/raw.csv')).toBe('untracked');
  });

  it('reports LFS for committed files matching filter=lfs patterns, root and nested, with later lines winning', async () => {
    const root = gitRepo();
    write(root, '.gitattributes', '*.parquet filter=lfs diff=lfs merge=lfs -text\n/models/** filter=lfs\n*.md text\n');
    write(root, 'raw/.gitattributes', '*.csv filter=lfs diff=lfs merge=lfs -text\nsmall.csv -filter\n');
    for (const file of ['a/b/table.parquet', 'models/v1/model.bin', 'raw/deep/x.csv', 'raw/small.csv', 'top.csv', 'sub/models/other.bin']) write(root, file);
    write(root, 'untracked.parquet');
    git(root, 'add', '.gitattributes', 'raw/.gitattributes', 'a', 'models', 'raw', 'top.csv', 'sub');
    git(root, 'commit', '-q', '-m', 'lfs patterns');
    const index = await DataVersionIndex.scan(root, { useGit: true });
    const at = (file: string) => index.versioning(path.join(root, file));
    expect(at('a/b/table.parquet')).toBe('lfs');
    expect(at('models/v1/model.bin')).toBe('lfs');
    expect(at('raw/deep/x.csv')).toBe('lfs');
    expect(at('raw/small.csv')).toBe('git');
    expect(at('top.csv')).toBe('git');
    // `/models/**` is anchored at the root.
    expect(at('sub/models/other.bin')).toBe('git');
    // An LFS pattern does not pin a file nobody committed.
    expect(at('untracked.parquet')).toBe('untracked');
  });

  it('answers unknown without git (not a repository, or git not allowed), but still knows DVC and LFS', async () => {
    const root = tempDir();
    write(root, 'data.csv');
    write(root, 'data/big.csv.dvc', 'outs:\n- path: big.csv\n');
    write(root, '.gitattributes', '*.h5 filter=lfs\n');
    const notRepo = await DataVersionIndex.scan(root, { useGit: true });
    expect(notRepo.versioning(path.join(root, 'data.csv'))).toBe('unknown');
    expect(notRepo.versioning(path.join(root, 'data/big.csv'))).toBe('dvc');
    expect(notRepo.versioning(path.join(root, 'weights.h5'))).toBe('lfs');

    const repo = gitRepo();
    write(repo, 'data.csv');
    git(repo, 'add', 'data.csv');
    git(repo, 'commit', '-q', '-m', 'x');
    const untrusted = await DataVersionIndex.scan(repo, { useGit: false });
    expect(untrusted.versioning(path.join(repo, 'data.csv'))).toBe('unknown');
  });

  it('scans a project that is a sub-folder of a repository', async () => {
    const repo = gitRepo();
    write(repo, 'projects/churn/data/in.csv');
    write(repo, 'projects/churn/data/new.csv');
    git(repo, 'add', 'projects/churn/data/in.csv');
    git(repo, 'commit', '-q', '-m', 'x');
    const root = path.join(repo, 'projects/churn');
    const index = await DataVersionIndex.scan(root, { useGit: true });
    expect(index.versioning(path.join(root, 'data/in.csv'))).toBe('git');
    expect(index.versioning(path.join(root, 'data/new.csv'))).toBe('untracked');
  });
});

describe('gitattributes patterns', () => {
  const matches = (pattern: string, file: string) => gitattributesPattern(pattern)?.test(file) ?? false;

  it('matches base names at any depth without a slash, and anchors patterns with one', () => {
    expect(matches('*.csv', 'a/b/c.csv')).toBe(true);
    expect(matches('*.csv', 'c.csv')).toBe(true);
    expect(matches('*.csv', 'a.csv/b.txt')).toBe(false);
    expect(matches('data/*.csv', 'data/x.csv')).toBe(true);
    expect(matches('data/*.csv', 'data/sub/x.csv')).toBe(false);
    expect(matches('data/*.csv', 'other/data/x.csv')).toBe(false);
    expect(matches('/x.bin', 'x.bin')).toBe(true);
    expect(matches('/x.bin', 'a/x.bin')).toBe(false);
    expect(matches('**/raw/*.json', 'a/b/raw/x.json')).toBe(true);
    expect(matches('**/raw/*.json', 'raw/x.json')).toBe(true);
    expect(matches('data/**', 'data/a/b/c')).toBe(true);
    expect(matches('a/**/z.txt', 'a/z.txt')).toBe(true);
    expect(matches('a/**/z.txt', 'a/b/c/z.txt')).toBe(true);
    expect(matches('img?.png', 'img1.png')).toBe(true);
    expect(matches('*.[ch]5', 'm.h5')).toBe(true);
    expect(matches('dir/', 'dir')).toBe(false);
  });

  it('reads outs from .dvc, dvc.lock and dvc.yaml shapes', () => {
    expect(parseDvcOuts('outs:\n- md5: abc\n  path: x.csv\n')).toEqual(['x.csv']);
    expect(parseDvcOuts('deps:\n- path: in.csv\nouts:\n  - path: "out dir"\nmeta:\n  path: nope\n')).toEqual(['out dir']);
    expect(parseDvcOuts('stages:\n  s:\n    outs:\n    - a.csv\n    - b.json:\n        cache: false\n    params:\n    - lr\n')).toEqual(['a.csv', 'b.json']);
  });
});
