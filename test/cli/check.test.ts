/**
 * `nb2prod check` on the example project (examples/churn copied to a temp git repository): the
 * checklist after one tracked run, then after doing what its fixes say — config owner and
 * human review, monitoring thresholds, an input contract, a frozen holdout file, repeated runs,
 * a replay, a model card, the service manifest — those items pass. Registry items pass once
 * registry facts are provided. Formats, --strict and usage errors too.
 *
 * The runs are envelopes written into a real store with realistic fields (the example's real
 * file hashes, params, seeds, packages); test/integration covers real tracking.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheckCommands } from '../../src/cli/checkCommand';
import { runCli } from '../../src/cli/cli';
import { capturingIo } from './inProcess';
import type { ColumnProfile, RunEnvelope } from '../../src/core/envelope';
import type { ItemId, ItemStatus, ReadinessReport } from '../../src/core/readiness/model';
import { goodRegistry, TempProject } from '../unit/readiness/helpers';

const EXAMPLE = path.resolve(__dirname, '../../examples/churn');
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/readiness');

let p: TempProject;

const io = (cwd: string) => {
  const { io: cliIo, output } = capturingIo(cwd);
  return { io: cliIo, out: output };
};

async function cli(args: string[], cwd = p.root) {
  const { io: cliIo, out } = io(cwd);
  const code = await runCli(args, cliIo);
  return { code, ...out() };
}

async function checkJson(): Promise<ReadinessReport> {
  const { code, stdout } = await cli(['check', '--format', 'json']);
  expect(code).toBe(0);
  return JSON.parse(stdout) as ReadinessReport;
}

const statuses = (report: ReadinessReport): Record<ItemId, ItemStatus> => Object.fromEntries(report.items.map((i) => [i.id, i.status])) as Record<ItemId, ItemStatus>;
const fixOf = (report: ReadinessReport, id: ItemId) => report.items.find((i) => i.id === id)!.fix ?? '';

/** The code cells of the example notebook, as the tracker hashes them. */
async function notebookCells(): Promise<string[]> {
  const nb = JSON.parse(await p.read('churn.ipynb')) as { cells: Array<{ cell_type: string; source: string[] }> };
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join(''));
}

/** A run of churn.ipynb as `nb2prod track churn.ipynb [-p seed=S] [--group G]` records it. */
async function churnRun(options: { seed: number; group?: string | null; metrics: Record<string, number>; inputs: string[]; tags?: string[]; parent?: string | null }): Promise<RunEnvelope> {
  const inputs: RunEnvelope['inputs'] = [];
  for (const file of options.inputs) {
    const record = await p.input(file);
    const column = (name: string, type: ColumnProfile['type']): ColumnProfile => ({ name, type, count: 3000, nulls: 0 });
    const columns = [...['tenure_months', 'monthly_charges', 'support_calls', 'churned'].map((n) => column(n, 'numeric')), column('contract', 'categorical'), column('payment_method', 'categorical')];
    inputs.push(file === 'data/customers.csv' ? { ...record, profile: { rows: 3000, columns } } : record);
  }
  const lock = await p.input('requirements.txt');
  const base = await p.addRun(
    { sourcePath: 'churn.ipynb', cells: await notebookCells(), seed: options.seed, metrics: options.metrics, group: options.group ?? null, tags: options.tags ?? [], params: { n_estimators: 200, max_depth: 8, test_size: 0.25, seed: options.seed } },
    {
      seeds: [{ library: 'numpy', value: options.seed, location: 'cell 7, line 1' }],
      inputs,
      outputs: [],
      artifacts: [],
      parent: options.parent ?? null,
      environment: {
        python: { version: '3.11.2', executable: '/usr/bin/python3', implementation: 'CPython' },
        packages: { joblib: '1.2.0', numpy: '1.24.2', pandas: '1.5.3', 'scikit-learn': '1.2.1' },
        installedSetSha256: null,
        lockFile: { path: 'requirements.txt', sha256: lock.sha256 },
        os: { platform: 'linux', release: '6.1.0', arch: 'x64' },
        envVarNames: ['HOME', 'PATH'],
      },
    },
  );
  return base;
}

let before: ReadinessReport;
let firstRun: RunEnvelope;

beforeAll(async () => {
  p = await TempProject.create('check-cli');
  await fs.cp(EXAMPLE, p.root, { recursive: true, filter: (src) => !src.includes(`${path.sep}.nb2prod`) && !src.includes(`${path.sep}models`) });
  await p.commitAll('the example');
  firstRun = await churnRun({ seed: 42, metrics: { accuracy: 0.8013, f1: 0.6482, roc_auc: 0.8671 }, inputs: ['data/customers.csv'] });
  await fs.mkdir(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await p.dispose();
});

describe('nb2prod check on the example project', () => {
  it('before: reproducibility basics pass, the rest fails with a fix each, and the three answers are no', async () => {
    const text = await cli(['check']);
    await fs.writeFile(path.join(ARTIFACTS, 'churn-before.txt'), text.stdout);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').slice(2, 9).join('\n')).toBe(
      [
        'Is there automated monitoring for drift and degradation?',
        '  No: drift and degradation would go unnoticed ("Drift monitoring configured with thresholds" fails).',
        'Can the model be rolled back within minutes?',
        '  No: there is no rehearsed way back to a known-good version ("A rollback candidate in the registry" and "Rollback tested" fail).',
        'Is there an audit trail for every prediction?',
        '  No: predictions are not logged ("Audit trail of predictions" fails).',
        '',
      ].join('\n'),
    );
    expect(text.stdout).toContain('Not production-ready: none of the three questions are answered yes.');
    expect(text.stdout).toMatch(/^✓ Seeds set: /m);
    expect(text.stdout).toMatch(/^✗ An owner named: /m);
    expect(text.stdout).toMatch(/^ {4}→ Add to nb2prod\.toml \[readiness\]: owner = /m);
    expect(text.stdout).toContain(`· run ${firstRun.id} (churn.ipynb, seeds numpy=42)`);
    expect(text.stdout).toContain('3 pass, 13 fail, 0 unknown (of 16).');

    before = await checkJson();
    expect(statuses(before)).toEqual({
      seeds: 'pass',
      'data-versioned': 'pass',
      'environment-locked': 'pass',
      replay: 'fail',
      'repeated-runs': 'fail',
      'frozen-eval-set': 'fail',
      'input-contract': 'fail',
      'drift-monitoring': 'fail',
      'rollback-candidate': 'fail',
      'rollback-tested': 'fail',
      'prediction-audit': 'fail',
      'kill-switch': 'fail',
      'human-review': 'fail',
      owner: 'fail',
      'model-card': 'fail',
      approvals: 'fail',
    });
    // The fixes are concrete: commands and file contents for this project.
    expect(fixOf(before, 'replay')).toContain(`nb2prod replay ${firstRun.id}`);
    expect(fixOf(before, 'repeated-runs')).toContain('for s in 1 2 3; do nb2prod track churn.ipynb -p seed=$s --group churn-repeats; done');
    expect(fixOf(before, 'frozen-eval-set')).toContain('data/holdout.csv');
    expect(fixOf(before, 'input-contract')).toContain('contracts/input.schema.json');
    expect(fixOf(before, 'input-contract')).toContain('tenure_months (numeric)');
    expect(fixOf(before, 'drift-monitoring')).toContain('[monitoring.drift] monitor = 0.1, retrain = 0.2');
    expect(fixOf(before, 'model-card')).toContain('MODEL_CARD.md');
    expect(fixOf(before, 'prediction-audit')).toContain('service/nb2prod-service.json');

    const strict = await cli(['check', '--strict']);
    expect(strict.code).toBe(1);
  });

  it('after the suggested fixes: every item not about the registry passes', async () => {
    // [readiness] owner and human_review; [monitoring] reference, schedule, thresholds, a metric floor.
    await p.write(
      'nb2prod.toml',
      `[readiness]
owner = "Dana Lee <dana@example.com>"
human_review = "Scores between 0.4 and 0.6 go to the retention team's review queue within one working day."

[monitoring]
reference = "data/customers.csv"
schedule = "daily"

[monitoring.drift]
monitor = 0.1
retrain = 0.2

[monitoring.metrics]
roc_auc = 0.80
`,
    );
    // An input contract with the columns the checklist listed.
    await p.write(
      'contracts/input.schema.json',
      JSON.stringify(
        {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          title: 'churn prediction request',
          type: 'object',
          required: ['tenure_months', 'monthly_charges', 'contract', 'payment_method', 'support_calls'],
          properties: {
            tenure_months: { type: 'integer', minimum: 0, maximum: 120 },
            monthly_charges: { type: 'number', minimum: 0 },
            contract: { enum: ['month-to-month', 'one-year', 'two-year'] },
            payment_method: { enum: ['card', 'bank-transfer', 'electronic-check', 'mailed-check'] },
            support_calls: { type: 'integer', minimum: 0 },
          },
        },
        null,
        2,
      ),
    );
    await p.write(
      'MODEL_CARD.md',
      '# Churn model\n\n## Intended use\nRank customers for retention offers.\n\n## Training data\ndata/customers.csv (3,000 synthetic customers).\n\n## Evaluation\nROC AUC on data/holdout.csv, mean of 3 seeds with its 95% interval.\n\n## Limitations\nSynthetic data; not for pricing decisions.\n',
    );
    // The frozen evaluation set: the last quarter of the rows, saved once and committed.
    const rows = (await p.read('data/customers.csv')).trimEnd().split('\n');
    await p.write('data/holdout.csv', `${[rows[0], ...rows.slice(-750)].join('\n')}\n`);
    // The service manifest the coming scaffold writes (a hand-written service declares the same).
    await p.write('service/nb2prod-service.json', JSON.stringify({ schema: 'nb2prod.service/1', auditLog: true, auditLogPath: 'logs/predictions.jsonl', killSwitch: true, fallback: 'predict "no churn" and flag for review' }));
    await p.commitAll('readiness fixes');

    // Repeated runs with different seeds in one group, evaluated on the holdout; the last one replayed.
    const auc = [0.8642, 0.8688, 0.8655];
    const group: RunEnvelope[] = [];
    for (const seed of [1, 2, 3]) group.push(await churnRun({ seed, group: 'churn-repeats', metrics: { accuracy: 0.8, f1: 0.65, roc_auc: auc[seed - 1]! }, inputs: ['data/customers.csv', 'data/holdout.csv'] }));
    const last = group.at(-1)!;
    await churnRun({ seed: 3, group: 'churn-repeats', metrics: { accuracy: 0.8, f1: 0.65, roc_auc: auc[2]! }, inputs: ['data/customers.csv', 'data/holdout.csv'], tags: ['replay'], parent: last.id });

    const text = await cli(['check']);
    await fs.writeFile(path.join(ARTIFACTS, 'churn-after.txt'), text.stdout);
    const after = await checkJson();
    const s = statuses(after);
    const notPassing = Object.entries(s).filter(([, status]) => status !== 'pass');
    expect(notPassing).toEqual([
      ['rollback-candidate', 'fail'],
      ['rollback-tested', 'fail'],
      ['approvals', 'fail'],
    ]);
    expect(after.questions.map((q) => q.answer)).toEqual(['yes', 'no', 'yes']);
    expect(after.productionReady).toBe(false);
    expect(text.stdout).toContain('Not production-ready: 2 of the three questions are answered yes.');
    expect(text.stdout).toContain('Yes: drift and metric alerts are configured with thresholds and run on a schedule.');
    expect(text.stdout).toMatch(/· group churn-repeats: 3 runs, roc_auc 0\.8662 \[0\.8603, 0\.8721\] \(95% interval\)/);
    expect(text.stdout).toContain('· data/holdout.csv (git, sha256 ');
    expect(text.stdout).toContain('13 pass, 3 fail, 0 unknown (of 16).');

    // With the registry's facts (a champion, the previous version, a rehearsed rollback, approvals) all pass.
    const command = makeCheckCommands({ registry: async () => goodRegistry({ champion: last.id, previous: firstRun.id }) }).check!;
    const { io: cliIo, out } = io(p.root);
    const code = await command.run(parseArgs({ args: ['--strict', '--format', 'md'], options: command.options, allowPositionals: true }), p.store, cliIo);
    await fs.writeFile(path.join(ARTIFACTS, 'churn-ready.md'), out().stdout);
    expect(code).toBe(0);
    expect(out().stdout).toContain('**Production-ready: every item passes.** 16 pass, 0 fail, 0 unknown (of 16).');
    expect(out().stdout).toContain('| Can the model be rolled back within minutes? | **Yes** — an earlier version is ready in the registry and a rollback has been rehearsed. |');
  });
});

describe('nb2prod check options', () => {
  it('checks PATH with the store above it, from another working directory', async () => {
    const { code, stdout } = await cli(['check', p.root, '--format', 'json'], path.dirname(p.root));
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ReadinessReport;
    expect(report.root).toBe(p.root);
    expect(statuses(report).seeds).toBe('pass');
  });

  it('writes Markdown with the questions, the items and linked evidence', async () => {
    const { code, stdout } = await cli(['check', '--format', 'md']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# Production readiness\n\n\*\*Not production-ready/);
    expect(stdout).toContain('| Question | Answer |');
    expect(stdout).toContain('| ✓ | An owner named | Owned by Dana Lee');
    expect(stdout).toContain('[data/holdout.csv (git, sha256');
    expect(stdout).toMatch(/`nb2prod show [0-9A-Z]{26}`/);
  });

  it('refuses a bad format, a missing folder and two folders (exit 2); --help describes it', async () => {
    expect((await cli(['check', '--format', 'sarif'])).stderr).toContain('--format must be one of text, json, md');
    const missing = await cli(['check', 'nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nowhere is not a folder');
    expect((await cli(['check', '.', 'data'])).code).toBe(2);
    const help = await cli(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('nb2prod check [PATH] [--format text|json|md] [--strict]');
    expect((await cli(['--help'])).stdout).toMatch(/check +the production-readiness checklist/);
  });

  it('reports a broken [readiness] section as a problem to fix (exit 2)', async () => {
    const q = await TempProject.create('check-bad-config');
    try {
      await q.write('nb2prod.toml', '[readiness]\nowner = 42\n');
      const { code, stderr } = await cli(['check'], q.root);
      expect(code).toBe(2);
      expect(stderr).toContain('[readiness]: owner must be a string');
    } finally {
      await q.dispose();
    }
  });
});
