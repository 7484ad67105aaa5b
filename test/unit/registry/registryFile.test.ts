import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTRY_SCHEMA, type RegistryEvent } from '../../../src/core/registry/events';
import { foldRegistry } from '../../../src/core/registry/fold';
import { appendRegistryEvents, parseRegistryText, readRegistryFile } from '../../../src/core/registry/registryFile';
import { sha256Hex } from '../../../src/core/hash';
import { newRunId } from '../../../src/core/ids';

const run = promisify(execFile);
const RUN = newRunId();
let dir: string | undefined;
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function register(model: string, n: number): RegistryEvent {
  return {
    schema: REGISTRY_SCHEMA,
    id: newRunId(),
    type: 'register',
    at: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString(),
    by: 'ana@example.com',
    model,
    proposedVersion: n,
    run: RUN,
    file: { path: 'models/m.bin', sha256: sha256Hex(`${model}${n}`), bytes: 10, stored: false },
    data: [],
    metrics: { auc: 0.8 },
    group: null,
    runs: [RUN],
    note: null,
  };
}

async function tempFile(): Promise<string> {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-registry-'));
  return path.join(dir, '.nb2prod', 'registry.jsonl');
}

describe('registry file', () => {
  it('reads every good line around a corrupt one and reports the bad line', () => {
    const lines = [JSON.stringify(register('churn', 1)), '{"schema": "nb2prod.registry/1", "type": "regi', JSON.stringify({ ...register('churn', 2), model: '' }), '', JSON.stringify(register('churn', 3))];
    const { events, problems } = parseRegistryText(`${lines.join('\n')}\n`);
    expect(events).toHaveLength(2);
    expect(problems).toEqual([
      { line: 2, message: expect.stringMatching(/^not valid JSON/) },
      { line: 3, message: expect.stringMatching(/not a valid registry event \(model: /) },
    ]);
    expect(foldRegistry(events).models.churn!.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('reports an unknown event type and a foreign schema', () => {
    const { problems } = parseRegistryText(`${JSON.stringify({ ...register('a', 1), type: 'retire' })}\n${JSON.stringify({ schema: 'other/1' })}\n`);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/unknown event type "retire"/), expect.stringMatching(/schema is "other\/1"/)]);
  });

  it('survives a crash mid-write: the truncated last line is reported, the rest is read, the next append starts a fresh line', async () => {
    const file = await tempFile();
    await appendRegistryEvents(file, [register('churn', 1), register('churn', 2)]);
    const partial = JSON.stringify(register('churn', 3)).slice(0, 57);
    await fs.appendFile(file, partial);

    const before = await readRegistryFile(file);
    expect(before.events).toHaveLength(2);
    expect(before.problems).toEqual([{ line: 3, message: expect.stringMatching(/last line is incomplete/) }]);

    await appendRegistryEvents(file, [register('churn', 4)]);
    const text = await fs.readFile(file, 'utf8');
    expect(text.split('\n')[2]).toBe(partial);
    expect(text.endsWith('\n')).toBe(true);
    const after = await readRegistryFile(file);
    expect(after.events).toHaveLength(3);
    expect(after.problems).toEqual([{ line: 3, message: expect.stringMatching(/^not valid JSON/) }]);
    expect(foldRegistry(after.events).models.churn!.versions.map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('a missing file is an empty registry', async () => {
    expect(await readRegistryFile(path.join(os.tmpdir(), 'nb2prod-no-such', 'registry.jsonl'))).toEqual({ events: [], problems: [] });
  });

  it('two writer processes appending 200 events each at once lose nothing', async () => {
    const file = await tempFile();
    const writer = path.join(__dirname, '..', '..', 'fixtures', 'registryWriter.ts');
    const spawn = (label: string) => run(process.execPath, ['--import', 'tsx', writer, file, '200', label], { cwd: path.join(__dirname, '..', '..', '..') });
    const results = await Promise.all([spawn('alpha'), spawn('beta')]);
    expect(results.map((r) => r.stdout.trim())).toEqual(['wrote 200', 'wrote 200']);

    const text = await fs.readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(401);
    const { events, problems } = await readRegistryFile(file);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(400);
    const state = foldRegistry(events);
    for (const label of ['alpha', 'beta']) {
      const versions = state.models[label]!.versions;
      expect(versions).toHaveLength(200);
      // Each writer's events keep their order, numbered 1..200.
      expect(versions.map((v) => v.metrics.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
  }, 120_000);
});

describe('registry lock', () => {
  const REPO = path.join(__dirname, '..', '..', '..');
  const fixture = path.join(REPO, 'test', 'fixtures', 'registryLockUser.ts');

  /** Starts a process holding the registry's lock; resolves once it holds it. */
  async function holder(file: string) {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'hold', file], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('locked')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    });
    return child;
  }

  it('waits for a live holder, and takes over at once from a holder killed with SIGKILL', async () => {
    const file = await tempFile();
    const child = await holder(file);
    const lock = `${file}.lock`;
    expect(JSON.parse(await fs.readFile(lock, 'utf8'))).toMatchObject({ pid: child.pid, host: os.hostname() });

    // While it lives, an append waits.
    let appended = false;
    const append = appendRegistryEvents(file, [register('churn', 1)]).then(() => (appended = true));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(appended).toBe(false);

    // Killed: its lock is left behind, and taken over without waiting for it to age.
    const started = Date.now();
    child.kill('SIGKILL');
    await append;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await readRegistryFile(file)).events).toHaveLength(1);
    await expect(fs.stat(lock)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('several waiters breaking the same dead holder\'s lock still hold it one at a time', async () => {
    const file = await tempFile();
    const log = path.join(path.dirname(file), 'critical.log');
    const child = await holder(file);
    const waiters = Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', fixture, 'critical', file, log, '5'], { cwd: REPO }));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the waiters are all waiting on the held lock
    child.kill('SIGKILL');
    const outputs = await Promise.all(waiters);
    expect(outputs.map((o) => o.stdout.trim())).toEqual(['done', 'done', 'done', 'done']);
    const lines = (await fs.readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(40);
    // Strictly alternating enter/exit of the same process: never two holders at once.
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^enter \d+$/);
      expect(lines[i + 1]).toBe(lines[i]!.replace('enter', 'exit'));
    }
  }, 120_000);
});

describe('registry file in the wrong shape', () => {
  it('a folder where the registry or its lock should be is a one-line error, not a crash or a long wait', async () => {
    const file = await tempFile();
    await fs.mkdir(file, { recursive: true });
    await expect(readRegistryFile(file)).rejects.toMatchObject({ code: 'store-unwritable', message: expect.stringMatching(/is a folder, not the registry file: move it away/) });
    await fs.rm(file, { recursive: true });
    await fs.mkdir(`${file}.lock`, { recursive: true });
    const started = Date.now();
    await expect(appendRegistryEvents(file, [register('churn', 1)])).rejects.toMatchObject({ code: 'store-unwritable', message: expect.stringMatching(/is not a lock file \(a folder\)/) });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
