/**
 * The registry's state, folded from its events in file order (pure).
 *
 * Version numbers: a model's versions are numbered 1, 2, 3… in the order their register events
 * appear in the file. The number a writer proposed is not trusted: two writers registering at
 * once may both propose 3, and the line order (fixed once written, the file being append-only)
 * decides. A writer learns its number by reading the file back after appending. Alias moves and
 * approvals point at a version by its register event id, so they can never land on the wrong one.
 *
 * Aliases: per model. Each promotion pushes the version on the alias's stack; a rollback pops it,
 * so successive rollbacks walk back through the promotions (v3 → v2 → v1), never toggle.
 */
import { UserError } from '../errors';
import type { Actor } from './actor';
import type { AliasEvent, ApprovalRole, Check, RegisterEvent, RegistryEvent } from './events';

export interface Approval {
  id: string;
  at: string;
  by: string;
  /** `by` with the identities recorded beside it. */
  actor: Actor;
  role: ApprovalRole;
  note: string | null;
}

export interface ModelVersion {
  model: string;
  version: number;
  /** Id of the register event: the version's permanent identity. */
  id: string;
  registeredAt: string;
  registeredBy: string;
  registeredActor: Actor;
  run: string;
  file: RegisterEvent['file'];
  data: RegisterEvent['data'];
  metrics: Record<string, number>;
  group: string | null;
  runs: string[];
  note: string | null;
  approvals: Approval[];
  /** Aliases this version holds now. */
  aliases: string[];
}

export interface AliasMove {
  id: string;
  at: string;
  by: string;
  kind: AliasEvent['kind'];
  model: string;
  alias: string;
  version: number;
  /** The version that held the alias just before this move, by the file's order; null: none. */
  from: number | null;
  reason: string | null;
  checks: Check[];
  override: AliasEvent['override'];
  /** The generated service the move deployed the version to, when it did. */
  deployed: { service: string; role: 'champion' | 'challenger' } | null;
}

export interface AliasState {
  alias: string;
  model: string;
  version: number;
  /** When it got there, and by which move. */
  since: string;
  moveId: string;
  /** Versions promoted and not rolled back, oldest first; the last is `version`. */
  stack: number[];
}

export interface ModelState {
  name: string;
  versions: ModelVersion[];
  aliases: Record<string, AliasState>;
}

export interface RegistryState {
  models: Record<string, ModelState>;
  /** Every alias move, in file order. */
  moves: AliasMove[];
  /** Events that are valid on their own but point at nothing (skipped). */
  warnings: Array<{ event: string; message: string }>;
}

export function foldRegistry(events: readonly RegistryEvent[]): RegistryState {
  const models: Record<string, ModelState> = {};
  const byId = new Map<string, ModelVersion>();
  const moves: AliasMove[] = [];
  const warnings: RegistryState['warnings'] = [];
  for (const event of events) {
    if (event.type === 'register') {
      const model = (models[event.model] ??= { name: event.model, versions: [], aliases: {} });
      const version: ModelVersion = {
        model: event.model,
        version: model.versions.length + 1,
        id: event.id,
        registeredAt: event.at,
        registeredBy: event.by,
        registeredActor: actorOfEvent(event),
        run: event.run,
        file: event.file,
        data: event.data,
        metrics: event.metrics,
        group: event.group,
        runs: event.runs,
        note: event.note,
        approvals: [],
        aliases: [],
      };
      model.versions.push(version);
      byId.set(event.id, version);
      continue;
    }
    const target = byId.get(event.versionId);
    if (!target || target.model !== event.model) {
      warnings.push({ event: event.id, message: `${event.type} event points at version ${event.versionId} of ${event.model}, which is not registered; skipped` });
      continue;
    }
    if (event.type === 'approve') {
      target.approvals.push({ id: event.id, at: event.at, by: event.by, actor: actorOfEvent(event), role: event.role, note: event.note });
      continue;
    }
    const model = models[event.model]!;
    const current = model.aliases[event.alias];
    const stack = current ? current.stack.slice() : [];
    if (event.kind === 'rollback') {
      if (stack.at(-1) === current?.version) stack.pop();
      if (stack.at(-1) !== target.version) stack.push(target.version);
    } else if (stack.at(-1) !== target.version) {
      stack.push(target.version);
    }
    model.aliases[event.alias] = { alias: event.alias, model: event.model, version: target.version, since: event.at, moveId: event.id, stack };
    moves.push({
      id: event.id,
      at: event.at,
      by: event.by,
      kind: event.kind,
      model: event.model,
      alias: event.alias,
      version: target.version,
      from: current?.version ?? null,
      reason: event.reason,
      checks: event.checks,
      override: event.override,
      deployed: event.deployed ? { service: event.deployed.service, role: event.deployed.role } : null,
    });
  }
  for (const model of Object.values(models)) {
    for (const alias of Object.values(model.aliases)) model.versions[alias.version - 1]!.aliases.push(alias.alias);
    for (const version of model.versions) version.aliases.sort();
  }
  return { models, moves, warnings };
}

function actorOfEvent(event: RegistryEvent): Actor {
  return { by: event.by, osUser: event.actor?.osUser ?? null, host: event.actor?.host ?? null, gitEmail: event.actor?.gitEmail ?? null };
}

export function getModel(state: RegistryState, model: string): ModelState {
  const found = state.models[model];
  if (!found) {
    const known = Object.keys(state.models).sort();
    throw new UserError('model-not-found', `No model "${model}" in the registry${known.length ? ` (models: ${known.join(', ')})` : ' (register one with: nb2prod registry register MODEL RUN)'}.`);
  }
  return found;
}

/** A version by number, or `latest`, or an alias name of the model. */
export function getVersion(state: RegistryState, model: string, reference: string | number): ModelVersion {
  const m = getModel(state, model);
  const text = String(reference);
  if (text === 'latest') {
    const last = m.versions.at(-1);
    if (last) return last;
  }
  const alias = m.aliases[text];
  if (alias) return m.versions[alias.version - 1]!;
  const number = Number(text.replace(/^v/i, ''));
  const found = Number.isInteger(number) ? m.versions[number - 1] : undefined;
  if (!found) throw new UserError('version-not-found', `${model} has no version "${text}" (versions 1 to ${m.versions.length}${Object.keys(m.aliases).length ? `, aliases ${Object.keys(m.aliases).sort().join(', ')}` : ''}).`);
  return found;
}

/** The models that have this alias; with `model`, that model only (and it must have it). */
export function findAlias(state: RegistryState, alias: string, model?: string): AliasState {
  if (model !== undefined) {
    const found = getModel(state, model).aliases[alias];
    if (!found) throw new UserError('alias-not-found', `${model} has no alias "${alias}".`);
    return found;
  }
  const holders = Object.values(state.models).flatMap((m) => (m.aliases[alias] ? [m.aliases[alias]] : []));
  if (holders.length === 1) return holders[0]!;
  if (!holders.length) throw new UserError('alias-not-found', `No model has an alias "${alias}".`);
  throw new UserError('usage', `"${alias}" is an alias of ${holders.length} models (${holders.map((h) => h.model).join(', ')}): say which with --model.`);
}

/** The version a rollback of this alias goes back to: the one promoted before the current one. */
export function rollbackTarget(alias: AliasState): number | null {
  return alias.stack.length >= 2 ? alias.stack[alias.stack.length - 2]! : null;
}

/**
 * Which version held `alias` of `model` at `time`: the last move (in file order) made at or
 * before it; null when the alias did not exist yet.
 */
export function aliasAt(state: RegistryState, model: string, alias: string, time: Date): AliasMove | null {
  let held: AliasMove | null = null;
  for (const move of state.moves) {
    if (move.model === model && move.alias === alias && Date.parse(move.at) <= time.getTime()) held = move;
  }
  return held;
}
