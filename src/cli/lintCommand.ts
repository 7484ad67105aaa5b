/** `nb2prod lint`: the editor's notebook rules, for CI. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors';
import { type LintConfig, loadLintConfig } from '../core/lint/config';
import { formatJson, formatSarif, formatText, type LintFormat } from '../core/lint/format';
import { collectFiles, type FileReport, lintFile, summarize } from '../core/lint/lintFiles';
import { findProjectRoot, ProjectScanner } from '../core/lint/project/scan';
import { ALL_RULES } from '../core/lint/rules';
import { type InstalledPackages, queryInstalledPackages } from '../core/project/installedPackages';
import type { Command } from './command';

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

Exit status: 0 when there are no errors (warnings and notes are fine), 1 when a
finding has severity error or a file could not be linted, 2 for a usage error.

Options:
  --format F         text (default), json, or sarif (SARIF 2.1.0, for code scanning)
  --output FILE      write the report to FILE instead of standard output
  --python PATH      the project's interpreter (default: $NB2PROD_PYTHON, else none): its
                     installed packages name the distribution behind each import and the
                     versions to pin; without it Python is not run
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

      const configs = new Map<string, LintConfig>();
      const configFor = (file: string): LintConfig => {
        const dir = path.dirname(file);
        let config = configs.get(dir);
        if (!config) {
          config = loadLintConfig(dir, findProjectRoot(dir, io.cwd));
          configs.set(dir, config);
        }
        return config;
      };
      const { files, missing } = await collectFiles(paths, io.cwd, configFor);
      if (missing.length) throw new UserError('usage', `no such file or folder: ${missing.join(', ')}`);

      // The interpreter's packages, asked once when one is named.
      const python = (values.python as string | undefined) ?? io.env.NB2PROD_PYTHON;
      let installed: InstalledPackages | undefined;
      if (python) {
        try {
          installed = await queryInstalledPackages(python);
        } catch (error) {
          io.stderr(`nb2prod lint: ${(error as Error).message}; linting without the installed packages\n`);
        }
      }
      const scanners = new Map<string, ProjectScanner>();
      const reports: FileReport[] = [];
      for (const file of files) {
        const root = findProjectRoot(path.dirname(file), io.cwd);
        let scanner = scanners.get(root);
        if (!scanner) {
          scanner = new ProjectScanner(root, { useGit: true, installed: installed?.versions, modules: installed?.modules });
          scanners.set(root, scanner);
        }
        const report = await lintFile(file, { config: configFor(file), rules: ALL_RULES, scanner });
        for (const failure of report.ruleFailures) io.stderr(`nb2prod lint: internal error in rule ${failure.rule} on ${file} (please report it):\n${failure.message}\n`);
        reports.push(report);
      }
      const summary = summarize(reports);
      const output =
        format === 'json' ? formatJson(reports, summary, io.cwd) : format === 'sarif' ? formatSarif(reports, ALL_RULES, io.cwd, io.version) : formatText(reports, summary, io.cwd);
      if (values.output !== undefined) {
        const target = path.resolve(io.cwd, String(values.output));
        await fs.writeFile(target, output);
        if (format !== 'text') io.stderr(formatText(reports, summary, io.cwd).split('\n').filter(Boolean).at(-1) + '\n');
      } else io.stdout(output);
      return summary.errors || summary.fileErrors ? 1 : 0;
    },
  },
};
