/** containedPath: paths read from files stay inside the workspace or store, links resolved. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable } from '../../src/core/printable';
import { containedPath, isInsideFolder } from '../../src/core/safePath';

let root: string;
let workspace: string;
let store: string;
const options = () => ({ base: workspace, roots: [workspace, store], what: 'the file', from: 'a test' });

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-safepath-')));
  workspace = path.join(root, 'ws');
  store = path.join(root, 'elsewhere-store');
  await fs.mkdir(path.join(workspace, 'data'), { recursive: true });
  await fs.mkdir(store);
  await fs.mkdir(path.join(root, 'outside'));
  await fs.writeFile(path.join(root, 'outside', 'secret'), 'x');
  await fs.symlink(path.join(root, 'outside'), path.join(workspace, 'out-link'));
  await fs.symlink(path.join(workspace, 'data'), path.join(workspace, 'in-link'));
  await fs.symlink(path.join(root, 'outside', 'nothing'), path.join(workspace, 'dangling'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('containedPath', () => {
  it('accepts relative and absolute paths inside a root, existing or not', async () => {
    expect(await containedPath('data/a.csv', options())).toBe(path.join(workspace, 'data', 'a.csv'));
    expect(await containedPath('new/dir/file.bin', options())).toBe(path.join(workspace, 'new', 'dir', 'file.bin'));
    expect(await containedPath(path.join(store, 'objects', 'x'), options())).toBe(path.join(store, 'objects', 'x'));
    expect(await containedPath('in-link/a.csv', options())).toBe(path.join(workspace, 'in-link', 'a.csv'));
    expect(await containedPath('data/../data/a.csv', options())).toBe(path.join(workspace, 'data', 'a.csv'));
  });

  it('refuses ../, absolute paths elsewhere, links leading out, dangling links and NUL bytes, in one line', async () => {
    await expect(containedPath('../outside/secret', options())).rejects.toThrow(/^Refused the file: "\.\.\/outside\/secret" \(from a test\) is outside the workspace \(.*\) and the store\.$/);
    await expect(containedPath(path.join(root, 'outside', 'secret'), options())).rejects.toMatchObject({ code: 'unsafe-path' });
    await expect(containedPath('out-link/secret', options())).rejects.toThrow(/leads outside .* through a symbolic link \(to .*outside\/secret\)/);
    await expect(containedPath('out-link/new/deeper', options())).rejects.toThrow(/through a symbolic link/);
    await expect(containedPath('dangling', options())).rejects.toThrow(/symbolic link whose target does not exist/);
    await expect(containedPath('data/a\0b', options())).rejects.toThrow(/not a usable path/);
    await expect(containedPath('x\n\u001b[2Jy/../../..', options())).rejects.toThrow(/"x\\n\\x1b\[2Jy\/\.\.\/\.\.\/\.\."/);
  });

  it('keeps out of an excluded folder inside a root', async () => {
    await expect(containedPath('.nb2prod/runs/a.json', { ...options(), exclude: [path.join(workspace, '.nb2prod')] })).rejects.toThrow(/inside the store/);
  });

  it('isInsideFolder does not take a sibling with a common prefix for a child', () => {
    expect(isInsideFolder('/a/ws', '/a/ws')).toBe(true);
    expect(isInsideFolder('/a/ws', '/a/ws/x')).toBe(true);
    expect(isInsideFolder('/a/ws', '/a/ws2/x')).toBe(false);
    expect(isInsideFolder('/a/ws', '/a/ws/..x')).toBe(true);
    expect(isInsideFolder('/a/ws', '/a')).toBe(false);
  });
});

describe('printable', () => {
  it('shows control characters, escape sequences, newlines and bidi overrides as escapes', () => {
    expect(printable('run\u001b]0;pwned\u0007 1\nFAKE LINE\r\t\u202eevil\u0085')).toBe('run\\x1b]0;pwned\\x07 1\\nFAKE LINE\\r\\t\\u202eevil\\x85');
    expect(printable('plain – ünïcode 名前')).toBe('plain – ünïcode 名前');
    expect(printable('abcdef', 4)).toBe('abc…');
  });
});
