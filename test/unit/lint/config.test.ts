import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globToRegExp, isExcluded, loadLintConfig, parseLintSection, withRuleOverrides } from '../../../src/core/lint/config';
import { notebookLineMap } from '../../../src/core/lint/lintFiles';
import { notebookJson } from './lintHelpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-lint-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lint configuration', () => {
  it('reads [tool.nb2prod.lint] from the nearest pyproject.toml', async () => {
    const project = path.join(dir, 'p1');
    await mkdir(path.join(project, 'notebooks', 'deep'), { recursive: true });
    await writeFile(path.join(project, 'pyproject.toml'), '[project]\nname = "x"\n[tool.nb2prod.lint]\nexclude = ["scratch/**"]\n[tool.nb2prod.lint.rules]\nunexecuted-cell = "off"\nabsolute-path = "error"\n');
    const config = loadLintConfig(path.join(project, 'notebooks', 'deep'), dir);
    expect(config.rules).toEqual({ 'unexecuted-cell': 'off', 'absolute-path': 'error' });
    expect(config.file).toBe(path.join(project, 'pyproject.toml'));
    expect(isExcluded(config, path.join(project, 'scratch', 'a', 'try.ipynb'))).toBe(true);
    expect(isExcluded(config, path.join(project, 'notebooks', 'try.ipynb'))).toBe(false);
  });

  it('prefers nb2prod.toml and skips a pyproject.toml without an nb2prod section', async () => {
    const project = path.join(dir, 'p2');
    await mkdir(path.join(project, 'sub'), { recursive: true });
    await writeFile(path.join(project, 'nb2prod.toml'), '[lint.rules]\nhardcoded-secret = "warning"\n');
    await writeFile(path.join(project, 'sub', 'pyproject.toml'), '[project]\nname = "sub"\n');
    expect(loadLintConfig(path.join(project, 'sub'), dir).rules).toEqual({ 'hardcoded-secret': 'warning' });
  });

  it('rejects unknown rules, bad severities, unknown keys and broken TOML, naming the file', async () => {
    expect(() => parseLintSection({ rules: { 'no-such': 'error' } }, 'x.toml', null)).toThrow(/x\.toml: unknown rule `no-such`/);
    expect(() => parseLintSection({ rules: { 'syntax-error': 'loud' } }, 'x.toml', null)).toThrow(/must be "error", "warning", "info" or "off"/);
    expect(() => parseLintSection({ ignore: [] }, 'x.toml', null)).toThrow(/unknown key `ignore`/);
    const broken = path.join(dir, 'p3');
    await mkdir(broken);
    await writeFile(path.join(broken, 'nb2prod.toml'), '[lint\n');
    expect(() => loadLintConfig(broken, dir)).toThrow(/nb2prod\.toml: it is not valid TOML/);
  });

  it('applies editor overrides on top, ignoring unknown entries', () => {
    const base = parseLintSection({ rules: { 'absolute-path': 'error' } }, 'x', null);
    expect(withRuleOverrides(base, { 'absolute-path': 'off', 'made-up': 'error', 'syntax-error': 'loud' }).rules).toEqual({ 'absolute-path': 'off' });
  });

  it('matches globs as .gitignore does', () => {
    expect(globToRegExp('*.ipynb').test('a/b/c.ipynb')).toBe(true);
    expect(globToRegExp('scratch').test('scratch/x.py')).toBe(true);
    expect(globToRegExp('notebooks/*.ipynb').test('notebooks/a.ipynb')).toBe(true);
    expect(globToRegExp('notebooks/*.ipynb').test('notebooks/deep/a.ipynb')).toBe(false);
    expect(globToRegExp('**/old_*.py').test('x/y/old_train.py')).toBe(true);
  });
});

describe('notebook line map', () => {
  it('maps each cell source line to its line in the .ipynb file', () => {
    const text = notebookJson(['import os\nx = 1', { source: '# Title', kind: 'markdown' }, 'print(x)']);
    const map = notebookLineMap(text);
    const lines = text.split('\n');
    expect(map).toHaveLength(3);
    expect(lines[map[0]![1]! - 1]).toContain('"x = 1"');
    expect(lines[map[2]![0]! - 1]).toContain('"print(x)"');
  });
});
