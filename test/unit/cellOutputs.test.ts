/** Cell outputs as replay compares them (src/core/capture/cellOutputs.ts) and what compareRuns says about them. */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { changedCells, normaliseText, notebookFacets, pngHash, sameText } from '../../src/core/capture/cellOutputs';
import { compareRuns } from '../../src/core/capture/replay';
import type { RunEnvelope } from '../../src/core/envelope';
import { sha256Hex } from '../../src/core/hash';
import { makeEnvelope } from '../fixtures/envelopes';

const WINDOW = { startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:05:00.000Z' };

function crc32(data: Buffer): number {
  let crc = ~0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(pixels: number[], text?: string): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(pixels.length, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8;
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    ...(text ? [chunk('tEXt', Buffer.from(`Creation Time\0${text}`, 'latin1'))] : []),
    chunk('IDAT', deflateSync(Buffer.from([0, ...pixels]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('normaliseText', () => {
  it('replaces what varies between identical runs', () => {
    expect(normaliseText('<object object at 0x7f2a6b635110>', WINDOW)).toBe('<object object at 0x…>');
    expect(normaliseText('CPU times: user 6 µs, sys: 2 μs\nWall time: 1.2 ms', WINDOW)).toBe('CPU times: user <duration>, sys: <duration>\nWall time: <duration>');
    expect(normaliseText('/tmp/ipykernel_17916/1653238306.py:1: UserWarning', WINDOW)).toBe('/tmp/ipykernel_…/1653238306.py:1: UserWarning');
    expect(normaliseText('id 26f2e6b6-db9d-4696-9e85-041897c74d10', WINDOW)).toBe('id <uuid>');
    expect(normaliseText('\r1/3 [00:00<00:00, 1000.00it/s]\r3/3 [00:02<00:00, 9.5it/s]', WINDOW)).toBe('3/3 [<progress>]');
    expect(normaliseText('<style>#T_9f8e7_row0_col0 {}</style>', WINDOW)).toBe('<style>#T_…_row0_col0 {}</style>');
    expect(normaliseText('\x1b[31mred\x1b[0m', WINDOW)).toBe('red');
  });

  it("replaces the run's own time, in several spellings, but not dates in the data", () => {
    expect(normaliseText('at 2026-03-01 10:02:03.123456 (1772359323.5) Sun Mar  1 10:02:03 2026', WINDOW)).toBe('at <now> (<now>) <now>');
    expect(normaliseText('2026-03-01T10:02:03Z and 2026-03-01 11:00:00,123 INFO', WINDOW)).toBe('<now> and <now> INFO');
    expect(normaliseText('2020-01-05 00:00:00 and 1234567890', WINDOW)).toBe('2020-01-05 00:00:00 and 1234567890');
  });

  it('keeps words that only look like units', () => {
    expect(normaliseText('10 samples, 3 sessions, model v2s', WINDOW)).toBe('10 samples, 3 sessions, model v2s');
  });
});

describe('sameText', () => {
  it('accepts numbers within the tolerance and nothing else', () => {
    expect(sameText('loss 0.1234567890123', 'loss 0.1234567890124', 1e-9)).toBe(true);
    expect(sameText('loss 0.12', 'loss 0.13', 1e-9)).toBe(false);
    expect(sameText('loss 0.12', 'gain 0.12', 1)).toBe(false);
    expect(sameText('1 2', '1 2 3', 1)).toBe(false);
  });
});

describe('pngHash', () => {
  it('ignores text and time chunks, not pixels', () => {
    expect(pngHash(png([1, 2, 3], 'now'))).toBe(pngHash(png([1, 2, 3], 'later')));
    expect(pngHash(png([1, 2, 3]))).toBe(pngHash(png([1, 2, 3], 'now')));
    expect(pngHash(png([1, 2, 3]))).not.toBe(pngHash(png([1, 2, 4])));
    expect(pngHash(Buffer.from('not a png'))).toBe(sha256Hex('not a png'));
  });
});

const CELLS = [
  { index: 1, id: 'a', sha256: sha256Hex('print(1)'), durationMs: 1, status: 'succeeded' as const },
  { index: 2, id: 'b', sha256: sha256Hex('show()'), durationMs: 1, status: 'succeeded' as const },
];

function executed(outputs: unknown[][], options: { marked?: boolean; injected?: boolean } = {}) {
  const cells: unknown[] = [{ cell_type: 'markdown', source: '# t', metadata: {} }];
  if (options.injected) cells.push({ cell_type: 'code', source: 'x = 1', metadata: options.marked ? { nb2prod: { injected: true } } : { tags: ['injected-parameters'] }, outputs: [{ output_type: 'stream', name: 'stdout', text: 'injected' }] });
  ['print(1)', 'show()'].forEach((source, i) => cells.push({ cell_type: 'code', source: [source], metadata: options.marked ? { nb2prod: { index: i + 1 } } : {}, outputs: outputs[i] ?? [] }));
  return { cells };
}

describe('notebookFacets', () => {
  const outputs = [
    [
      { output_type: 'stream', name: 'stdout', text: ['a', 'b\n'] },
      { output_type: 'stream', name: 'stdout', text: 'c\n' },
    ],
    [{ output_type: 'display_data', data: { 'image/png': png([1, 2]).toString('base64'), 'text/plain': '<Figure>', 'application/vnd.jupyter.widget-view+json': { model_id: 'x' } } }],
  ];

  it("maps cells by the runner's marks, and by source for older executed notebooks, skipping the injected cell", () => {
    for (const options of [{ marked: true, injected: true }, { marked: false, injected: true }, { marked: false }]) {
      const facets = notebookFacets(executed(outputs, options), CELLS, WINDOW);
      expect([...facets.keys()]).toEqual([1, 2]);
      expect(facets.get(1)).toEqual([{ kind: 'stdout', value: 'ab\nc\n', image: false }]);
      expect(facets.get(2)!.map((f) => f.kind)).toEqual(['image/png', 'text/plain']);
    }
  });

  it('says which cells changed and how', () => {
    const before = notebookFacets(executed(outputs, { marked: true }), CELLS, WINDOW);
    const after = notebookFacets(executed([[{ output_type: 'stream', name: 'stdout', text: 'ab\nd\n' }], [{ output_type: 'display_data', data: { 'image/png': png([9, 9]).toString('base64'), 'text/plain': '<Figure>' } }]], { marked: true }), CELLS, WINDOW);
    expect(changedCells(before, after, 1e-9)).toEqual([
      { index: 1, kinds: ['stdout'], image: false, before: 'c', after: 'd' },
      { index: 2, kinds: ['image/png'], image: true },
    ]);
    expect(changedCells(before, before, 1e-9)).toEqual([]);
  });
});

describe('compareRuns with cells and files', () => {
  const original: RunEnvelope = {
    ...makeEnvelope(),
    unseeded: [
      { library: 'numpy', call: 'numpy.random.rand', location: 'cell 1, line 2' },
      { library: 'sklearn', call: 'sklearn.cluster.KMeans.fit(random_state=None)', location: 'cell 4, line 1' },
    ],
    outputs: [
      { path: 'model.joblib', sha256: 'a'.repeat(64), bytes: 10 },
      { path: 'run.log', sha256: 'b'.repeat(64), bytes: 10 },
      { path: 'gone.csv', sha256: 'c'.repeat(64), bytes: 10 },
    ],
  };
  const replay: RunEnvelope = {
    ...original,
    outputs: [
      { path: 'model.joblib', sha256: 'd'.repeat(64), bytes: 10 },
      { path: 'run.log', sha256: 'e'.repeat(64), bytes: 10 },
      { path: 'new.csv', sha256: 'f'.repeat(64), bytes: 10 },
    ],
  };

  it('names the unseeded call recorded last before a changed cell, and fails on changed or missing files', () => {
    const cells = { original: new Map([[2, [{ kind: 'stdout', value: '1', image: false }]]]), replay: new Map([[2, [{ kind: 'stdout', value: '2', image: false }]]]) };
    const differences = compareRuns(original, replay, 1e-9, { cells, volatile: (file) => file.endsWith('.log') });
    const cell = differences.find((d) => d.kind === 'cell')!;
    expect(cell).toMatchObject({ subject: 'cell 3 (id cell-2)', cell: 2, severity: 'error', unseeded: 'numpy.random.rand at cell 2 (id cell-1), line 2' });
    expect(cell.message).toBe('Cell 3 (id cell-2) shows something else on replay (its stdout text): "1" → "2". It comes after unseeded randomness: numpy.random.rand at cell 2 (id cell-1), line 2.');
    const files = differences.filter((d) => d.kind === 'output').map((d) => [d.subject, d.severity]);
    expect(files).toEqual([
      ['model.joblib', 'error'],
      ['run.log', 'note'],
      ['gone.csv', 'error'],
      ['new.csv', 'note'],
    ]);
  });

  it('says nothing of unseeded randomness recorded only after the changed cell', () => {
    const cells = { original: new Map([[0, [{ kind: 'stdout', value: '1', image: false }]]]), replay: new Map([[0, [{ kind: 'stdout', value: '2', image: false }]]]) };
    const [cell] = compareRuns(original, { ...replay, outputs: original.outputs }, 1e-9, { cells });
    expect(cell!.unseeded).toBeUndefined();
    expect(cell!.message).not.toContain('unseeded');
  });
});
