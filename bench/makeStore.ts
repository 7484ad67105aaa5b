/**
 * Writes COUNT valid run envelopes into STORE/runs, for the listing benchmark. Runs in its own
 * process so the benchmark process stays small (forking a large process skews timings).
 * Usage: tsx bench/makeStore.ts STORE COUNT
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeEnvelope } from '../test/fixtures/envelopes';

async function main(): Promise<void> {
  const [store, countText] = process.argv.slice(2);
  const runsDir = path.join(store!, 'runs');
  await fs.mkdir(runsDir, { recursive: true });
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < Number(countText); i++) {
    const envelope = makeEnvelope({
      name: `run ${i}`,
      startedAt: new Date(t0 + i * 60_000),
      metrics: { accuracy: 0.8 + (i % 100) / 1000, loss: 1 / (i + 1) },
      tags: i % 3 ? [] : ['nightly'],
    });
    await fs.writeFile(path.join(runsDir, `${envelope.id}.json`), JSON.stringify(envelope, null, 2));
  }
}

void main();
