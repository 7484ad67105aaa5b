import { describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/core/readiness/model';
import { readinessEvidence, renderReadinessHtml } from '../../src/core/render/readinessHtml';

const report: ReadinessReport = {
  schema: 'nb2prod.readiness/1',
  root: '/p/<project>',
  productionReady: false,
  questions: [{ id: 'monitoring', question: 'Is there automated monitoring?', answer: 'no', because: 'No: nothing watches <drift>.', items: ['drift-monitoring'] }],
  items: [
    { id: 'seeds', title: 'Seeds set', status: 'pass', summary: 'ok', evidence: [{ kind: 'run', id: 'R1', label: 'run R1 <b>' }], fix: null },
    { id: 'owner', title: 'An owner named', status: 'fail', summary: 'none', evidence: [{ kind: 'config', path: 'nb2prod.toml', key: 'readiness.owner', label: 'owner' }], fix: 'Add owner = "…"' },
  ],
  counts: { pass: 1, fail: 1, unknown: 0 },
};

describe('readiness page', () => {
  it('escapes every value, numbers evidence buttons in page order and says each answer once', () => {
    const page = renderReadinessHtml(report);
    expect(page).not.toContain('<drift>');
    expect(page).toContain('&lt;drift&gt;');
    expect(page).toContain('run R1 &lt;b&gt;');
    expect(page).toContain('<strong>No</strong> — nothing watches');
    expect(page).toMatch(/data-evidence="0"[^>]*title="Open run R1"/);
    expect(page).toMatch(/data-evidence="1"/);
    expect(readinessEvidence(report).map((e) => e.kind)).toEqual(['run', 'config']);
    expect(page).toContain('Not production-ready: 1 failing, 0 unknown, 1 of 2 passing.');
  });
});
