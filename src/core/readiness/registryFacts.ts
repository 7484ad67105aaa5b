/**
 * The readiness checklist's view of the model registry: which version is champion, what it
 * would roll back to, whether a rollback was ever exercised, its approvals and the roles the
 * project requires. The registry is `.nb2prod/registry.jsonl`; without it there are no facts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadProjectConfig } from '../project/config';
import type { ModelState, ModelVersion } from '../registry/fold';
import { parseRegistryConfig } from '../registry/gates';
import { Registry } from '../registry/registry';
import { registryFilePath } from '../registry/registryFile';
import { RunStore } from '../store/runStore';
import type { RegistryFacts, RegistryFactsProvider, RegistryVersionRef } from './model';

const CHAMPION = 'champion';

/** Reads the registry of `storeRoot`. */
export const registryFactsProvider: RegistryFactsProvider = async ({ root, storeRoot }) => {
  if (!existsSync(registryFilePath(storeRoot))) return null;
  const registry = new Registry(new RunStore(storeRoot), root);
  const { state } = await registry.read();
  // The model whose champion moved last (projects usually have one model).
  const withChampion = Object.values(state.models).filter((m) => m.aliases[CHAMPION]);
  withChampion.sort((a, b) => a.aliases[CHAMPION]!.since.localeCompare(b.aliases[CHAMPION]!.since));
  const model: ModelState | undefined = withChampion.at(-1) ?? Object.values(state.models)[0];
  const project = loadProjectConfig(root);
  const config = project.file ? parseRegistryConfig(project.sections.registry, project.file) : null;
  const requiredRoles = config?.approvals.requiredRoles ?? [];
  if (!model) return { champion: null, previousChampion: null, rollbackDone: false, approvals: [], requiredRoles };
  const alias = model.aliases[CHAMPION];
  const champion = alias ? model.versions.find((v) => v.version === alias.version) ?? null : null;
  const previous = alias && alias.stack.length > 1 ? model.versions.find((v) => v.version === alias.stack[alias.stack.length - 2]) ?? null : null;
  const rollbacks = state.moves.filter((m) => m.model === model.name && m.alias === CHAMPION && m.kind === 'rollback');
  const deployedRollback = rollbacks.filter((m) => m.deployed).at(-1) ?? null;
  const card = champion ? registry.defaultCardPath(champion) : null;
  return {
    champion: champion ? ref(champion) : null,
    previousChampion: previous ? ref(previous) : null,
    rollbackDone: rollbacks.length > 0,
    lastRollbackAt: rollbacks.at(-1)?.at ?? null,
    deployedRollback: deployedRollback ? { service: deployedRollback.deployed!.service, at: deployedRollback.at, version: deployedRollback.version } : null,
    approvals: champion ? champion.approvals.map((a) => ({ role: a.role, by: a.by })) : [],
    requiredRoles,
    ...(card && existsSync(card) ? { modelCardPath: path.relative(root, card) } : {}),
  } satisfies RegistryFacts;
};

function ref(version: ModelVersion): RegistryVersionRef {
  return { model: version.model, version: version.version, runId: version.run, registeredBy: version.registeredBy };
}
