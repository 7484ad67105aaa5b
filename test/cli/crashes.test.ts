/**
 * The crashes of issue 14 (finding 7), each as it was found: every one used to exit 3 with a
 * stack, and `--limit -1` said "ambiguous". Each now exits 2 with one line saying what to fix,
 * or does the right thing. The generated suite (malformed.test.ts) covers the shapes around them.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import { writeFixtureWorkspace } from '../fixtures/fixtureWorkspace';

let root: string;
const store = () => path.join(root, '.nb2prod');

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-crashes-'));
  await writeFixtureWorkspace(root);
  await fs.writeFile(path.join(root, 'data.csv'), 'age,plan\n30,basic\n41,pro\n52,basic\n');
  const notebook = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'a', metadata: {}, execution_count: null, outputs: [], source: 'x = 1\n' }] };
  await fs.writeFile(path.join(root, 'nb.ipynb'), JSON.stringify(notebook));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Exit 2, one line on stderr naming the problem, nothing that looks like a stack. */
async function failsCleanly(args: string[], message: RegExp): Promise<void> {
  const { code, stderr } = await runInProcess(args, root);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
  expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
  expect(stderr).toMatch(message);
  expect(code).toBe(2);
}

describe('issue 14, finding 7: crashes', () => {
  for (const command of [
    ['drift', 'data.csv', 'data.csv'],
    ['lint', 'nb.ipynb'],
  ]) {
    it(`${command[0]} --output into a missing folder writes the report there`, async () => {
      const target = path.join(root, 'reports', 'deep', `${command[0]}.out`);
      const { code, stderr } = await runInProcess([...command, '--output', target], root);
      expect(stderr).not.toMatch(/internal error/);
      expect(code).toBe(0);
      expect((await fs.readFile(target, 'utf8')).length).toBeGreaterThan(10);
    });

    it(`${command[0]} --output onto a folder says so`, async () => {
      await failsCleanly([...command, '--output', root], /--output .* is a folder: give the name of a file/);
    });

    it(`${command[0]} --output under a file says so`, async () => {
      await failsCleanly([...command, '--output', path.join(root, 'data.csv', 'report.txt')], /data\.csv is a file, not a folder/);
    });
  }

  it('a report left half-written by a killed process is cleaned up by the next write of it', async () => {
    const reports = path.join(root, 'reports');
    await fs.mkdir(reports);
    // A pid that no longer runs: a child that has exited.
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = path.join(reports, `.lint.json.${dead}.tmp`);
    const other = path.join(reports, `.other.json.${dead}.tmp`);
    await fs.writeFile(stale, '{"partial');
    await fs.writeFile(other, '{"partial');
    const { code } = await runInProcess(['lint', 'nb.ipynb', '--format', 'json', '--output', path.join(reports, 'lint.json')], root);
    expect(code).toBe(0);
    expect((await fs.readdir(reports)).sort()).toEqual(['.other.json.' + dead + '.tmp', 'lint.json']);
  });

  it('runs --limit 1e99 is refused as not a whole number; a huge one lists everything', async () => {
    await failsCleanly(['runs', '--limit', '1e99'], /--limit must be a positive whole number, got "1e99"/);
    const { code, stdout } = await runInProcess(['runs', '--json', '--limit', '99999999999999999999999'], root);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { runs: unknown[] }).runs).toHaveLength(4);
  });

  it('runs --limit -1 says what --limit takes, not "ambiguous"', async () => {
    await failsCleanly(['runs', '--limit', '-1'], /--limit must be a positive whole number, got "-1"/);
    await failsCleanly(['drift', 'data.csv', 'data.csv', '--monitor', '-0.5'], /--monitor/);
  });

  for (const command of [['runs'], ['show', 'latest'], ['diff', 'latest', 'latest']]) {
    it(`${command.join(' ')} with .nb2prod/runs a file says the store is damaged`, async () => {
      await fs.rm(path.join(store(), 'runs'), { recursive: true });
      await fs.writeFile(path.join(store(), 'runs'), 'not a folder\n');
      await failsCleanly(command, /runs is not a folder/);
    });
  }

  it('runs with index.sqlite (the old index) or index.jsonl a folder lists the runs', async () => {
    await fs.mkdir(path.join(store(), 'index.sqlite'));
    await fs.mkdir(path.join(store(), 'index.jsonl'));
    const { code, stdout, stderr } = await runInProcess(['runs', '--json'], root);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { runs: unknown[] }).runs).toHaveLength(4);
  });

  for (const command of [['registry', 'list'], ['registry', 'show', 'churn'], ['registry', 'history', 'churn']]) {
    it(`${command.join(' ')} with registry.jsonl a folder says so in one line`, async () => {
      await fs.mkdir(path.join(store(), 'registry.jsonl'));
      await failsCleanly(command, /registry\.jsonl is a folder, not the registry file/);
    });
  }

  it('track of a notebook whose metadata nests 5,000 levels deep is refused as invalid', async () => {
    let metadata = '{}';
    for (let i = 0; i < 5000; i++) metadata = `{"a":${metadata}}`;
    const text = `{"nbformat":4,"nbformat_minor":5,"metadata":${metadata},"cells":[{"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"x = 1\\n"}]}`;
    await fs.writeFile(path.join(root, 'deep.ipynb'), text);
    await failsCleanly(['track', 'deep.ipynb', '--python', '/nonexistent/python'], /deep\.ipynb is not a valid notebook: its JSON nests more than 500 levels deep/);
  });
});
