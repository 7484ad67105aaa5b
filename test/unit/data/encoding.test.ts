/** Text encodings of data files: sniffing, UTF-16 transcoding, streaming UTF-8 validation across chunks. */
import { describe, expect, it } from 'vitest';
import { sniffEncoding, Utf16Transcoder, Utf8Validator } from '../../../src/core/data/encoding';

describe('sniffEncoding', () => {
  it('reads BOMs, and UTF-16 without one from its NUL pattern', () => {
    expect(sniffEncoding(Buffer.from('\ufeffa,b\n', 'utf8')).encoding).toBe('utf-8');
    expect(sniffEncoding(Buffer.from('a,b\n'))).toEqual({ encoding: 'utf-8' });
    expect(sniffEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')])).encoding).toBe('utf-16le');
    expect(sniffEncoding(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('a,b\n', 'utf16le').swap16()])).encoding).toBe('utf-16be');
    expect(sniffEncoding(Buffer.from('age,plan\n31,pro\n', 'utf16le')).encoding).toBe('utf-16le');
    expect(sniffEncoding(Buffer.from('age,plan\n31,pro\n', 'utf16le').swap16()).encoding).toBe('utf-16be');
  });

  it('calls what is not text undecodable, saying what it looks like', () => {
    expect(sniffEncoding(Buffer.from([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0])).undecodable).toMatch(/UTF-32/);
    expect(sniffEncoding(Buffer.from('PK\x03\x04rest', 'latin1')).undecodable).toMatch(/zip archive/);
    expect(sniffEncoding(Buffer.from('PAR1....', 'latin1')).undecodable).toMatch(/Parquet/);
    expect(sniffEncoding(Buffer.from([0x1f, 0x8b, 8, 0])).undecodable).toMatch(/gzip/);
    expect(sniffEncoding(Buffer.from('a,b\n1,\u0000\n', 'latin1')).undecodable).toMatch(/NUL bytes/);
  });
});

describe('Utf16Transcoder', () => {
  it('carries a code unit and a surrogate pair split between chunks', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Zürich,😀\n', 'utf16le')]);
    const t = new Utf16Transcoder('utf-16le');
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(t.push(bytes.subarray(i, i + 3)));
    out.push(t.finish());
    expect(Buffer.concat(out).toString('utf8')).toBe('Zürich,😀\n');
  });
});

describe('Utf8Validator', () => {
  it('accepts valid UTF-8 cut anywhere, including inside a character', () => {
    const bytes = Buffer.from('Genève, Köln, 東京, 😀\n'.repeat(3));
    for (const size of [1, 2, 3, 5, 7]) {
      const v = new Utf8Validator();
      for (let i = 0; i < bytes.length; i += size) v.push(bytes.subarray(i, i + size));
      expect(v.finish(), `chunks of ${size}`).toBe(true);
    }
  });

  it('rejects Latin-1 bytes, an overlong form, and a sequence cut off at the end', () => {
    const latin1 = new Utf8Validator();
    latin1.push(Buffer.from('Gen\u00e8ve\n', 'latin1'));
    expect(latin1.finish()).toBe(false);
    const overlong = new Utf8Validator();
    overlong.push(Buffer.from([0x61, 0xc0]));
    overlong.push(Buffer.from([0xaf, 0x62]));
    expect(overlong.finish()).toBe(false);
    const cut = new Utf8Validator();
    cut.push(Buffer.from([0x61, 0xe6, 0x9d]));
    expect(cut.finish()).toBe(false);
  });
});
