import { describe, expect, it } from 'vitest';
import { parseEnvelope, parseEnvelopeText } from '../../src/core/envelope';
import { newRunId, runIdTime } from '../../src/core/ids';
import { makeEnvelope } from '../fixtures/envelopes';

describe('envelope schema v1', () => {
  it('accepts a complete envelope and keeps fields it does not know', () => {
    const envelope = { ...makeEnvelope(), addedInSchema1_1: { x: 1 } };
    const result = parseEnvelope(envelope);
    expect(result.ok).toBe(true);
    if (result.ok) expect((result.envelope as Record<string, unknown>).addedInSchema1_1).toEqual({ x: 1 });
  });

  it('names the field at fault', () => {
    const envelope = makeEnvelope() as Record<string, unknown>;
    envelope.status = 'exploded';
    const result = parseEnvelope(envelope);
    expect(result).toMatchObject({ ok: false, issues: [{ field: 'status' }] });
  });

  it('names nested fields with a dotted path', () => {
    const envelope = makeEnvelope();
    (envelope.inputs[0] as Record<string, unknown>).sha256 = 'not-a-hash';
    const result = parseEnvelope(envelope);
    expect(result).toMatchObject({ ok: false, issues: [{ field: 'inputs.0.sha256' }] });
  });

  it('rejects another schema version', () => {
    const result = parseEnvelope({ ...makeEnvelope(), schema: 'nb2prod.run/2' });
    expect(result).toMatchObject({ ok: false, issues: [{ field: 'schema' }] });
  });

  it('reports JSON syntax errors as a (json) problem, on one line', () => {
    const result = parseEnvelopeText('{"schema": ');
    expect(result).toMatchObject({ ok: false, issues: [{ field: '(json)' }] });
    const quoted = parseEnvelopeText('{\n  "schema":\n  oops\n}');
    expect(quoted.ok ? '' : quoted.issues[0]!.message).not.toMatch(/\n/);
  });

  it('reads a run file an editor saved with a byte-order mark', () => {
    expect(parseEnvelopeText(`\ufeff${JSON.stringify(makeEnvelope())}`).ok).toBe(true);
  });
});

describe('run ids', () => {
  it('sort by creation time, also within one millisecond', () => {
    const ids = [newRunId(1_000), newRunId(1_000), newRunId(1_000), newRunId(2_000), newRunId(1_500_000_000_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encode their time', () => {
    const at = Date.UTC(2026, 10, 23, 12, 0, 0);
    expect(runIdTime(newRunId(at)).getTime()).toBe(at);
  });

  it('are ULIDs', () => {
    expect(newRunId()).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
