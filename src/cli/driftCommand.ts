/** `nb2prod drift`: has the data moved? Column by column, with thresholds a CI job can fail on. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readDataset } from '../core/data/dataset';
import type { ColumnKind } from '../core/drift/columnKinds';
import { computeDrift, DEFAULT_THRESHOLDS, type DriftReport, SCHEMA_CHANGE_KINDS, type SchemaChangeKind, type SchemaSeverity } from '../core/drift/drift';
import { type ProfileReference, profileReferenceFromRun } from '../core/drift/profileReference';
import { type DriftReportFormat, renderDriftReport } from '../core/drift/report';
import { UserError } from '../core/errors';
import type { RunStore } from '../core/store/runStore';
import type { CliIo, Command } from './command';
import { reportTarget, writeReport } from './output';

const FORMATS: readonly DriftReportFormat[] = ['text', 'json', 'md', 'html'];
const FAIL_ON = ['monitor', 'retrain'] as const;

export const driftCommands: Record<string, Command> = {
  drift: {
    summary: 'compare two datasets column by column (PSI, KS, chi-square, Jensen-Shannon)',
    usage: 'nb2prod drift REFERENCE CURRENT [--format text|json|md|html] [--fail-on monitor|retrain] [--schema-severity KIND=S] [--output FILE]',
    details: `REFERENCE and CURRENT are data files: CSV, TSV, JSON Lines or Parquet (.gz for the text
formats). REFERENCE may also be a run — run:ID (or run:latest) — whose captured input profile
is the reference; run:ID:PATH picks one input when the run read several.

Numeric columns: PSI on the reference deciles, two-sample KS with its p-value, and the
Wasserstein distance in reference standard deviations. Categorical columns (text, booleans,
integers with few distinct values): PSI, chi-square with its p-value, Jensen-Shannon
distance. PSI below 0.1 is stable, 0.1 to 0.2 worth monitoring, above 0.2 likely needs
retraining. Effect sizes sit beside p-values: with many rows any difference is "significant".

Schema changes are findings of their own, with a severity (retrain unless set otherwise):
a column dropped or added, a column renamed (one dropped and one added with the same
distribution), a column entirely missing in the current data, a type change (numbers became
text or text became numbers), and a file that cannot be decoded as text. Text files may be
UTF-8 (with or without BOM) or UTF-16 (LE/BE, with or without BOM); a file that is not valid
UTF-8 is read as Latin-1 (Windows-1252) and the report says so.

Exit status: 0, or 1 with --fail-on when a column or a schema change reaches that severity;
2 for bad input.

Options:
  --format F         text (default), json, md (Markdown) or html (a standalone page)
  --output FILE      write the report to FILE (the summary line still goes to stderr)
  --fail-on S        exit 1 when any column's severity, or any schema change's, is S or worse:
                     monitor or retrain
  --schema-severity KIND=S
                     severity of a kind of schema change: monitor, retrain or off (repeatable);
                     KIND is dropped, added, renamed, all-missing, type-changed or undecodable
  --monitor X        PSI from which a column is worth watching (default ${DEFAULT_THRESHOLDS.monitor})
  --retrain X        PSI above which a column likely needs retraining (default ${DEFAULT_THRESHOLDS.retrain})
  --kind COL=K       treat column COL as numeric or categorical (repeatable)
  --store DIR        the run store, for run: references`,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string' },
      monitor: { type: 'string' },
      retrain: { type: 'string' },
      kind: { type: 'string', multiple: true },
      'schema-severity': { type: 'string', multiple: true },
    },
    async run({ values, positionals }, store, io) {
      if (positionals.length !== 2) throw new UserError('usage', `drift takes a REFERENCE and a CURRENT dataset, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
      const format = (values.format ?? 'text') as DriftReportFormat;
      if (!FORMATS.includes(format)) throw new UserError('usage', `--format must be one of ${FORMATS.join(', ')}`);
      const failOn = values['fail-on'] as (typeof FAIL_ON)[number] | undefined;
      if (failOn !== undefined && !FAIL_ON.includes(failOn)) throw new UserError('usage', '--fail-on must be monitor or retrain');
      const thresholds = {
        ...(values.monitor !== undefined ? { monitor: number(values.monitor, '--monitor') } : {}),
        ...(values.retrain !== undefined ? { retrain: number(values.retrain, '--retrain') } : {}),
      };
      const kinds = parseKinds((values.kind as string[] | undefined) ?? []);
      const schemaSeverity = parseSchemaSeverity((values['schema-severity'] as string[] | undefined) ?? []);
      const output = values.output === undefined ? undefined : await reportTarget(io.cwd, String(values.output));
      const [referenceArg, currentArg] = positionals.map(String) as [string, string];

      const progress = progressReporter(io);
      const reference = await referenceOf(referenceArg, store, io, progress);
      const current = await readData(currentArg, io, progress);
      progress.done();
      const report = computeDrift(reference, current, { kinds, thresholds, schemaSeverity });
      const text = renderDriftReport(report, format);
      if (output !== undefined) {
        await writeReport(output, text);
        io.stderr(`${summaryLine(report)}\n`);
      } else io.stdout(text.endsWith('\n') ? text : `${text}\n`);
      return failOn && gateFails(report, failOn) ? 1 : 0;
    },
  },
};

async function referenceOf(arg: string, store: RunStore, io: CliIo, progress: Progress) {
  const file = path.resolve(io.cwd, arg);
  if (existsSync(file) || !arg.startsWith('run:')) return readData(arg, io, progress);
  const [, reference = '', ...rest] = arg.split(':');
  if (!(await store.exists())) throw new UserError('store-not-found', `No run store at ${store.root}, so "${arg}" cannot be read (use --store DIR).`);
  const run = await store.getRun(await store.resolveRunId(reference));
  const input = rest.length ? rest.join(':') : undefined;
  return profileReferenceFromRun(run, input) satisfies ProfileReference;
}

async function readData(arg: string, io: CliIo, progress: Progress) {
  const file = path.resolve(io.cwd, arg);
  if (!existsSync(file)) throw new UserError('source-not-found', `No such file: ${arg}`);
  return readDataset(file, { onProgress: (read, total) => progress.update(arg, read, total) });
}

interface Progress {
  update(name: string, read: number, total: number): void;
  done(): void;
}

/** A one-line "reading x: 45%" on a terminal's stderr; nothing when stderr is not a terminal. */
function progressReporter(io: CliIo): Progress {
  let last = 0;
  let shown = false;
  return {
    update(name, read, total) {
      if (!io.isTTY || !total) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      io.stderr(`\rreading ${name}: ${Math.floor((read / total) * 100)}%   `);
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}

/** The gate: a drifted column or a schema change at `failOn` severity or worse. */
function gateFails(report: DriftReport, failOn: (typeof FAIL_ON)[number]): boolean {
  const reaches = (severity: string) => severity === 'retrain' || (failOn === 'monitor' && severity === 'monitor');
  return report.columns.some((c) => reaches(c.severity)) || report.schema.some((change) => reaches(change.severity));
}

function summaryLine(report: DriftReport): string {
  const { drifted, total } = report.datasetDrift;
  const schema = report.schema.length ? `; ${report.schema.length} schema change${report.schema.length === 1 ? '' : 's'}` : '';
  return `${drifted} of ${total} columns drifted (PSI ≥ ${report.thresholds.monitor})${schema}.`;
}

function parseSchemaSeverity(entries: string[]): Partial<Record<SchemaChangeKind, SchemaSeverity>> {
  const levels: Partial<Record<SchemaChangeKind, SchemaSeverity>> = {};
  for (const entry of entries) {
    const [kind, level] = entry.split('=');
    if (!(SCHEMA_CHANGE_KINDS as readonly string[]).includes(kind ?? '') || !['monitor', 'retrain', 'off'].includes(level ?? '')) {
      throw new UserError('usage', `--schema-severity takes KIND=monitor|retrain|off with KIND one of ${SCHEMA_CHANGE_KINDS.join(', ')}, not "${entry}"`);
    }
    levels[kind as SchemaChangeKind] = level as SchemaSeverity;
  }
  return levels;
}

function number(value: unknown, option: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UserError('usage', `${option} must be a non-negative number`);
  return parsed;
}

function parseKinds(entries: string[]): Record<string, ColumnKind> {
  const kinds: Record<string, ColumnKind> = {};
  for (const entry of entries) {
    const at = entry.lastIndexOf('=');
    const kind = entry.slice(at + 1);
    if (at <= 0 || (kind !== 'numeric' && kind !== 'categorical')) throw new UserError('usage', `--kind takes COLUMN=numeric or COLUMN=categorical, not "${entry}"`);
    kinds[entry.slice(0, at)] = kind;
  }
  return kinds;
}
