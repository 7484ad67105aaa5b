/**
 * `npm run lint-corpus -- DIR [--sample N] [--seed S] [--rule R] [--json]`: the lint precision
 * harness (bench/lintCorpus.ts) as a command. Progress goes to stderr, the report to stdout.
 */
import { parseArgs } from 'node:util';
import { isRuleId } from '../src/core/lint/rule';
import { ALL_RULES } from '../src/core/lint/rules';
import { formatCorpusReport, lintCorpus } from './lintCorpus';

const USAGE = 'usage: npm run lint-corpus -- DIR [--sample N] [--seed S] [--rule RULE] [--python PATH|none] [--json]';

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, not "${value}"`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { sample: { type: 'string' }, seed: { type: 'string' }, rule: { type: 'string' }, python: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const rule = values.rule ?? null;
  if (rule !== null && !isRuleId(rule)) throw new Error(`--rule: unknown rule "${rule}" (nb2prod lint --list-rules lists them)`);
  const python = values.python === 'none' ? null : (values.python ?? process.env.NB2PROD_PYTHON ?? 'python3');
  const options = { sample: integer(values.sample, 'sample', 20), seed: integer(values.seed, 'seed', 1), rule, python };
  const progress = process.stderr.isTTY ? (done: number, total: number) => process.stderr.write(`\r${done}/${total} files`) : undefined;
  const report = await lintCorpus(positionals[0]!, ALL_RULES, options, progress);
  if (progress) process.stderr.write('\r\x1b[2K');
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatCorpusReport(report));
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`lint-corpus: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exitCode = 2;
  },
);
