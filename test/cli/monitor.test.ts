/**
 * `nb2prod monitor` as cron and CI run it: the report in each format, --check's exit status and
 * the alert history it writes, --on-alert, labels imported from a file, a person acknowledging
 * and resolving, and the usage errors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditLine, serviceFolder, writeAudit } from '../unit/monitor/monitorFixture';
import { runInProcess } from './inProcess';

function drifting(): string {
  const root = serviceFolder();
  writeAudit(root, '2031-01-01', Array.from({ length: 150 }, (_, i) => auditLine({ time: '2031-01-01T10:00:00Z', request_id: `s${i}`, x: 0.5 + (i % 10), c: i % 2 ? 'a' : 'b', p1: i % 10 < 3 ? 0.8 : 0.2 })));
  writeAudit(root, '2031-01-02', Array.from({ length: 150 }, (_, i) => auditLine({ time: '2031-01-02T10:00:00Z', request_id: `d${i}`, x: 0.5, c: i % 2 ? 'a' : 'b', p1: i % 10 < 3 ? 0.8 : 0.2 })));
  return root;
}

const person = { identity: { osUser: 'dana', host: 'h', gitEmail: 'dana@example.com' } };

describe('nb2prod monitor', () => {
  it('reports in text, JSON, Markdown and HTML, and only --check fails and records', async () => {
    const root = drifting();
    const text = await runInProcess(['monitor', root], root);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('ALERTS (1)');
    expect(text.stdout).toContain('input x: PSI');
    const json = JSON.parse((await runInProcess(['monitor', root, '--format', 'json'], root)).stdout) as { schema: string; windows: unknown[] };
    expect(json.schema).toBe('nb2prod.monitor/1');
    expect(json.windows).toHaveLength(2);
    expect((await runInProcess(['monitor', root, '--format', 'md'], root)).stdout).toMatch(/^# Monitor: toy/);
    const html = await runInProcess(['monitor', root, '--format', 'html', '--output', 'report.html'], root);
    expect(html.stderr).toContain('report.html');
    expect(readFileSync(path.join(root, 'report.html'), 'utf8')).toContain('<table>');
    expect(existsSync(path.join(root, 'var', 'monitor', 'alerts.jsonl'))).toBe(false);

    const check = await runInProcess(['monitor', root, '--check', '--on-alert', 'echo "$NB2PROD_ALERTS" > fired.json'], root, {}, person);
    expect(check.code).toBe(1);
    const fired = JSON.parse(readFileSync(path.join(root, 'fired.json'), 'utf8')) as Array<{ rule: string; subject: string; id: string }>;
    expect(fired.map((a) => `${a.rule}:${a.subject}`)).toEqual(['feature_psi:x']);
    expect(check.stderr).toContain('1 alert opened: running');
    // a second check opens nothing new and runs nothing
    const again = await runInProcess(['monitor', root, '--check', '--on-alert', 'echo again > again.txt'], root, {}, person);
    expect(again.code).toBe(1);
    expect(existsSync(path.join(root, 'again.txt'))).toBe(false);

    const ack = await runInProcess(['monitor', 'ack', root, fired[0]!.id, '--reason', 'new region launched', '--by', 'dana@example.com'], root, {}, person);
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain('acknowledged by dana@example.com');
    expect((await runInProcess(['monitor', root, '--check'], root, {}, person)).code).toBe(1);
    const resolved = await runInProcess(['monitor', 'resolve', root, fired[0]!.id, '--reason', 'retrained on the new region'], root, {}, person);
    expect(resolved.code).toBe(0);
    const listed = await runInProcess(['monitor', 'alerts', root, '--all'], root);
    expect(listed.stdout).toContain('RESOLVED');
    expect(listed.stdout).toContain('acknowledged');
    expect(listed.stdout).toContain('retrained on the new region');
    // resolved by a person while the drift is still there: the next check opens a new alert
    expect((await runInProcess(['monitor', root, '--check'], root, {}, person)).code).toBe(1);
    const history = readFileSync(path.join(root, 'var', 'monitor', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(history).toEqual(['open', 'acknowledge', 'resolve', 'open']);
  });

  it('imports labels and says what it refused', async () => {
    const root = serviceFolder();
    writeFileSync(path.join(root, 'labels.csv'), 'request_id,label\nr1,1\n,0\n');
    const result = await runInProcess(['monitor', 'labels', root, 'labels.csv'], root);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 label appended to var/feedback/labels-');
    expect(result.stdout).toContain('row 3: no request_id');
    writeFileSync(path.join(root, 'none.csv'), 'request_id,comment\nr1,hello\n');
    const refused = await runInProcess(['monitor', 'labels', root, 'none.csv'], root);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('neither a label nor an outcome');
  });

  it('refuses what it cannot use, in one line', async () => {
    const root = serviceFolder();
    expect((await runInProcess(['monitor'], root)).stderr).toContain('needs a SERVICE_DIR');
    expect((await runInProcess(['monitor', path.join(root, 'nowhere')], root)).stderr).toContain('is not a generated service');
    expect((await runInProcess(['monitor', root, '--window', '5s'], root)).stderr).toContain('at least a minute');
    expect((await runInProcess(['monitor', root, '--since', 'yesterday'], root)).stderr).toContain('--since must be an ISO date');
    expect((await runInProcess(['monitor', root, '--on-alert', 'true'], root)).stderr).toContain('--on-alert goes with --check');
    expect((await runInProcess(['monitor', 'postgresql://u:secret@db/x'], root)).stderr).toContain('--service SERVICE_DIR');
    const ack = await runInProcess(['monitor', 'ack', root, 'NOPE', '--reason', 'x'], root);
    expect(ack.code).toBe(2);
    expect(ack.stderr).toContain('No alert "NOPE"');
    expect((await runInProcess(['monitor', 'ack', root, 'NOPE'], root)).stderr).toContain('needs --reason');
    const since = await runInProcess(['monitor', root, '--since', '7d', '--format', 'json'], root);
    expect(since.code).toBe(0);
  });
});

describe('nb2prod monitor as a process', () => {
  it('reads a log split over worker threads into the same report (dist/cli.js, NB2PROD_MONITOR_THREADS)', () => {
    const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
    expect(existsSync(path.join(path.dirname(cli), 'monitorWorker.js')), 'npm run build first').toBe(true);
    const root = drifting();
    writeAudit(root, '2031-01-03', Array.from({ length: 120 }, (_, i) => auditLine({ time: '2031-01-03T10:00:00Z', request_id: `t${i}`, x: 9.5, p1: 0.9, latency: 7 })));
    const run = (threads: string) => JSON.parse(execFileSync(process.execPath, [cli, 'monitor', root, '--format', 'json'], { encoding: 'utf8', env: { ...process.env, NB2PROD_MONITOR_THREADS: threads } })) as Record<string, unknown> & { read: Record<string, unknown> };
    const one = run('1');
    const three = run('3');
    one.read.outOfOrderSeconds = three.read.outOfOrderSeconds = 0;
    expect(three).toEqual(one);
  });
});
