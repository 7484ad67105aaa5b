/**
 * Deploying registry versions into a generated service: `service/deployment.json` names the
 * champion the service serves (when it is not the model its service/config.json was generated
 * with) and the challenger beside it, each copied from the store's objects/ into SERVICE/model/ROLE/
 * and named with its sha256, which the service checks at start (templates: service/settings.py
 * `load_deployment`, service/model.py).
 *
 * One shape for both roles, so a promotion, a rollback and `registry deploy` all put a version in
 * a service the same way: the version must take the service's input contract (its source run read
 * a training table with the same columns and kinds as the one the service was generated from) and
 * its bytes are re-hashed as they are copied. Pure parts (the contract comparison, the file's
 * merge) are exported for tests; the copy is prepared next to its place and renamed in `commit`,
 * so a caller holding the registry lock can refuse before recording anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { writeFileAtomic } from '../store/atomicFile';
import type { ModelVersion } from './fold';

export const DEPLOYMENT_SCHEMA = 'nb2prod.deployment/1';
export const DEPLOYMENT_FILE = path.join('service', 'deployment.json');
export type DeploymentRole = 'champion' | 'challenger';
export const DEPLOYMENT_ROLES: readonly DeploymentRole[] = ['champion', 'challenger'];
/** Entries kept in deployment.json's `history` (what the service served before, for the monitor). */
const HISTORY_LIMIT = 50;

/** One deployed model, as deployment.json holds it (paths relative to the service folder). */
export interface DeployedModel {
  path: string;
  sha256: string;
  name: string;
  version: number;
  format: 'joblib' | 'pickle';
  registered: true;
  /** The registry alias it was deployed as (champion, challenger). */
  alias: string;
  /** The version's source run and its metrics (the monitor's baseline for a champion). */
  run: string;
  metrics: Record<string, number>;
  deployed_at: string;
  by: string;
  /** Challenger only. */
  mode?: 'shadow' | 'canary';
  percent?: number;
  key?: string;
}

export interface HistoryEntry {
  role: DeploymentRole;
  name: string;
  version: number | string | null;
  sha256: string;
  /** `config`: the model service/config.json names (what the project was generated with). */
  source: 'deployment' | 'config';
  replaced_at: string;
}

export interface DeploymentFile {
  schema: string;
  champion?: DeployedModel | null;
  challenger: DeployedModel | null;
  history?: HistoryEntry[];
  deployed_at: string;
  by: string;
}

/** A generated service as a deployment sees it: its configuration and the contract it serves. */
export interface ServiceContract {
  root: string;
  /** service/config.json's model: what the service serves without a deployed champion. */
  configModel: { name: string; version: number | string | null; sha256: string };
  /** Every column of the training table the service was generated from, with its kind. */
  columns: Array<{ name: string; kind: string }>;
  /** The training table's path as the generating run read it (contracts/profile.json `source`). */
  source: string | null;
  target: string | null;
  /** The fitted steps the served file composes before the model, and the run's raw model file. */
  components: string[];
  runModel: { path: string; sha256: string } | null;
  /** What service/deployment.json may name that this service's code loads. */
  deployments: DeploymentRole[];
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError('invalid-service', `${file} (${what}) is not valid JSON: ${(error as Error).message}`);
  }
}

const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** The kind a column is compared by: categorical and text are both strings (the profile tells them apart by how many values it saw). */
function kindOf(type: unknown): string {
  return type === 'categorical' || type === 'text' ? 'string' : String(type ?? 'unknown');
}

/** Reads the service at `serviceDir` (the folder holding service/config.json). */
export async function readServiceContract(serviceDir: string): Promise<ServiceContract> {
  const config = await readJson(path.join(serviceDir, 'service', 'config.json'), 'the service configuration');
  if (config === undefined) throw new UserError('usage', `${serviceDir} is not a generated service (no service/config.json).`);
  const c = record(config);
  const model = record(c.model);
  const profile = record(await readJson(path.join(serviceDir, 'contracts', 'profile.json'), 'the training profile'));
  const profileColumns = Array.isArray(profile.columns) ? profile.columns.map(record) : [];
  const frame = Array.isArray(c.frame_columns) ? c.frame_columns.map(String) : [];
  const kinds = new Map(profileColumns.map((col) => [String(col.name), kindOf(col.type)]));
  const names = frame.length ? frame : [...kinds.keys()];
  const marker = record(await readJson(path.join(serviceDir, 'service', 'nb2prod-service.json'), 'the service marker'));
  const deployments = Array.isArray(marker.deployments) ? marker.deployments.filter((d): d is DeploymentRole => DEPLOYMENT_ROLES.includes(d as DeploymentRole)) : ['challenger' as const];
  const runModel = record(model.run_model);
  return {
    root: serviceDir,
    configModel: { name: String(model.name ?? c.name ?? ''), version: (model.version as number | string | null | undefined) ?? null, sha256: String(model.sha256 ?? '') },
    columns: names.map((name) => ({ name, kind: kinds.get(name) ?? 'unknown' })),
    source: typeof profile.source === 'string' ? profile.source : null,
    target: typeof c.target === 'string' ? c.target : null,
    components: Array.isArray(model.components) ? model.components.map((x) => String(record(x).name ?? record(x).type ?? '?')) : [],
    runModel: typeof runModel.sha256 === 'string' ? { path: String(runModel.path ?? ''), sha256: runModel.sha256 } : null,
    deployments,
  };
}

/** service/deployment.json of a service, or null when there is none. */
export async function readDeploymentFile(serviceDir: string): Promise<DeploymentFile | null> {
  const data = await readJson(path.join(serviceDir, DEPLOYMENT_FILE), 'the deployment');
  if (data === undefined) return null;
  const d = record(data);
  const entry = (value: unknown): DeployedModel | null => {
    const e = record(value);
    return typeof e.sha256 === 'string' && typeof e.path === 'string' ? (e as unknown as DeployedModel) : null;
  };
  return {
    schema: String(d.schema ?? DEPLOYMENT_SCHEMA),
    champion: entry(d.champion),
    challenger: entry(d.challenger),
    history: Array.isArray(d.history) ? (d.history.map(record).filter((h) => typeof h.sha256 === 'string') as unknown as HistoryEntry[]) : [],
    deployed_at: String(d.deployed_at ?? ''),
    by: String(d.by ?? ''),
  };
}

/** The model a service serves from its next start: deployment.json's champion, else config.json's. */
export interface ServedModel {
  name: string;
  version: number | string | null;
  sha256: string;
  source: 'deployment' | 'config';
  alias: string | null;
  deployedAt: string | null;
  /** The source run's metrics of a deployed champion (null: config.json's run_metrics apply). */
  metrics: Record<string, number> | null;
}

export function servedModel(contract: Pick<ServiceContract, 'configModel'>, deployment: DeploymentFile | null): ServedModel {
  const champion = deployment?.champion;
  if (champion) {
    return { name: champion.name, version: champion.version, sha256: champion.sha256, source: 'deployment', alias: champion.alias ?? null, deployedAt: champion.deployed_at ?? null, metrics: champion.metrics ?? null };
  }
  return { ...contract.configModel, source: 'config', alias: null, deployedAt: null, metrics: null };
}

export interface ContractDifference {
  /** The table of the version's run compared (null: none could be found). */
  table: string | null;
  missing: string[];
  extra: string[];
  retyped: Array<{ name: string; service: string; version: string }>;
}

/**
 * How the training table the version's source run read differs from the one the service was
 * generated from (null: the same columns, of the same kinds). The table is the run's profiled
 * input at the service's source path, else of the same file name, else its only profiled input,
 * else the one sharing the most columns.
 */
export function contractDifference(service: Pick<ServiceContract, 'columns' | 'source'>, run: Pick<RunEnvelope, 'inputs'>): ContractDifference | null {
  const profiled = run.inputs.filter((i) => i.profile);
  const wanted = new Set(service.columns.map((c) => c.name));
  const overlap = (i: (typeof profiled)[number]) => i.profile!.columns.filter((c) => wanted.has(c.name)).length;
  const table =
    profiled.find((i) => i.path === service.source) ??
    (service.source ? profiled.find((i) => path.posix.basename(i.path) === path.posix.basename(service.source!)) : undefined) ??
    (profiled.length === 1 ? profiled[0] : [...profiled].sort((a, b) => overlap(b) - overlap(a))[0]);
  if (!table) return { table: null, missing: service.columns.map((c) => c.name), extra: [], retyped: [] };
  const theirs = new Map(table.profile!.columns.map((c) => [c.name, kindOf(c.type)]));
  const missing = service.columns.filter((c) => !theirs.has(c.name)).map((c) => c.name);
  const extra = [...theirs.keys()].filter((name) => !wanted.has(name));
  const retyped = service.columns.flatMap((c) => {
    const kind = theirs.get(c.name);
    return kind !== undefined && c.kind !== 'unknown' && kind !== 'unknown' && kind !== c.kind ? [{ name: c.name, service: c.kind, version: kind }] : [];
  });
  return missing.length || extra.length || retyped.length ? { table: table.path, missing, extra, retyped } : null;
}

/** One sentence naming the differing columns. */
export function describeDifference(label: string, service: string, difference: ContractDifference): string {
  if (difference.table === null) return `${label} cannot be deployed to ${service}: its source run profiled no training table, so whether it takes the service's input (${difference.missing.length} columns) cannot be checked. A version must come from a tracked run of the notebook (or pipeline) the service was generated from.`;
  const parts = [
    ...(difference.missing.length ? [`missing ${difference.missing.join(', ')}`] : []),
    ...(difference.extra.length ? [`not in the service's contract: ${difference.extra.join(', ')}`] : []),
    ...difference.retyped.map((r) => `${r.name} is ${r.version} in its run, ${r.service} in the service`),
  ];
  return `${label} does not take ${service}'s input contract: the training table its run read (${difference.table}) differs in its columns (${parts.join('; ')}). A version trained on another shape of data needs its own service: generate one from its run (nb2prod scaffold).`;
}

/**
 * The checks a version passes before it is deployed to a service in a role: the service's code
 * loads that role, the version takes its input contract, and (when the service composes fitted
 * steps before the model) it is not the notebook's bare model file.
 */
export function deploymentProblem(contract: ServiceContract, version: ModelVersion, run: Pick<RunEnvelope, 'inputs'> | null, role: DeploymentRole, shown: string): string | null {
  const label = `${version.model} v${version.version}`;
  if (!contract.deployments.includes(role)) {
    return `${shown} was generated by an nb2prod whose service does not load a deployed ${role} (service/nb2prod-service.json lists ${contract.deployments.join(', ') || 'none'}): regenerate it with nb2prod scaffold, then deploy again.`;
  }
  if (contract.components.length && contract.runModel && version.file.sha256 === contract.runModel.sha256) {
    return `${label} is the notebook's bare model file (${version.file.path}); ${shown} serves it composed with the fitted steps before it (${contract.components.join(', ')}), so it would get features those steps never transformed. Register the composed model the generated pipeline writes (make train, then python -m pipeline.register), or the service's own model/ file.`;
  }
  if (run === null) return `${label} cannot be deployed to ${shown}: its source run ${version.run} is not in the store, so whether it takes the service's input contract cannot be checked.`;
  const difference = contractDifference(contract, run);
  return difference ? describeDifference(label, shown, difference) : null;
}

/** The entry of a version deployed in a role (paths relative to the service folder). */
export function deployedEntry(version: ModelVersion, role: DeploymentRole, alias: string, by: string, at: string, challenger?: { mode: 'shadow' | 'canary'; percent: number; key: string }): DeployedModel {
  const ext = path.extname(version.file.path) || '.joblib';
  return {
    path: `model/${role}/${version.model}-v${version.version}${ext}`,
    sha256: version.file.sha256,
    name: version.model,
    version: version.version,
    format: ['.pkl', '.pickle'].includes(ext.toLowerCase()) ? 'pickle' : 'joblib',
    registered: true,
    alias,
    run: version.run,
    metrics: version.metrics,
    deployed_at: at,
    by,
    ...(role === 'challenger' && challenger ? { mode: challenger.mode, percent: challenger.mode === 'canary' ? challenger.percent : 0, key: challenger.key } : {}),
  };
}

/**
 * deployment.json after putting `entry` in `role` (null: removing it): what it replaces goes to
 * the history, and a challenger that is now the champion is removed (it would shadow itself).
 */
export function mergeDeployment(previous: DeploymentFile | null, contract: Pick<ServiceContract, 'configModel'>, role: DeploymentRole, entry: DeployedModel | null, by: string, at: string): { file: DeploymentFile; clearedChallenger: boolean } {
  const history = [...(previous?.history ?? [])];
  const replaced = previous?.[role] ?? null;
  if (replaced && replaced.sha256 !== entry?.sha256) history.push({ role, name: replaced.name, version: replaced.version, sha256: replaced.sha256, source: 'deployment', replaced_at: at });
  if (role === 'champion' && !replaced && entry && entry.sha256 !== contract.configModel.sha256) {
    history.push({ role, name: contract.configModel.name, version: contract.configModel.version, sha256: contract.configModel.sha256, source: 'config', replaced_at: at });
  }
  let challenger = role === 'challenger' ? entry : previous?.challenger ?? null;
  const champion = role === 'champion' ? entry : previous?.champion ?? null;
  const championSha = champion?.sha256 ?? contract.configModel.sha256;
  const clearedChallenger = role === 'champion' && challenger !== null && challenger.sha256 === championSha;
  if (clearedChallenger) challenger = null;
  const file: DeploymentFile = {
    schema: DEPLOYMENT_SCHEMA,
    ...(champion ? { champion } : {}),
    challenger,
    history: history.slice(-HISTORY_LIMIT),
    deployed_at: at,
    by,
  };
  return { file, clearedChallenger };
}

/** What a prepared deployment does when committed. */
export interface PreparedDeployment {
  role: DeploymentRole;
  entry: DeployedModel;
  /** Absolute path of the model file in the service. */
  file: string;
  /** Renames the copy into place and writes deployment.json; says whether a challenger was removed. */
  commit(): Promise<{ deployment: DeploymentFile; clearedChallenger: boolean }>;
  discard(): Promise<void>;
}

/**
 * Copies the store's object of `version` next to its place in the service under a temporary name,
 * hashing as it copies (a copy that does not have the registered sha256 is removed and refused,
 * nothing in the service touched). `commit` renames it into place and writes deployment.json.
 */
export async function prepareDeployment(options: { contract: ServiceContract; version: ModelVersion; object: string; entry: DeployedModel; role: DeploymentRole; by: string; at: string }): Promise<PreparedDeployment> {
  const { contract, version, object, entry, role } = options;
  await readDeploymentFile(contract.root); // an unreadable deployment.json refuses before anything is copied
  const file = path.join(contract.root, entry.path);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(object), async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    }, createWriteStream(temp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    if (sha256 !== version.file.sha256) {
      throw new UserError('object-corrupt', `The store's copy of ${version.model} v${version.version} (${object}) has sha256 ${sha256}, not the registered ${version.file.sha256}: not deployed, ${path.basename(contract.root)} left as it was.`);
    }
    const handle = await fs.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fs.rm(temp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !(error instanceof UserError)) {
      throw new UserError('model-file-not-found', `The store's copy of ${version.model} v${version.version} is missing (${object}): it cannot be deployed.`);
    }
    throw error;
  }
  return {
    role,
    entry,
    file,
    commit: async () => {
      try {
        await fs.rename(temp, file);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw error;
      }
      const merged = mergeDeployment(await readDeploymentFile(contract.root), contract, role, entry, options.by, options.at);
      await writeFileAtomic(path.join(contract.root, DEPLOYMENT_FILE), JSON.stringify(merged.file, null, 2) + '\n');
      return { deployment: merged.file, clearedChallenger: merged.clearedChallenger };
    },
    discard: () => fs.rm(temp, { force: true }),
  };
}

/** Removes the deployed model of `role` (the champion: back to config.json's model at the next start). */
export async function clearDeployment(contract: ServiceContract, role: DeploymentRole, by: string, at: string): Promise<DeploymentFile> {
  const { file } = mergeDeployment(await readDeploymentFile(contract.root), contract, role, null, by, at);
  await writeFileAtomic(path.join(contract.root, DEPLOYMENT_FILE), JSON.stringify(file, null, 2) + '\n');
  return file;
}

/** A generated service as the editor lists it: the model it serves (deployed or generated) and its challenger. */
export interface ServiceIdentity {
  root: string;
  name: string;
  /** The registry model name it serves. */
  model: string;
  /** The version it serves from its next start (a deployed champion's, else config.json's). */
  version: string | null;
  challenger: string | null;
  /** The roles service/deployment.json may fill for this service's code. */
  deployments: DeploymentRole[];
}

/** The identity of the service at `root`, or null when it is not a generated service (or unreadable). */
export async function serviceIdentity(root: string): Promise<ServiceIdentity | null> {
  try {
    const config = record(await readJson(path.join(root, 'service', 'config.json'), 'the service configuration'));
    const generated = config.schema === 'nb2prod.service-config/1' || (await fs.stat(path.join(root, 'service', 'nb2prod-service.json')).catch(() => null)) !== null;
    if (!generated) return null;
    const contract = await readServiceContract(root);
    const deployment = await readDeploymentFile(root).catch(() => null);
    const served = servedModel(contract, deployment);
    const name = String(config.name ?? path.basename(root));
    return {
      root,
      name,
      model: served.name || name,
      version: served.version === null || served.version === undefined ? null : String(served.version),
      challenger: deployment?.challenger ? String(deployment.challenger.version) : null,
      deployments: contract.deployments,
    };
  } catch {
    return null;
  }
}

/**
 * Where a rollback of `alias` of `model` can deploy its target: the services serving that model
 * whose code loads the alias's role (champion or challenger); none for another alias.
 */
export function rollbackDeployTargets(model: string, alias: string, services: readonly ServiceIdentity[]): ServiceIdentity[] {
  if (alias !== 'champion' && alias !== 'challenger') return [];
  return services.filter((s) => s.model === model && s.deployments.includes(alias));
}

/** What to tell the user after a rollback that deployed (or not) to a service. */
export function rollbackMessage(input: { model: string; alias: string; from: number; to: number; service: string | null; served: string | null }): string {
  const moved = `${input.model} ${input.alias} rolled back from v${input.from} to v${input.to}.`;
  if (input.service !== null) {
    return `${moved} v${input.to} is deployed to ${input.service} (service/deployment.json): restart the service to serve it (stop make serve and start it again, or make docker-build docker-run); GET /ready then names v${input.to}.`;
  }
  if (input.served === String(input.to)) return `${moved} The service already serves v${input.to}.`;
  return `${moved} The service still serves ${input.served ? `v${input.served}` : 'its model'}: deploy v${input.to} to it (nb2prod registry deploy SERVICE --alias ${input.alias}), then restart it.`;
}
