/** `nb2prod track`, `run` and `replay`: running code with capture and recording the run. */
import path from 'node:path';
import type { JsonValue, RunEnvelope } from '../core/envelope';
import { UserError } from '../core/errors';
import { HashCache } from '../core/capture/fileHash';
import { replayRun } from '../core/capture/replay';
import { parseParamValue, progressText, trackNotebook, trackScript, type TrackProgress } from '../core/capture/tracker';
import { cellIdsOf, locationLabel } from '../core/notebook/cellLabel';
import { printable } from '../core/printable';
import { formatDuration, formatNumber, runErrorText } from '../core/render/format';
import { llmSummaryLine } from '../core/render/llmText';
import type { RunStore } from '../core/store/runStore';
import { type CliIo, type Command, type ParsedArgs, STORE_HELP, STORE_OPTION } from './command';

const RUN_OPTIONS = {
  ...STORE_OPTION,
  tag: { type: 'string', multiple: true },
  group: { type: 'string' },
  name: { type: 'string' },
  json: { type: 'boolean' },
  'capture-content': { type: 'boolean' },
} as const;

const RUN_HELP = `  --tag T            tag the run (repeatable)
  --group G          group of repeated runs of one configuration (e.g. seeds)
  --name N           a name for the run (default: the file name and time)
  --json             print the recorded envelope as JSON
  --capture-content  keep the messages and answers of LLM calls (openai, anthropic clients);
                     without it (or [track] capture_content = true) only their hashes and
                     lengths are kept
${STORE_HELP}`;

/** The interpreter: --python, else $NB2PROD_PYTHON, else python3 on the PATH. */
function pythonFor(args: ParsedArgs, io: CliIo): string {
  return (args.values.python as string | undefined) ?? io.env.NB2PROD_PYTHON ?? 'python3';
}

/** The workspace whose files runs are recorded relative to: the folder holding the store. */
function workspaceOf(store: RunStore, io: CliIo): string {
  return path.basename(store.root) === '.nb2prod' ? path.dirname(store.root) : io.cwd;
}

function commonOptions(args: ParsedArgs, store: RunStore, io: CliIo, signal: AbortSignal) {
  return {
    store,
    workspaceRoot: workspaceOf(store, io),
    pythonDir: io.pythonDir,
    hashes: new HashCache(store.hashCacheFile),
    signal,
    env: io.env as NodeJS.ProcessEnv,
    ...(args.values.name !== undefined ? { name: String(args.values.name) } : {}),
    ...(args.values.tag !== undefined ? { tags: (args.values.tag as string[]).map(String) } : {}),
    ...(args.values.group !== undefined ? { group: String(args.values.group) } : {}),
    ...(args.values['capture-content'] ? { captureContent: true } : {}),
  };
}

/** Ctrl-C once cancels the run (it is recorded as cancelled); the caller's handler does the rest. */
function cancellation(io: CliIo): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const release =
    io.onInterrupt?.(() => {
      if (!controller.signal.aborted) io.stderr('\nCancelling the run (Ctrl-C again to quit at once)…\n');
      controller.abort();
    }) ?? (() => undefined);
  return { signal: controller.signal, release };
}

function progressPrinter(io: CliIo, label: string): (p: TrackProgress) => void {
  return (p) => {
    const text = `${label}: ${progressText(p)}`;
    io.stderr(io.isTTY ? `\r\x1b[2K${text}` : `${text}\n`);
  };
}

function summary(run: RunEnvelope): string {
  const metrics = Object.entries(run.metrics)
    .map(([name, m]) => `${name}=${formatNumber(m.value)}`)
    .join(' ');
  const lines = [`${run.status === 'succeeded' ? '✓' : '✗'} Run ${run.id} ${run.status} in ${formatDuration(run.durationMs)}${metrics ? `: ${metrics}` : ''}`];
  if (run.error) lines.push(`  ${runErrorText(run)}`);
  const idOf = cellIdsOf(run.source.cells);
  if (run.llm) lines.push(`  ${llmSummaryLine(run.llm)}`);
  if (run.unseeded.length) lines.push(`  ⚠ randomness without a seed: ${run.unseeded.map((u) => `${u.call} at ${locationLabel(u.location, idOf)}`).join('; ')}`);
  lines.push(`  ${run.inputs.length} input${run.inputs.length === 1 ? '' : 's'}, ${run.outputs.length} output${run.outputs.length === 1 ? '' : 's'}, ${run.seeds.length} seed${run.seeds.length === 1 ? '' : 's'} recorded. Details: nb2prod show ${run.id}`);
  return `${lines.join('\n')}\n`;
}

function finishRun(run: RunEnvelope, args: ParsedArgs, io: CliIo): number {
  if (io.isTTY) io.stderr('\r\x1b[2K');
  if (args.values.json) io.stdout(`${JSON.stringify(run, null, 2)}\n`);
  else io.stdout(summary(run));
  return run.status === 'succeeded' ? 0 : 1;
}

export function parseParamAssignments(assignments: string[]): Record<string, JsonValue> {
  const params: Record<string, JsonValue> = {};
  for (const assignment of assignments) {
    const match = /^([A-Za-z_]\w*)=(.*)$/s.exec(assignment);
    if (!match) throw new UserError('usage', `-p takes name=value with a Python identifier as name, got "${assignment}"`);
    params[match[1]!] = parseParamValue(match[2]!);
  }
  return params;
}

/** `-p name=value` of replay: raw text (it may go back into a command line), names as argv params are named. */
function parseSecretAssignments(assignments: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const assignment of assignments) {
    const match = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(assignment);
    if (!match) throw new UserError('usage', `-p takes name=value, got "${printable(assignment.split('=')[0] ?? '', 40)}=…"`);
    values[match[1]!.replace(/-/g, '_')] = match[2]!;
  }
  return values;
}

export const trackCommands: Record<string, Command> = {
  track: {
    summary: 'run a notebook in a fresh kernel and record the run',
    usage: 'nb2prod track NOTEBOOK [-p name=value]... [--tag T] [--group G] [--name N] [--python PATH] [--capture-content] [--json]',
    details: `Runs every cell of NOTEBOOK in a fresh Jupyter kernel (nbclient) and records the run:
params, seeds, unseeded randomness, packages, files read and written (sha256), metrics
logged with nb2prod.log_metric or mlflow, git state, hardware. Exits 1 if the run failed.

Options:
  -p, --param NAME=VALUE  override a parameter; injected after the cell tagged "parameters"
                     (as papermill does). VALUE is JSON when it parses (1, 0.5, true, [1,2]),
                     else text. Repeatable.
  --python PATH      the interpreter for the kernel (default: $NB2PROD_PYTHON, else python3);
                     it needs nbclient and ipykernel
  --timeout S        stop a cell that runs longer than S seconds
${RUN_HELP}`,
    options: { ...RUN_OPTIONS, param: { type: 'string', short: 'p', multiple: true }, python: { type: 'string' }, timeout: { type: 'string' } },
    createsStore: true,
    async run(args, store, io) {
      const [notebook, extra] = args.positionals;
      if (notebook === undefined) throw new UserError('usage', 'missing NOTEBOOK (the .ipynb file to run)');
      if (extra !== undefined) throw new UserError('usage', `unexpected argument "${extra}"`);
      if (!notebook.endsWith('.ipynb')) throw new UserError('usage', `${notebook} is not a notebook (.ipynb); for scripts use: nb2prod run -- python ${notebook}`);
      const timeout = args.values.timeout === undefined ? undefined : Number(args.values.timeout);
      if (timeout !== undefined && !(timeout > 0)) throw new UserError('usage', '--timeout must be a positive number of seconds');
      const { signal, release } = cancellation(io);
      try {
        const run = await trackNotebook({
          ...commonOptions(args, store, io, signal),
          notebook: path.resolve(io.cwd, notebook),
          python: pythonFor(args, io),
          params: parseParamAssignments(((args.values.param as string[] | undefined) ?? []).map(String)),
          onProgress: progressPrinter(io, path.basename(notebook)),
          onOutput: (text) => (io.raw ?? io).stderr(text), // the program's own output, as it printed it
          ...(timeout ? { cellTimeout: timeout } : {}),
        });
        return finishRun(run, args, io);
      } finally {
        release();
      }
    },
  },
  run: {
    summary: 'run a command (e.g. python train.py) and record the run',
    usage: 'nb2prod run [--tag T] [--group G] [--name N] [--capture-content] [--json] -- COMMAND [ARGS...]',
    details: `Runs COMMAND with capture on in every Python process it starts, and records the run like
"track" does. The script's source, the command and its arguments are recorded; --name value
arguments after the script become params. Exits 1 if the command failed.

Example: nb2prod run -- python train.py --lr 0.1

Options:
${RUN_HELP}`,
    options: RUN_OPTIONS,
    createsStore: true,
    async run(args, store, io) {
      if (!args.positionals.length) throw new UserError('usage', 'give the command to run after --, e.g. nb2prod run -- python train.py');
      const { signal, release } = cancellation(io);
      try {
        const run = await trackScript({
          ...commonOptions(args, store, io, signal),
          command: args.positionals.map(String),
          cwd: io.cwd,
          onOutput: (text, stream) => (stream === 'stdout' ? (io.raw ?? io).stdout(text) : (io.raw ?? io).stderr(text)),
        });
        return finishRun(run, args, io);
      } finally {
        release();
      }
    },
  },
  replay: {
    summary: 're-run a recorded run and check that it reproduces',
    usage: 'nb2prod replay RUN [-p name=value]... [--python PATH] [--tolerance X] [--json]',
    details: `Re-runs the code snapshot of RUN with the same params (its seeds are in its code), records
the replay as a new run (parent: RUN, tag: replay), and compares: data read (by content
hash), package and Python versions, seeds, status, metrics, what every notebook cell showed
(text, normalised for addresses, timings and the run's own time; images by hash) and the
files the run wrote (by hash). A changed cell or file names the unseeded randomness recorded
before it. Prints "reproduced" and exits 0, or lists exactly what differs and exits 1.
Files listed in nb2prod.toml [replay] volatile_outputs (globs) may differ: a note.

Options:
  -p, --param NAME=VALUE  a secret the run was given (recorded as ***) and the replay needs
                     again, e.g. -p api_key="$API_KEY". Repeatable.
  --python PATH      the interpreter (default: $NB2PROD_PYTHON, else python3)
  --tolerance X      metrics, and numbers in cell outputs, within X of the original count as
                     equal (default 1e-9)
  --json             {"reproduced": bool, "originalId", "replayId", "differences": [...]}
${STORE_HELP}`,
    options: { ...STORE_OPTION, param: { type: 'string', short: 'p', multiple: true }, python: { type: 'string' }, tolerance: { type: 'string' }, json: { type: 'boolean' } },
    async run(args, store, io) {
      const [reference, extra] = args.positionals;
      if (reference === undefined) throw new UserError('usage', 'missing RUN (a run id, a unique prefix, or "latest")');
      if (extra !== undefined) throw new UserError('usage', `unexpected argument "${extra}"`);
      const tolerance = args.values.tolerance === undefined ? 1e-9 : Number(args.values.tolerance);
      if (!(tolerance >= 0)) throw new UserError('usage', '--tolerance must be a number ≥ 0');
      const id = await store.resolveRunId(reference);
      const { signal, release } = cancellation(io);
      try {
        const report = await replayRun(id, {
          store,
          workspaceRoot: workspaceOf(store, io),
          pythonDir: io.pythonDir,
          python: pythonFor(args, io),
          hashes: new HashCache(store.hashCacheFile),
          env: io.env as NodeJS.ProcessEnv,
          secrets: parseSecretAssignments(((args.values.param as string[] | undefined) ?? []).map(String)),
          tolerance,
          signal,
          onProgress: progressPrinter(io, 'replay'),
          onOutput: (text) => (io.raw ?? io).stderr(text), // the program's own output, as it printed it
        });
        if (io.isTTY) io.stderr('\r\x1b[2K');
        if (args.values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
        else {
          const errors = report.differences.filter((d) => d.severity === 'error');
          const notes = report.differences.filter((d) => d.severity === 'note');
          io.stdout(report.reproduced ? `reproduced: run ${report.originalId} replayed as ${report.replayId}\n` : `not reproduced: run ${report.originalId} replayed as ${report.replayId}\n`);
          for (const d of errors) io.stdout(`  ✗ ${d.message}\n`);
          for (const d of notes) io.stdout(`  note: ${d.message}\n`);
        }
        return report.reproduced ? 0 : 1;
      } finally {
        release();
      }
    },
  },
};
