/**
 * Runs one command of a command table: parses the options, finds the store, and turns failures
 * into the CLI's contract — a user error prints one line and exits 2; anything else is a bug and
 * is thrown (main.ts prints its stack and exits 3).
 * Split from cli.ts so that the executable can run the store-reading commands without loading
 * the others (see main.ts).
 */
import { parseArgs } from 'node:util';
import { UserError, isUserError } from '../core/errors';
import { RunStore } from '../core/store/runStore';
import { type CliIo, type Command, locateStore } from './command';

export async function runCommand(commands: Record<string, Command>, name: string, rest: string[], io: CliIo): Promise<number> {
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
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
    store = new RunStore(storeRoot);
    if (explicitStore !== undefined && !command.createsStore && !(await store.exists())) {
      throw new UserError('store-not-found', `No run store at ${storeRoot}.`);
    }
    return await command.run(args, store, io);
  } catch (error) {
    if (!isUserError(error)) throw error;
    const hint = error.code === 'usage' ? ` (see "nb2prod ${name} --help")` : '';
    io.stderr(`nb2prod ${name}: ${error.message}${hint}\n`);
    return 2;
  } finally {
    store?.close();
  }
}
