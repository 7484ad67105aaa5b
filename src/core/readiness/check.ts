/**
 * `checkReadiness`: gathers the facts of a project, runs every checklist item and answers the
 * three questions — automated monitoring for drift and degradation, rollback within minutes, an
 * audit trail of every prediction. Any answer other than yes means not production-ready.
 */
import { fixActions } from './actions';
import { type GatherOptions, gatherFacts, type ReadinessFacts } from './facts';
import { ITEMS } from './items';
import { type Answer, type ItemId, type ItemStatus, READINESS_SCHEMA, type ReadinessItem, type ReadinessQuestion, type ReadinessReport, type QuestionId } from './model';

export type CheckOptions = GatherOptions;

export async function checkReadiness(options: CheckOptions): Promise<ReadinessReport> {
  return evaluate(await gatherFacts(options));
}

/** Runs the items over facts already gathered (tests build facts by hand through gatherFacts). */
export async function evaluate(facts: ReadinessFacts): Promise<ReadinessReport> {
  const items: ReadinessItem[] = [];
  for (const item of ITEMS) {
    const result: ReadinessItem = { id: item.id, title: item.title, ...(await item.check(facts)) };
    items.push({ ...result, actions: fixActions(result, facts) });
  }
  const questions = QUESTIONS.map((q) => answer(q, items));
  const counts: Record<ItemStatus, number> = { pass: 0, fail: 0, unknown: 0 };
  for (const item of items) counts[item.status]++;
  return { schema: READINESS_SCHEMA, root: facts.root, productionReady: counts.pass === items.length, questions, items, counts };
}

interface QuestionDefinition {
  id: QuestionId;
  question: string;
  items: ItemId[];
  yes: string;
  no: string;
}

const QUESTIONS: QuestionDefinition[] = [
  {
    id: 'monitoring',
    question: 'Is there automated monitoring for drift and degradation?',
    items: ['drift-monitoring'],
    yes: 'drift and metric alerts are configured with thresholds and run on a schedule',
    no: 'drift and degradation would go unnoticed',
  },
  {
    id: 'rollback',
    question: 'Can the model be rolled back within minutes?',
    items: ['rollback-candidate', 'rollback-tested'],
    yes: 'an earlier version is ready in the registry and a rollback has been rehearsed',
    no: 'there is no rehearsed way back to a known-good version',
  },
  {
    id: 'audit-trail',
    question: 'Is there an audit trail for every prediction?',
    items: ['prediction-audit'],
    yes: 'the service logs every prediction',
    no: 'predictions are not logged',
  },
];

function answer(definition: QuestionDefinition, items: ReadinessItem[]): ReadinessQuestion {
  const related = definition.items.map((id) => items.find((i) => i.id === id)!);
  const failed = related.filter((i) => i.status === 'fail');
  const unsure = related.filter((i) => i.status === 'unknown');
  const result: Answer = failed.length ? 'no' : unsure.length ? 'unknown' : 'yes';
  const titles = (list: ReadinessItem[]) => list.map((i) => `"${i.title}"`).join(' and ');
  const because =
    result === 'yes'
      ? `Yes: ${definition.yes}.`
      : result === 'no'
        ? `No: ${definition.no} (${titles(failed)} ${failed.length > 1 ? 'fail' : 'fails'}).`
        : `Unknown: ${titles(unsure)} could not be checked.`;
  return { id: definition.id, question: definition.question, answer: result, because, items: definition.items };
}
