import { describe, expect, it } from 'vitest';
import { diffRuns, onlyMetricsDiffer } from '../../src/core/diff';
import { formatAge, formatNumber, keyMetrics } from '../../src/core/render/format';
import { escapeHtml, renderDiffHtml, renderRunHtml } from '../../src/core/render/runHtml';
import { renderDiff, renderRun } from '../../src/core/render/runText';
import { DEFAULT_CELLS, makeEnvelope } from '../fixtures/envelopes';

describe('diffRuns', () => {
  it('finds nothing but metrics between two runs of the same config', () => {
    const a = makeEnvelope({ metrics: { acc: 0.8 } });
    const b = makeEnvelope({ metrics: { acc: 0.82 } });
    const diff = diffRuns(a, b);
    expect(onlyMetricsDiffer(diff)).toBe(true);
    expect(diff.metrics).toEqual([{ name: 'acc', a: 0.8, b: 0.82, delta: expect.closeTo(0.02, 12), relative: expect.closeTo(0.025, 12) }]);
  });

  it('reports changed, added and removed cells, params, seeds, data, packages and metrics', () => {
    const a = makeEnvelope({ seed: 1, metrics: { acc: 0.8, loss: 0.5 }, params: { lr: 0.1, depth: 3 } });
    const cells = [...DEFAULT_CELLS];
    cells[1] = 'n_estimators = 300\nmax_depth = 6';
    cells.push('print(model.score(X_test, y_test))');
    const b = makeEnvelope({
      seed: 2,
      cells,
      metrics: { acc: 0.9, f1: 0.7 },
      params: { lr: 0.05, batch: 32 },
      inputContent: 'different data',
      packages: { pandas: '2.0.0', numpy: '1.24.2' },
    });
    b.hardware = { ...b.hardware, cores: 8 };
    const diff = diffRuns(a, b);
    expect(diff.sameCode).toBe(false);
    expect(diff.cells).toEqual([
      { kind: 'changed', key: 'cell-2', id: 'cell-2', indexA: 2, indexB: 2 },
      { kind: 'added', key: 'cell-6', id: 'cell-6', indexA: null, indexB: 6 },
    ]);
    expect(diff.params).toEqual([
      { kind: 'added', key: 'batch', b: 32 },
      { kind: 'removed', key: 'depth', a: 3 },
      { kind: 'changed', key: 'lr', a: 0.1, b: 0.05 },
    ]);
    // `diff --json` keeps locations as recorded (0-based `cell 4`); people read the cell's number.
    expect(diff.seeds).toEqual([{ kind: 'changed', key: 'numpy @ cell 4, line 1', a: '1', b: '2' }]);
    expect(renderDiff(diff)).toContain('~ numpy @ cell 5, line 1: 1 → 2');
    expect(renderDiffHtml(diff)).toContain('numpy @ cell 5, line 1');
    expect(diff.inputs).toEqual([{ kind: 'changed', key: 'data/churn.csv', a: a.inputs[0]!.sha256, b: b.inputs[0]!.sha256 }]);
    expect(diff.packages).toEqual([
      { kind: 'changed', key: 'pandas', a: '1.5.3', b: '2.0.0' },
      { kind: 'removed', key: 'scikit-learn', a: '1.2.1' },
    ]);
    expect(diff.hardware).toEqual([{ kind: 'changed', key: 'cores', a: 2, b: 8 }]);
    expect(diff.metrics.map((m) => [m.name, m.a, m.b])).toEqual([
      ['acc', 0.8, 0.9],
      ['f1', null, 0.7],
      ['loss', 0.5, null],
    ]);
    const text = renderDiff(diff);
    expect(text).toContain('Code: 2 cells differ');
    // Cells as Jupyter numbers them (index 2 is the third cell), with their ids.
    expect(text).toContain('~ cell 3 (id cell-2) changed\n');
    expect(text).toContain('+ cell 7 (id cell-6) added in B');
    expect(renderDiffHtml(diff)).toMatch(/cell-2<\/td><td>3<\/td><td>3<\/td>/);
    expect(text).toContain('+ batch: 32');
    expect(text).toContain('- scikit-learn: 1.2.1');
  });

  it('matches cells by position when notebooks have no cell ids', () => {
    const a = makeEnvelope();
    const b = makeEnvelope({ cells: [...DEFAULT_CELLS.slice(0, 4), 'model.fit(X, y)'] });
    for (const run of [a, b]) run.source.cells = run.source.cells.map((c) => ({ ...c, id: null }));
    const diff = diffRuns(a, b);
    expect(diff.cells).toEqual([{ kind: 'changed', key: '#5', id: null, indexA: 5, indexB: 5 }]);
    expect(renderDiff(diff)).toContain('~ cell 6 changed');
  });
});

describe('renderers', () => {
  it('escape every value from an envelope in HTML', () => {
    const run = makeEnvelope({ name: '<img src=x onerror=alert(1)>', params: { '"><script>': '</td>' } });
    run.inputs[0]!.path = 'data/<b>.csv';
    const page = renderRunHtml(run);
    expect(page).not.toMatch(/<img|<script|<b>/);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('data-open-file="data/&lt;b&gt;.csv"');
    const diffPage = renderDiffHtml(diffRuns(run, makeEnvelope()));
    expect(diffPage).not.toMatch(/<img|<script/);
    expect(escapeHtml(`'"&`)).toBe('&#39;&quot;&amp;');
  });

  it('show the sections a reader needs on the run page', () => {
    const run = makeEnvelope({ status: 'failed' });
    run.unseeded = [{ library: 'numpy', call: 'numpy.random.rand', location: 'cell 3, line 2' }];
    const page = renderRunHtml(run);
    for (const heading of ['Metrics', 'Params', 'Seeds', 'Inputs', 'Outputs', 'Environment', 'Cells', 'Error']) expect(page).toContain(`>${heading}`);
    expect(page).toContain('Randomness used without a seed');
    expect(page).toContain('numpy.random.rand');
    const text = renderRun(run);
    expect(text).toContain('status    failed — KeyError');
    // The recorded `cell 3` is index 3: the fourth cell, whose id the run knows.
    expect(text).toContain('Unseeded randomness:\n  numpy.random.rand  at cell 4 (id cell-3), line 2');
    expect(page).toContain('at cell 4 (id cell-3), line 2'.slice(3));
  });

  it('format numbers and ages for people', () => {
    expect(formatNumber(0.86123456)).toBe('0.8612');
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(1.5e-7)).toBe('1.500e-7');
    expect(formatNumber(null)).toBe('—');
    const now = Date.UTC(2026, 0, 10);
    expect(formatAge(new Date(now - 30_000).toISOString(), now)).toBe('just now');
    expect(formatAge(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5 min ago');
    expect(formatAge(new Date(now - 2 * 86_400_000).toISOString(), now)).toBe('2 days ago');
    expect(keyMetrics({ b: 2, a: 1, c: 3 })).toEqual([['a', 1], ['b', 2]]);
    expect(keyMetrics({ b: 2, a: 1, c: 3 }, ['c', 'zz'])).toEqual([['c', 3]]);
  });
});

describe('params on the run page', () => {
  it('folds autologged estimator params apart from the run’s own', () => {
    const run = makeEnvelope({ params: { lr: 0.1, 'RandomForestClassifier.max_depth': 8 } });
    run.paramSources = { lr: 'notebook', 'RandomForestClassifier.max_depth': 'autolog' };
    const page = renderRunHtml(run);
    const folded = page.slice(page.indexOf('<details class="autolog">'));
    expect(page.indexOf('>lr<')).toBeLessThan(page.indexOf('<details class="autolog">'));
    expect(folded).toContain('RandomForestClassifier.max_depth');
    expect(renderRun(run)).toContain('Estimator params (autologged at fit):\n  RandomForestClassifier.max_depth = 8  (autolog)');
  });
});
