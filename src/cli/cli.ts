/**
 * The `nb2prod` command line. `runCli` takes its I/O as parameters so tests can run it in-process;
 * `main.ts` wires it to the real process. Exit codes: 0 ok, 1 a failed gate or check,
 * 2 a usage error or anything the user must fix (one line on stderr).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { diffRuns } from '../core/diff';
import { RUN_STATUSES, type RunStatus } from '../core/envelope';
import { UserError, isUserError } from '../core/errors';
import { describeProblem, renderDiff, renderRun, renderRunList } from '../core/render/runText';
import type { RunQuery } from '../core/store/runIndex';
import { RunStore } from '../core/store/runStore';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: Record<string, string | undefined>;
  sqlWasmPath: string;
  version: string;
}

const STORE_OPTION = { store: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

interface Command {
  summary: string;
  usage: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: ReturnType<typeof parseArgs>, store: RunStore, io: CliIo): Promise<number>;
}

const STORE_HELP = `  --store DIR        the run store (default: the nearest .nb2prod folder above the
                     current directory, else ./.nb2prod; env NB2PROD_STORE)`;

const commands: Record<string, Command> = {
  runs: {
    summary: 'list the runs in the store',
    usage: 'nb2prod runs [--source PATH] [--tag T] [--group G] [--status S] [--sort time|METRIC] [--asc] [--limit N] [--json]',
    details: `Lists runs, newest first. Files in the store that are not valid runs are reported on
stderr and do not stop the others from listing.

Options:
  --source PATH      only runs of this notebook or script (path relative to the workspace)
  --tag T            only runs with this tag
  --group G          only runs of this group (repeated seeds of one configuration)
  --status S         only runs with this status: ${RUN_STATUSES.join(', ')}
  --kind K           only notebook or script runs
  --sort KEY         time (default) or a metric name, highest first
  --asc              ascending order (oldest or lowest first)
  --limit N          at most N runs
  --json             machine-readable output: {"runs": [...], "problems": [...]}
${STORE_HELP}`,
    options: {
      ...STORE_OPTION,
      source: { type: 'string' },
      tag: { type: 'string' },
      group: { type: 'string' },
      status: { type: 'string' },
      kind: { type: 'string' },
      sort: { type: 'string' },
      asc: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run({ values, positionals }, store, io) {
      if (positionals.length) throw new UserError('usage', `unexpected argument "${positionals[0]}"`);
      const query: RunQuery = {};
      if (values.source !== undefined) query.source = String(values.source);
      if (values.tag !== undefined) query.tag = String(values.tag);
      if (values.group !== undefined) query.group = String(values.group);
      if (values.status !== undefined) {
        if (!RUN_STATUSES.includes(values.status as RunStatus)) throw new UserError('usage', `--status must be one of ${RUN_STATUSES.join(', ')}`);
        query.status = values.status as RunStatus;
      }
      if (values.kind !== undefined) {
        if (values.kind !== 'notebook' && values.kind !== 'script') throw new UserError('usage', '--kind must be notebook or script');
        query.kind = values.kind;
      }
      if (values.sort !== undefined && values.sort !== 'time') query.sortBy = { metric: String(values.sort) };
      if (values.asc) query.order = 'asc';
      if (values.limit !== undefined) {
        const limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UserError('usage', '--limit must be a positive whole number');
        query.limit = limit;
      }
      const { runs, problems } = await store.list(query);
      for (const problem of problems) io.stderr(`warning: ${describeProblem(problem)}\n`);
      if (values.json) io.stdout(`${JSON.stringify({ runs, problems }, null, 2)}\n`);
      else io.stdout(`${runs.length ? renderRunList(runs) : `No runs in ${store.root}.`}\n`);
      return 0;
    },
  },
  show: {
    summary: 'show everything recorded about one run',
    usage: 'nb2prod show RUN [--json]',
    details: `RUN is a run id, a unique prefix of one, or "latest".

Options:
  --json             the run envelope as stored (schema nb2prod.run/1)
${STORE_HELP}`,
    options: { ...STORE_OPTION, json: { type: 'boolean' } },
    async run({ values, positionals }, store, io) {
      const [reference, extra] = positionals;
      if (reference === undefined) throw new UserError('usage', 'missing RUN (a run id, a unique prefix, or "latest")');
      if (extra !== undefined) throw new UserError('usage', `unexpected argument "${extra}"`);
      await requireStore(store);
      const run = await store.getRun(await store.resolveRunId(reference));
      io.stdout(values.json ? `${JSON.stringify(run, null, 2)}\n` : `${renderRun(run)}\n`);
      return 0;
    },
  },
  diff: {
    summary: 'what changed between two runs',
    usage: 'nb2prod diff RUN_A RUN_B [--json]',
    details: `Compares two runs: code cells, params, seeds, data (by content hash), packages,
environment, git, hardware and metrics (with deltas). RUN is a run id, a unique prefix, or "latest".

Options:
  --json             the structured diff
${STORE_HELP}`,
    options: { ...STORE_OPTION, json: { type: 'boolean' } },
    async run({ values, positionals }, store, io) {
      if (positionals.length !== 2) throw new UserError('usage', `diff takes two runs, got ${positionals.length}`);
      await requireStore(store);
      const [a, b] = await Promise.all(positionals.map(async (p) => store.getRun(await store.resolveRunId(String(p)))));
      const diff = diffRuns(a!, b!);
      io.stdout(values.json ? `${JSON.stringify(diff, null, 2)}\n` : `${renderDiff(diff)}\n`);
      return 0;
    },
  },
};

function mainHelp(version: string): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `nb2prod ${version} — notebook to production

Usage: nb2prod COMMAND [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run "nb2prod COMMAND --help" for a command's options.
Exit codes: 0 success, 1 a failed check, 2 a usage error or a problem to fix.
`;
}

async function requireStore(store: RunStore): Promise<void> {
  if (!(await store.exists())) throw new UserError('store-not-found', `No run store at ${store.root} (use --store DIR or run from a folder with .nb2prod).`);
}

/** The store: --store, else $NB2PROD_STORE, else the nearest .nb2prod above cwd, else ./.nb2prod. */
export function locateStore(cwd: string, explicit: string | undefined, env: CliIo['env']): string {
  const given = explicit ?? env.NB2PROD_STORE;
  if (given) return path.resolve(cwd, given);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.nb2prod'))) return path.join(dir, '.nb2prod');
    if (path.dirname(dir) === dir) return path.join(path.resolve(cwd), '.nb2prod');
  }
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp(io.version));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${io.version}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`nb2prod: unknown command "${name}" (run "nb2prod --help" for the list)\n`);
    return 2;
  }
  let store: RunStore | undefined;
  try {
    let args: ReturnType<typeof parseArgs>;
    try {
      args = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UserError('usage', (error as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
    }
    if (args.values.help) {
      io.stdout(`Usage: ${command.usage}\n\n${command.details}\n`);
      return 0;
    }
    const explicitStore = args.values.store === undefined ? undefined : String(args.values.store);
    const storeRoot = locateStore(io.cwd, explicitStore, io.env);
    store = new RunStore(storeRoot, { sqlWasmPath: io.sqlWasmPath });
    if (explicitStore !== undefined && !(await store.exists())) {
      throw new UserError('store-not-found', `No run store at ${storeRoot}.`);
    }
    return await command.run(args, store, io);
  } catch (error) {
    if (isUserError(error)) {
      const hint = error.code === 'usage' ? ` (see "nb2prod ${name} --help")` : '';
      io.stderr(`nb2prod ${name}: ${error.message}${hint}\n`);
      return 2;
    }
    throw error;
  } finally {
    store?.close();
  }
}
