/**
 * Runs one command of a command table: parses the options, finds the store, and turns failures
 * into the CLI's contract — a user error or an I/O problem with the user's files prints one line
 * and exits 2; anything else is a bug and is thrown (main.ts prints its stack and exits 3).
 * Split from cli.ts so that the executable can run the store-reading commands without loading
 * the others (see main.ts).
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { UserError, describeIoError, isUserError, oneLine } from '../core/errors';
import { terminalSafe } from '../core/printable';
import { RunStore } from '../core/store/runStore';
import { type CliIo, type Command, locateStore } from './command';

/**
 * `--limit -1`: util.parseArgs reads a value that starts with a dash as the next option and
 * calls the option "ambiguous". A negative number after an option that takes a value is the
 * value, so it is passed as `--limit=-1` and the command's own check explains what is allowed.
 */
function joinNegativeValues(args: string[], command: Command): string[] {
  const takesValue = (arg: string): boolean => {
    if (arg.startsWith('--')) return command.options[arg.slice(2)]?.type === 'string';
    if (/^-[A-Za-z]$/.test(arg)) return Object.values(command.options).some((o) => o.short === arg[1] && o.type === 'string');
    return false;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (takesValue(arg) && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
      out.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * The io commands print through: whatever a value holds (a run name, a column name, a
 * traceback), no escape sequence reaches the terminal. `raw` keeps the unescaped streams for a
 * tracked program's own output. Wrapping twice changes nothing.
 */
export function terminalIo(rawIo: CliIo): CliIo {
  if (rawIo.raw) return rawIo;
  return { ...rawIo, stdout: (text) => rawIo.stdout(terminalSafe(text)), stderr: (text) => rawIo.stderr(terminalSafe(text)), raw: { stdout: rawIo.stdout, stderr: rawIo.stderr } };
}

export async function runCommand(commands: Record<string, Command>, name: string, rest: string[], rawIo: CliIo): Promise<number> {
  const io = terminalIo(rawIo);
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr(`nb2prod: unknown command "${oneLine(name)}" (run "nb2prod --help" for the list)\n`);
    return 2;
  }
  let store: RunStore | undefined;
  try {
    let args: ReturnType<typeof parseArgs>;
    try {
      args = parseArgs({ args: joinNegativeValues(rest, command), options: command.options, allowPositionals: true, strict: true });
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
    store = new RunStore(storeRoot);
    return await command.run(args, store, io);
  } catch (error) {
    const message = isUserError(error) ? error.message : describeIoError(error);
    if (message === null) throw error;
    const hint = isUserError(error) && error.code === 'usage' ? ` (see "nb2prod ${name} --help")` : '';
    io.stderr(`nb2prod ${name}: ${oneLine(message)}${hint}\n`);
    return 2;
  } finally {
    store?.close();
  }
}
