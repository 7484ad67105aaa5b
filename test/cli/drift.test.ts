/**
 * `nb2prod drift` as a CI job runs it: two CSV files, the formats, --fail-on exit codes, a run's
 * captured profile as the reference, and bad input (malformed CSV, empty file, a column that is
 * all missing, a single-row current set) giving clear messages.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './inProcess';
import type { DriftReport } from '../../src/core/drift/drift';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';

let root: string;

function cli(args: string[]) {
  return runInProcess(args, root);
}

/** A CSV of `rows` rows: age (numeric, shifted by `shift`), plan (categorical), empty (all missing). */
function csv(rows: number, shift: number, plans: string[]): string {
  const lines = ['age,plan,empty'];
  for (let i = 0; i < rows; i++) lines.push(`${((i * 37) % 100) + 20 + shift},${plans[i % plans.length]},`);
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-drift-'));
  await fs.writeFile(path.join(root, 'reference.csv'), csv(2000, 0, ['basic', 'plus', 'pro']));
  await fs.writeFile(path.join(root, 'same.csv'), csv(1500, 0, ['basic', 'plus', 'pro']));
  await fs.writeFile(path.join(root, 'moved.csv'), csv(1500, 25, ['basic', 'basic', 'pro', 'enterprise']));
  await fs.writeFile(path.join(root, 'one-row.csv'), 'age,plan,empty\n40,plus,\n');
  await fs.writeFile(path.join(root, 'empty.csv'), '');
  await fs.writeFile(path.join(root, 'broken.csv'), 'age,plan\n30,"basic\n31,plus\n');
  await fs.writeFile(path.join(root, 'ragged.csv'), 'age,plan,empty\n30,basic,\n31\n32,plus,,extra\n33,pro,\n');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('nb2prod drift', () => {
  it('says nothing moved between samples of the same distribution, and exits 0', async () => {
    const { code, stdout } = await cli(['drift', 'reference.csv', 'same.csv', '--fail-on', 'monitor']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Drift: 0 of 2 columns drifted/);
    expect(stdout).toMatch(/empty.*(all missing|no values)/i);
  });

  it('finds the moved columns, counts unseen categories, and fails the job with --fail-on', async () => {
    const { code, stdout } = await cli(['drift', 'reference.csv', 'moved.csv', '--fail-on', 'retrain']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/age\s+numeric\s+[\d.]+\s+retrain/);
    expect(stdout).toMatch(/plan\s+categorical\s+[\d.]+\s+retrain/);
    expect(stdout).toMatch(/enterprise/);
  });

  it('writes JSON, Markdown and HTML reports', async () => {
    const json = await cli(['drift', 'reference.csv', 'moved.csv', '--format', 'json']);
    const report = JSON.parse(json.stdout) as DriftReport;
    expect(report.datasetDrift).toMatchObject({ drifted: 2, total: 2 });
    expect(report.columns.map((c) => c.name).slice(0, 2).sort()).toEqual(['age', 'plan']);
    const md = await cli(['drift', 'reference.csv', 'moved.csv', '--format', 'md']);
    expect(md.stdout).toMatch(/^\| *column *\|/m);
    const html = await cli(['drift', 'reference.csv', 'moved.csv', '--format', 'html', '--output', 'report.html']);
    expect(html.code).toBe(0);
    expect(html.stderr).toMatch(/2 of 2 columns drifted/);
    const page = await fs.readFile(path.join(root, 'report.html'), 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/i);
    expect(page).not.toMatch(/<script/i);
  });

  it('uses a run\u2019s captured input profile as the reference', async () => {
    const store = new RunStore(path.join(root, '.nb2prod'));
    const run = makeEnvelope({ name: 'trained', metrics: { accuracy: 0.9 } });
    run.inputs = [
      {
        path: 'data/customers.csv',
        sha256: 'a'.repeat(64),
        bytes: 1000,
        profile: {
          rows: 2000,
          columns: [
            { name: 'age', type: 'numeric', count: 2000, nulls: 0, bins: { edges: [20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 119], counts: [200, 200, 200, 200, 200, 200, 200, 200, 200, 200] }, min: 20, max: 119, mean: 69.5, std: 28.9 },
            { name: 'plan', type: 'categorical', count: 2000, nulls: 0, top: [{ value: 'basic', count: 667 }, { value: 'plus', count: 667 }, { value: 'pro', count: 666 }] },
          ],
        },
      },
    ];
    await store.writeRun(run);
    store.close();
    const { code, stdout } = await cli(['drift', `run:${run.id}`, 'moved.csv', '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as DriftReport;
    expect(report.reference.type).toBe('profile');
    expect(report.columns.find((c) => c.name === 'age')!.severity).toBe('retrain');
  });

  it('reports a single-row current set as too small to judge, without crashing', async () => {
    const { code, stdout } = await cli(['drift', 'reference.csv', 'one-row.csv']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/1 row/);
  });

  it('gives clear messages for an empty file, a malformed CSV, a missing file and bad options', async () => {
    expect(await cli(['drift', 'reference.csv', 'empty.csv'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/empty/i) });
    expect(await cli(['drift', 'reference.csv', 'broken.csv'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/line 2/) });
    expect(await cli(['drift', 'reference.csv', 'nope.csv'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/No such file: nope\.csv/) });
    expect(await cli(['drift', 'reference.csv'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/REFERENCE and a CURRENT/) });
    expect(await cli(['drift', 'reference.csv', 'same.csv', '--fail-on', 'always'])).toMatchObject({ code: 2 });
    expect(await cli(['drift', 'reference.csv', 'same.csv', '--kind', 'age'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/COLUMN=numeric/) });
  });

  it('lists ragged rows with their line numbers and still reports', async () => {
    const { code, stdout } = await cli(['drift', 'reference.csv', 'ragged.csv']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/line 3/);
    expect(stdout).toMatch(/line 4/);
  });
});
