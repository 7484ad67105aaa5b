/**
 * The drift gate never passes silently: schema changes — a column dropped, added or renamed, a
 * column that is entirely missing, a type change, a file that cannot be decoded — are findings
 * with their own severity (default retrain) that `--fail-on` counts, shown in every format. And
 * text encodings are detected (UTF-8 with or without BOM, UTF-16 LE/BE with or without BOM), with
 * a Latin-1 fallback that the report says it used.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../src/core/drift/drift';
import { runInProcess } from './inProcess';

let root: string;

function cli(args: string[]) {
  return runInProcess(args, root);
}

/** age (numeric), plan (categorical), city (text with accents), `rows` rows. */
function table(rows: number, options: { header?: string[]; age?: (i: number) => string; plan?: (i: number) => string } = {}): string {
  const header = options.header ?? ['age', 'plan', 'city'];
  const cities = ['Zürich', 'Genève', 'Köln', 'Málaga'];
  const lines = [header.join(',')];
  for (let i = 0; i < rows; i++) {
    const row: Record<string, string> = {
      age: options.age ? options.age(i) : String(((i * 37) % 60) + 20),
      plan: options.plan ? options.plan(i) : ['basic', 'plus', 'pro'][i % 3]!,
      city: cities[i % 4]!,
    };
    lines.push(['age', 'plan', 'city'].map((k) => row[k]!).slice(0, header.length).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function without(text: string, column: number): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(',').filter((_, i) => i !== column).join(','))
    .join('\n')
    .concat('\n');
}

const utf16 = (text: string, endian: 'le' | 'be', bom: boolean): Buffer => {
  const le = Buffer.from(text, 'utf16le');
  const body = endian === 'le' ? le : Buffer.from(le).swap16();
  return bom ? Buffer.concat([Buffer.from(endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
};

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-drift-schema-'));
  const reference = table(1200);
  const same = table(900);
  const write = (name: string, data: string | Buffer) => fs.writeFile(path.join(root, name), data);
  await write('reference.csv', reference);
  await write('same.csv', same);
  await write('dropped.csv', without(same, 1));
  await write('added.csv', same.trimEnd().split('\n').map((l, i) => `${l},${i === 0 ? 'channel' : ['web', 'shop'][i % 2]}`).join('\n') + '\n');
  await write('renamed.csv', same.replace(/^age,plan,city/, 'age,tier,city'));
  await write('all-missing.csv', table(900, { age: () => '' }));
  await write('typed.csv', table(900, { age: (i) => (i % 2 ? `${20 + (i % 40)} years` : String(20 + (i % 40))) }));
  await write('utf16le-bom.csv', utf16(same, 'le', true));
  await write('utf16be-bom.csv', utf16(same, 'be', true));
  await write('utf16le.csv', utf16(same, 'le', false));
  await write('latin1.csv', Buffer.from(same, 'latin1'));
  await write('utf8-bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(same)]));
  const zip = Buffer.alloc(4096);
  zip.write('PK\x03\x04', 0, 'latin1');
  zip.write('[Content_Types].xml', 30, 'latin1');
  await write('excel.csv', zip);
  await write('reference.jsonl', same.trimEnd().split('\n').slice(1).map((l) => { const [age, plan, city] = l.split(','); return JSON.stringify({ age: Number(age), plan, city }); }).join('\n') + '\n');
  await write('latin1.jsonl', Buffer.from(same.trimEnd().split('\n').slice(1).map((l) => { const [age, plan, city] = l.split(','); return JSON.stringify({ age: Number(age), plan, city }); }).join('\n') + '\n', 'latin1'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function report(current: string, extra: string[] = []): Promise<{ code: number; report: DriftReport }> {
  const result = await cli(['drift', 'reference.csv', current, '--format', 'json', '--fail-on', 'monitor', ...extra]);
  expect(result.stderr).toBe('');
  return { code: result.code, report: JSON.parse(result.stdout) as DriftReport };
}

describe('schema changes fail the gate', () => {
  it('nothing changed: no schema finding, exit 0', async () => {
    const { code, report: r } = await report('same.csv');
    expect(r.schema).toEqual([]);
    expect(code).toBe(0);
  });

  it('a dropped column', async () => {
    const { code, report: r } = await report('dropped.csv');
    expect(r.schema).toEqual([{ kind: 'dropped', column: 'plan', severity: 'retrain', message: expect.stringMatching(/"plan" is in the reference but not in the current data/) }]);
    expect(code).toBe(1);
  });

  it('an added column', async () => {
    const { code, report: r } = await report('added.csv');
    expect(r.schema).toEqual([{ kind: 'added', column: 'channel', severity: 'retrain', message: expect.stringMatching(/"channel" is new in the current data/) }]);
    expect(code).toBe(1);
  });

  it('a renamed column: a dropped and an added column with the same distribution', async () => {
    const { code, report: r } = await report('renamed.csv');
    expect(r.schema).toEqual([{ kind: 'renamed', column: 'plan', to: 'tier', severity: 'retrain', message: expect.stringMatching(/"plan" seems renamed to "tier": .*same distribution \(PSI 0\.0\d*\)/) }]);
    expect(code).toBe(1);
  });

  it('a column entirely missing in the current data', async () => {
    const { code, report: r } = await report('all-missing.csv');
    expect(r.schema).toEqual([{ kind: 'all-missing', column: 'age', severity: 'retrain', message: expect.stringMatching(/every value of "age" is missing in the current data/) }]);
    expect(code).toBe(1);
  });

  it('a type change: numbers in the reference, text in the current data', async () => {
    const { code, report: r } = await report('typed.csv');
    expect(r.schema).toEqual([{ kind: 'type-changed', column: 'age', severity: 'retrain', message: expect.stringMatching(/"age" was numeric in the reference and is text in the current data \(e\.g\. "\d+ years"\)/) }]);
    expect(code).toBe(1);
  });

  it('a file that cannot be decoded (an Excel workbook named .csv)', async () => {
    const result = await cli(['drift', 'reference.csv', 'excel.csv', '--fail-on', 'retrain']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/RETRAIN +undecodable +\S*excel\.csv cannot be decoded as text: it is a zip archive \(an Excel workbook\?\)/);
  });

  it('each kind\'s severity can be set: monitor only fails --fail-on monitor, off drops it', async () => {
    const lowered = await report('added.csv', ['--schema-severity', 'added=monitor']);
    expect(lowered.report.schema.map((s) => s.severity)).toEqual(['monitor']);
    expect(lowered.code).toBe(1);
    expect((await cli(['drift', 'reference.csv', 'added.csv', '--fail-on', 'retrain', '--schema-severity', 'added=monitor'])).code).toBe(0);
    expect((await report('added.csv', ['--schema-severity', 'added=off'])).report.schema).toEqual([]);
    expect(await cli(['drift', 'reference.csv', 'added.csv', '--schema-severity', 'added=maybe'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--schema-severity takes KIND=monitor\|retrain\|off/) });
  });

  it('is shown in text, Markdown and HTML', async () => {
    const text = await cli(['drift', 'reference.csv', 'dropped.csv']);
    expect(text.code).toBe(0); // no --fail-on: a report, not a gate
    expect(text.stdout).toMatch(/^Drift: 0 of 2 columns drifted \(0%\); 1 schema change \(1 retrain\)\./);
    expect(text.stdout).toMatch(/Schema changes:\n {2}RETRAIN +dropped +"plan" is in the reference but not in the current data/);
    const md = await cli(['drift', 'reference.csv', 'dropped.csv', '--format', 'md']);
    expect(md.stdout).toMatch(/## Schema changes\n\n\| severity \| change \| column \| what \|\n/);
    expect(md.stdout).toMatch(/\| retrain \| dropped \| `plan` \|/);
    const html = await cli(['drift', 'reference.csv', 'dropped.csv', '--format', 'html']);
    expect(html.stdout).toMatch(/<h2>Schema changes<\/h2>/);
    expect(html.stdout).toMatch(/<span class="sev sev-retrain">retrain<\/span> dropped: &quot;plan&quot; is in the reference/);
  });
});

describe('text encodings', () => {
  it.each(['utf16le-bom.csv', 'utf16be-bom.csv', 'utf16le.csv', 'utf8-bom.csv'])('%s is decoded and compared like the UTF-8 file', async (file) => {
    const { code, report: r } = await report(file);
    expect(r.schema).toEqual([]);
    expect(r.datasetDrift).toMatchObject({ drifted: 0, total: 3 });
    expect(r.columns.find((c) => c.name === 'city')!.current.top!.map((t) => t.value).sort()).toEqual(['Genève', 'Köln', 'Málaga', 'Zürich']);
    expect(r.current.encoding).toBe(file.startsWith('utf16be') ? 'utf-16be' : file.startsWith('utf16') ? 'utf-16le' : 'utf-8');
    expect(code).toBe(0);
  });

  it('Latin-1 is read as Latin-1, and the report says so', async () => {
    const { code, report: r } = await report('latin1.csv');
    expect(r.current.encoding).toBe('windows-1252');
    expect(r.problems).toContainEqual(expect.stringMatching(/latin1\.csv is not valid UTF-8: it was read as Latin-1 \(Windows-1252\); check that accented text looks right\.$/));
    expect(r.columns.find((c) => c.name === 'city')!.current.top!.map((t) => t.value).sort()).toEqual(['Genève', 'Köln', 'Málaga', 'Zürich']);
    expect(r.datasetDrift.drifted).toBe(0);
    expect(code).toBe(0);
  });

  it('JSON Lines in Latin-1 too', async () => {
    const result = await cli(['drift', 'reference.jsonl', 'latin1.jsonl', '--format', 'json']);
    const r = JSON.parse(result.stdout) as DriftReport;
    expect(r.problems).toContainEqual(expect.stringMatching(/latin1\.jsonl is not valid UTF-8: 900 lines were read as Latin-1 \(Windows-1252\); check that accented text looks right\.$/));
    expect(r.datasetDrift.drifted).toBe(0);
  });
});
