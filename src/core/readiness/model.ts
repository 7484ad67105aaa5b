/**
 * The production-readiness checklist: its items, their evidence and the three questions.
 * Plain data, so the CLI (text, JSON, Markdown) and a future editor panel render the same report.
 * Each item's rule is documented in docs/readiness.md.
 */

import type { FixAction } from './actions';

export const READINESS_SCHEMA = 'nb2prod.readiness/1';

export type ItemStatus = 'pass' | 'fail' | 'unknown';

/** Every item, in the order the checklist lists them. */
export const ITEM_IDS = [
  'seeds',
  'data-versioned',
  'environment-locked',
  'replay',
  'repeated-runs',
  'frozen-eval-set',
  'input-contract',
  'drift-monitoring',
  'rollback-candidate',
  'rollback-tested',
  'prediction-audit',
  'kill-switch',
  'human-review',
  'owner',
  'model-card',
  'approvals',
] as const;
export type ItemId = (typeof ITEM_IDS)[number];

/**
 * Where an item's evidence is: a run in the store, a file of the project (path relative to the
 * checked folder, forward slashes), an entry of the model registry, or a configuration key.
 */
export type EvidenceRef =
  | { kind: 'run'; id: string; label: string }
  | { kind: 'file'; path: string; line?: number; label: string }
  | { kind: 'registry'; id: string; label: string }
  | { kind: 'config'; path: string; key: string; label: string };

export interface ReadinessItem {
  id: ItemId;
  title: string;
  status: ItemStatus;
  /** What was found, in one or two sentences. */
  summary: string;
  evidence: EvidenceRef[];
  /** What to do to make the item pass; null when it passes. */
  fix: string | null;
  /** Buttons that run the fix or open the place to make it (readiness/actions.ts); none when it passes. */
  actions?: FixAction[];
}

export type QuestionId = 'monitoring' | 'rollback' | 'audit-trail';
export type Answer = 'yes' | 'no' | 'unknown';

export interface ReadinessQuestion {
  id: QuestionId;
  question: string;
  answer: Answer;
  /** The answer in plain words, naming the items it rests on. */
  because: string;
  /** The items the answer derives from: yes when all pass, no when one fails, else unknown. */
  items: ItemId[];
}

export interface ReadinessReport {
  schema: typeof READINESS_SCHEMA;
  /** Absolute path of the checked project folder. */
  root: string;
  /** True only when every item passes (and so every question is answered yes). */
  productionReady: boolean;
  questions: ReadinessQuestion[];
  items: ReadinessItem[];
  counts: Record<ItemStatus, number>;
}

/**
 * What the checklist needs from the model registry (src/core/registry, written separately):
 * the current champion, the version a rollback would go back to, whether a rollback has been
 * done (the alias history moved the champion back to an earlier version at least once), the
 * approvals of the champion and the roles required, and the model card it points to.
 */
export interface RegistryFacts {
  /** The version the `champion` alias points to; null when nothing is promoted. */
  champion: RegistryVersionRef | null;
  /** The version the champion alias pointed to before its last move; null when none. */
  previousChampion: RegistryVersionRef | null;
  /** The champion alias was ever moved back to an earlier version (a rollback was exercised). */
  rollbackDone: boolean;
  /** When the latest rollback happened (ISO time), when known. */
  lastRollbackAt?: string | null;
  /**
   * The latest rollback of the champion that also deployed its version to a generated service
   * (`rollback --deploy`, the Monitor panel's Roll Back): the service folder and when.
   */
  deployedRollback?: { service: string; at: string; version: number | string } | null;
  /** Approvals of the champion version. */
  approvals: Array<{ role: string; by: string }>;
  /** Roles that must approve before a version may be champion (e.g. developer, validator). */
  requiredRoles: string[];
  /** The champion's model card, relative to the project folder, when registered. */
  modelCardPath?: string;
}

export interface RegistryVersionRef {
  model: string;
  version: number | string;
  /** The run that produced the version. */
  runId: string | null;
  registeredBy: string;
}

/** Reads the registry of the project at `root` (with its store at `storeRoot`); null when there is none. */
export type RegistryFactsProvider = (context: { root: string; storeRoot: string }) => Promise<RegistryFacts | null>;

/**
 * The manifest a generated prediction service writes (default `service/nb2prod-service.json`):
 * what the checklist needs to know about the service without reading its code.
 *
 *   { "schema": "nb2prod.service/1", "auditLog": true, "killSwitch": true,
 *     "fallback": "rule: predict no churn (the majority class)" }
 */
export interface ServiceManifest {
  /** Every prediction is logged with its inputs, model version and time. */
  auditLog: boolean;
  /** Where the audit log goes, for the evidence (optional). */
  auditLogPath?: string;
  /** Predictions can be switched off without a deploy. */
  killSwitch: boolean;
  /** What answers while the model is switched off or failing; null or absent when nothing does. */
  fallback?: string | null;
}
