/**
 * The lint regression corpus (test/fixtures/lint-regressions, format in its README): minimal
 * reproductions of false positives and misses seen on real notebooks, and a planted-hazard set.
 * Each case lists the rules it checks; every finding of those rules must be expected on its
 * line and every expectation found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { positionAt } from '../../../src/core/lint/positions';
import type { DataVersioning, StaticProjectFacts } from '../../../src/core/lint/project';
import { PythonOracle, type PythonKnowledge } from '../../../src/core/lint/pythonOracle';
import { isRuleId } from '../../../src/core/lint/rule';
import { ALL_RULES } from '../../../src/core/lint/rules';
import { type CellSpec, lintNotebook, lintScript } from './lintHelpers';

const CORPUS = path.resolve(__dirname, '../../fixtures/lint-regressions');

interface Case {
  file: string;
  description: string;
  rules: string[];
  project: Partial<StaticProjectFacts>;
  /** Null for a script. */
  cells: CellSpec[] | null;
  script: string;
  /** `cell:line rule` (cell 0 for a script; line 0-based within the cell). */
  expected: string[];
  /** Lint with the interpreter's verdicts (`# python: yes`). */
  python: boolean;
}

function listCases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listCases(full);
    return entry.name.endsWith('.py') ? [full] : [];
  });
}

const HEADER = /^#\s*(case|rules|project|file|python):\s*(.*)$/;
/** A line of the project file named by the `# file:` header above it. */
const FILE_LINE = /^#> ?(.*)$/;
const CELL = /^#\s*%%(.*)$/;
const EXPECT = /#\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)\s*$/;

function parseProject(spec: string): Partial<StaticProjectFacts> {
  const facts: Partial<StaticProjectFacts> = {};
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [key, value = ''] = part.split('=', 2).map((s) => s.trim()) as [string, string?];
    const list = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (key === 'local') facts.localModules = list;
    else if (key === 'requirements') facts.requirements = { files: ['requirements.txt'], names: new Set(list.map((n) => n.toLowerCase())) };
    else if (key === 'versioning') facts.defaultVersioning = value as DataVersioning;
    else if (key === 'installed') facts.installed = Object.fromEntries(list.map((p) => p.split('==') as [string, string]));
    else throw new Error(`unknown project key ${key}`);
  }
  return facts;
}

function parseCase(file: string): Case {
  const lines = readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
  const result: Case = { file, description: '', rules: [], project: {}, cells: null, script: '', expected: [], python: false };
  const files: Record<string, string[]> = {};
  let currentFile: string[] | null = null;
  let i = 0;
  for (; i < lines.length; i++) {
    const fileLine = FILE_LINE.exec(lines[i]!);
    if (fileLine && currentFile) {
      currentFile.push(fileLine[1]!);
      continue;
    }
    const header = HEADER.exec(lines[i]!);
    if (!header) break;
    if (header[1] === 'case') result.description = header[2]!.trim();
    else if (header[1] === 'rules') result.rules = header[2]!.split(',').map((r) => r.trim()).filter(Boolean);
    else if (header[1] === 'file') files[header[2]!.trim()] = currentFile = [];
    else if (header[1] === 'python') result.python = header[2]!.trim() === 'yes';
    else result.project = { ...result.project, ...parseProject(header[2]!) };
  }
  if (Object.keys(files).length) result.project.files = Object.fromEntries(Object.entries(files).map(([name, text]) => [name, text.join('\n') + '\n']));
  const body = lines.slice(i);
  const expectations = (cell: number, source: string[]): void => {
    source.forEach((line, n) => {
      const match = EXPECT.exec(line);
      if (match) for (const rule of match[1]!.split(',')) result.expected.push(`${cell}:${n} ${rule.trim()}`);
    });
  };
  if (!body.some((line) => CELL.test(line))) {
    result.script = body.join('\n') + '\n';
    expectations(0, body);
    return result;
  }
  const cells: CellSpec[] = [];
  let current: { spec: string; lines: string[] } | null = null;
  const flush = (): void => {
    if (!current) return;
    const markdown = /\[markdown\]/.test(current.spec);
    const count = /\[count=(\d+)\]/.exec(current.spec);
    const source = markdown ? current.lines.map((l) => l.replace(/^# ?/, '')) : current.lines;
    if (!markdown) expectations(cells.length, source);
    cells.push({ source: source.join('\n'), kind: markdown ? 'markdown' : 'code', count: count ? Number(count[1]) : null });
  };
  for (const line of body) {
    const marker = CELL.exec(line);
    if (marker) {
      flush();
      current = { spec: marker[1]!, lines: [] };
    } else if (current) current.lines.push(line);
    else if (line.trim()) throw new Error(`${file}: code before the first "# %%"`);
  }
  flush();
  result.cells = cells;
  return result;
}

const cases = listCases(CORPUS).sort().map(parseCase);
/** The interpreter for `# python: yes` cases: $NB2PROD_TEST_PYTHON, else python3 on the PATH. */
const oracle = new PythonOracle({ python: process.env.NB2PROD_TEST_PYTHON ?? 'python3', pythonDir: path.resolve(__dirname, '../../../src/core/capture/python'), importModules: false });
afterAll(() => oracle.dispose());
/** Planted hazards found / planted, per rule. */
const recall = new Map<string, { found: number; planted: number }>();

describe('lint regression corpus', () => {
  it('has cases, each with a description and known rules', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      expect(c.description, c.file).not.toBe('');
      expect(c.rules.length, c.file).toBeGreaterThan(0);
      for (const rule of c.rules) expect(isRuleId(rule), `${c.file}: unknown rule ${rule}`).toBe(true);
    }
  });

  for (const c of cases) {
    it(`${path.relative(CORPUS, c.file)}: ${c.description}`, async () => {
      const rules = ALL_RULES.filter((r) => c.rules.includes(r.id));
      let python: PythonKnowledge | null = null;
      if (c.python) {
        await oracle.ensure(c.cells ? c.cells.filter((cell) => (cell.kind ?? 'code') === 'code').map((cell) => cell.source) : [c.script]);
        python = oracle.knowledge();
        expect(python, `no interpreter for a "# python: yes" case: ${oracle.unavailable}`).not.toBeNull();
      }
      const options = { project: c.project, python };
      const result = c.cells ? lintNotebook(rules, c.cells, options) : lintScript(rules, c.script, options);
      const actual = result.findings.map((f) => `${f.cell}:${positionAt(result.model.cells[f.cell]!.cell.source, f.span.from).line} ${f.rule}`);
      const messages = result.findings.map((f, i) => `${actual[i]}: ${f.message}`).join('\n');
      if (c.file.includes(`${path.sep}hazards${path.sep}`)) {
        for (const expectation of c.expected) {
          const rule = expectation.split(' ')[1]!;
          const entry = recall.get(rule) ?? { found: 0, planted: 0 };
          entry.planted++;
          if (actual.includes(expectation)) entry.found++;
          recall.set(rule, entry);
        }
      }
      expect([...new Set(actual)].sort(), messages).toEqual([...new Set(c.expected)].sort());
    });
  }

  afterAll(() => {
    if (!recall.size) return;
    const lines = [...recall].sort().map(([rule, r]) => `  ${rule}: ${r.found}/${r.planted}`);
    console.log(`planted-hazard recall:\n${lines.join('\n')}`);
  });
});
