/**
 * Replay says "reproduced" only when the run showed and wrote the same things again: a notebook
 * with unseeded KMeans and np.random whose printed centres, drawn image and saved file change is
 * "not reproduced", naming the cells that changed and the unseeded call before them; a
 * deterministic notebook full of what varies harmlessly (memory addresses, timings, the time of
 * day, a kernel's pid in warnings, UUIDs, progress bars, a PNG's time stamp, a file declared
 * volatile) is "reproduced". Secrets the run was given must be given again. Each interpreter of
 * test/fixtures/pythons.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayDifference } from '../../src/core/capture/replay';
import type { RunEnvelope } from '../../src/core/envelope';
import { PYTHONS, requirePython } from '../fixtures/pythons';
import { cliWith, notebookJson, requireBuild, tempWorkspace } from './helpers';

const workspaces: string[] = [];
async function workspaceWith(files: Record<string, string>): Promise<string> {
  const dir = await tempWorkspace('replay');
  workspaces.push(dir);
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  return dir;
}

afterAll(async () => {
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

// A figure without matplotlib: a grey-level PNG drawn from an array, optionally stamped with the
// time (a tIME chunk and a tEXt chunk), as image savers do.
const PNG_HELPER = `import numpy as np, struct, time, zlib
from IPython.display import Image, display
def png(pixels, stamp=False):
    h, w = pixels.shape
    raw = b''.join(b'\\x00' + bytes(row) for row in pixels.astype('uint8').tolist())
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    out = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    if stamp:
        t = time.gmtime()
        out += chunk(b'tIME', struct.pack('>HBBBBB', t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec))
        out += chunk(b'tEXt', b'Creation Time\\x00' + repr(time.time()).encode())
    return out + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')`;

const UNSEEDED = notebookJson([
  PNG_HELPER,
  'from sklearn.cluster import KMeans\nX = np.random.rand(60, 2)',
  'km = KMeans(n_clusters=3, n_init=1).fit(X)',
  'print(np.round(np.sort(km.cluster_centers_, axis=0), 4))',
  'display(Image(png((X[:16] * 255).reshape(8, 4))))',
  "print('done', len(X))",
  "np.save('centers.npy', km.cluster_centers_)",
]);

const HARMLESS = notebookJson([
  PNG_HELPER,
  'import datetime, uuid, warnings\nprint(object(), datetime.datetime(2020, 1, 5, 0, 0))',
  't = time.time()\ns = sum(range(100000))\nprint(f"took {time.time() - t:.6f}s at {datetime.datetime.now()} ({time.time()}) on {time.ctime()}")',
  '%time x = sum(range(1000))',
  "warnings.warn('careful')",
  'print(uuid.uuid4())',
  'display(Image(png(np.arange(32).reshape(4, 8) * 8, stamp=True)))',
  "for i in range(3):\n    print(f'\\r{i + 1}/3 [00:0{i}<00:00, {1000 + i * 37.5:.2f}it/s]', end='', flush=True)\n    time.sleep(0.05)",
  "print(sum([0.1] * 10))\nopen('result.csv', 'w').write('a,b\\n1,2\\n')\nopen('run.log', 'w').write(str(datetime.datetime.now()))",
]);

describe.each(PYTHONS.map((python) => [python.label, python] as const))('with %s Python', (_label, python) => {
  const { nb2prod } = cliWith(python.path);

  beforeAll(() => {
    requirePython(python);
    requireBuild();
  });

  it('names the cells whose text and image changed, the changed file, and the unseeded call before them', async () => {
    const workspace = await workspaceWith({ 'clusters.ipynb': UNSEEDED });
    const tracked = await nb2prod(['track', 'clusters.ipynb', '--json'], workspace);
    expect(tracked.code).toBe(0);
    const run = JSON.parse(tracked.stdout) as RunEnvelope;
    expect(run.unseeded.map((u) => u.location)).toEqual(expect.arrayContaining(['cell 1, line 2']));

    const replay = await nb2prod(['replay', run.id, '--json'], workspace);
    expect(replay.code).toBe(1);
    const report = JSON.parse(replay.stdout) as { reproduced: boolean; differences: ReplayDifference[] };
    expect(report.reproduced).toBe(false);
    const cells = report.differences.filter((d) => d.kind === 'cell');
    expect(cells.map((d) => d.cell)).toEqual([3, 4]);
    expect(cells[0]!.message).toMatch(/^Cell 4 \(id c3\) shows something else on replay \(its stdout text\): "\[\[.*\]" → "\[\[.*\]"\. It comes after unseeded randomness: .+ at cell [23] \(id c[12]\), line \d\.$/);
    expect(cells[1]!.message).toMatch(/^Cell 5 \(id c4\) shows something else on replay \(its image\/png output\)\. It comes after unseeded randomness: /);
    for (const cell of cells) expect(cell.severity).toBe('error');
    const file = report.differences.find((d) => d.kind === 'output');
    expect(file).toMatchObject({ subject: 'centers.npy', severity: 'error' });
    expect(file!.message).toMatch(/^centers\.npy was written with different bytes \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\)\. It comes after unseeded randomness: /);

    const text = await nb2prod(['replay', run.id], workspace);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^not reproduced: run /);
    expect(text.stdout).toContain('✗ Cell 5 (id c4) shows something else on replay');
  }, 180_000);

  it('a deterministic notebook reproduces despite addresses, timings, the clock, pids, UUIDs, progress bars and time stamps', async () => {
    const workspace = await workspaceWith({ 'stable.ipynb': HARMLESS, 'nb2prod.toml': '[replay]\nvolatile_outputs = ["*.log"]\n' });
    const tracked = await nb2prod(['track', 'stable.ipynb', '--json'], workspace);
    expect(tracked.code).toBe(0);
    const run = JSON.parse(tracked.stdout) as RunEnvelope;
    const replay = await nb2prod(['replay', run.id, '--json'], workspace);
    const report = JSON.parse(replay.stdout) as { reproduced: boolean; differences: ReplayDifference[] };
    expect(report.differences.filter((d) => d.severity === 'error')).toEqual([]);
    expect(report.reproduced).toBe(true);
    expect(replay.code).toBe(0);
    expect(report.differences).toEqual([expect.objectContaining({ kind: 'output', subject: 'run.log', severity: 'note' })]);
  }, 180_000);

  it('a notebook given a secret with -p is replayed only when it is given again', async () => {
    const workspace = await workspaceWith({ 'api.ipynb': notebookJson(['#parameters\napi_key = ""', "import hashlib\nprint(hashlib.sha256(api_key.encode()).hexdigest()[:8])"]) });
    const run = JSON.parse((await nb2prod(['track', 'api.ipynb', '-p', 'api_key=sk-live-0123456789', '--json'], workspace)).stdout) as RunEnvelope;
    expect(run.params.api_key).toBe('***');
    const refused = await nb2prod(['replay', run.id], workspace);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(`nb2prod replay: Run ${run.id} was given a secret that nb2prod did not record (api_key): give it again, e.g. nb2prod replay ${run.id} -p api_key=VALUE.`);
    const wrong = await nb2prod(['replay', run.id, '-p', 'api_key=another-value-42'], workspace);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('✗ Cell 2 (id c1) shows something else on replay');
    const right = await nb2prod(['replay', run.id, '-p', 'api_key=sk-live-0123456789'], workspace);
    expect(right.stdout).toMatch(/^reproduced/);
    expect(right.code).toBe(0);
  }, 120_000);

  it('a script given a secret argument is replayed with it given again', async () => {
    const workspace = await workspaceWith({ 'fetch.py': "import hashlib, sys\nopen('key.txt', 'w').write(hashlib.sha256(sys.argv[2].encode()).hexdigest())\n" });
    const run = JSON.parse((await nb2prod(['run', '--json', '--', python.path, 'fetch.py', '--api-key', 'sk-live-0123456789'], workspace)).stdout) as RunEnvelope;
    expect(run.source.command).toEqual([python.path, 'fetch.py', '--api-key', '***']);
    expect((await nb2prod(['replay', run.id], workspace)).code).toBe(2);
    const extra = await nb2prod(['replay', run.id, '-p', 'api_key=x', '-p', 'lr=0.1'], workspace);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('-p lr: run');
    const right = await nb2prod(['replay', run.id, '-p', 'api-key=sk-live-0123456789'], workspace);
    expect(right.stdout).toMatch(/^reproduced/);
  }, 60_000);
});
