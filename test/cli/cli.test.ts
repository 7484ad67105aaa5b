import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import { writeFixtureWorkspace } from '../fixtures/fixtureWorkspace';

const repo = path.join(__dirname, '..', '..');
const cliBundle = path.join(repo, 'dist', 'cli.js');
let workspace: string;
let runs: Array<{ id: string; name: string }>;

function cli(args: string[], cwd = workspace, env: Record<string, string> = {}) {
  return runInProcess(args, cwd, env);
}

beforeAll(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-cli-'));
  ({ runs } = await writeFixtureWorkspace(workspace, { corrupt: true }));
});
afterAll(async () => {
  await fs.rm(workspace, { recursive: true, force: true });
});

describe('nb2prod runs', () => {
  it('lists runs newest first and warns about the corrupt file on stderr', async () => {
    const { code, stdout, stderr } = await cli(['runs']);
    expect(code).toBe(0);
    const order = runs.map((r) => r.name).reverse();
    const positions = order.map((name) => stdout.indexOf(name));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(stderr).toMatch(/warning: runs\/01ARZ3NDEKTSV4RRFFQ69G5FAV\.json: /);
  });

  it('prints stable JSON with runs and problems', async () => {
    const { code, stdout } = await cli(['runs', '--json', '--status', 'succeeded', '--sort', 'accuracy']);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { runs: Array<{ name: string; metrics: Record<string, number> }>; problems: unknown[] };
    expect(parsed.runs.map((r) => r.name)).toEqual(['more estimators', 'deeper trees', 'baseline forest']);
    expect(parsed.problems).toHaveLength(1);
  });

  it('finds the store from a subfolder', async () => {
    const sub = path.join(workspace, 'notebooks', 'deep');
    await fs.mkdir(sub, { recursive: true });
    const { code, stdout } = await cli(['runs', '--json'], sub);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { runs: unknown[] }).runs).toHaveLength(4);
  });

  it('says so when a folder has no runs', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-empty-'));
    const { code, stdout } = await cli(['runs'], empty);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^No runs in /);
    await fs.rm(empty, { recursive: true });
  });

  it.each([
    [['runs', '--status', 'exploded'], /--status must be one of/],
    [['runs', '--limit', '0'], /--limit must be a positive whole number/],
    [['runs', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['runs', 'extra'], /unexpected argument "extra"/],
    [['runs', '--store', '/nonexistent/store'], /No run store at \/nonexistent\/store/],
    [['show'], /missing RUN/],
    [['show', 'ZZZZZZ'], /No run matches "ZZZZZZ"/],
    [['diff', 'latest'], /diff takes two runs, got 1/],
    [['nonsense'], /unknown command "nonsense"/],
  ])('%j exits 2 with one line', async (args, message) => {
    const { code, stderr, stdout } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stdout).toBe('');
  });
});

describe('nb2prod show and diff', () => {
  it('shows a run by unique prefix', async () => {
    const target = runs[1]!;
    const { code, stdout } = await cli(['show', target.id.slice(0, 20)]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Run ${target.id}  ${target.name}`);
    expect(stdout).toContain('accuracy = 0.861');
    expect(stdout).toContain('max_depth = 12');
  });

  it('shows the stored envelope as JSON', async () => {
    const { stdout } = await cli(['show', runs[0]!.id, '--json']);
    const envelope = JSON.parse(stdout) as { schema: string; id: string };
    expect(envelope).toMatchObject({ schema: 'nb2prod.run/1', id: runs[0]!.id });
  });

  it('diffs two runs in text and JSON', async () => {
    const [a, , c] = runs;
    const text = await cli(['diff', a!.id, c!.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('~ max_depth: 6 → 12');
    expect(text.stdout).toContain('~ scikit-learn: 1.2.1 → 1.3.0');
    expect(text.stdout).toContain('accuracy: 0.842 → 0.866  (+0.024, +2.85%)');
    const json = JSON.parse((await cli(['diff', a!.id, c!.id, '--json'])).stdout) as { params: unknown[]; metrics: Array<{ name: string; delta: number }> };
    expect(json.params).toHaveLength(2);
    expect(json.metrics.find((m) => m.name === 'accuracy')?.delta).toBeCloseTo(0.024, 10);
  });

  it('has --help on every command', async () => {
    for (const command of ['runs', 'show', 'diff']) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: nb2prod ${command}`));
      expect(stdout).toContain('--store DIR');
    }
    const main = await cli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Commands:\n\s+runs\s+list the runs/);
  });
});

describe('the built nb2prod executable', () => {
  const exec = promisify(execFile);
  beforeAll(async () => {
    if (!existsSync(cliBundle)) await exec(process.execPath, ['esbuild.mjs'], { cwd: repo });
  }, 60_000);

  it('runs as a real process with exit codes', async () => {
    const ok = await exec(process.execPath, [cliBundle, 'runs', '--store', path.join(workspace, '.nb2prod')]);
    expect(ok.stdout).toContain('baseline forest');
    const failure = await exec(process.execPath, [cliBundle, 'show', 'nope', '--store', path.join(workspace, '.nb2prod')]).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('No run matches "nope"') });
  });
});
