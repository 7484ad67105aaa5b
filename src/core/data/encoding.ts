/**
 * The text encoding of a CSV/TSV/JSON Lines file, decided from its first bytes and checked as it
 * streams, so that a file is never compared as garbage without a word:
 * - a BOM says UTF-8, UTF-16 LE or UTF-16 BE; without one, a regular pattern of NUL bytes in the
 *   first 4 KB says UTF-16 (ASCII text in UTF-16 has a NUL beside every character);
 * - UTF-16 is transcoded to UTF-8 chunk by chunk before parsing;
 * - UTF-8 is validated as it streams (a sequence split between chunks is carried over); at the
 *   first invalid sequence the file is taken as Latin-1 (Windows-1252, which is what such files
 *   nearly always are), its text decoded so, and the report warns;
 * - what is not text — UTF-32, NUL bytes in a UTF-8 file, a zip (Excel), Parquet, gzip without
 *   .gz — is undecodable: the file is not parsed and the drift report makes it a finding.
 */
import { isUtf8 } from 'node:buffer';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface EncodingVerdict {
  /** What the text was decoded as; null when the file is not text. */
  encoding: TextEncoding | null;
  /** Why it is not text (with `encoding` null). */
  undecodable?: string;
}

const SNIFF = 4096;

/** Looks at the first bytes of a file (up to 4 KB, fewer for a short file). */
export function sniffEncoding(head: Buffer): EncodingVerdict {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0xff, 0xfe, 0x00, 0x00) || starts(0x00, 0x00, 0xfe, 0xff)) return { encoding: null, undecodable: 'it is UTF-32 text; save it as UTF-8' };
  if (starts(0xef, 0xbb, 0xbf)) return { encoding: 'utf-8' };
  if (starts(0xff, 0xfe)) return { encoding: 'utf-16le' };
  if (starts(0xfe, 0xff)) return { encoding: 'utf-16be' };
  if (starts(0x50, 0x4b, 0x03, 0x04)) return { encoding: null, undecodable: 'it is a zip archive (an Excel workbook?); export it as CSV' };
  if (starts(0x50, 0x41, 0x52, 0x31)) return { encoding: null, undecodable: 'it is a Parquet file; name it .parquet' };
  if (starts(0x1f, 0x8b)) return { encoding: null, undecodable: 'it is gzip-compressed; name it with .gz' };
  const sample = head.subarray(0, SNIFF);
  const pairs = Math.floor(sample.length / 2);
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (sample[i] === 0) evenNuls++;
    if (sample[i + 1] === 0) oddNuls++;
  }
  if (pairs >= 2) {
    if (oddNuls > pairs * 0.3 && evenNuls < pairs * 0.05) return { encoding: 'utf-16le' };
    if (evenNuls > pairs * 0.3 && oddNuls < pairs * 0.05) return { encoding: 'utf-16be' };
  }
  if (evenNuls + oddNuls > 0 || sample.includes(0)) return { encoding: null, undecodable: 'it has NUL bytes, so it is not a text file' };
  return { encoding: 'utf-8' };
}

/** UTF-16 chunks to UTF-8 bytes (the BOM dropped), carrying a code unit split between chunks. */
export class Utf16Transcoder {
  private readonly decoder: TextDecoder;

  constructor(encoding: 'utf-16le' | 'utf-16be') {
    this.decoder = new TextDecoder(encoding);
  }

  push(chunk: Buffer): Buffer {
    return Buffer.from(this.decoder.decode(chunk, { stream: true }), 'utf8');
  }

  finish(): Buffer {
    return Buffer.from(this.decoder.decode(), 'utf8');
  }
}

/** Length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

/** Streaming UTF-8 validation over chunks: `valid` turns false at the first invalid sequence. */
export class Utf8Validator {
  valid = true;
  private tail: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    if (!this.valid || chunk.length === 0) return;
    let data = chunk;
    if (this.tail.length) {
      const need = sequenceLength(this.tail[0]!);
      const joined = Buffer.concat([this.tail, chunk.subarray(0, Math.max(0, need - this.tail.length))]);
      if (joined.length < need) {
        this.tail = joined;
        return;
      }
      if (!isUtf8(joined)) {
        this.valid = false;
        return;
      }
      data = chunk.subarray(need - this.tail.length);
      this.tail = Buffer.alloc(0);
    }
    // A sequence cut by the end of the chunk is checked with the next one.
    let cut = data.length;
    for (let i = data.length - 1; i >= Math.max(0, data.length - 3); i--) {
      const byte = data[i]!;
      if ((byte & 0xc0) === 0x80) continue;
      if (i + sequenceLength(byte) > data.length) cut = i;
      break;
    }
    if (!isUtf8(data.subarray(0, cut))) {
      this.valid = false;
      return;
    }
    this.tail = Buffer.from(data.subarray(cut));
  }

  finish(): boolean {
    if (this.tail.length) this.valid = false;
    return this.valid;
  }
}

/** Decodes text bytes in the file's encoding (after transcoding, only UTF-8 or Windows-1252 remain). */
export function textDecoder(encoding: TextEncoding): TextDecoder {
  return new TextDecoder(encoding === 'windows-1252' ? 'windows-1252' : 'utf-8');
}
