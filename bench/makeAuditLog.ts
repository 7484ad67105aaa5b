/**
 * A generated service's folder with a large audit log for the monitor bench, written as the
 * service writes it (service/sink.py): `lines` entries spread over 30 days in daily files, each
 * with its input (5 columns of the churn example), output, scores and model; a drift in the last
 * week; 10% of the predictions labelled in the feedback log. Seeded: the same bytes every time.
 *
 *   node --import tsx bench/makeAuditLog.ts DIR LINES
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { seededRandom } from '../test/fixtures/random';

const SHA = 'ab2271f05993f0631528b448a6a95212862e8b68a9586efcf02aa71a808083c0';
const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];
const PAYMENTS = ['bank-transfer', 'card', 'mailed-check', 'electronic-check'];

export function writeServiceConfig(root: string): void {
  mkdirSync(path.join(root, 'service'), { recursive: true });
  mkdirSync(path.join(root, 'contracts'), { recursive: true });
  writeFileSync(path.join(root, 'service', 'config.json'), JSON.stringify({
    name: 'churn', task: 'classification', target: 'churned',
    input_columns: ['tenure_months', 'monthly_charges', 'contract', 'payment_method', 'support_calls'],
    model: { sha256: SHA, name: 'churn', version: 2 }, fallback: { prediction: 0, probability: 0.745 },
    drift: { monitor: 0.1, retrain: 0.2 }, run_metrics: { accuracy: 0.7787 }, audit_log: 'var/audit/predictions.jsonl', feedback_log: 'var/feedback/labels.jsonl',
  }));
  writeFileSync(path.join(root, 'contracts', 'profile.json'), JSON.stringify({
    rows: 3000,
    columns: [
      { name: 'tenure_months', type: 'numeric', count: 3000, nulls: 0, bins: { edges: [1, 8, 15, 22, 29, 37, 44, 51, 58, 65, 72], counts: [293, 291, 279, 309, 322, 269, 314, 291, 305, 327] } },
      { name: 'monthly_charges', type: 'numeric', count: 3000, nulls: 0, bins: { edges: [18, 38.977, 48.26, 54.557, 59.716, 64.765, 69.226, 74.666, 81.04, 89.411, 120], counts: [300, 299, 301, 300, 300, 300, 300, 299, 301, 300] } },
      { name: 'contract', type: 'categorical', count: 3000, nulls: 0, top: [{ value: 'month-to-month', count: 1644 }, { value: 'one-year', count: 739 }, { value: 'two-year', count: 617 }] },
      { name: 'payment_method', type: 'categorical', count: 3000, nulls: 0, top: [{ value: 'bank-transfer', count: 784 }, { value: 'card', count: 777 }, { value: 'mailed-check', count: 724 }, { value: 'electronic-check', count: 715 }] },
      { name: 'support_calls', type: 'numeric', count: 3000, nulls: 0, bins: { edges: [0, 1, 2, 3, 7], counts: [656, 971, 786, 587] } },
      { name: 'churned', type: 'numeric', count: 3000, nulls: 0, bins: { edges: [0, 1], counts: [3000] } },
    ],
  }));
}

export async function makeAuditLog(root: string, lines: number): Promise<{ bytes: number; labels: number }> {
  writeServiceConfig(root);
  const random = seededRandom(11);
  const days = 30;
  const start = Date.parse('2031-01-01T00:00:00Z');
  const perDay = Math.ceil(lines / days);
  const audit = path.join(root, 'var', 'audit');
  const feedbackDir = path.join(root, 'var', 'feedback');
  mkdirSync(audit, { recursive: true });
  mkdirSync(feedbackDir, { recursive: true });
  const feedback = createWriteStream(path.join(feedbackDir, 'labels-2031-03-01.jsonl'));
  let bytes = 0;
  let labels = 0;
  let written = 0;
  for (let day = 0; day < days && written < lines; day++) {
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    const out = createWriteStream(path.join(audit, `predictions-${date}.jsonl`));
    const drifted = day >= days - 7;
    let buffer = '';
    for (let i = 0; i < perDay && written < lines; i++, written++) {
      const time = new Date(start + day * 86_400_000 + Math.floor((i / perDay) * 86_400_000)).toISOString();
      const requestId = (written * 2654435761 % 4294967296).toString(16).padStart(8, '0') + written.toString(16).padStart(24, '0');
      const tenure = drifted ? 1 + Math.floor(random() * 12) : 1 + Math.floor(random() * 72);
      const charges = Math.round((18 + random() * 102) * 100) / 100;
      const p1 = Math.min(0.99, Math.max(0.01, (drifted ? 0.5 : 0.25) + (random() - 0.5) * 0.5));
      const prediction = p1 >= 0.5 ? 1 : 0;
      const entry = {
        type: 'prediction', time, request_id: requestId, client_request_id: null, endpoint: '/predict', role: 'champion',
        input_sha256: requestId + requestId,
        output: { prediction, probability: prediction ? p1 : 1 - p1, needs_review: false, fallback: false, rule: null, warnings: [] },
        scores: [[0, 1 - p1], [1, p1]],
        model: { name: 'churn', version: 2, sha256: SHA },
        latency_ms: Math.round((1.5 + random() * 3 + (random() < 0.01 ? 40 : 0)) * 1000) / 1000,
        fallback: false, kill_switch: false, needs_review: false, rule: null,
        input: { tenure_months: tenure, monthly_charges: charges, contract: CONTRACTS[Math.floor(random() * 3)], payment_method: PAYMENTS[Math.floor(random() * 4)], support_calls: Math.floor(random() * 8) },
      };
      const line = JSON.stringify(entry) + '\n';
      buffer += line;
      bytes += Buffer.byteLength(line);
      if (random() < 0.1) {
        labels++;
        const label = random() < p1 ? 1 : 0;
        if (!feedback.write(JSON.stringify({ type: 'feedback', time, request_id: requestId, batch_index: null, label, outcome: null, source: 'explicit', known_at: new Date(Date.parse(time) + 30 * 86_400_000).toISOString() }) + '\n')) await once(feedback, 'drain');
      }
      if (buffer.length > 1 << 20) {
        if (!out.write(buffer)) await once(out, 'drain');
        buffer = '';
      }
    }
    out.write(buffer);
    out.end();
    await once(out, 'finish');
  }
  feedback.end();
  await once(feedback, 'finish');
  return { bytes, labels };
}

if (require.main === module) {
  const [dir, count] = process.argv.slice(2);
  void makeAuditLog(dir!, Number(count)).then((r) => console.log(JSON.stringify(r)));
}
