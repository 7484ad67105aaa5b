/** `nb2prod check`: the production-readiness checklist of a project, for people and for CI. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors';
import { checkReadiness } from '../core/readiness/check';
import { formatReadiness, READINESS_FORMATS, type ReadinessFormat } from '../core/readiness/format';
import type { RegistryFactsProvider } from '../core/readiness/model';
import { RunStore } from '../core/store/runStore';
import { type Command, locateStore, STORE_HELP } from './command';

export interface CheckCommandOptions {
  /** Reads the model registry; without one, registry items fail when there is no registry file. */
  registry?: RegistryFactsProvider;
}

export function makeCheckCommands(options: CheckCommandOptions = {}): Record<string, Command> {
  return {
    check: {
      summary: 'the production-readiness checklist: pass, fail or unknown per item, with evidence and fixes',
      usage: 'nb2prod check [PATH] [--format text|json|md] [--strict]',
      details: `Checks the project in PATH (default ".") against the production-readiness checklist:
seeds set, data versioned, environment locked, a tracked run that replays, repeated
runs with intervals, a frozen evaluation set, an input contract, drift monitoring with
thresholds, a rollback candidate, rollback tested, an audit trail of predictions, a
kill switch and fallback, human review criteria, an owner, a model card, approvals.
Each item is pass, fail or unknown, with its evidence (runs, files, registry entries,
configuration) and what to do. First it answers three questions: is there automated
monitoring for drift and degradation; can the model be rolled back within minutes; is
there an audit trail for every prediction. See docs/readiness.md for each item's rule.

Configuration: [readiness] and [monitoring] in nb2prod.toml (or [tool.nb2prod.*] in
pyproject.toml). The store: --store, else the nearest .nb2prod above PATH.

Exit status: 0, or with --strict 1 unless every item passes (for CI); 2 for a usage error.

Options:
  --format F         text (default), json, or md (Markdown, e.g. for a pull request)
  --strict           exit 1 when any item is not pass
${STORE_HELP}`,
      options: {
        help: { type: 'boolean', short: 'h' },
        store: { type: 'string' },
        format: { type: 'string', short: 'f' },
        strict: { type: 'boolean' },
      },
      async run({ values, positionals }, givenStore, io) {
        const format = (values.format ?? 'text') as ReadinessFormat;
        if (!READINESS_FORMATS.includes(format)) throw new UserError('usage', `--format must be one of ${READINESS_FORMATS.join(', ')}`);
        if (positionals.length > 1) throw new UserError('usage', 'give one project folder');
        const root = path.resolve(io.cwd, positionals[0] ?? '.');
        if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError('usage', `${positionals[0] ?? root} is not a folder`);
        // The store of the checked project, unless one was named: the nearest .nb2prod above PATH.
        const explicit = values.store !== undefined || io.env.NB2PROD_STORE !== undefined;
        const storeRoot = explicit ? givenStore.root : locateStore(root, undefined, {});
        const store = storeRoot === givenStore.root ? givenStore : new RunStore(storeRoot);
        try {
          const report = await checkReadiness({ root, store, ...(options.registry ? { registry: options.registry } : {}) });
          io.stdout(formatReadiness(report, format));
          return values.strict && !report.productionReady ? 1 : 0;
        } finally {
          if (store !== givenStore) store.close();
        }
      },
    },
  };
}
