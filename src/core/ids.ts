/**
 * Run ids: ULIDs (https://github.com/ulid/spec). 48 bits of milliseconds then 80 random bits,
 * in Crockford base 32, so ids sort by creation time as plain strings — in file listings,
 * in SQL and in the CLI. Within one process ids made in the same millisecond increase
 * monotonically; across processes the random part makes collisions negligible.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = randomBytes(RANDOM_CHARS);
  return Array.from(bytes, (b) => b & 31);
}

/** Adds one to a base-32 digit array; wraps only after 2^80 ids in one millisecond. */
function increment(digits: number[]): number[] {
  const next = digits.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** A new time-sortable run id. */
export function newRunId(now: number = Date.now()): string {
  if (now === lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    // A time before the last one (a backdated id, or the clock stepped back) starts afresh:
    // the id still encodes the time it was made for.
    lastTime = now;
    lastRandom = randomDigits();
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('');
}

/** The creation time encoded in a run id. */
export function runIdTime(id: string): Date {
  let ms = 0;
  for (const ch of id.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return new Date(ms);
}
