/**
 * The `nb2prod` command line. `runCli` takes its I/O as parameters so tests can run it in-process;
 * `main.ts` wires it to the real process. Exit codes: 0 ok, 1 a failed gate or check,
 * 2 a usage error or anything the user must fix (one line on stderr).
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { UserError, isUserError } from '../core/errors';
import { terminalSafe } from '../core/printable';
import { RunStore } from '../core/store/runStore';
import { type CliIo, type Command, locateStore } from './command';
import { makeCheckCommands } from './checkCommand';
import { registryFactsProvider } from '../core/readiness/registryFacts';
import { compareCommands } from './compareCommand';
import { driftCommands } from './driftCommand';
import { lintCommands } from './lintCommand';
import { monitorCommands } from './monitorCommand';
import { scaffoldCommands } from './scaffoldCommand';
import { registryCommands } from './registryCommand';
import { runsCommands } from './runsCommands';
import { trackCommands } from './trackCommands';

export type { CliIo } from './command';
export { locateStore } from './command';

const commands: Record<string, Command> = { ...runsCommands, ...trackCommands, ...compareCommands, ...driftCommands, ...lintCommands, ...registryCommands, ...scaffoldCommands, ...monitorCommands, ...makeCheckCommands({ registry: registryFactsProvider }) };

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

export async function runCli(argv: string[], rawIo: CliIo): Promise<number> {
  // Whatever a value holds (a run name, a column name, a traceback), no escape sequence reaches the terminal.
  const io: CliIo = { ...rawIo, stdout: (text) => rawIo.stdout(terminalSafe(text)), stderr: (text) => rawIo.stderr(terminalSafe(text)), raw: { stdout: rawIo.stdout, stderr: rawIo.stderr } };
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
    // A store that was named (--store or NB2PROD_STORE, alike) must be a folder: a file is an
    // error, a missing folder too (unless the command records runs); an empty folder is an
    // empty store, as a missing default store is.
    const named = explicitStore !== undefined ? '--store' : io.env.NB2PROD_STORE ? 'NB2PROD_STORE' : null;
    if (named) {
      const stat = await fs.stat(storeRoot).catch(() => null);
      if (stat && !stat.isDirectory()) throw new UserError('store-not-found', `${named} names ${storeRoot}, which is a file, not a store folder.`);
      if (!stat && !command.createsStore) throw new UserError('store-not-found', `No run store at ${storeRoot} (named by ${named}).`);
    }
    store = new RunStore(storeRoot, { sqlWasmPath: io.sqlWasmPath });
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
