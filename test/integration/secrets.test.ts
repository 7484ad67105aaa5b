/**
 * No secret is stored: secrets planted in the environment (a token, a database URL's password)
 * and on the command line (`--api-key X`, `--password=Y`, `token=Z`, `-p api_key=…`) are found
 * nowhere under `.nb2prod/` — every byte of every file is searched — after a notebook that prints,
 * displays, logs and raises with them, after a script that does the same, and while a run is in
 * flight (its marker and capture events). Each interpreter of test/fixtures/pythons.ts.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEnvelope } from '../../src/core/envelope';
import { PYTHONS, requirePython } from '../fixtures/pythons';
import { allFiles, cliWith, notebookJson, requireBuild, tempWorkspace, waitFor } from './helpers';

const ENV_TOKEN = 'env-token-5b1e0c7d9a';
const DSN_PASSWORD = 'dsn-pw-83fa61c2';
const ARG_KEY = 'arg-key-4c2d9e11f0';
const ARG_PASSWORD = 'arg-pw-77e0b3a5';
const ARG_TOKEN = 'arg-tok-12ab34cd';
const PARAM_KEY = 'param-key-9f8e7d6c';
const SECRETS = [ENV_TOKEN, DSN_PASSWORD, ARG_KEY, ARG_PASSWORD, ARG_TOKEN, PARAM_KEY];
const ENV = { MY_SERVICE_TOKEN: ENV_TOKEN, DATABASE_URL: `postgresql://app:${DSN_PASSWORD}@db.internal:5432/sales` };

const workspaces: string[] = [];
async function workspaceWith(files: Record<string, string>): Promise<string> {
  const dir = await tempWorkspace('secrets');
  workspaces.push(dir);
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  return dir;
}

/** Which planted secrets some file under the store holds, as "file: secret". */
async function secretsInStore(workspace: string): Promise<string[]> {
  const found: string[] = [];
  const store = path.join(workspace, '.nb2prod');
  for (const file of await allFiles(store)) {
    const bytes = await fs.readFile(file).catch(() => Buffer.alloc(0));
    for (const secret of SECRETS) if (bytes.includes(secret)) found.push(`${path.relative(store, file)}: ${secret}`);
  }
  return found;
}

const LEAKY_CELLS = [
  '#parameters\napi_key = "none"\nepochs = 2',
  "import os, nb2prod\nfrom IPython.display import HTML, display\ntoken = os.environ['MY_SERVICE_TOKEN']\ndsn = os.environ['DATABASE_URL']\nprint('token is', token, 'and the key is', api_key)\ndisplay(HTML('<b>' + dsn + '</b>'))\nnb2prod.log_param('service_token', token)\nnb2prod.log_param('connection', dsn)\nnb2prod.log_metric('epochs', epochs)",
  "raise ValueError(f'cannot connect to {dsn} with token {token} and key {api_key}')",
];

const LEAKY_SCRIPT = `import os, sys, nb2prod
token = os.environ['MY_SERVICE_TOKEN']
print('argv', sys.argv, file=sys.stderr)
print('env token', token, file=sys.stderr)
nb2prod.log_param('service_token', token)
nb2prod.log_param('argv', ' '.join(sys.argv))
if os.environ.get('WAIT_FOR'):
    import time
    open('started.txt', 'w').write('yes')
    time.sleep(300)
raise RuntimeError('login failed for ' + token + ' ' + ' '.join(sys.argv[1:]) + ' ' + os.environ['DATABASE_URL'])
`;
const SCRIPT_ARGS = ['--api-key', ARG_KEY, `--password=${ARG_PASSWORD}`, `token=${ARG_TOKEN}`, '--epochs', '2'];

afterAll(async () => {
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  const { nb2prod, spawnCli } = cliWith(python.path);

  beforeAll(() => {
    requirePython(python, ['nbclient', 'ipykernel']);
    requireBuild();
  });

  it('track: a notebook that prints, displays, logs and raises with secrets leaves none in the store', async () => {
    const workspace = await workspaceWith({ 'leaky.ipynb': notebookJson(LEAKY_CELLS) });
    const result = await nb2prod(['track', 'leaky.ipynb', '-p', `api_key=${PARAM_KEY}`, '--json'], workspace, ENV);
    expect(result.code).toBe(1);
    const run = JSON.parse(result.stdout) as RunEnvelope;
    expect(run.status).toBe('failed');
    expect(await secretsInStore(workspace)).toEqual([]);
    // Replaced, not dropped: the record still says where the secrets were.
    expect(run.error?.message).toBe('ValueError: cannot connect to postgresql://app:***@db.internal:5432/sales with token *** and key ***');
    expect(run.error?.traceback).toContain('***');
    expect(run.params).toMatchObject({ api_key: '***', epochs: 2, service_token: '***', connection: 'postgresql://app:***@db.internal:5432/sales' });
    expect(run.metrics.epochs?.value).toBe(2);
    expect(run.environment.envVarNames).toEqual(expect.arrayContaining(['MY_SERVICE_TOKEN', 'DATABASE_URL']));
    const executed = await fs.readFile(path.join(workspace, '.nb2prod', 'artifacts', run.id, 'executed.ipynb'), 'utf8');
    expect(executed).toContain('token is *** and the key is ***');
    expect(executed).toContain("api_key = '***'"); // the injected parameters cell
  }, 120_000);

  it('run: a script given secret arguments that prints and raises with them leaves none in the store', async () => {
    const workspace = await workspaceWith({ 'train.py': LEAKY_SCRIPT });
    const result = await nb2prod(['run', '--json', '--', python.path, 'train.py', ...SCRIPT_ARGS], workspace, ENV);
    expect(result.code).toBe(1);
    const run = JSON.parse(result.stdout) as RunEnvelope;
    expect(await secretsInStore(workspace)).toEqual([]);
    expect(run.source.command).toEqual([python.path, 'train.py', '--api-key', '***', '--password=***', 'token=***', '--epochs', '2']);
    expect(run.params).toMatchObject({ api_key: '***', password: '***', epochs: 2, service_token: '***' });
    expect(run.error?.message).toContain('login failed for *** --api-key *** --password=*** token=*** --epochs 2 postgresql://app:***@');
  }, 60_000);

  it('in flight and after kill -9: the marker and the capture events hold no secret either', async () => {
    const workspace = await workspaceWith({ 'train.py': LEAKY_SCRIPT });
    const cli = spawnCli(['run', '--', python.path, 'train.py', ...SCRIPT_ARGS], workspace, { ...ENV, WAIT_FOR: '1' });
    await waitFor(() => existsSync(path.join(workspace, 'started.txt')), 30_000, 'the script to log its params');
    const events = (await allFiles(path.join(workspace, '.nb2prod', 'tmp'))).find((f) => f.endsWith('events.jsonl'))!;
    await waitFor(async () => (await fs.readFile(events, 'utf8')).includes('"argv"'), 10_000, 'the logged params');
    expect(await secretsInStore(workspace)).toEqual([]);
    cli.child.kill('SIGKILL');
    await cli.exit;
    expect(await secretsInStore(workspace)).toEqual([]);
    const list = await nb2prod(['runs', '--json'], workspace);
    expect((JSON.parse(list.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    expect(await secretsInStore(workspace)).toEqual([]);
  }, 60_000);
});
