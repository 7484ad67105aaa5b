/** `nb2prod compare`: runs or groups of runs, with intervals and the traps flagged. */
import type { RunEnvelope } from '../core/envelope';
import { UserError } from '../core/errors';
import { renderComparison } from '../core/render/compareText';
import { compareRuns, groupRuns, type RunGroup } from '../core/stats/compare';
import type { RunStore } from '../core/store/runStore';
import { type Command, requireStore, STORE_HELP, STORE_OPTION } from './command';

export const compareCommands: Record<string, Command> = {
  compare: {
    summary: 'compare runs or groups of runs, with intervals over repeated seeds',
    usage: 'nb2prod compare RUN_OR_GROUP... [--auto] [--baseline N] [--metric M]... [--confidence C] [--json]',
    details: `Each argument is one side of the comparison: a run (id, unique prefix, or "latest")
or a group of runs, written group:NAME (the runs tracked with --group NAME). The first side
is the baseline unless --baseline says otherwise.

For each metric: every side's mean with a t-interval, and each candidate's difference from
the baseline with its interval, p-value (paired t-test when the runs pair up by seed or fold,
else Welch's), Holm correction across candidates, and effect size. Traps are flagged in
words: one run per side, a difference inside the noise, data, code or packages that differ.

Options:
  --auto             pool the runs named and split them into groups by code and params
                     (seeds aside), instead of one side per argument
  --baseline N       the side to compare against, 1-based (default 1)
  --metric M         only this metric (repeatable)
  --confidence C     confidence level of the intervals (default 0.95)
  --json             the comparison as JSON
${STORE_HELP}`,
    options: {
      ...STORE_OPTION,
      auto: { type: 'boolean' },
      baseline: { type: 'string' },
      metric: { type: 'string', multiple: true },
      confidence: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run({ values, positionals }, store, io) {
      if (!positionals.length) throw new UserError('usage', 'name the runs or groups to compare (e.g. group:baseline group:deeper)');
      await requireStore(store);
      let groups: RunGroup[] = [];
      for (const reference of positionals.map(String)) groups.push(await sideOf(store, reference));
      if (values.auto) groups = groupRuns(dedupe(groups.flatMap((g) => g.runs)));
      if (groups.length < 2) {
        throw new UserError('usage', values.auto ? 'the runs named form a single group (same code and params): nothing to compare' : 'name at least two runs or groups to compare');
      }
      const baseline = values.baseline === undefined ? 0 : Number(values.baseline) - 1;
      if (!Number.isInteger(baseline) || baseline < 0 || baseline >= groups.length) throw new UserError('usage', `--baseline must be a side number from 1 to ${groups.length}`);
      const confidence = values.confidence === undefined ? 0.95 : Number(values.confidence);
      if (!(confidence > 0 && confidence < 1)) throw new UserError('usage', '--confidence must be between 0 and 1 (e.g. 0.95)');
      const metrics = values.metric as string[] | undefined;
      const comparison = compareRuns(groups, { baseline, confidence, ...(metrics?.length ? { metrics } : {}) });
      io.stdout(values.json ? `${JSON.stringify(comparison, null, 2)}\n` : `${renderComparison(comparison)}\n`);
      return 0;
    },
  },
};

/** One side: `group:NAME` (every run of the group), else one run. */
async function sideOf(store: RunStore, reference: string): Promise<RunGroup> {
  if (reference.startsWith('group:')) {
    const name = reference.slice('group:'.length);
    const { runs } = await store.list({ group: name, order: 'asc' });
    if (!runs.length) throw new UserError('run-not-found', `No runs in group "${name}" (runs get a group with nb2prod track --group NAME).`);
    return { label: name, runs: await Promise.all(runs.map((r) => store.getRun(r.id))) };
  }
  const run = await store.getRun(await store.resolveRunId(reference));
  return { label: run.name, runs: [run] };
}

function dedupe(runs: RunEnvelope[]): RunEnvelope[] {
  const seen = new Set<string>();
  return runs.filter((run) => !seen.has(run.id) && seen.add(run.id));
}
