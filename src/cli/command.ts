/** What every CLI command is made of, and the I/O they get (a port, so tests run in-process). */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { parseArgs, ParseArgsConfig } from 'node:util';
import { UserError } from '../core/errors';
import type { SystemIdentity } from '../core/registry/actor';
import type { RunStore } from '../core/store/runStore';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Folder of the Python companion (sitecustomize.py, nb2prod/, nb2prod_runner.py). */
  pythonDir: string;
  /** dist/monitorWorker.js: `nb2prod monitor` reads large audit logs with worker threads running it. */
  monitorWorker?: string;
  /** Folder of the generated projects' runtime (default: scaffold-templates beside pythonDir). */
  templatesDir?: string;
  version: string;
  /** True when stderr is a terminal: progress may redraw one line. */
  isTTY?: boolean;
  /**
   * Set by runCli: stdout/stderr without the escaping of control characters (stdout and stderr
   * above escape them). Only for passing a tracked program's own output through, as it printed it.
   */
  raw?: Pick<CliIo, 'stdout' | 'stderr'>;
  /** The OS account and host acting (default: this process's); tests stand in for several people. */
  identity?: SystemIdentity;
  /** Registers a Ctrl-C handler for the duration of a run; returns its remover. */
  onInterrupt?: (handler: () => void) => () => void;
}

export type ParsedArgs = ReturnType<typeof parseArgs>;

export interface Command {
  summary: string;
  usage: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Records runs: a --store that does not exist yet is created rather than refused. */
  createsStore?: boolean;
  run(args: ParsedArgs, store: RunStore, io: CliIo): Promise<number>;
}

export const STORE_OPTION = { store: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export const STORE_HELP = `  --store DIR        the run store (default: the nearest .nb2prod folder above the
                     current directory, else ./.nb2prod; env NB2PROD_STORE)`;

/** The store folder must exist (an empty folder is an empty store). */
export async function requireStore(store: RunStore): Promise<void> {
  const stat = await fs.stat(store.root).catch(() => null);
  if (!stat?.isDirectory()) throw new UserError('store-not-found', `No run store at ${store.root} (use --store DIR or run from a folder with .nb2prod).`);
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
