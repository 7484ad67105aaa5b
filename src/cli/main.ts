/**
 * Entry point of the `nb2prod` executable (bundled to dist/cli.js).
 *
 * The store-reading commands (`runs`, `show`, `diff`) are answered by this bundle alone; every
 * other command, and the main help, load dist/cli-full.js (all of cli.ts). Loading and starting
 * the whole CLI (linter, drift, scaffolding, …) costs more than listing 10,000 runs from the
 * index, and `nb2prod runs` is what scripts and the shell call most.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { version } from '../../package.json';
import type * as Cli from './cli';
import type { CliIo } from './command';
import { runCommand } from './runCommand';
import { runsCommands } from './runsCommands';

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  pythonDir: path.join(__dirname, 'python'),
  monitorWorker: path.join(__dirname, 'monitorWorker.js'),
  version,
  isTTY: process.stderr.isTTY === true,
  onInterrupt: (handler) => {
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      handler();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', handler);
    };
  },
};

const [name, ...rest] = process.argv.slice(2);
const run: Promise<number> =
  name !== undefined && Object.hasOwn(runsCommands, name)
    ? runCommand(runsCommands, name, rest, io)
    : Promise.resolve().then(() => {
        const full = createRequire(__filename)(path.join(__dirname, 'cli-full.js')) as typeof Cli;
        return full.runCli(process.argv.slice(2), io);
      });

run.then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`nb2prod: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
