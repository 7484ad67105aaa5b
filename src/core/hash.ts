import { createHash } from 'node:crypto';

/** Lowercase hex sha256 of bytes or UTF-8 text. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
