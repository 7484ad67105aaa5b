/**
 * The `nb2prod` command line. `runCli` takes its I/O as parameters so tests can run it in-process;
 * `main.ts` wires it to the real process. Exit codes: 0 ok, 1 a failed gate or check,
 * 2 a usage error or anything the user must fix (one line on stderr), 3 a bug (with its stack).
 */
import { type CliIo, type Command } from './command';
import { makeCheckCommands } from './checkCommand';
import { registryFactsProvider } from '../core/readiness/registryFacts';
import { compareCommands } from './compareCommand';
import { driftCommands } from './driftCommand';
import { lintCommands } from './lintCommand';
import { monitorCommands } from './monitorCommand';
import { scaffoldCommands } from './scaffoldCommand';
import { registryCommands } from './registryCommand';
import { runCommand, terminalIo } from './runCommand';
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
  const io = terminalIo(rawIo);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp(io.version));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${io.version}\n`);
    return 0;
  }
  return runCommand(commands, name, rest, io);
}
