/**
 * Shared pieces of the integration tests: the built CLI as a real process running real Python
 * (each of test/fixtures/pythons.ts's interpreters: Debian's /usr/bin/python3 and the venv of
 * current releases), and notebooks written with nbformat's JSON shape.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

const exec = promisify(execFile);

/** Builds dist/ once if it is missing, so the CLI under test is the real bundle. */
export function requireBuild(): void {
  if (!existsSync(CLI) || !existsSync(path.join(REPO, 'dist', 'python', 'nb2prod_runner.py'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: 'pipe' });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's functions below with NB2PROD_PYTHON set to `python` (the interpreter it tracks with). */
export function cliWith(python: string): { nb2prod: typeof nb2prod; spawnCli: typeof spawnCli } {
  return {
    nb2prod: (args, cwd, env = {}) => nb2prod(args, cwd, { NB2PROD_PYTHON: python, ...env }),
    spawnCli: (args, cwd, env = {}) => spawnCli(args, cwd, { NB2PROD_PYTHON: python, ...env }),
  };
}

/** Runs the built CLI; resolves with the exit code instead of throwing. */
export async function nb2prod(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts the CLI and lets the test watch its stderr (progress) and signal it. */
export function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.resume();
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A notebook in nbformat 4.5 from cell sources; a source starting with "#parameters" is tagged. */
export function notebookJson(cells: Array<string | { markdown: string }>): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: cells.map((cell, i) =>
      typeof cell === 'string'
        ? { cell_type: 'code', id: `c${i}`, metadata: cell.startsWith('#parameters') ? { tags: ['parameters'] } : {}, source: cell, outputs: [], execution_count: null }
        : { cell_type: 'markdown', id: `c${i}`, metadata: {}, source: cell.markdown },
    ),
  });
}

export async function tempWorkspace(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `nb2prod-${prefix}-`));
}

export function sha256sum(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;
}

export async function readRuns(workspace: string): Promise<Array<Record<string, unknown>>> {
  const dir = path.join(workspace, '.nb2prod', 'runs');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as Record<string, unknown>));
}

/** Every file under a folder, recursively (to search the whole store for a planted secret). */
export async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else out.push(full);
  }
  return out;
}
