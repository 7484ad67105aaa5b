/** Which files a run wrote are model files (kept in the store when the run ends), and the size limit's configuration. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { keepModelFilesLimit, sniffModel } from '../../src/core/capture/modelFiles';

/** The first bytes of a protocol-4 pickle (what pickle.dump and joblib.dump write). */
const PICKLE = Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x8c, 0x01, 0x77, 0x94, 0x4b, 0x01, 0x73, 0x2e]);

/** A zip local file header naming `name` (torch.save writes `archive/data.pkl` first). */
function zipWith(name: string): Buffer {
  const header = Buffer.alloc(30);
  header.write('PK\x03\x04', 0, 'latin1');
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, Buffer.from(name, 'latin1'), Buffer.alloc(64)]);
}

describe('sniffModel', () => {
  it('recognises pickles, compressed as joblib writes them too, and torch archives', () => {
    expect(sniffModel(PICKLE)).toBe('pickle');
    expect(sniffModel(deflateSync(Buffer.concat([PICKLE, Buffer.alloc(5000, 1)])).subarray(0, 40))).toBe('pickle (zlib)');
    expect(sniffModel(gzipSync(PICKLE))).toBe('pickle (gzip)');
    expect(sniffModel(zipWith('archive/data.pkl'))).toBe('torch');
  });

  it("recognises the model savers' own formats", () => {
    expect(sniffModel(Buffer.from('{"learner":{"attributes":{},"gradient_booster":{}},"version":[2,0,3]}'))).toBe('xgboost');
    expect(sniffModel(Buffer.from('tree\nversion=v4\nnum_class=1\n'))).toBe('lightgbm');
    expect(sniffModel(Buffer.from('{"name":"tree","version":"v4","tree_info":[]}'))).toBe('lightgbm');
    expect(sniffModel(Buffer.from('{"model_info":{},"oblivious_trees":[]}'))).toBe('catboost');
    expect(sniffModel(Buffer.from('{"class_name": "Sequential", "config": {}, "keras_version": "2.15.0"}'))).toBe('keras');
  });

  it('leaves other files alone: JSON results, compressed data, zips of data, text', () => {
    expect(sniffModel(Buffer.from('{"auc": 0.8, "learner_count": 3}'))).toBeNull();
    expect(sniffModel(gzipSync(Buffer.from('a,b\n1,2\n')))).toBeNull();
    expect(sniffModel(deflateSync(Buffer.from('plain text')))).toBeNull();
    expect(sniffModel(zipWith('report/data.csv'))).toBeNull();
    expect(sniffModel(Buffer.from('x1,x2,y\n1,2,0\n'))).toBeNull();
    expect(sniffModel(Buffer.from([0x80, 0x09]))).toBeNull();
    expect(sniffModel(Buffer.alloc(0))).toBeNull();
  });
});

describe('[track] model_file_limit_mb', () => {
  async function limitWith(toml: string | null): Promise<number> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nb2prod-keep-'));
    try {
      if (toml !== null) await fs.writeFile(path.join(dir, 'nb2prod.toml'), toml);
      return keepModelFilesLimit(dir);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  it('defaults to 1 GiB, takes fractions and 0, and refuses what it cannot use', async () => {
    expect(await limitWith(null)).toBe(1024 * 1024 * 1024);
    expect(await limitWith('[track]\nmodel_file_limit_mb = 0.5\n')).toBe(512 * 1024);
    expect(await limitWith('[track]\nmodel_file_limit_mb = 0\n')).toBe(0);
    await expect(limitWith('[track]\nmodel_file_limit_mb = -1\n')).rejects.toThrow(/\[track\]: model_file_limit_mb must be a number of megabytes ≥ 0/);
    await expect(limitWith('[track]\nkeep_models = 1\n')).rejects.toThrow(/unknown key keep_models/);
  });
});
