/** `nb2prod runs`, `show` and `diff`: reading the store. */
import { diffRuns } from '../core/diff';
import { RUN_STATUSES, type RunStatus } from '../core/runStatus';
import { UserError } from '../core/errors';
import { describeProblem, renderDiff, renderRun, renderRunList } from '../core/render/runText';
import type { RunQuery } from '../core/store/runIndex';
import { type Command, requireStore, STORE_HELP, STORE_OPTION } from './command';

export const runsCommands: Record<string, Command> = {
  runs: {
    summary: 'list the runs in the store',
    usage: 'nb2prod runs [--source PATH] [--tag T] [--group G] [--status S] [--sort time|METRIC] [--asc] [--limit N] [--json]',
    details: `Lists runs, newest first. Files in the store that are not valid runs are reported on
stderr and do not stop the others from listing.

Options:
  --source PATH      only runs of this notebook or script (path relative to the workspace)
  --tag T            only runs with this tag
  --group G          only runs of this group (repeated seeds of one configuration)
  --status S         only runs with this status: ${RUN_STATUSES.join(', ')}
  --kind K           only notebook or script runs
  --sort KEY         time (default) or a metric name, highest first
  --asc              ascending order (oldest or lowest first)
  --limit N          at most N runs
  --json             machine-readable output: {"runs": [...], "problems": [...]}
${STORE_HELP}`,
    options: {
      ...STORE_OPTION,
      source: { type: 'string' },
      tag: { type: 'string' },
      group: { type: 'string' },
      status: { type: 'string' },
      kind: { type: 'string' },
      sort: { type: 'string' },
      asc: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run({ values, positionals }, store, io) {
      if (positionals.length) throw new UserError('usage', `unexpected argument "${positionals[0]}"`);
      const query: RunQuery = {};
      if (values.source !== undefined) query.source = String(values.source);
      if (values.tag !== undefined) query.tag = String(values.tag);
      if (values.group !== undefined) query.group = String(values.group);
      if (values.status !== undefined) {
        if (!RUN_STATUSES.includes(values.status as RunStatus)) throw new UserError('usage', `--status must be one of ${RUN_STATUSES.join(', ')}`);
        query.status = values.status as RunStatus;
      }
      if (values.kind !== undefined) {
        if (values.kind !== 'notebook' && values.kind !== 'script') throw new UserError('usage', '--kind must be notebook or script');
        query.kind = values.kind;
      }
      if (values.sort !== undefined && values.sort !== 'time') query.sortBy = { metric: String(values.sort) };
      if (values.asc) query.order = 'asc';
      if (values.limit !== undefined) {
        // Digits only: `1e99` and `0x10` are numbers to JavaScript, not counts a user types.
        const text = String(values.limit).trim();
        const limit = /^\d+$/.test(text) ? Number(text) : NaN;
        if (!(limit >= 1)) throw new UserError('usage', `--limit must be a positive whole number, got "${String(values.limit)}"`);
        query.limit = Math.min(limit, Number.MAX_SAFE_INTEGER);
      }
      const { runs, problems } = await store.list(query);
      for (const problem of problems) io.stderr(`warning: ${describeProblem(problem)}\n`);
      if (values.json) io.stdout(`${JSON.stringify({ runs, problems }, null, 2)}\n`);
      else io.stdout(`${runs.length ? renderRunList(runs) : `No runs in ${store.root}.`}\n`);
      return 0;
    },
  },
  show: {
    summary: 'show everything recorded about one run',
    usage: 'nb2prod show RUN [--json]',
    details: `RUN is a run id, a unique prefix of one, or "latest".

Options:
  --json             the run envelope as stored (schema nb2prod.run/1)
${STORE_HELP}`,
    options: { ...STORE_OPTION, json: { type: 'boolean' } },
    async run({ values, positionals }, store, io) {
      const [reference, extra] = positionals;
      if (reference === undefined) throw new UserError('usage', 'missing RUN (a run id, a unique prefix, or "latest")');
      if (extra !== undefined) throw new UserError('usage', `unexpected argument "${extra}"`);
      await requireStore(store);
      const run = await store.getRun(await store.resolveRunId(reference));
      io.stdout(values.json ? `${JSON.stringify(run, null, 2)}\n` : `${renderRun(run)}\n`);
      return 0;
    },
  },
  diff: {
    summary: 'what changed between two runs',
    usage: 'nb2prod diff RUN_A RUN_B [--json]',
    details: `Compares two runs: code cells, params, seeds, data (by content hash), packages,
environment, git, hardware and metrics (with deltas). RUN is a run id, a unique prefix, or "latest".

Options:
  --json             the structured diff
${STORE_HELP}`,
    options: { ...STORE_OPTION, json: { type: 'boolean' } },
    async run({ values, positionals }, store, io) {
      if (positionals.length !== 2) throw new UserError('usage', `diff takes two runs, got ${positionals.length}`);
      await requireStore(store);
      const [a, b] = await Promise.all(positionals.map(async (p) => store.getRun(await store.resolveRunId(String(p)))));
      const diff = diffRuns(a!, b!);
      io.stdout(values.json ? `${JSON.stringify(diff, null, 2)}\n` : `${renderDiff(diff)}\n`);
      return 0;
    },
  },
};
