/**
 * The local model registry over a run store: register versions from runs, move aliases through
 * promotion gates and approval requirements, roll back, and read the history. State is folded
 * from `registry.jsonl` on every call (see fold.ts); writes only ever append (registryFile.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FileRecord, RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { hashFile } from '../capture/fileHash';
import { newRunId } from '../ids';
import { containedPath } from '../safePath';
import { writeFileAtomic } from '../store/atomicFile';
import type { RunStore } from '../store/runStore';
import { type Actor, actorOf, recordedIdentity, sameActor } from './actor';
import { mergeKeptSections, renderModelCard } from './card';
import { type AliasEvent, type ApprovalRole, APPROVAL_ROLES, type Check, NAME_PATTERN, REGISTRY_FILE, REGISTRY_SCHEMA, type RegistryEvent, type RegistryProblem } from './events';
import { findAlias, foldRegistry, getModel, getVersion, type AliasMove, type ModelVersion, type RegistryState, rollbackTarget } from './fold';
import { appliesTo, evaluateApprovals, evaluateGate, type GateSide, type RegistryConfig } from './gates';
import { readRegistryFile, registryFilePath, withRegistryLock } from './registryFile';
import { liveTrafficCheck } from '../monitor/liveGate';
import { clearDeployment, type DeployedModel, deployedEntry, type DeploymentFile, deploymentProblem, type DeploymentRole, type PreparedDeployment, prepareDeployment, readDeploymentFile, readServiceContract } from './deploy';

export interface RegistrySnapshot {
  state: RegistryState;
  /** Lines of the file that were skipped. */
  problems: RegistryProblem[];
}

/** `outside`: the recorded path leads outside the workspace and store, so it is not looked at. */
export type FileStatus = 'unchanged' | 'changed' | 'missing' | 'outside';

export interface RegisterOptions {
  model: string;
  /** A run id, unique prefix or `latest`. */
  run: string;
  /**
   * Absolute path of a model file the user chose; its bytes are registered as they are. Default:
   * the run's one `model` artifact, as the run wrote it (its copy kept in objects/ when the run
   * ended, else the file at its path if it still has the run's hash).
   */
  file?: string;
  /** Who: a name, or the name with the identities beside it (see actor.ts). */
  by: string | Actor;
  note?: string | null;
  /** Keep a copy in the store's objects/ (default true). */
  copy?: boolean;
  now?: Date;
}

export interface PromoteOptions {
  model: string;
  version: string | number;
  alias: string;
  by: string | Actor;
  reason?: string | null;
  /** Why failed checks are overridden; without it a failed check refuses the promotion. */
  override?: string | null;
  config: RegistryConfig;
  now?: Date;
  /** Evaluate the gate and approvals only, recording nothing (the editor shows them before asking). */
  dryRun?: boolean;
  /** Once promoted, deploy the version to this service in the alias's role (champion or challenger). */
  deploy?: DeployTarget | null;
}

export interface PromoteResult {
  promoted: boolean;
  model: string;
  alias: string;
  version: number;
  /** The version holding the alias before (null: none). */
  previous: number | null;
  checks: Check[];
  failed: string[];
  overridden: boolean;
  /** Runs behind a version that could not be read from the store. */
  warnings: string[];
  /** What the promotion deployed (null: nothing). */
  deployed: DeployedInfo | null;
}

export function checkName(kind: 'model' | 'alias', name: string): void {
  if (!NAME_PATTERN.test(name)) throw new UserError('usage', `"${name}" is not a valid ${kind} name: use letters, digits, ".", "_" or "-" (at most 100, starting with a letter or digit).`);
}

export class Registry {
  readonly file: string;

  constructor(
    readonly store: RunStore,
    /** Model file paths are recorded relative to this folder: by default the store's parent. */
    readonly workspace: string = path.dirname(store.root),
  ) {
    this.file = registryFilePath(store.root);
  }

  async read(): Promise<RegistrySnapshot> {
    const { events, problems } = await readRegistryFile(this.file);
    return { state: foldRegistry(events), problems };
  }

  private common(by: string | Actor, now: Date | undefined) {
    const at = now ?? new Date();
    const actor = actorOf(by);
    const identity = recordedIdentity(actor);
    return { schema: REGISTRY_SCHEMA, id: newRunId(at.getTime()), at: at.toISOString(), by: actor.by, ...(identity ? { actor: identity } : {}) } as const;
  }

  /** Absolute path of a recorded model file path (not checked: see `containedModelPath`). */
  absolutePath(recorded: string): string {
    return path.resolve(this.workspace, recorded);
  }

  /**
   * The recorded path of a model file, resolved and kept inside the workspace (and, for a
   * write, out of the store): the registry and run files are data a cloned repository brings.
   */
  private containedModelPath(recorded: string, what: string, from: string, forWriting: boolean): Promise<string> {
    return containedPath(recorded, {
      base: this.workspace,
      roots: forWriting ? [this.workspace] : [this.workspace, this.store.root],
      ...(forWriting ? { exclude: [this.store.root] } : {}),
      what,
      from,
    });
  }

  /** Where the store keeps the copy of a version's model file (null when none was kept). */
  objectPath(version: ModelVersion): string | null {
    return version.file.stored ? path.join(this.store.objectsDir, version.file.sha256) : null;
  }

  async fileStatus(version: ModelVersion): Promise<FileStatus> {
    let file: string;
    try {
      file = await this.containedModelPath(version.file.path, `the model file of ${version.model} v${version.version}`, REGISTRY_FILE, false);
    } catch (error) {
      if (error instanceof UserError && error.code === 'unsafe-path') return 'outside';
      throw error;
    }
    try {
      return (await hashFile(file)).sha256 === version.file.sha256 ? 'unchanged' : 'changed';
    } catch {
      return 'missing';
    }
  }

  async register(options: RegisterOptions): Promise<{ version: ModelVersion; warnings: string[] }> {
    checkName('model', options.model);
    const warnings: string[] = [];
    const run = await this.store.getRun(await this.store.resolveRunId(options.run));
    const copy = options.copy !== false;
    let file: RegisterFile;
    if (options.file !== undefined) {
      // The user's choice: that file's bytes are registered, whatever the run recorded.
      const absolute = path.resolve(this.workspace, options.file);
      const stat = await fs.stat(absolute).catch(() => null);
      if (!stat?.isFile()) throw new UserError('model-file-not-found', `No model file at ${absolute}.`);
      const recordedPath = recordPath(this.workspace, absolute);
      const { sha256, bytes } = copy ? await this.copyIntoObjects(absolute) : await hashFile(absolute);
      file = { path: recordedPath, sha256, bytes, stored: copy || (await this.keptObject(sha256, bytes)) };
      const produced = [...run.artifacts, ...run.outputs].find((a) => a.path === recordedPath);
      if (produced && produced.sha256 !== sha256) {
        warnings.push(`${recordedPath} has changed since run ${run.id} wrote it (sha256 ${produced.sha256.slice(0, 12)}… then, ${sha256.slice(0, 12)}… now): the registered file is the one you named, not the one the run produced.`);
      }
    } else {
      const models = run.artifacts.filter((a) => a.kind === 'model');
      if (models.length !== 1) {
        throw new UserError('usage', models.length
          ? `run ${run.id} has ${models.length} model artifacts (${models.map((m) => m.path).join(', ')}): choose one with --file`
          : `run ${run.id} recorded no model artifact: name the model file with --file PATH`);
      }
      file = await this.runModelFile(run, models[0]!, copy);
    }
    if (run.status !== 'succeeded') warnings.push(`run ${run.id} ${run.status}; its metrics may be incomplete.`);
    let runs = [run.id];
    if (run.group) {
      const listed = await this.store.list({ group: run.group, order: 'asc' });
      runs = listed.runs.map((r) => r.id);
      if (!runs.includes(run.id)) runs.push(run.id);
    }
    const { event, events } = await withRegistryLock(this.file, async (locked) => {
      const { events: before } = await locked.read();
      const existing = foldRegistry(before).models[options.model]?.versions ?? [];
      const same = existing.find((v) => v.file.sha256 === file.sha256);
      if (same) warnings.push(`the same model file (sha256 ${file.sha256.slice(0, 12)}…) is already registered as ${options.model} v${same.version}.`);
      const registered: RegistryEvent = {
        ...this.common(options.by, options.now),
        type: 'register',
        model: options.model,
        proposedVersion: existing.length + 1,
        run: run.id,
        file,
        data: run.inputs.map((i) => ({ path: i.path, sha256: i.sha256, bytes: i.bytes })),
        metrics: Object.fromEntries(Object.entries(run.metrics).map(([k, m]) => [k, m.value])),
        group: run.group,
        runs,
        note: options.note ?? null,
      };
      await locked.append([registered]);
      return { event: registered, events: [...before, registered] };
    });
    // The version number is the line order's (see fold.ts); under the lock, the file is `events`.
    const version = foldRegistry(events).models[options.model]!.versions.find((v) => v.id === event.id)!;
    return { version, warnings };
  }

  /**
   * The model file a run wrote, as it wrote it: the copy kept in objects/ when the run ended (or
   * by an earlier registration), else the file at its path if it still has the run's hash.
   * Otherwise the run's bytes are gone and registering the file there now would put another
   * model under this run's metrics: refused.
   */
  private async runModelFile(run: RunEnvelope, record: FileRecord, copy: boolean): Promise<RegisterFile> {
    if (await this.keptObject(record.sha256, record.bytes)) return { path: record.path, sha256: record.sha256, bytes: record.bytes, stored: true };
    const absolute = await this.containedModelPath(record.path, `the model file of run ${run.id}`, `runs/${run.id}.json`, false);
    const now = await hashFile(absolute).catch(() => null);
    if (!now) throw new UserError('model-file-not-found', `${record.path}, the model file run ${run.id} wrote, is gone and the store kept no copy of it: track the run again, or register another file with --file PATH.`);
    const changed = () =>
      new UserError(
        'model-file-changed',
        `${record.path} is not the file run ${run.id} wrote (sha256 ${record.sha256.slice(0, 12)}… then, ${now.sha256.slice(0, 12)}… now) and the store kept no copy of the run's: track the run again, or register the current file explicitly with --file ${record.path}.`,
      );
    if (now.sha256 !== record.sha256) throw changed();
    if (!copy) return { path: record.path, sha256: record.sha256, bytes: record.bytes, stored: false };
    const copied = await this.copyIntoObjects(absolute);
    if (copied.sha256 !== record.sha256) throw changed(); // rewritten between the hash and the copy
    return { path: record.path, sha256: record.sha256, bytes: record.bytes, stored: true };
  }

  /** True when objects/ holds `sha256` and its bytes still hash to it. */
  private async keptObject(sha256: string, bytes: number): Promise<boolean> {
    const object = path.join(this.store.objectsDir, sha256);
    const stat = await fs.lstat(object).catch(() => null);
    if (!stat?.isFile() || stat.size !== bytes) return false;
    return (await hashFile(object).catch(() => null))?.sha256 === sha256;
  }

  /** Copies a file into objects/ under its hash; the hash is of the copy, so it is consistent. */
  private async copyIntoObjects(file: string): Promise<{ sha256: string; bytes: number }> {
    await fs.mkdir(this.store.objectsDir, { recursive: true });
    const temp = path.join(this.store.objectsDir, `.model.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.copyFile(file, temp);
      const { sha256, bytes } = await hashFile(temp);
      const target = path.join(this.store.objectsDir, sha256);
      if (!(await this.keptObject(sha256, bytes))) {
        const handle = await fs.open(temp, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.rename(temp, target);
      }
      return { sha256, bytes };
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  /** The successful and failed runs behind a version, as stored; unreadable ones are named in `warnings`. */
  async runsOf(version: ModelVersion, warnings: string[] = []): Promise<RunEnvelope[]> {
    const runs: RunEnvelope[] = [];
    for (const id of version.runs) {
      try {
        runs.push(await this.store.getRun(id));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        warnings.push(`${version.model} v${version.version}: run ${id} cannot be read (${error.message}); left out.`);
      }
    }
    return runs;
  }

  /**
   * Evaluates the gate and approvals of moving `alias` to the version and, unless a check fails
   * without an override (or `dryRun`), records the move. The state is read, the checks worked out
   * and the event appended under the registry's lock, so `previous` and every check are of the
   * state the event follows, however many people promote at once.
   */
  async promote(options: PromoteOptions): Promise<PromoteResult> {
    checkName('alias', options.alias);
    const role = options.deploy ? roleOfAlias(options.alias) : null;
    if (options.dryRun) return (await this.decidePromotion((await this.read()).state, options)).result;
    return withRegistryLock(this.file, async (locked) => {
      const state = foldRegistry((await locked.read()).events);
      const { result, event } = await this.decidePromotion(state, options);
      if (!event) return result;
      // Checked and copied before the move is recorded: a version the service cannot serve is refused, and nothing recorded.
      const deploying = options.deploy && role ? await this.prepareDeploy(getVersion(state, options.model, event.version), role, options.alias, options.deploy, event.by, event.at) : null;
      const recorded: AliasEvent = deploying && options.deploy ? { ...event, deployed: this.deployedRecord(options.deploy.serviceDir, deploying) } : event;
      try {
        await locked.append([recorded]);
      } catch (error) {
        await deploying?.discard();
        throw error;
      }
      const deployed = deploying && options.deploy ? await this.commitDeploy(options.deploy.serviceDir, deploying) : null;
      return { ...result, promoted: true, overridden: event.override !== null, deployed };
    });
  }

  private async decidePromotion(state: RegistryState, options: PromoteOptions): Promise<{ result: PromoteResult; event: AliasEvent | null }> {
    const candidate = getVersion(state, options.model, options.version);
    const model = getModel(state, options.model);
    const holding = model.aliases[options.alias];
    const holder = holding ? model.versions[holding.version - 1]! : null;
    const warnings: string[] = [];
    const checks: Check[] = [];
    const gates = options.config.gates;
    if (gates && appliesTo(gates.aliases, options.alias)) {
      const side = async (v: ModelVersion): Promise<GateSide> => ({ label: `v${v.version}`, version: v.version, runs: await this.runsOf(v, warnings) });
      checks.push(...evaluateGate(gates, await side(candidate), holder ? await side(holder) : null).checks);
      if (gates.liveTraffic) checks.push(await liveTrafficCheck(gates.liveTraffic, candidate));
    }
    if (appliesTo(options.config.approvals.aliases, options.alias)) checks.push(...evaluateApprovals(options.config.approvals, candidate));
    const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name);
    const override = options.override?.trim() || null;
    const result: PromoteResult = {
      promoted: false,
      model: options.model,
      alias: options.alias,
      version: candidate.version,
      previous: holder?.version ?? null,
      checks,
      failed,
      overridden: false,
      warnings,
      deployed: null,
    };
    if ((failed.length && !override) || options.dryRun) return { result, event: null };
    const event: AliasEvent = {
      ...this.common(options.by, options.now),
      type: 'alias',
      kind: 'promote',
      alias: options.alias,
      model: options.model,
      version: candidate.version,
      versionId: candidate.id,
      previous: holder?.version ?? null,
      reason: options.reason ?? null,
      checks,
      override: failed.length && override ? { reason: override, failed } : null,
    };
    return { result, event };
  }

  async approve(options: { model: string; version: string | number; role: string; by: string | Actor; note?: string | null; now?: Date }): Promise<{ version: ModelVersion; warnings: string[] }> {
    if (!(APPROVAL_ROLES as readonly string[]).includes(options.role)) throw new UserError('usage', `--role must be one of ${APPROVAL_ROLES.join(', ')} (the three lines of defence), not "${options.role}".`);
    const actor = actorOf(options.by);
    return withRegistryLock(this.file, async (locked) => {
      const { events } = await locked.read();
      const version = getVersion(foldRegistry(events), options.model, options.version);
      const warnings: string[] = [];
      if (version.approvals.some((a) => a.by === actor.by && a.role === options.role)) warnings.push(`${actor.by} had already approved v${version.version} as ${options.role}; recorded again.`);
      if (sameActor(actor, version.registeredActor)) {
        const typed = actor.by.trim().toLowerCase() === version.registeredBy.trim().toLowerCase();
        warnings.push(`${typed ? `${actor.by} registered v${version.version}` : `v${version.version} was registered by ${version.registeredBy} with the same ${actor.osUser && actor.osUser === version.registeredActor.osUser ? `OS account (${actor.osUser})` : 'git email'} as yours`}: an approval by someone else is still needed (separation of duties).`);
      }
      const event: RegistryEvent = {
        ...this.common(actor, options.now),
        type: 'approve',
        model: version.model,
        version: version.version,
        versionId: version.id,
        role: options.role as ApprovalRole,
        note: options.note ?? null,
      };
      await locked.append([event]);
      return { version: getVersion(foldRegistry([...events, event]), version.model, version.version), warnings };
    });
  }

  /**
   * Moves `alias` back to the version promoted before its current one (a rollback is not gated:
   * it is the way back to a version that already passed). The target is worked out under the
   * registry's lock, on the state the rollback is appended after. With `restoreFile`, the model
   * file at its recorded path (kept inside the workspace) is replaced by the store's copy of that
   * version, re-hashed first: a copy that no longer has its hash is refused before anything is
   * recorded or written.
   */
  async rollback(options: { alias: string; model?: string; by: string | Actor; reason?: string | null; restoreFile?: boolean; deploy?: DeployTarget | null; now?: Date }): Promise<{ move: AliasMove; version: ModelVersion; restored: string | null; deployed: DeployedInfo | null }> {
    const role = options.deploy ? roleOfAlias(options.alias) : null;
    return withRegistryLock(this.file, async (locked) => {
      const { events } = await locked.read();
      const state = foldRegistry(events);
      const alias = findAlias(state, options.alias, options.model);
      const target = rollbackTarget(alias);
      if (target === null) throw new UserError('rollback-impossible', `${alias.model} "${alias.alias}" has no earlier version to go back to (it has held only v${alias.version} since its promotions were rolled back or began).`);
      const version = getModel(state, alias.model).versions[target - 1]!;
      const common = this.common(options.by, options.now);
      const deploying = options.deploy && role ? await this.prepareDeploy(version, role, alias.alias, options.deploy, common.by, common.at) : null;
      let restore: Awaited<ReturnType<Registry['prepareRestore']>> | null = null;
      try {
        restore = options.restoreFile ? await this.prepareRestore(version) : null;
      } catch (error) {
        await deploying?.discard();
        throw error;
      }
      const event: AliasEvent = {
        ...common,
        ...(deploying && options.deploy ? { deployed: this.deployedRecord(options.deploy.serviceDir, deploying) } : {}),
        type: 'alias',
        kind: 'rollback',
        alias: alias.alias,
        model: alias.model,
        version: version.version,
        versionId: version.id,
        previous: alias.version,
        reason: options.reason ?? null,
        checks: [],
        override: null,
      };
      try {
        await locked.append([event]);
      } catch (error) {
        await restore?.discard();
        await deploying?.discard();
        throw error;
      }
      const restored = restore ? await restore.commit() : null;
      const deployed = deploying && options.deploy ? await this.commitDeploy(options.deploy.serviceDir, deploying) : null;
      const after = foldRegistry([...events, event]);
      return { move: after.moves.find((m) => m.id === event.id)!, version, restored, deployed };
    });
  }

  /** What an alias event records of the deployment it made. */
  private deployedRecord(serviceDir: string, prepared: PreparedDeployment): NonNullable<AliasEvent['deployed']> {
    return { service: recordPath(this.workspace, path.resolve(serviceDir)), role: prepared.role, path: prepared.entry.path, sha256: prepared.entry.sha256 };
  }

  private async commitDeploy(serviceDir: string, prepared: PreparedDeployment): Promise<DeployedInfo> {
    const { clearedChallenger } = await prepared.commit();
    return { service: path.resolve(serviceDir), role: prepared.role, file: prepared.file, entry: prepared.entry, clearedChallenger };
  }

  /**
   * Writes (or regenerates) the Markdown model card of a version at `output` (absolute), keeping
   * the sections the user wrote between nb2prod:keep markers. Returns whether a card was there.
   */
  async writeModelCard(model: string, version: string | number, output: string, now = new Date()): Promise<{ version: ModelVersion; kept: boolean; warnings: string[] }> {
    const { state } = await this.read();
    const m = getModel(state, model);
    const v = getVersion(state, model, version);
    const warnings: string[] = [];
    const runs = await this.runsOf(v, warnings);
    const generated = renderModelCard({ model: m, version: v, moves: state.moves, runs, fileStatus: await this.fileStatus(v), generatedAt: now });
    const previous = await fs.readFile(output, 'utf8').catch(() => null);
    await fs.mkdir(path.dirname(output), { recursive: true });
    await writeFileAtomic(output, mergeKeptSections(previous, generated));
    return { version: v, kept: previous !== null, warnings };
  }

  /** Where a version's model card goes by default: model-cards/MODEL-vN.md in the workspace. */
  defaultCardPath(version: ModelVersion): string {
    return path.join(this.workspace, 'model-cards', `${version.model}-v${version.version}.md`);
  }

  /**
   * Puts a version in a generated service as its champion or its challenger (deploy.ts): the
   * store's copy of its model file, re-hashed as it is copied, into SERVICE/model/ROLE/, and
   * service/deployment.json naming it with its sha256 (a challenger with its mode, share and key).
   * The service loads it at its next start, checked like the model it was generated with. The
   * version must take the service's input contract. `clear` removes the role's deployment (the
   * champion: back to the model service/config.json names). Under the registry's lock, so it
   * never deploys an alias's holder that a promotion or rollback is moving at the same moment.
   */
  async deploy(options: {
    serviceDir: string;
    /** Default: the alias's role (champion for `champion`), else challenger. */
    role?: DeploymentRole;
    /** Default: the role's name. */
    alias?: string;
    model?: string;
    version?: string;
    mode?: 'shadow' | 'canary';
    percent?: number;
    key?: string;
    by: string | Actor;
    clear?: boolean;
    now?: Date;
  }): Promise<DeployResult> {
    const role: DeploymentRole = options.role ?? (options.alias === 'champion' ? 'champion' : 'challenger');
    const actor = actorOf(options.by);
    const at = (options.now ?? new Date()).toISOString();
    if (options.clear) {
      const contract = await readServiceContract(options.serviceDir);
      const deployment = await clearDeployment(contract, role, actor.by, at);
      return { role, deployment, file: null, version: null, clearedChallenger: false };
    }
    return withRegistryLock(this.file, async (locked) => {
      const state = foldRegistry((await locked.read()).events);
      let version: ModelVersion;
      let alias = options.alias ?? role;
      if (options.version !== undefined) {
        if (options.model === undefined) throw new UserError('usage', 'a VERSION needs --model');
        version = getVersion(state, options.model, options.version);
        alias = options.alias ?? `v${version.version}`;
      } else {
        const held = findAlias(state, alias, options.model);
        version = getModel(state, held.model).versions[held.version - 1]!;
      }
      const prepared = await this.prepareDeploy(version, role, alias, { serviceDir: options.serviceDir, ...pick(options) }, actor.by, at);
      const { deployment, clearedChallenger } = await prepared.commit();
      return { role, deployment, file: prepared.file, version, clearedChallenger };
    });
  }

  /**
   * Checks that `version` can be deployed to the service in `role` and copies its file there under
   * a temporary name (deploy.ts `prepareDeployment`): nothing in the service changes before
   * `commit`, so a promotion or rollback refused here records nothing.
   */
  private async prepareDeploy(version: ModelVersion, role: DeploymentRole, alias: string, target: DeployTarget, by: string, at: string): Promise<PreparedDeployment> {
    const contract = await readServiceContract(target.serviceDir);
    const shown = recordPath(this.workspace, path.resolve(target.serviceDir));
    const object = this.objectPath(version);
    if (!object) throw new UserError('model-file-not-found', `${version.model} v${version.version} was registered without a copy in the store (--no-copy): it cannot be deployed from the registry.`);
    let run: RunEnvelope | null = null;
    try {
      run = await this.store.getRun(version.run);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
    }
    const problem = deploymentProblem(contract, version, run, role, shown);
    if (problem) throw new UserError('deploy-refused', problem);
    let challenger: { mode: 'shadow' | 'canary'; percent: number; key: string } | undefined;
    if (role === 'challenger') {
      const current = (await readDeploymentFile(target.serviceDir))?.challenger;
      const mode = target.mode ?? current?.mode ?? 'shadow';
      challenger = { mode, percent: target.percent ?? (mode === current?.mode ? current?.percent : undefined) ?? (mode === 'canary' ? 10 : 0), key: target.key ?? current?.key ?? 'client_request_id' };
    }
    return prepareDeployment({ contract, version, object, entry: deployedEntry(version, role, alias, by, at, challenger), role, by, at });
  }

  /** Writes the store's copy of a version's model file back to its recorded path; returns the path. */
  async restoreFile(version: ModelVersion): Promise<string> {
    return (await this.prepareRestore(version)).commit();
  }

  /**
   * Checks where a version's file would be restored (inside the workspace, not in the store, no
   * symbolic link leading out) and copies the store's object next to it under a temporary name,
   * hashing as it copies: a copy whose hash is not the registered one is removed and refused, the
   * file at the path untouched. `commit` renames it into place.
   */
  private async prepareRestore(version: ModelVersion): Promise<{ commit(): Promise<string>; discard(): Promise<void> }> {
    const label = `${version.model} v${version.version}`;
    const object = this.objectPath(version);
    if (!object) throw new UserError('model-file-not-found', `${label} was registered without a copy in the store (--no-copy): restore ${version.file.path} yourself.`);
    const target = await this.containedModelPath(version.file.path, `to restore the model file of ${label}`, REGISTRY_FILE, true);
    const existing = await fs.lstat(target).catch(() => null);
    if (existing && !existing.isFile()) throw new UserError('unsafe-path', `Refused to restore the model file of ${label}: ${version.file.path} is not a regular file.`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.restore`);
    const objectStat = await fs.lstat(object).catch(() => null);
    if (!objectStat) throw new UserError('model-file-not-found', `The store's copy of ${label} is missing (${object}).`);
    if (!objectStat.isFile()) throw new UserError('object-corrupt', `The store's copy of ${label} (${object}) is not a regular file: not restored, ${version.file.path} left untouched.`);
    const source = await fs.open(object, 'r');
    const out = await fs.open(temp, 'wx');
    let copied: { sha256: string; bytes: number };
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      await pipeline(source.createReadStream(), async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      }, out.createWriteStream());
      copied = { sha256: hash.digest('hex'), bytes };
      const check = await fs.open(temp, 'r+');
      try {
        await check.sync();
      } finally {
        await check.close();
      }
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    } finally {
      await source.close().catch(() => undefined);
      await out.close().catch(() => undefined);
    }
    if (copied.sha256 !== version.file.sha256 || copied.bytes !== version.file.bytes) {
      await fs.rm(temp, { force: true });
      throw new UserError('object-corrupt', `The store's copy of ${label} (objects/${version.file.sha256.slice(0, 12)}…) no longer has its registered sha256 (it hashes to ${copied.sha256.slice(0, 12)}…): not restored, ${version.file.path} left untouched.`);
    }
    return {
      commit: async () => {
        try {
          await fs.rename(temp, target);
        } catch (error) {
          await fs.rm(temp, { force: true });
          throw error;
        }
        return target;
      },
      discard: () => fs.rm(temp, { force: true }),
    };
  }
}

type RegisterFile = Extract<RegistryEvent, { type: 'register' }>['file'];

/** A service folder to deploy to, and (for a challenger) how it runs. */
export interface DeployTarget {
  serviceDir: string;
  mode?: 'shadow' | 'canary';
  percent?: number;
  key?: string;
}

export interface DeployResult {
  role: DeploymentRole;
  deployment: DeploymentFile;
  /** The model file in the service (null: cleared). */
  file: string | null;
  version: ModelVersion | null;
  /** The challenger was removed: it is the champion now. */
  clearedChallenger: boolean;
}

/** What a promotion or rollback deployed (null: nothing). */
export interface DeployedInfo {
  service: string;
  role: DeploymentRole;
  file: string;
  /** The entry deployment.json has for it. */
  entry: DeployedModel;
  clearedChallenger: boolean;
}

function pick(options: { mode?: 'shadow' | 'canary'; percent?: number; key?: string }): Omit<DeployTarget, 'serviceDir'> {
  return { ...(options.mode ? { mode: options.mode } : {}), ...(options.percent !== undefined ? { percent: options.percent } : {}), ...(options.key ? { key: options.key } : {}) };
}

/** The role an alias is deployed in by a promotion or rollback with a service. */
export function roleOfAlias(alias: string): DeploymentRole {
  if (alias === 'champion' || alias === 'challenger') return alias;
  throw new UserError('usage', `--deploy puts a version in a service as its champion or challenger; "${alias}" is neither: use nb2prod registry deploy SERVICE_DIR --alias ${alias} --role champion|challenger.`);
}

function recordPath(workspace: string, absolute: string): string {
  const relative = path.relative(workspace, absolute);
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return absolute;
  return relative.split(path.sep).join('/');
}
