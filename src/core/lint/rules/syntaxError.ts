/**
 * `syntax-error`: a cell that does not parse as Python (magics aside). It stops "Run All" at
 * that cell, so nothing below it reproduces.
 */
import type { Rule } from '../rule';

export const syntaxError: Rule = {
  id: 'syntax-error',
  defaultSeverity: 'error',
  summary: 'A cell that is not valid Python 3.',
  help: 'Fix the code at the marked position; a cell that does not parse stops Run All there.',
  appliesTo: ['notebook', 'script'],
  check({ model, target, report }) {
    for (const { cell, facts } of model.codeCells()) {
      for (const problem of facts.syntaxErrors) {
        const where = target.kind === 'notebook' ? 'This cell does not parse' : 'This file does not parse';
        report({ cell, span: problem.span, message: `${where}: ${problem.message}` });
      }
    }
  },
};
