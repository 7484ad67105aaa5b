/**
 * `syntax-error`: a cell that is not valid Python (magics aside). It stops "Run All" at that
 * cell, so nothing below it reproduces.
 *
 * The interpreter decides (see pythonOracle.ts): a cell it compiles gets no finding even if
 * nb2prod's parser complained, and one it rejects gets a finding at the place and with the
 * message Python gives, as an error. Without an interpreter's verdict (none found, an
 * untrusted workspace, or not answered yet) nb2prod's parser's finding stands, as a warning
 * that says it was not confirmed. Python 2 code is one finding per notebook, not one per cell.
 */
import { cellNumber } from '../../notebook/cellLabel';
import { offsetAt } from '../positions';
import type { CellFacts, Span } from '../python/analyze';
import { listPlaces, python2Construct } from '../python/python2';
import type { SyntaxVerdict } from '../pythonOracle';
import type { Rule, RuleContext, Severity } from '../rule';

interface Problem {
  cell: number;
  span: Span;
  message: string;
  python2: string | undefined;
  severity: Severity;
}

export const syntaxError: Rule = {
  id: 'syntax-error',
  defaultSeverity: 'error',
  summary: 'A cell that is not valid Python 3.',
  help: 'Fix the code at the marked position; a cell that does not parse stops Run All there.',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model, target, python, report } = context;
    const what = target.kind === 'notebook' ? 'cell' : 'file';
    const problems: Problem[] = [];
    for (const { cell, facts } of model.codeCells()) {
      if (!facts.isPython) continue;
      const verdict = python?.syntax(facts.source);
      if (verdict?.ok) continue;
      if (verdict) problems.push(confirmed(cell, facts, verdict, `${python!.label} cannot compile this ${what}`));
      else {
        const first = facts.syntaxErrors.find((p) => p.python2) ?? facts.syntaxErrors[0];
        if (!first) continue;
        const why = python ? "found by nb2prod's parser; Python has not confirmed it yet" : "found by nb2prod's parser, not confirmed by Python";
        problems.push({ cell, span: first.span, message: `This ${what} does not parse: ${first.message.replace(/\.$/, '')} (${why}).`, python2: first.python2, severity: 'warning' });
      }
    }
    reportPython2(context, problems.filter((p) => p.python2));
    for (const problem of problems) if (!problem.python2) report(problem);
  },
};

function confirmed(cell: number, facts: CellFacts, verdict: Extract<SyntaxVerdict, { ok: false }>, prefix: string): Problem {
  const source = facts.source;
  let from: number;
  let to: number;
  if (verdict.line < 0) {
    // No line: a null byte (or the like) somewhere in the cell.
    const nul = source.indexOf('\0');
    from = nul >= 0 ? nul : 0;
    to = Math.min(source.length, from + 1);
  } else {
    from = offsetAt(source, { line: verdict.line, character: verdict.column });
    to = verdict.endLine >= 0 ? offsetAt(source, { line: verdict.endLine, character: verdict.endColumn }) : from;
    // "unexpected indent" points into the indentation: start at the code.
    while ((source[from] === ' ' || source[from] === '\t') && to <= from + 1) {
      from++;
      to = Math.max(to, from);
    }
    if (to <= from) {
      // Python named a point: underline the token there, or the character before the line's end.
      const token = /^[()[\]{}'"]|^[^\s()[\]{}'"]+/.exec(source.slice(from))?.[0];
      if (token) to = from + Math.min(token.length, 40);
      else if (from > 0 && (from >= source.length || source[from] === '\n')) {
        to = from;
        from = from - 1;
      } else to = Math.min(source.length, from + 1);
    }
  }
  const lineStart = source.lastIndexOf('\n', from - 1) + 1;
  const lineEnd = source.indexOf('\n', from);
  const line = source.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const construct = python2Construct(line, from - lineStart, verdict.message) ?? facts.syntaxErrors.find((p) => p.python2)?.python2;
  const message = `${prefix}: ${verdict.message.replace(/\.$/, '')}${verdict.error === 'IndentationError' || verdict.error === 'TabError' ? ` (${verdict.error})` : ''}.`;
  return { cell, span: { from, to }, message, python2: construct, severity: 'error' };
}

/** All Python 2 code of the notebook as one finding, at its first place. */
function reportPython2({ target, model, report }: RuleContext, problems: Problem[]): void {
  const first = problems[0];
  if (!first) return;
  // nb2prod's parser sees every Python 2 line of a cell; the interpreter stops at the first.
  const constructs = new Set<string>();
  const offsets: Array<{ cell: number; offset: number }> = [];
  for (const problem of problems) {
    constructs.add(problem.python2!);
    offsets.push({ cell: problem.cell, offset: problem.span.from });
    for (const other of model.cells[problem.cell]?.facts?.syntaxErrors ?? []) {
      if (!other.python2) continue;
      constructs.add(other.python2);
      offsets.push({ cell: problem.cell, offset: other.span.from });
    }
  }
  let places: string;
  if (target.kind === 'notebook') {
    places = listPlaces('cell', [...new Set(problems.map((p) => cellNumber(p.cell)))]);
  } else {
    const source = model.cells[first.cell]!.cell.source;
    places = listPlaces('line', [...new Set(offsets.map((o) => source.slice(0, o.offset).split('\n').length))].sort((a, b) => a - b));
  }
  const single = target.kind === 'notebook' ? problems.length === 1 : places.startsWith('line ');
  const certain = problems.some((p) => p.severity === 'error');
  report({
    cell: first.cell,
    span: first.span,
    message: `Python 2 code: ${places} ${single ? 'uses' : 'use'} Python 2 syntax (${[...constructs].join(', ')}): port it to Python 3 (\`2to3\` does most of it)${certain ? '' : " (found by nb2prod's parser; not confirmed by Python)"}.`,
    severity: certain ? 'error' : 'warning',
  });
}
