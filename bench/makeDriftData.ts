/**
 * Writes the drift benchmark's two CSV files: ROWS rows × 20 columns (14 numeric, 3 small
 * integer codes, 3 text categories), the current file shifted in a few columns. Seeded, so both
 * sides of the benchmark read the same bytes every time.
 * Usage: node --import tsx bench/makeDriftData.ts DIR [ROWS]
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom } from '../test/fixtures/random';

function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const PLANS = ['cash', 'card', 'transfer', 'voucher'];
const REGIONS = ['north', 'south', 'east', 'west', 'central'];
const TIERS = ['bronze', 'silver', 'gold'];

async function writeFile(file: string, rows: number, seed: number, shifted: boolean): Promise<void> {
  const random = seededRandom(seed);
  const out = createWriteStream(file);
  const header = [...Array.from({ length: 14 }, (_, i) => `x${i}`), 'code_a', 'code_b', 'code_c', 'plan', 'region', 'tier'];
  out.write(`${header.join(',')}\n`);
  let chunk = '';
  for (let row = 0; row < rows; row++) {
    const cells: string[] = [];
    for (let i = 0; i < 14; i++) {
      const shift = shifted && i < 4 ? 0.25 * (i + 1) : 0;
      const value = (gaussian(random) + shift) * (i + 1) + i * 10;
      cells.push(random() < 0.002 ? '' : value.toFixed(4));
    }
    cells.push(String(Math.floor(random() * 5)), String(Math.floor(random() * (shifted ? 4 : 3))), String(Math.floor(random() * 8)));
    cells.push(PLANS[Math.floor(random() * (shifted && random() < 0.3 ? 2 : 4))]!, REGIONS[Math.floor(random() * 5)]!, TIERS[Math.floor(random() * 3)]!);
    chunk += `${cells.join(',')}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const rows = Number(process.argv[3] ?? 1_000_000);
  if (!dir) throw new Error('usage: makeDriftData.ts DIR [ROWS]');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'reference.csv'), rows, 1, false);
  await writeFile(path.join(dir, 'current.csv'), rows, 2, true);
}

void main();
