/** `nb2prod lint`: the editor's notebook rules, for CI. */
import { UserError } from '../core/errors';
import { formatJson, formatSarif, formatText, type LintFormat } from '../core/lint/format';
import { type FileReport, LintSession, summarize } from '../core/lint/lintFiles';
import { PythonOracle } from '../core/lint/pythonOracle';
import { ALL_RULES } from '../core/lint/rules';
import { type InstalledPackages, queryInstalledPackages } from '../core/project/installedPackages';
import type { Command } from './command';
import { reportTarget, writeReport } from './output';

const FORMATS: readonly LintFormat[] = ['text', 'json', 'sarif'];

export const lintCommands: Record<string, Command> = {
  lint: {
    summary: 'check notebooks and scripts for what stops them from reproducing',
    usage: 'nb2prod lint [PATH...] [--format text|json|sarif] [--output FILE] [--python PATH] [--list-rules]',
    details: `Lints notebooks (.ipynb) and Python files (.py); folders are searched recursively
(skipping hidden folders, virtual environments and node_modules). PATH defaults to ".".

Rules, severities and excluded files come from the nearest nb2prod.toml ([lint]) or
pyproject.toml ([tool.nb2prod.lint]) above each file. A finding on a line ending in
"# nb2prod: ignore[RULE]" is suppressed. See docs/rules/ for each rule.

Cells are numbered as Jupyter and VS Code number them (cell 1 is the first cell,
markdown cells included). JSON findings give that number as "cell", the nbformat
id as "cellId", 1-based "line"/"column" in the cell and "fileLine" in the file;
a finding about several cells lists the others in "related".

Syntax is confirmed with the Python interpreter (it compiles each cell, after IPython's
own handling of magics when IPython is installed; no cell is run), and the names of
installed modules that notebooks star-import are listed with it. Without an interpreter,
syntax problems nb2prod's parser finds are warnings.

Exit status: 0 when there are no errors (warnings and notes never fail it), 1
when a finding has severity error or a file could not be linted, 2 for a usage
error.

Options:
  --format F         text (default), json, or sarif (SARIF 2.1.0, for code scanning)
  --output FILE      write the report to FILE instead of standard output
  --python PATH      the interpreter to check syntax with (default: $NB2PROD_PYTHON,
                     else python3 on the PATH); when named (option or variable), its
                     installed packages also name the distribution behind each import and
                     the versions to pin
  --list-rules       list the rules with their default severity, then exit`,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      python: { type: 'string' },
      'list-rules': { type: 'boolean' },
    },
    async run({ values, positionals }, _store, io) {
      if (values['list-rules']) {
        const width = Math.max(...ALL_RULES.map((r) => r.id.length));
        io.stdout(ALL_RULES.map((r) => `${r.id.padEnd(width)}  ${r.defaultSeverity.padEnd(7)}  ${r.summary}`).join('\n') + '\n');
        return 0;
      }
      const format = (values.format ?? 'text') as LintFormat;
      if (!FORMATS.includes(format)) throw new UserError('usage', `--format must be one of ${FORMATS.join(', ')}`);
      const paths = positionals.length ? positionals : ['.'];
      const target = values.output === undefined ? undefined : await reportTarget(io.cwd, String(values.output));

      // The project's interpreter, when named: its installed packages, asked once.
      const named = (values.python as string | undefined) ?? io.env.NB2PROD_PYTHON;
      let installed: InstalledPackages | undefined;
      let installedProblem: string | null = null;
      if (named) {
        try {
          installed = await queryInstalledPackages(named);
        } catch (error) {
          installedProblem = (error as Error).message;
        }
      }
      // One interpreter process for the whole run; it compiles cells, never runs them.
      const python = new PythonOracle({ python: named ?? 'python3', pythonDir: io.pythonDir, importModules: true });
      const session = new LintSession(io.cwd, { rules: ALL_RULES, useGit: true, python, installed });
      const { files, missing } = await session.collect(paths);
      if (missing.length) throw new UserError('usage', `no such file or folder: ${missing.join(', ')}`);

      const reports: FileReport[] = [];
      try {
        for (const file of files) {
          const report = await session.lint(file);
          for (const failure of report.ruleFailures) io.stderr(`nb2prod lint: internal error in rule ${failure.rule} on ${file} (please report it):\n${failure.message}\n`);
          reports.push(report);
        }
      } finally {
        python.dispose();
      }
      // One note per problem: an interpreter that cannot run at all is said once, below.
      if (installedProblem && !python.unavailable) io.stderr(`nb2prod lint: ${installedProblem}; linting without the installed packages\n`);
      if (python.unavailable) io.stderr(`nb2prod lint: syntax was checked without Python (${python.unavailable}); what nb2prod's parser finds is reported as warnings. Use --python PATH to name an interpreter.\n`);
      const summary = summarize(reports);
      const output =
        format === 'json' ? formatJson(reports, summary, io.cwd) : format === 'sarif' ? formatSarif(reports, ALL_RULES, io.cwd, io.version) : formatText(reports, summary, io.cwd);
      if (target !== undefined) {
        await writeReport(target, output);
        if (format !== 'text') io.stderr(formatText(reports, summary, io.cwd).split('\n').filter(Boolean).at(-1) + '\n');
      } else io.stdout(output);
      return summary.errors || summary.fileErrors ? 1 : 0;
    },
  },
};
