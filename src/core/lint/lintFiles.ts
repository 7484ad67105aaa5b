/**
 * Linting files on disk (the CLI, and CI through it): expand folders into notebooks and Python
 * files, lint each with the project's configuration, and turn every per-file failure — a file
 * that is not JSON, an nbformat 3 notebook, one too large, one unreadable — into an error
 * entry for that file while the others are still linted.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isUserError } from '../errors';
import { type LintConfig, isExcluded, loadLintConfig } from './config';
import { cellsOf, lintCells, targetKind } from './engine';
import { type LineCharacter, positionAt } from './positions';
import { findProjectRoot, ProjectScanner } from './project/scan';
import type { InstalledPackages } from '../project/installedPackages';
import type { PythonOracle } from './pythonOracle';
import type { Finding, LintTarget, RelatedLocation, Rule, Severity } from './rule';

/** Larger files are refused rather than read into memory. A notebook with big outputs is fine. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Folders never descended into: tool state, environments, caches. */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'site-packages', '.ipynb_checkpoints']);

export interface ReportedFinding extends Omit<Finding, 'related'> {
  start: LineCharacter;
  end: LineCharacter;
  /** 1-based line in the file itself (for notebooks: the JSON line holding that source line). */
  fileLine: number;
  /** The nbformat id of the finding's cell, when the notebook has cell ids. */
  cellId: string | null;
  related?: Array<RelatedLocation & { start: LineCharacter; fileLine: number; cellId: string | null }>;
}

export interface FileReport {
  /** Absolute path. */
  path: string;
  kind: LintTarget['kind'];
  findings: ReportedFinding[];
  /** Why the file could not be linted; null when it was. */
  error: string | null;
  ruleFailures: Array<{ rule: string; message: string }>;
}

export interface LintRunSummary {
  files: number;
  errors: number;
  warnings: number;
  infos: number;
  fileErrors: number;
}

/** Notebooks and Python files named by `paths` (files as given, folders recursively), sorted. */
export async function collectFiles(paths: readonly string[], cwd: string, configFor: (file: string) => LintConfig): Promise<{ files: string[]; missing: string[] }> {
  const files = new Set<string>();
  const missing: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
        // A virtual environment holds other people's code.
        if (await exists(path.join(full, 'pyvenv.cfg'))) continue;
        await walk(full);
      } else if (entry.isFile() && targetKind(entry.name) && !isExcluded(configFor(full), full)) {
        files.add(full);
      }
    }
  };
  for (const given of paths) {
    const full = path.resolve(cwd, given);
    const stat = await fs.stat(full).catch(() => null);
    if (!stat) missing.push(given);
    else if (stat.isDirectory()) await walk(full);
    else files.add(full);
  }
  return { files: [...files].sort(), missing };
}

export interface LintFileOptions {
  config: LintConfig;
  rules: readonly Rule[];
  scanner: ProjectScanner;
  /** The interpreter to confirm syntax with (and list installed modules' names); none: nb2prod's parser alone. */
  python?: PythonOracle | null;
}

export async function lintFile(file: string, options: LintFileOptions): Promise<FileReport> {
  const kind = targetKind(file);
  const report: FileReport = { path: file, kind: kind ?? 'script', findings: [], error: null, ruleFailures: [] };
  if (!kind) {
    report.error = 'not a notebook (.ipynb) or Python file (.py)';
    return report;
  }
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (stat.size > MAX_FILE_BYTES) {
      report.error = `too large to lint (${Math.round(stat.size / 1024 / 1024)} MB; the limit is ${MAX_FILE_BYTES / 1024 / 1024} MB)`;
      return report;
    }
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    report.error = `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    return report;
  }
  try {
    const target: LintTarget = { kind, path: file };
    const cells = cellsOf(text, target);
    const project = await options.scanner.forFile(file);
    const python = options.python ? await options.python.prepare(cells, project, path.dirname(file)) : null;
    const result = lintCells(cells, target, { project, config: options.config, rules: options.rules, python });
    const lineMap = kind === 'notebook' ? notebookLineMap(text) : null;
    const fileLineOf = (cell: number, line: number): number => (lineMap ? (lineMap[cell]?.[line] ?? lineMap[cell]?.at(-1) ?? 1) : line + 1);
    report.findings = result.findings.map(({ related, ...finding }) => {
      const source = cells[finding.cell]!.source;
      const start = positionAt(source, finding.span.from);
      const end = positionAt(source, finding.span.to);
      const reported: ReportedFinding = { ...finding, start, end, fileLine: fileLineOf(finding.cell, start.line), cellId: cells[finding.cell]!.id ?? null };
      if (related?.length) {
        reported.related = related.map((r) => {
          const at = positionAt(cells[r.cell]!.source, r.span.from);
          return { ...r, start: at, fileLine: fileLineOf(r.cell, at.line), cellId: cells[r.cell]!.id ?? null };
        });
      }
      return reported;
    });
    report.ruleFailures = result.ruleFailures;
  } catch (error) {
    if (!isUserError(error)) throw error;
    // The message names the file already; keep only what is wrong with it.
    report.error = error.message.replace(`${file} `, '').replace(/^is /, '');
  }
  return report;
}

/**
 * One lint of files on disk as `nb2prod lint` runs it: each folder's project config (read once
 * per folder) and one project scanner per project root (git asked once per root). The CLI and
 * the precision harness (bench/lintCorpus.ts) both lint through it, so they measure the same.
 */
export class LintSession {
  private readonly configs = new Map<string, LintConfig>();
  private readonly scanners = new Map<string, ProjectScanner>();

  constructor(
    private readonly cwd: string,
    private readonly options: { rules: readonly Rule[]; useGit: boolean; python?: PythonOracle | null; installed?: InstalledPackages },
  ) {}

  /** The config for a file: the nearest nb2prod.toml / pyproject.toml; throws a UserError when invalid. */
  configFor(file: string): LintConfig {
    const dir = path.dirname(file);
    let config = this.configs.get(dir);
    if (!config) {
      config = loadLintConfig(dir, findProjectRoot(dir, this.cwd));
      this.configs.set(dir, config);
    }
    return config;
  }

  collect(paths: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
    return collectFiles(paths, this.cwd, (file) => this.configFor(file));
  }

  lint(file: string): Promise<FileReport> {
    const root = findProjectRoot(path.dirname(file), this.cwd);
    let scanner = this.scanners.get(root);
    if (!scanner) {
      scanner = new ProjectScanner(root, { useGit: this.options.useGit, installed: this.options.installed?.versions, modules: this.options.installed?.modules });
      this.scanners.set(root, scanner);
    }
    return lintFile(file, { config: this.configFor(file), rules: this.options.rules, scanner, python: this.options.python ?? null });
  }
}

export function summarize(reports: readonly FileReport[]): LintRunSummary {
  const count = (severity: Severity) => reports.reduce((n, r) => n + r.findings.filter((f) => f.severity === severity).length, 0);
  return { files: reports.length, errors: count('error'), warnings: count('warning'), infos: count('info'), fileErrors: reports.filter((r) => r.error).length };
}

/**
 * For each cell, the 1-based line of the notebook file where each of its source lines is
 * written — nbformat writes `source` as a list of lines, one JSON string per file line — so
 * code-scanning tools can point into the .ipynb. A source stored as one string maps every line
 * to where that string starts.
 */
export function notebookLineMap(text: string): number[][] {
  const cells: number[][] = [];
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineAt = (offset: number): number => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
  // A small scanner over the JSON (already known to parse): find "cells": [ {... "source": ...} ].
  const cellsKey = text.indexOf('"cells"');
  if (cellsKey === -1) return cells;
  let i = text.indexOf('[', cellsKey);
  let depth = 0;
  let cellLines: number[] | null = null;
  let pendingKey: string | null = null;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = skipString(text, i);
      if (depth === 2 && nextNonSpace(text, end) === ':') pendingKey = text.slice(i + 1, end - 1);
      else if (cellLines && pendingKey === 'source' && (depth === 2 || depth === 3)) {
        // A source line that ends with "\n" makes the next one start on a new JSON line.
        const line = lineAt(i);
        cellLines.push(line);
        if (depth === 2) pendingKey = null;
      }
      i = end - 1;
    } else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 2 && ch === '{') cellLines = [];
    } else if (ch === ']' || ch === '}') {
      if (depth === 3 && pendingKey === 'source') pendingKey = null;
      depth--;
      if (depth === 1 && ch === '}' && cellLines) {
        cells.push(cellLines);
        cellLines = null;
      }
      if (depth === 0) break;
    } else if (ch === ',' && depth === 2) pendingKey = null;
  }
  return cells;
}

/** Index just past the closing quote of the JSON string starting at `start`. */
function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function nextNonSpace(text: string, from: number): string {
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== ' ' && ch !== '\n' && ch !== '\r' && ch !== '\t') return ch;
  }
  return '';
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
