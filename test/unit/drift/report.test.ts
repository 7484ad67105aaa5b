import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../../src/core/drift/drift';
import { profileReference } from '../../../src/core/drift/profileReference';
import { formatPValue, renderDriftReport } from '../../../src/core/drift/report';
import { col, countsCol, dataset, numericCol } from './helpers';

const evil = '<script>alert("x")</script>|';

function sample() {
  const ref = dataset('ref <a>.csv', [
    numericCol('age', Array.from({ length: 400 }, (_, i) => i / 4)),
    countsCol(evil, { [evil]: 60, b: 40 }),
    col('empty', [1.5, 2.5, null]),
  ]);
  const cur = dataset('cur.csv', [
    numericCol('age', Array.from({ length: 400 }, (_, i) => i / 3)),
    countsCol(evil, { [evil]: 20, b: 70, new: 10 }),
    col('empty', [null, null, null]),
  ]);
  return computeDrift(ref, cur);
}

describe('renderDriftReport', () => {
  it('text: summary line, thresholds, one row per column, the p-value caveat once, problems', () => {
    const text = renderDriftReport(sample(), 'text');
    const lines = text.split('\n');
    expect(lines[0]).toBe('Drift: 2 of 2 columns drifted (100%); 1 schema change (1 retrain). Reference: ref <a>.csv (400 rows); current: cur.csv (400 rows).');
    expect(lines[1]).toMatch(/< 0\.1 stable, 0\.1–0\.2 monitor, > 0\.2 retrain/);
    expect(lines.slice(3, 5)).toEqual(['Schema changes:', '  RETRAIN  all-missing  every value of "empty" is missing in the current data (3 rows), and the reference has 2 values.']);
    expect(lines[6]).toMatch(/^column\s+kind\s+PSI\s+severity\s+test\s+p-value\s+effect size$/);
    expect(text).toMatch(/age\s+numeric\s+\d\.\d{3}\s+retrain\s+KS 0\.\d{3}\s+\S+\s+W \d\.\d{3} sd/);
    expect(text).toMatch(/empty\s+numeric\s+—\s+n\/a/);
    expect(text.match(/tiny p-value/g)).toHaveLength(1);
    expect(text).toMatch(/Problems:\n- /);
    expect(text).toMatch(/empty: no values in the current data \(all missing\): no statistics\./);
  });

  it('markdown: a table with pipes escaped', () => {
    const md = renderDriftReport(sample(), 'md');
    expect(md).toMatch(/^# Data drift\n/);
    expect(md).toContain('| column | kind | PSI | severity | test | p-value | effect size |');
    expect(md).toContain('\\|');
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(9);
  });

  it('html: standalone, no scripts, every value escaped', () => {
    const page = renderDriftReport(sample(), 'html');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<style>');
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).toContain('ref &lt;a&gt;.csv');
    expect(page).toMatch(/<svg[^>]*>.*<rect class="ref"/s);
    expect(page).not.toMatch(/<link|src=/);
  });

  it('json: the report as is', () => {
    const report = sample();
    const json = renderDriftReport(report, 'json');
    expect(JSON.parse(json)).toEqual(report);
    expect(json).toContain('\n  "reference": {');
  });

  it('marks statistics against a run profile as approximate', () => {
    const profile = { rows: 100, columns: [{ name: 'x', type: 'numeric' as const, count: 100, nulls: 0, bins: { edges: [0, 1, 2], counts: [50, 50] }, min: 0, max: 2, mean: 1, std: 0.58 }] };
    const report = computeDrift(profileReference(profile, 'run R input a.csv'), dataset('cur', [numericCol('x', Array.from({ length: 100 }, (_, i) => i / 40))]));
    const text = renderDriftReport(report, 'text');
    expect(text).toMatch(/~KS/);
    expect(text).toMatch(/~W/);
    expect(text).toMatch(/~ approximate: computed against the binned reference profile/);
    expect(text).toMatch(/Reference: run R input a\.csv \(run profile, 100 rows\)/);
  });

  it('formats p-values', () => {
    expect(formatPValue(0)).toBe('<1e-300');
    expect(formatPValue(2.4e-11)).toBe('2.4e-11');
    expect(formatPValue(0.0123)).toBe('0.012');
    expect(formatPValue(1)).toBe('1.0');
  });
});
