/** Entry point of the `nb2prod` executable (bundled to dist/cli.js). */
import path from 'node:path';
import { version } from '../../package.json';
import { runCli } from './cli';

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  sqlWasmPath: path.join(__dirname, 'sql-wasm.wasm'),
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
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`nb2prod: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
