/**
 * nb2prod runs notebooks in a Python kernel: a notebook of another language (Julia, R…) is
 * refused with a one-line reason (exit 2) before anything runs, instead of running its cells as
 * Python. No Python is started, so these run in-process.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';

let workspace: string;
beforeEach(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-kernel-'));
});
afterEach(async () => {
  await fs.rm(workspace, { recursive: true, force: true });
});

function notebook(metadata: Record<string, unknown>): string {
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells: [{ cell_type: 'code', id: 'a', metadata: {}, source: 'println("hi")', outputs: [], execution_count: null }] });
}

describe('track refuses notebooks that are not Python', () => {
  it.each([
    ['a Julia kernelspec', { kernelspec: { name: 'julia-1.9', display_name: 'Julia 1.9.3', language: 'julia' } }, 'a julia notebook (kernel "Julia 1.9.3")'],
    ['an R kernel known by language_info only', { language_info: { name: 'R' }, kernelspec: { name: 'ir', display_name: 'R' } }, 'an R notebook (kernel "R")'],
    ['a kernel name of another language, no language stated', { kernelspec: { name: 'julia-1.10', display_name: 'Julia 1.10' } }, 'a julia notebook (kernel "Julia 1.10")'],
  ])('%s', async (_what, metadata, said) => {
    await fs.writeFile(path.join(workspace, 'nb.ipynb'), notebook(metadata));
    const result = await runInProcess(['track', 'nb.ipynb', '--python', '/no/python/needed'], workspace);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([`nb2prod track: nb.ipynb is ${said}: nb2prod runs notebooks in a Python kernel, where its cells would fail. Track Python notebooks (or scripts with nb2prod run).`]);
    await expect(fs.readdir(path.join(workspace, '.nb2prod', 'runs'))).rejects.toThrow();
  });

  it('lets Python notebooks through, whatever their kernel is called', async () => {
    // The interpreter does not exist: getting as far as starting it means the notebook was accepted.
    for (const metadata of [{ kernelspec: { name: 'conda-env-ml-py', display_name: 'ml', language: 'python' } }, {}, { kernelspec: { name: 'myenv' } }, { language_info: { name: 'python', version: '3.11' } }]) {
      await fs.writeFile(path.join(workspace, 'nb.ipynb'), notebook(metadata));
      const result = await runInProcess(['track', 'nb.ipynb', '--python', '/no/such/python'], workspace);
      expect(result.stderr).toContain('Cannot start Python "/no/such/python"');
    }
  });
});
