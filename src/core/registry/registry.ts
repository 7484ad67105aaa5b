/**
 * The local model registry over a run store: register versions from runs, move aliases through
 * promotion gates and approval requirements, roll back, and read the history. State is folded
 * from `registry.jsonl` on every call (see fold.ts); writes only ever append (registryFile.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { hashFile } from '../capture/fileHash';
import { newRunId } from '../ids';
import { writeFileAtomic } from '../store/atomicFile';
import type { RunStore } from '../store/runStore';
import { mergeKeptSections, renderModelCard } from './card';
import { type AliasEvent, type ApprovalRole, APPROVAL_ROLES, type Check, NAME_PATTERN, REGISTRY_SCHEMA, type RegistryEvent, type RegistryProblem } from './events';
import { findAlias, foldRegistry, getModel, getVersion, type AliasMove, type ModelVersion, type RegistryState, rollbackTarget } from './fold';
import { appliesTo, evaluateApprovals, evaluateGate, type GateSide, type RegistryConfig } from './gates';
import { appendRegistryEvents, readRegistryFile, registryFilePath } from './registryFile';

export interface RegistrySnapshot {
  state: RegistryState;
  /** Lines of the file that were skipped. */
  problems: RegistryProblem[];
}

export type FileStatus = 'unchanged' | 'changed' | 'missing';

export interface RegisterOptions {
  model: string;
  /** A run id, unique prefix or `latest`. */
  run: string;
  /** Absolute path of the model file; default: the run's one `model` artifact. */
  file?: string;
  by: string;
  note?: string | null;
  /** Keep a copy in the store's objects/ (default true). */
  copy?: boolean;
  now?: Date;
}

export interface PromoteOptions {
  model: string;
  version: string | number;
  alias: string;
  by: string;
  reason?: string | null;
  /** Why failed checks are overridden; without it a failed check refuses the promotion. */
  override?: string | null;
  config: RegistryConfig;
  now?: Date;
  /** Evaluate the gate and approvals only, recording nothing (the editor shows them before asking). */
  dryRun?: boolean;
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

  private async append(event: RegistryEvent): Promise<void> {
    await appendRegistryEvents(this.file, [event]);
  }

  private common(by: string, now: Date | undefined) {
    const at = now ?? new Date();
    return { schema: REGISTRY_SCHEMA, id: newRunId(at.getTime()), at: at.toISOString(), by } as const;
  }

  /** Absolute path of a recorded model file path. */
  absolutePath(recorded: string): string {
    return path.resolve(this.workspace, recorded);
  }

  /** Where the store keeps the copy of a version's model file (null when none was kept). */
  objectPath(version: ModelVersion): string | null {
    return version.file.stored ? path.join(this.store.objectsDir, version.file.sha256) : null;
  }

  async fileStatus(version: ModelVersion): Promise<FileStatus> {
    try {
      return (await hashFile(this.absolutePath(version.file.path))).sha256 === version.file.sha256 ? 'unchanged' : 'changed';
    } catch {
      return 'missing';
    }
  }

  async register(options: RegisterOptions): Promise<{ version: ModelVersion; warnings: string[] }> {
    checkName('model', options.model);
    const warnings: string[] = [];
    const run = await this.store.getRun(await this.store.resolveRunId(options.run));
    let absolute: string;
    if (options.file !== undefined) absolute = path.resolve(this.workspace, options.file);
    else {
      const models = run.artifacts.filter((a) => a.kind === 'model');
      if (models.length !== 1) {
        throw new UserError('usage', models.length
          ? `run ${run.id} has ${models.length} model artifacts (${models.map((m) => m.path).join(', ')}): choose one with --file`
          : `run ${run.id} recorded no model artifact: name the model file with --file PATH`);
      }
      absolute = path.resolve(this.workspace, models[0]!.path);
    }
    const stat = await fs.stat(absolute).catch(() => null);
    if (!stat?.isFile()) throw new UserError('model-file-not-found', `No model file at ${absolute}.`);
    const recordedPath = recordPath(this.workspace, absolute);
    const { sha256, bytes } = options.copy === false ? await hashFile(absolute) : await this.copyIntoObjects(absolute);
    const artifact = [...run.artifacts, ...run.outputs].find((a) => a.path === recordedPath);
    if (artifact && artifact.sha256 !== sha256) {
      warnings.push(`${recordedPath} has changed since run ${run.id} wrote it (sha256 ${artifact.sha256.slice(0, 12)}… then, ${sha256.slice(0, 12)}… now): the registered file is not the one the run produced.`);
    }
    if (run.status !== 'succeeded') warnings.push(`run ${run.id} ${run.status}; its metrics may be incomplete.`);
    let runs = [run.id];
    if (run.group) {
      const listed = await this.store.list({ group: run.group, order: 'asc' });
      runs = listed.runs.map((r) => r.id);
      if (!runs.includes(run.id)) runs.push(run.id);
    }
    const { state } = await this.read();
    const existing = state.models[options.model]?.versions ?? [];
    const same = existing.find((v) => v.file.sha256 === sha256);
    if (same) warnings.push(`the same model file (sha256 ${sha256.slice(0, 12)}…) is already registered as ${options.model} v${same.version}.`);
    const event: RegistryEvent = {
      ...this.common(options.by, options.now),
      type: 'register',
      model: options.model,
      proposedVersion: existing.length + 1,
      run: run.id,
      file: { path: recordedPath, sha256, bytes, stored: options.copy !== false },
      data: run.inputs.map((i) => ({ path: i.path, sha256: i.sha256, bytes: i.bytes })),
      metrics: Object.fromEntries(Object.entries(run.metrics).map(([k, m]) => [k, m.value])),
      group: run.group,
      runs,
      note: options.note ?? null,
    };
    await this.append(event);
    // The version number is the line order's (see fold.ts): read it back.
    const after = await this.read();
    const version = after.state.models[options.model]!.versions.find((v) => v.id === event.id);
    if (!version) throw new Error(`registry: the register event ${event.id} was written but cannot be read back from ${this.file}`);
    return { version, warnings };
  }

  /** Copies a file into objects/ under its hash; the hash is of the copy, so it is consistent. */
  private async copyIntoObjects(file: string): Promise<{ sha256: string; bytes: number }> {
    await fs.mkdir(this.store.objectsDir, { recursive: true });
    const temp = path.join(this.store.objectsDir, `.model.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.copyFile(file, temp);
      const hash = createHash('sha256');
      let bytes = 0;
      await pipeline(createReadStream(temp), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
        }
      });
      const sha256 = hash.digest('hex');
      const target = path.join(this.store.objectsDir, sha256);
      const present = await fs.stat(target).then((s) => s.size === bytes, () => false);
      if (!present) {
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

  async promote(options: PromoteOptions): Promise<PromoteResult> {
    checkName('alias', options.alias);
    const { state } = await this.read();
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
    };
    if ((failed.length && !override) || options.dryRun) return result;
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
    await this.append(event);
    return { ...result, promoted: true, overridden: event.override !== null };
  }

  async approve(options: { model: string; version: string | number; role: string; by: string; note?: string | null; now?: Date }): Promise<{ version: ModelVersion; warnings: string[] }> {
    if (!(APPROVAL_ROLES as readonly string[]).includes(options.role)) throw new UserError('usage', `--role must be one of ${APPROVAL_ROLES.join(', ')} (the three lines of defence), not "${options.role}".`);
    const { state } = await this.read();
    const version = getVersion(state, options.model, options.version);
    const warnings: string[] = [];
    if (version.approvals.some((a) => a.by === options.by && a.role === options.role)) warnings.push(`${options.by} had already approved v${version.version} as ${options.role}; recorded again.`);
    if (options.by === version.registeredBy) warnings.push(`${options.by} registered v${version.version}: an approval by someone else is still needed (separation of duties).`);
    await this.append({
      ...this.common(options.by, options.now),
      type: 'approve',
      model: version.model,
      version: version.version,
      versionId: version.id,
      role: options.role as ApprovalRole,
      note: options.note ?? null,
    });
    const after = await this.read();
    return { version: getVersion(after.state, version.model, version.version), warnings };
  }

  /**
   * Moves `alias` back to the version promoted before its current one (a rollback is not gated:
   * it is the way back to a version that already passed). With `restoreFile`, the model file at
   * its recorded path is replaced by the store's copy of that version.
   */
  async rollback(options: { alias: string; model?: string; by: string; reason?: string | null; restoreFile?: boolean; now?: Date }): Promise<{ move: AliasMove; version: ModelVersion; restored: string | null }> {
    const { state } = await this.read();
    const alias = findAlias(state, options.alias, options.model);
    const target = rollbackTarget(alias);
    if (target === null) throw new UserError('rollback-impossible', `${alias.model} "${alias.alias}" has no earlier version to go back to (it has held only v${alias.version} since its promotions were rolled back or began).`);
    const version = getModel(state, alias.model).versions[target - 1]!;
    const event: AliasEvent = {
      ...this.common(options.by, options.now),
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
    await this.append(event);
    let restored: string | null = null;
    if (options.restoreFile) restored = await this.restoreFile(version);
    const after = await this.read();
    return { move: after.state.moves.find((m) => m.id === event.id)!, version, restored };
  }

  /** Writes the store's copy of a version's model file back to its recorded path; returns the path. */
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

  async restoreFile(version: ModelVersion): Promise<string> {
    const object = this.objectPath(version);
    if (!object) throw new UserError('model-file-not-found', `${version.model} v${version.version} was registered without a copy in the store (--no-copy): restore ${version.file.path} yourself.`);
    const target = this.absolutePath(version.file.path);
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(object, temp);
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('model-file-not-found', `The store's copy of ${version.model} v${version.version} is missing (${object}).`);
      throw error;
    }
    return target;
  }
}

function recordPath(workspace: string, absolute: string): string {
  const relative = path.relative(workspace, absolute);
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return absolute;
  return relative.split(path.sep).join('/');
}
