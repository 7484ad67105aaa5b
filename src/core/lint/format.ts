/**
 * Lint reports for people (text), programs (JSON) and code-scanning UIs (SARIF 2.1.0,
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html). Locations in notebooks are
 * given twice: the line in the .ipynb file (so GitHub code scanning can annotate it) and the
 * cell with its own line and column (so a person can find it in Jupyter).
 */
import path from 'node:path';
import { sha256Hex } from '../hash';
import { cellLabel, cellNumber } from '../notebook/cellLabel';
import type { FileReport, LintRunSummary, ReportedFinding } from './lintFiles';
import type { Rule, Severity } from './rule';

export type LintFormat = 'text' | 'json' | 'sarif';

export function formatText(reports: readonly FileReport[], summary: LintRunSummary, cwd: string): string {
  const lines: string[] = [];
  for (const report of reports) {
    if (!report.error && !report.findings.length) continue;
    lines.push(displayPath(report.path, cwd));
    if (report.error) lines.push(`  error  ${report.error}`);
    for (const finding of report.findings) {
      lines.push(`  ${where(report, finding).padEnd(16)} ${finding.severity.padEnd(7)} ${finding.message}  ${finding.rule}`);
    }
    lines.push('');
  }
  const counts = [plural(summary.errors, 'error'), plural(summary.warnings, 'warning'), plural(summary.infos, 'note')];
  const unreadable = summary.fileErrors ? `, ${plural(summary.fileErrors, 'file')} not linted` : '';
  lines.push(`${counts.join(', ')} in ${plural(summary.files, 'file')}${unreadable}.`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(reports: readonly FileReport[], summary: LintRunSummary, cwd: string): string {
  return `${JSON.stringify(
    {
      summary,
      files: reports.map((report) => ({
        path: displayPath(report.path, cwd),
        kind: report.kind,
        error: report.error,
        findings: report.findings.map((f) => ({
          rule: f.rule,
          severity: f.severity,
          message: f.message,
          // The cell's number as Jupyter and VS Code show it (1-based, every cell kind counted).
          cell: report.kind === 'notebook' ? cellNumber(f.cell) : null,
          cellId: report.kind === 'notebook' ? f.cellId : null,
          // 1-based, as editors show them.
          line: f.start.line + 1,
          column: f.start.character + 1,
          endLine: f.end.line + 1,
          endColumn: f.end.character + 1,
          fileLine: f.fileLine,
          fixes: f.fixes.map((fix) => fix.title),
          ...(f.related?.length ? { related: f.related.map((r) => ({ cell: cellNumber(r.cell), cellId: r.cellId, line: r.start.line + 1, column: r.start.character + 1, fileLine: r.fileLine, message: r.message })) } : {}),
        })),
      })),
    },
    null,
    2,
  )}\n`;
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

export function formatSarif(reports: readonly FileReport[], rules: readonly Rule[], cwd: string, version: string): string {
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const results = reports.flatMap((report) =>
    report.findings.map((finding) => ({
      ruleId: finding.rule,
      ruleIndex: ruleIndex.get(finding.rule) ?? -1,
      level: SARIF_LEVEL[finding.severity],
      message: { text: finding.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(report.path, cwd), uriBaseId: 'SRCROOT' },
            region: report.kind === 'script'
              ? { startLine: finding.start.line + 1, startColumn: finding.start.character + 1, endLine: finding.end.line + 1, endColumn: finding.end.character + 1 }
              : { startLine: finding.fileLine },
          },
          ...(report.kind === 'notebook' ? { logicalLocations: [cellLocation(finding.cell, finding.cellId)] } : {}),
        },
      ],
      ...(report.kind === 'notebook' && finding.related?.length
        ? {
            relatedLocations: finding.related.map((related, id) => ({
              id,
              message: { text: related.message },
              physicalLocation: { artifactLocation: { uri: artifactUri(report.path, cwd), uriBaseId: 'SRCROOT' }, region: { startLine: related.fileLine } },
              logicalLocations: [cellLocation(related.cell, related.cellId)],
            })),
          }
        : {}),
      partialFingerprints: { 'nb2prod/v1': fingerprint(report, finding) },
      ...(report.kind === 'notebook'
        ? { properties: { cell: cellNumber(finding.cell), cellId: finding.cellId, cellLine: finding.start.line + 1, cellColumn: finding.start.character + 1 } }
        : {}),
    })),
  );
  const notifications = reports
    .filter((report) => report.error)
    .map((report) => ({
      level: 'error',
      message: { text: `${displayPath(report.path, cwd)} was not linted: ${report.error}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(report.path, cwd), uriBaseId: 'SRCROOT' } } }],
    }));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'nb2prod',
            version,
            semanticVersion: version,
            rules: rules.map((rule) => ({
              id: rule.id,
              name: pascalCase(rule.id),
              shortDescription: { text: rule.summary },
              fullDescription: { text: `${rule.summary} ${rule.help}` },
              help: { text: rule.help, markdown: `**${rule.id}**: ${rule.summary}\n\n${rule.help}\n\nSee docs/rules/${rule.id}.md in nb2prod.` },
              defaultConfiguration: { level: SARIF_LEVEL[rule.defaultSeverity] },
              properties: { tags: ['reproducibility', 'notebook'], precision: 'high' },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileUri(cwd.endsWith(path.sep) ? cwd : cwd + path.sep) } },
        invocations: [{ executionSuccessful: !notifications.length, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function where(report: FileReport, finding: ReportedFinding): string {
  const position = `${finding.start.line + 1}:${finding.start.character + 1}`;
  // Ids are long (JupyterLab writes UUIDs) and stay in JSON and SARIF; the column keeps the number.
  return report.kind === 'notebook' ? `${cellLabel(finding.cell)} ${position}` : position;
}

/** SARIF logical location of a cell: named as the editor numbers it, with its id when it has one. */
function cellLocation(cell: number, id: string | null): { name: string; kind: string; fullyQualifiedName?: string } {
  return { name: cellLabel(cell), kind: 'module', ...(id ? { fullyQualifiedName: `${cellLabel(cell)} id ${id}` } : {}) };
}

export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function artifactUri(file: string, cwd: string): string {
  const relative = displayPath(file, cwd);
  return path.isAbsolute(relative) ? pathToFileUri(relative) : relative.split(path.sep).map(encodeURIComponent).join('/');
}

function pathToFileUri(file: string): string {
  return `file://${file.split(path.sep).map(encodeURIComponent).join('/')}`;
}

/**
 * Stable across edits elsewhere in the file: rule and message (which names the thing), not lines.
 * The cell enters as its 0-based index, as it always has, so alerts keep their identity.
 */
function fingerprint(report: FileReport, finding: ReportedFinding): string {
  return sha256Hex(`${finding.rule}\0${finding.message}\0${report.kind === 'notebook' ? finding.cell : ''}`).slice(0, 32);
}

function pascalCase(id: string): string {
  return id.replace(/(^|-)([a-z])/g, (_, __, ch: string) => ch.toUpperCase());
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
