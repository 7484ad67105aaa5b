/** Running the CLI in-process for tests: an io that captures stdout and stderr. */
import path from 'node:path';
import { type CliIo, runCli } from '../../src/cli/cli';
import { PYTHON_DIR } from '../fixtures/fixtureWorkspace';

/** The runtime of generated projects, from the source tree. */
export const TEMPLATES_DIR = path.resolve(__dirname, '../../src/core/scaffold/templates');

export function capturingIo(cwd: string, env: Record<string, string> = {}, extra: Partial<CliIo> = {}): { io: CliIo; output: () => { stdout: string; stderr: string } } {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env, pythonDir: PYTHON_DIR, templatesDir: TEMPLATES_DIR, version: '0.0.0-test', ...extra },
    output: () => ({ stdout, stderr }),
  };
}

/** `nb2prod ARGS` in `cwd`: its exit code and what it printed. */
export async function runInProcess(args: string[], cwd: string, env: Record<string, string> = {}, extra: Partial<CliIo> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, output } = capturingIo(cwd, env, extra);
  const code = await runCli(args, io);
  return { code, ...output() };
}

/**
 * The identity of the person named by `--by` in `args`, as if each name were someone at their own
 * OS account (registry separation of duties compares accounts, not only typed names).
 */
export function personOf(args: readonly string[], account?: string): Partial<CliIo> {
  const by = args.includes('--by') ? args[args.indexOf('--by') + 1] : undefined;
  const who = account ?? by ?? 'tester';
  return { identity: { osUser: who, host: 'test-host', gitEmail: `${who}@example.com` } };
}
