/** `nb2prod scaffold`: a notebook and its tracked run become a service and a pipeline. */
import path from 'node:path';
import { UserError } from '../core/errors';
import { type PreparedScaffold, prepareScaffold, writeGoldenSample, writeScaffold } from '../core/scaffold/scaffold';
import { type Command, requireStore } from './command';

const ACTION_LABELS = { create: 'create', update: 'update', unchanged: 'same', conflict: 'CHANGED BY YOU' } as const;

export const scaffoldCommands: Record<string, Command> = {
  scaffold: {
    summary: 'generate a FastAPI service, a training pipeline, contracts and tests from a notebook',
    usage: 'nb2prod scaffold NOTEBOOK --out DIR [--run RUN] [--python PATH] [--dry-run] [--overwrite] [--no-golden] [--json]',
    details: `Reads the notebook (its sections, feature code, data and model, by static analysis)
and its latest successful tracked run (the data profile, the model file and its hash,
the library versions), and writes a project to DIR:

  service/     FastAPI app: /predict (one and batch), /health, /ready, /metrics, /version;
               audit log, kill switch with fallback, review queue, live drift, model hash check
  pipeline/    the notebook's sections as steps, runner with retries, quarantine of bad rows
  common/      the feature code, shared by pipeline and service
  contracts/   JSON Schema (2020-12) of inputs, training rows and outputs; the training profile
  tests/       contract, golden, kill-switch, audit, integrity and pipeline tests (pytest)
  requirements.txt (pinned), Dockerfile, Makefile, CI workflow, README

Then runs "python -m pipeline.golden" in DIR: the notebook's model predicts sample rows,
which the tests hold the service to.

A file you changed since it was generated is never overwritten unless you pass
--overwrite: the command lists such files and writes nothing. Files the generator
wrote before and you did not touch are updated.

Exit status: 0 written, 1 nothing written because of changed files or a failed golden
sample, 2 usage error or a notebook that cannot be scaffolded (the message says what to add).

Options:
  --out DIR          the project folder (created; may exist)
  --run RUN          the run to build from (id or prefix; default: the latest that succeeded)
  --python PATH      the interpreter for the golden sample and the service's dependency
                     versions (default: $NB2PROD_PYTHON, else python3)
  --dry-run          print the file tree and what would happen to each file; write nothing
  --overwrite        overwrite files you changed since they were generated
  --no-golden        do not run the golden sample (tests/test_golden.py then fails until
                     you run "make golden")
  --json             print the result as JSON`,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      out: { type: 'string', short: 'o' },
      run: { type: 'string' },
      python: { type: 'string' },
      'dry-run': { type: 'boolean' },
      overwrite: { type: 'boolean' },
      'no-golden': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    async run({ values, positionals }, store, io) {
      const [notebookArg, ...extra] = positionals;
      if (!notebookArg) throw new UserError('usage', 'scaffold: name the notebook (nb2prod scaffold NOTEBOOK --out DIR)');
      if (extra.length) throw new UserError('usage', `scaffold: one notebook at a time (got ${positionals.join(', ')})`);
      if (typeof values.out !== 'string' || !values.out) throw new UserError('usage', 'scaffold: say where to write the project with --out DIR');
      if (!notebookArg.endsWith('.ipynb')) throw new UserError('usage', `scaffold: ${notebookArg} is not a notebook (.ipynb)`);
      await requireStore(store);
      const workspaceRoot = path.dirname(store.root);
      const python = (values.python as string | undefined) ?? io.env.NB2PROD_PYTHON ?? 'python3';
      const outDir = path.resolve(io.cwd, values.out);
      if (outDir === workspaceRoot || workspaceRoot.startsWith(outDir + path.sep)) throw new UserError('usage', `scaffold: --out ${values.out} is the workspace itself (or above it): name a folder for the project, e.g. --out service`);
      const prepared = await prepareScaffold({
        workspaceRoot,
        notebook: path.resolve(io.cwd, notebookArg),
        run: values.run as string | undefined,
        outDir,
        store,
        templatesDir: io.templatesDir ?? path.join(path.dirname(io.pythonDir), 'scaffold-templates'),
        python,
        nb2prodVersion: io.version,
      });
      const conflicts = prepared.writes.filter((w) => w.action === 'conflict').map((w) => w.file.path);
      if (values['dry-run']) {
        if (values.json) io.stdout(JSON.stringify(summary(prepared, [], conflicts, null), null, 2) + '\n');
        else io.stdout(tree(prepared) + notesText(prepared) + '(dry run: nothing written)\n');
        return 0;
      }
      if (conflicts.length && !values.overwrite) {
        io.stderr(
          `nb2prod: ${conflicts.length} file${conflicts.length === 1 ? '' : 's'} in ${values.out} changed since nb2prod generated ${conflicts.length === 1 ? 'it' : 'them'}; nothing was written:\n${conflicts.map((c) => `  ${c}\n`).join('')}Keep your changes elsewhere and run again with --overwrite, or generate into another --out folder.\n`,
        );
        return 1;
      }
      const result = await writeScaffold(prepared, { overwrite: values.overwrite === true });
      let golden: string | null = null;
      let goldenError: string | null = null;
      if (!values['no-golden']) {
        try {
          golden = await writeGoldenSample(python, outDir);
        } catch (error) {
          goldenError = error instanceof Error ? error.message : String(error);
        }
      }
      if (values.json) {
        io.stdout(JSON.stringify({ ...summary(prepared, result.written, result.kept, golden), goldenError }, null, 2) + '\n');
      } else {
        io.stdout(tree(prepared) + notesText(prepared));
        io.stdout(`Wrote ${result.written.length} file${result.written.length === 1 ? '' : 's'} to ${path.relative(io.cwd, outDir) || '.'} from run ${prepared.run.id}.\n`);
        if (golden) io.stdout(`${golden}\n`);
        io.stdout(`Next: cd ${path.relative(io.cwd, outDir) || '.'} && make test && make serve  (see its README.md)\n`);
      }
      if (goldenError) {
        io.stderr(`nb2prod: ${goldenError}\nThe project is written; tests/test_golden.py fails until "make golden" succeeds.\n`);
        return 1;
      }
      return 0;
    },
  },
};

function summary(prepared: PreparedScaffold, written: string[], kept: string[], golden: string | null) {
  return {
    run: prepared.run.id,
    outDir: prepared.outDir,
    model: prepared.model,
    steps: prepared.plan.steps.map((s) => ({ name: s.name, title: s.title, inputs: s.inputs, params: s.params, outputs: s.outputs })),
    files: prepared.writes.map((w) => ({ path: w.file.path, action: w.action, origin: w.file.origin })),
    notes: prepared.notes.map((n) => n.message),
    written,
    kept,
    golden,
  };
}

/** The planned files as a tree, each with what happens to it. */
export function tree(prepared: PreparedScaffold): string {
  const lines: string[] = [`${prepared.outDir}/`];
  let previousParts: string[] = [];
  for (const { file, action } of [...prepared.writes].sort((a, b) => a.file.path.localeCompare(b.file.path))) {
    const parts = file.path.split('/');
    for (let depth = 0; depth < parts.length - 1; depth++) {
      if (previousParts[depth] !== parts[depth]) lines.push(`${'  '.repeat(depth + 1)}${parts[depth]}/`);
    }
    lines.push(`${'  '.repeat(parts.length)}${parts.at(-1)}${' '.repeat(Math.max(1, 36 - parts.at(-1)!.length - 2 * parts.length))}${ACTION_LABELS[action]}`);
    previousParts = parts.slice(0, -1);
  }
  return lines.join('\n') + '\n';
}

function notesText(prepared: PreparedScaffold): string {
  if (!prepared.notes.length) return '';
  return `\nLeft out or changed:\n${prepared.notes.map((n) => `  - ${n.message}\n`).join('')}\n`;
}
