/**
 * The generated malformed-input suite (issue 14): every way of breaking a file (test/fixtures/
 * malformed.ts: truncated, garbage, empty, huge, deeply nested, wrong type, BOM, UTF-16, NUL,
 * control characters, a folder, symlink loops, dangling, unreadable, FIFOs where nb2prod reads
 * files it was not given) × every place a file is read (run files, the registry, config files,
 * notebooks, data files, model files) × the commands that read it; and every string option and
 * positional of every command with out-of-range numbers, empty strings, control characters and
 * huge values. For each case, in a fresh copy of a workspace:
 *   - the exit code is 0, 1 or 2 — never 3 (a crash), never an exception out of runCli;
 *   - stderr has no stack and no raw terminal escape; on exit 2 its last line is the one-line
 *     message `nb2prod …: …`;
 *   - the store is intact: every valid run is still listed and its file is byte-identical.
 * Python is never run: PATH is empty and NB2PROD_PYTHON names an interpreter that does not exist
 * (the suite is about what nb2prod makes of its inputs; the interpreter's own failures have tests
 * of their own).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import { compareCommands } from '../../src/cli/compareCommand';
import { driftCommands } from '../../src/cli/driftCommand';
import { makeCheckCommands } from '../../src/cli/checkCommand';
import { lintCommands } from '../../src/cli/lintCommand';
import { registryCommands } from '../../src/cli/registryCommand';
import { runsCommands } from '../../src/cli/runsCommands';
import { scaffoldCommands } from '../../src/cli/scaffoldCommand';
import { trackCommands } from '../../src/cli/trackCommands';
import type { Command } from '../../src/cli/command';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { BROKEN_RUN_ID, CORE_MUTATIONS, FIFO, MUTATIONS, baseInvocations, makeTemplate, optionCases, targets, type Template } from '../fixtures/malformed';

const COMMANDS: Record<string, Command> = { ...runsCommands, ...trackCommands, ...compareCommands, ...driftCommands, ...lintCommands, ...registryCommands, ...scaffoldCommands, ...makeCheckCommands() };

const PYTHON = '/nonexistent/python3';
let base: string;
let template: Template;
let counter = 0;

// The cases are generated from a template made synchronously-known data: the test names need
// the run ids before beforeAll, so the template's runs are listed lazily by name.
const setup = (async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-malformed-'));
  template = await makeTemplate(path.join(base, 'template'));
  // A registry with a version and an alias, so that registry commands have something to read.
  const env = { PATH: '/nonexistent', NB2PROD_PYTHON: PYTHON };
  const registered = await runInProcess(['registry', 'register', 'churn', template.validRunIds[0]!, '--by', 'alice'], template.dir, env);
  if (registered.code !== 0) throw new Error(`template: ${registered.stderr}`);
  return template;
})();

beforeAll(async () => {
  await setup;
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** The template's folders (parents first) and files, listed once. */
let templateTree: Promise<{ dirs: string[]; files: string[] }> | undefined;

/** A copy of the template at `workspace` (its files copied at once: fs.cp walks and checks each one). */
async function copyTemplate(workspace: string): Promise<void> {
  templateTree ??= (async () => {
    const entries = await fs.readdir(template.dir, { recursive: true, withFileTypes: true });
    const relative = (e: (typeof entries)[number]) => path.relative(template.dir, path.join(e.parentPath, e.name));
    const dirs = entries.filter((e) => e.isDirectory()).map(relative).sort((a, b) => a.split(path.sep).length - b.split(path.sep).length);
    const other = entries.filter((e) => !e.isDirectory() && !e.isFile());
    if (other.length) throw new Error(`the template holds something other than files and folders: ${other.map(relative).join(', ')}`);
    return { dirs, files: entries.filter((e) => e.isFile()).map(relative) };
  })();
  const { dirs, files } = await templateTree;
  await fs.mkdir(workspace);
  for (const dir of dirs) await fs.mkdir(path.join(workspace, dir));
  await Promise.all(files.map((file) => fs.copyFile(path.join(template.dir, file), path.join(workspace, file))));
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Runs one case in a fresh copy of the template and checks the contract. */
async function check(args: string[], mutate?: (workspace: string) => Promise<void>): Promise<void> {
  const workspace = path.join(base, `case-${++counter}`);
  await copyTemplate(workspace);
  try {
    if (mutate) await mutate(workspace);
    let result: { code: number; stdout: string; stderr: string };
    try {
      result = await runInProcess(args, workspace, { PATH: '/nonexistent', HOME: workspace, NB2PROD_PYTHON: PYTHON });
    } catch (error) {
      throw new Error(`nb2prod ${JSON.stringify(args)} crashed (exit 3): ${(error as Error).stack}`);
    }
    const { code, stderr } = result;
    const where = `nb2prod ${JSON.stringify(args).slice(0, 300)} → exit ${code}\n${stderr.slice(0, 2000)}`;
    expect([0, 1, 2], where).toContain(code);
    expect(stderr, where).not.toMatch(/^\s+at .+:\d+:\d+\)?$|internal error|^\w*Error: /m);
    expect(stderr, where).not.toContain('\u001b');
    if (code === 2) {
      // The message is the last line, or a line that lays out a list of indented items after it.
      const lines = stderr.trimEnd().split('\n');
      let head = lines.length - 1;
      while (head > 0 && /^ {2}- /.test(lines[head]!)) head--;
      expect(lines[head], where).toMatch(/^nb2prod( [a-z-]+)?: \S/);
    }
    // The store is intact: the valid runs are listed and their files unchanged.
    const runsDir = path.join(workspace, '.nb2prod', 'runs');
    for (const [name, hash] of Object.entries(template.runHashes)) expect(sha256(await fs.readFile(path.join(runsDir, name))), `${where}\n${name} changed`).toBe(hash);
    const listed = new Set((await new RunStore(path.join(workspace, '.nb2prod')).list()).runs.map((r) => r.id));
    for (const id of template.validRunIds) expect(listed.has(id), `${where}\nrun ${id} no longer listed`).toBe(true);
  } finally {
    await fs.chmod(workspace, 0o755).catch(() => undefined);
    await fs.rm(workspace, { recursive: true, force: true });
  }
}

/** Names without control characters, for the report. */
const label = (args: string[]) => JSON.stringify(args.map((a) => (a.length > 40 ? `${a.slice(0, 12)}…(${a.length})` : a)));

describe('malformed input never crashes nb2prod', async () => {
  const t = await setup;

  describe('broken files', () => {
    for (const target of targets(t)) {
      const mutations = target.fifo ? [...MUTATIONS, FIFO] : MUTATIONS;
      for (const mutation of mutations) {
        for (const [i, args] of target.commands.entries()) {
          if (i >= 2 && !CORE_MUTATIONS.has(mutation.name)) continue;
          it(`${target.name}, ${mutation.name}: ${label(args)}`, async () => {
            const valid = await target.valid(t);
            await check(args, async (workspace) => {
              const file = path.join(workspace, target.file);
              await fs.rm(file, { recursive: true, force: true });
              await fs.mkdir(path.dirname(file), { recursive: true });
              await mutation.apply(file, valid);
            });
          });
        }
      }
    }
  });

  describe('odd option values and arguments', () => {
    const bases = baseInvocations(t);
    const seen = new Set<string>();
    for (const [name, command] of Object.entries(COMMANDS)) {
      const baseArgs = bases[name];
      if (!baseArgs) throw new Error(`no base invocation for ${name}`);
      for (const args of optionCases(name, command, baseArgs, seen)) {
        it(label(args), async () => {
          await check(args);
        });
      }
    }
  });

  describe('the store itself', () => {
    const store = (w: string) => path.join(w, '.nb2prod');
    const shapes: Array<[string, (w: string) => Promise<void>]> = [
      ['index.jsonl a folder', (w) => fs.mkdir(path.join(store(w), 'index.jsonl'))],
      ['index.jsonl garbage', (w) => fs.writeFile(path.join(store(w), 'index.jsonl'), '{"format":"nb2prod.index/3","generation":"x","rows":3,"rowsBytes":5,"dir":null,"problems":[]}\nab\n')],
      ['index.sqlite a folder (the old index)', (w) => fs.mkdir(path.join(store(w), 'index.sqlite'))],
      ['running/ a file', (w) => fs.writeFile(path.join(store(w), 'running'), 'x')],
      ['running/ marker garbage', async (w) => {
        await fs.mkdir(path.join(store(w), 'running'), { recursive: true });
        await fs.writeFile(path.join(store(w), 'running', `${t.validRunIds[0]}.json`), '{"pid": -1, "host": null, "envelope": 5}');
      }],
      ['objects/ a file', async (w) => {
        await fs.rm(path.join(store(w), 'objects'), { recursive: true, force: true });
        await fs.writeFile(path.join(store(w), 'objects'), 'x');
      }],
      ['registry.jsonl a folder', (w) => fs.rm(path.join(store(w), 'registry.jsonl')).then(() => fs.mkdir(path.join(store(w), 'registry.jsonl')))],
      ['a foreign .json file in runs/', (w) => fs.writeFile(path.join(store(w), 'runs', 'notes.json'), '{"hello": 1}')],
      ['a stale temporary run file', (w) => fs.writeFile(path.join(store(w), 'runs', `.${t.validRunIds[0]}.json.1.2.tmp`), '{')],
      ['a run whose params nest 5,000 deep', (w) => {
        const text = JSON.stringify(makeEnvelope({ id: BROKEN_RUN_ID, name: 'deep' })).replace('"params":{', `"params":{"deep":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},`);
        return fs.writeFile(path.join(store(w), 'runs', `${BROKEN_RUN_ID}.json`), text);
      }],
    ];
    for (const [shape, mutate] of shapes) {
      for (const args of [['runs'], ['runs', '--limit', '1'], ['show', 'latest'], ['show', BROKEN_RUN_ID], ['compare', t.validRunIds[0]!, t.validRunIds[1]!], ['registry', 'list'], ['check']]) {
        it(`${shape}: ${label(args)}`, async () => {
          await check(args, mutate);
        });
      }
    }
  });
});
