import { describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/core/readiness/model';
import { readinessEvidence, readinessFixes, renderReadinessHtml } from '../../src/core/render/readinessHtml';

const report: ReadinessReport = {
  schema: 'nb2prod.readiness/1',
  root: '/p/<project>',
  productionReady: false,
  questions: [{ id: 'monitoring', question: 'Is there automated monitoring?', answer: 'no', because: 'No: nothing watches <drift>.', items: ['drift-monitoring'] }],
  items: [
    { id: 'seeds', title: 'Seeds set', status: 'pass', summary: 'ok', evidence: [{ kind: 'run', id: 'R1', label: 'run R1 <b>' }], fix: null },
    { id: 'owner', title: 'An owner named', status: 'fail', summary: 'none', evidence: [{ kind: 'config', path: 'nb2prod.toml', key: 'readiness.owner', label: 'owner' }], fix: 'Add owner = "…"', actions: [{ kind: 'openFile', label: 'Open <nb2prod.toml>', path: 'nb2prod.toml', find: 'owner' }] },
  ],
  counts: { pass: 1, fail: 1, unknown: 0 },
};

describe('readiness page', () => {
  it('lists failing items first, with their fix buttons numbered in page order', () => {
    const page = renderReadinessHtml(report);
    expect(page.indexOf('id="item-owner"')).toBeLessThan(page.indexOf('id="item-seeds"'));
    expect(page).toMatch(/<button class="fix-action" data-fix="0">Open &lt;nb2prod.toml&gt;<\/button>/);
    expect(readinessFixes(report)).toEqual([{ kind: 'openFile', label: 'Open <nb2prod.toml>', path: 'nb2prod.toml', find: 'owner' }]);
    expect(page).not.toContain('coming');
  });

  it('escapes every value, numbers evidence buttons in page order and says each answer once', () => {
    const page = renderReadinessHtml(report);
    expect(page).not.toContain('<drift>');
    expect(page).toContain('&lt;drift&gt;');
    expect(page).toContain('run R1 &lt;b&gt;');
    expect(page).toContain('<strong>No</strong> — nothing watches');
    // The failing item (owner) comes first on the page, so its evidence is number 0.
    expect(page).toMatch(/data-evidence="0"[^>]*title="readiness.owner in nb2prod.toml"/);
    expect(page).toMatch(/data-evidence="1"[^>]*title="Open run R1"/);
    expect(readinessEvidence(report).map((e) => e.kind)).toEqual(['config', 'run']);
    expect(page).toContain('Not production-ready: 1 failing, 0 unknown, 1 of 2 passing.');
  });
});
