/**
 * The lint precision harness (bench/lintCorpus.ts): its sample must be reproducible from its
 * seed and fair, its tallies must add up, and a real lint of a small folder must give the
 * report a person reads (per-rule counts, broken files, the flagged source line).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, formatCorpusReport, lintCorpus, percentile, sampleIndices, seededRandom, tallyRules, tallySeverities, type TimedReport } from '../../../bench/lintCorpus';
import type { FileReport, ReportedFinding } from '../../../src/core/lint/lintFiles';
import type { Severity } from '../../../src/core/lint/rule';
import { ALL_RULES } from '../../../src/core/lint/rules';
import { notebookJson } from './lintHelpers';

function finding(rule: string, severity: Severity, cell = 0, line = 0): ReportedFinding {
  return {
    rule: rule as ReportedFinding['rule'],
    severity,
    message: `${rule} here`,
    cell,
    span: { from: 0, to: 1 },
    fixes: [],
    start: { line, character: 0 },
    end: { line, character: 1 },
    fileLine: line + 1,
    cellId: null,
  };
}

function report(file: string, findings: ReportedFinding[], error: string | null = null): FileReport {
  return { path: file, kind: file.endsWith('.py') ? 'script' : 'notebook', findings, error, ruleFailures: [] };
}

describe('sampling', () => {
  it('draws the same sample from the same seed, another from another seed', () => {
    expect(sampleIndices(1000, 20, 7)).toEqual(sampleIndices(1000, 20, 7));
    expect(sampleIndices(1000, 20, 7)).not.toEqual(sampleIndices(1000, 20, 8));
    const random = seededRandom(3);
    const again = seededRandom(3);
    for (let i = 0; i < 5; i++) expect(random()).toBe(again());
  });

  it('gives distinct indices in range, in order, and everything when asked for more than there is', () => {
    const sample = sampleIndices(50, 10, 1);
    expect(sample).toHaveLength(10);
    expect(new Set(sample).size).toBe(10);
    expect(sample.every((i) => i >= 0 && i < 50)).toBe(true);
    expect([...sample].sort((a, b) => a - b)).toEqual(sample);
    expect(sampleIndices(5, 20, 1)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(0, 20, 1)).toEqual([]);
    expect(sampleIndices(10, 0, 1)).toEqual([]);
  });

  it('is uniform: every finding is about as likely to be picked', () => {
    const hits = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 5000; seed++) for (const i of sampleIndices(10, 3, seed)) hits[i]!++;
    // Expected 1500 each (5000 × 3/10); a fair draw stays well within ±10 %.
    for (const count of hits) expect(Math.abs(count - 1500)).toBeLessThan(150);
  });
});

describe('tallies', () => {
  const reports = [
    report('/c/a.ipynb', [finding('syntax-error', 'error'), finding('unseeded-random', 'warning'), finding('unseeded-random', 'warning', 2)]),
    report('/c/b.py', [finding('unseeded-random', 'warning'), finding('unexecuted-cell', 'info')]),
    report('/c/broken.ipynb', [], 'is not a valid notebook'),
  ];

  it('counts findings per rule and severity, and the files each rule is in', () => {
    expect(tallyRules(reports, null)).toEqual([
      { rule: 'unseeded-random', error: 0, warning: 3, info: 0, total: 3, files: 2 },
      { rule: 'syntax-error', error: 1, warning: 0, info: 0, total: 1, files: 1 },
      { rule: 'unexecuted-cell', error: 0, warning: 0, info: 1, total: 1, files: 1 },
    ]);
    expect(tallySeverities(reports, null)).toEqual({ error: 1, warning: 3, info: 1 });
  });

  it('keeps only the rule asked for', () => {
    expect(tallyRules(reports, 'syntax-error')).toEqual([{ rule: 'syntax-error', error: 1, warning: 0, info: 0, total: 1, files: 1 }]);
    expect(tallySeverities(reports, 'syntax-error')).toEqual({ error: 1, warning: 0, info: 0 });
  });

  it('reports time percentiles, the slowest file, broken files and the sample', () => {
    const timed: TimedReport[] = reports.map((r, i) => ({ report: r, ms: [4, 30, 1][i]! }));
    const built = buildReport('/c', timed, 40, { sample: 2, seed: 5, rule: null }, (_, f) => `line of ${f.rule}`);
    expect(built.files).toBe(3);
    expect(built.findings).toBe(5);
    expect(built.time).toEqual({ totalMs: 40, p50Ms: 4, p90Ms: 30, maxMs: 30, slowest: 'b.py' });
    expect(built.fileErrors).toEqual([{ path: 'broken.ipynb', error: 'is not a valid notebook' }]);
    expect(built.sample.findings).toHaveLength(2);
    expect(built.sample).toMatchObject({ seed: 5, size: 2, of: 5 });
    expect(buildReport('/c', timed, 40, { sample: 2, seed: 5, rule: null }, () => '').sample.findings.map((f) => f.message)).toEqual(built.sample.findings.map((f) => f.message));
    for (const f of built.sample.findings) expect(f.source).toBe(`line of ${f.rule}`);
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
  });
});

describe('lintCorpus on a folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-corpus-'));
    await fs.writeFile(path.join(dir, 'a.ipynb'), notebookJson([{ source: 'import random\nvalue = random.random()', count: 1 }, { source: 'print(value)', count: 2 }]));
    await fs.writeFile(path.join(dir, 'b.py'), 'import numpy as np\n\nnoise = np.random.rand(3)\n');
    await fs.writeFile(path.join(dir, 'broken.ipynb'), '{"cells": [');
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lints through the CLI core and shows each sampled finding with its source line', async () => {
    const result = await lintCorpus(dir, ALL_RULES, { sample: 10, seed: 1, rule: 'unseeded-random' });
    expect(result.files).toBe(3);
    expect(result.fileErrors).toEqual([{ path: 'broken.ipynb', error: expect.stringMatching(/not a valid notebook/) }]);
    expect(result.rules).toEqual([{ rule: 'unseeded-random', error: 0, warning: 2, info: 0, total: 2, files: 2 }]);
    expect(result.sample.findings.map((f) => [f.path, f.cell, f.line, f.source])).toEqual([
      ['a.ipynb', 'cell 1', 2, 'value = random.random()'],
      ['b.py', null, 3, 'noise = np.random.rand(3)'],
    ]);
    const text = formatCorpusReport(result);
    expect(text).toMatch(/3 files linted in .* \(per file p50 .*, max .*\)/);
    expect(text).toMatch(/2 findings of unseeded-random: 0 errors, 2 warnings, 0 notes; 1 file not linted/);
    expect(text).toMatch(/unseeded-random +2 +0 +2 +0 +2/);
    expect(text).toContain('Files not linted:\n  broken.ipynb: not a valid notebook: it is not JSON');
    expect(text).toContain('a.ipynb cell 1 line 2:9  unseeded-random (warning)\n     | value = random.random()');
  });
});
