/**
 * What people and files typed reaches the terminal as text, never as control sequences: a run
 * name or `--by` holding an escape sequence (retitle the terminal, clear the screen) or a newline
 * (forging an extra output line) is printed escaped, in every text output; JSON keeps the value.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { personOf, runInProcess } from './inProcess';

const EVIL = 'churn \u001b]0;owned\u0007\u001b[2J\nOK: all checks passed\r';
let root: string;
let runId: string;

const cli = (args: string[]) => runInProcess(args, root, {}, personOf(args));
/** No control character but newline in the output, and the fake line never starts a line. */
function expectSafe(text: string): void {
  // eslint-disable-next-line no-control-regex
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  expect(text).not.toMatch(/^OK: all checks passed/m);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-terminal-'));
  const store = new RunStore(path.join(root, '.nb2prod'));
  const run = makeEnvelope({ name: EVIL, tags: [EVIL], group: EVIL, metrics: { auc: 0.9 } });
  run.error = { message: `ValueError: \u001b[31mred\u001b[0m` };
  await store.writeRun(run);
  store.close();
  runId = run.id;
  await fs.mkdir(path.join(root, 'models'));
  await fs.writeFile(path.join(root, 'models', 'm.bin'), 'model');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('terminal output', () => {
  it('runs and show print a crafted run name, tags, group and error escaped', async () => {
    const list = await cli(['runs']);
    expect(list.code).toBe(0);
    expectSafe(list.stdout);
    expect(list.stdout).toContain('churn \\x1b]0;owned\\x07\\x1b[2J\\nOK: all checks passed\\r');
    const show = await cli(['show', runId]);
    expectSafe(show.stdout);
    expect(show.stdout).toContain('ValueError: \\x1b[31mred\\x1b[0m');
    const json = JSON.parse((await cli(['show', runId, '--json'])).stdout) as { name: string };
    expect(json.name).toBe(EVIL);
  });

  it('registry text prints --by, reasons and notes escaped', async () => {
    expect((await cli(['registry', 'register', 'churn', runId, '--file', 'models/m.bin', '--by', EVIL, '--note', EVIL])).code).toBe(0);
    expect((await cli(['registry', 'promote', 'churn', '1', '--to', 'champion', '--by', EVIL, '--reason', EVIL])).code).toBe(0);
    for (const args of [['registry', 'list'], ['registry', 'show', 'churn', '1'], ['registry', 'history']]) {
      const result = await cli(args);
      expect(result.code).toBe(0);
      expectSafe(result.stdout);
      expectSafe(result.stderr);
    }
    expect((await cli(['registry', 'history'])).stdout).toContain('by churn \\x1b]0;owned\\x07\\x1b[2J\\nOK: all checks passed: churn \\x1b]0;owned');
  });

  it('an error message quoting what was typed is escaped too', async () => {
    const result = await cli(['show', 'zz\u001b[2Jzz']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('zz\\x1b[2Jzz');
    expectSafe(result.stderr);
  });
});
