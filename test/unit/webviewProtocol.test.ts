/**
 * The WebviewHost's messages, both ways, without a webview: a page's message is routed to the
 * host (`ready`) or the panel and refused when it does not parse; what the extension sends is
 * parsed with the panel's schema first — and the views the core builds for real runs and data
 * do parse, so a schema that drifted from the core is caught here rather than in a blank panel.
 */
import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../src/core/drift/drift';
import { profileReferenceFromRun } from '../../src/core/drift/profileReference';
import { compareView } from '../../src/core/render/compareView';
import { compareRuns, groupRuns } from '../../src/core/stats/compare';
import { compareMessageSchema, compareToPageSchema } from '../../src/protocol/compare';
import { driftToPageSchema } from '../../src/protocol/drift';
import { checkToPage, readFromPage } from '../../src/protocol/host';
import { runPageMessageSchema, runPageToPageSchema } from '../../src/protocol/runPage';
import { makeEnvelope } from '../fixtures/envelopes';
import { dataset, numericCol } from './drift/helpers';

const RUN = '01J0000000000000000000000A';

describe('messages from a page', () => {
  it('routes ready to the host and a panel message to the panel, parsed', () => {
    expect(readFromPage({ type: 'ready' }, compareMessageSchema)).toEqual({ host: true, message: { type: 'ready' } });
    expect(readFromPage({ type: 'setBaseline', index: 1, extra: 'dropped' }, compareMessageSchema)).toEqual({ host: false, message: { type: 'setBaseline', index: 1 } });
  });

  it('refuses what does not parse, saying where', () => {
    expect(readFromPage({ type: 'showRun', runId: '../../etc/passwd' }, compareMessageSchema)).toMatchObject({ host: null, error: expect.stringContaining('runId') });
    expect(readFromPage({ type: 'openFile', path: '' }, runPageMessageSchema)).toMatchObject({ host: null });
    expect(readFromPage('ready', compareMessageSchema)).toMatchObject({ host: null });
    expect(readFromPage({ type: 'runCommand', command: 'rm -rf' }, runPageMessageSchema)).toMatchObject({ host: null });
  });
});

describe('messages to a page', () => {
  it('lets the theme broadcast through to every page, pages without messages of their own included', () => {
    expect(checkToPage({ type: 'theme', kind: 'dark' }, runPageToPageSchema)).toEqual({ ok: true, message: { type: 'theme', kind: 'dark' } });
    expect(checkToPage({ type: 'theme', kind: 'sepia' }, runPageToPageSchema)).toMatchObject({ ok: false });
    expect(checkToPage({ type: 'comparison' }, runPageToPageSchema)).toMatchObject({ ok: false });
  });

  it('accepts the Compare view the core builds from real-shaped runs, and refuses a broken one', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const runs = [0, 1, 2].flatMap((seed) => [
      makeEnvelope({ startedAt: new Date(start + seed * 1000), params: { max_depth: 8, seed }, seed, metrics: { accuracy: 0.8 + seed / 100 } }),
      makeEnvelope({ startedAt: new Date(start + 10_000 + seed * 1000), params: { max_depth: 12, seed }, seed, metrics: { accuracy: 0.82 + seed / 100 } }),
    ]);
    const view = compareView(compareRuns(groupRuns(runs)), runs);
    const message = { type: 'comparison', view, state: { runIds: runs.map((r) => r.id) } };
    expect(checkToPage(message, compareToPageSchema)).toMatchObject({ ok: true });
    const broken = { ...message, view: { ...view, points: [{ ...view.points[0]!, value: Number.NaN }] } };
    expect(checkToPage(broken, compareToPageSchema)).toMatchObject({ ok: false, error: expect.stringContaining('view.points.0.value') });
    expect(checkToPage({ type: 'comparison', view, state: { runIds: [] } }, compareToPageSchema)).toMatchObject({ ok: false });
  });

  it('accepts the drift report of a dataset and of a run profile (uneven decile bins)', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i % 50) ** 1.5);
    const reference = dataset('ref.csv', [numericCol('tenure', values)]);
    const current = dataset('cur.csv', [numericCol('tenure', values.map((v) => v * 1.3))]);
    const report = computeDrift(reference, current);
    const message = { type: 'report', report, state: { current: '/w/cur.csv' }, referenceLabel: 'ref.csv', currentLabel: 'cur.csv' };
    const checked = checkToPage(message, driftToPageSchema);
    expect(checked).toMatchObject({ ok: true });
    // What the page gets is the parsed report: fields the page does not draw are not sent.
    expect(checked.ok && 'report' in checked.message ? Object.keys(checked.message.report) : []).not.toContain('onlyInReference');

    const run = makeEnvelope({});
    run.inputs[0]!.profile = { rows: 500, columns: [{ name: 'tenure', type: 'numeric', count: 500, nulls: 0, bins: { edges: [0, 1, 1, 10, 100, 350], counts: [50, 0, 150, 150, 150] } }] };
    const fromProfile = computeDrift(profileReferenceFromRun(run, run.inputs[0]!.path), current);
    expect(checkToPage({ ...message, report: fromProfile, referenceLabel: `churn.csv profile of run ${RUN}` }, driftToPageSchema)).toMatchObject({ ok: true });
  });
});
