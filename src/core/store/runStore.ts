/**
 * The run store, a folder (`.nb2prod/` by default):
 *   runs/<id>.json     one immutable envelope per run: the source of truth
 *   objects/<sha256>   content-addressed snapshots (code, profiles)
 *   index.sqlite       a derived query index (see runIndex.ts)
 *   .gitignore         what a team commits and what not (storeGitignore.ts)
 * Any number of processes may write at once: every file appears atomically, run files are
 * never overwritten, and the index is repaired from the run files on every read.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunEnvelope, envelopeSchema, parseEnvelopeText, runIdSchema } from '../envelope';
import { UserError } from '../errors';
import { sha256Hex } from '../hash';
import { processAlive } from '../processes';
import { exists, writeFileAtomic, writeFileExclusive } from './atomicFile';
import { ensureStoreGitignore } from './storeGitignore';
import { type IndexedProblem, RunIndex, type RunQuery, type RunSummary } from './runIndex';

/** Envelopes are small; a larger "run file" is not one of ours and is not read into memory. */
const MAX_ENVELOPE_BYTES = 32 * 1024 * 1024;
const RUN_FILE = /^[0-9A-HJKMNP-TV-Z]{26}\.json$/;

/** A file in `runs/` that is not a valid envelope. It never stops the other runs from loading. */
export interface StoreProblem {
  /** Path of the file, relative to the store root (e.g. `runs/01J….json`). */
  file: string;
  /** Dotted path of the first field at fault, `(json)` for a syntax error, `(file)` for I/O. */
  field: string;
  message: string;
}

export interface ListResult {
  runs: RunSummary[];
  problems: StoreProblem[];
}

export interface RunStoreOptions {
  /** Path of `sql-wasm.wasm`, which the caller knows (it sits beside the bundle). */
  sqlWasmPath: string;
}

type ReadOutcome = { ok: true; envelope: RunEnvelope } | { ok: false; problem: IndexedProblem };

export class RunStore {
  readonly runsDir: string;
  readonly objectsDir: string;
  readonly indexFile: string;
  /** The file hash stat cache of tracked runs (a cache: losing it only costs re-hashing). */
  readonly hashCacheFile: string;
  private index: RunIndex | undefined;
  /** Why the index was last rebuilt, for the log; null when it was reused. */
  lastIndexRebuild: string | null = null;

  constructor(
    readonly root: string,
    private readonly options: RunStoreOptions,
  ) {
    this.runsDir = path.join(root, 'runs');
    this.objectsDir = path.join(root, 'objects');
    this.indexFile = path.join(root, 'index.sqlite');
    this.hashCacheFile = path.join(root, 'cache', 'file-hashes.json');
  }

  /** True when the store folder exists (reading a missing store lists nothing and creates nothing). */
  exists(): Promise<boolean> {
    return exists(this.runsDir);
  }

  /**
   * Validates and writes a new run. Throws `run-exists` if a run with this id is already stored:
   * runs are immutable.
   */
  async writeRun(envelope: RunEnvelope): Promise<string> {
    const valid = envelopeSchema.safeParse(envelope);
    if (!valid.success) {
      const issue = valid.error.issues[0];
      throw new UserError('invalid-envelope', `Refusing to store an invalid run: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    await this.ensureDirs();
    const file = path.join(this.runsDir, `${envelope.id}.json`);
    const written = await writeFileExclusive(file, `${JSON.stringify(valid.data, null, 2)}\n`);
    if (!written) throw new UserError('run-exists', `Run ${envelope.id} is already in the store; runs are immutable.`);
    return file;
  }

  /** Stores bytes by content hash and returns the hash. Storing the same content twice is free. */
  async putObject(data: string | Uint8Array): Promise<string> {
    const hash = sha256Hex(data);
    await this.ensureDirs();
    const file = path.join(this.objectsDir, hash);
    if (!(await exists(file))) await writeFileAtomic(file, data);
    return hash;
  }

  async getObject(hash: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new UserError('usage', `Not an object hash: ${hash}`);
    return fs.readFile(path.join(this.objectsDir, hash));
  }

  /** Reads one run by full id, straight from its file (no index needed). */
  async getRun(id: string): Promise<RunEnvelope> {
    const outcome = await this.readRunFile(`${id}.json`);
    if (!outcome.ok) {
      if (outcome.problem.field === '(file)' && outcome.problem.message.startsWith('ENOENT')) {
        throw new UserError('run-not-found', `No run ${id} in ${this.root}.`);
      }
      throw new UserError('invalid-envelope', `runs/${id}.json is not a valid run: ${outcome.problem.field}: ${outcome.problem.message}`);
    }
    return outcome.envelope;
  }

  /**
   * Turns what a user typed into a run id: a full id, a unique prefix of one (case-insensitive),
   * or `latest`.
   */
  async resolveRunId(reference: string): Promise<string> {
    const files = await this.runFiles();
    const ids = files.map((f) => f.slice(0, -'.json'.length)).sort();
    if (reference === 'latest') {
      const newest = ids.at(-1);
      if (!newest) throw new UserError('run-not-found', `There are no runs in ${this.root}.`);
      return newest;
    }
    const wanted = reference.toUpperCase();
    if (runIdSchema.safeParse(wanted).success && ids.includes(wanted)) return wanted;
    const matches = ids.filter((id) => id.startsWith(wanted));
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new UserError('run-not-found', `No run matches "${reference}" in ${this.root}. List runs with: nb2prod runs`);
    throw new UserError('run-ambiguous', `"${reference}" matches ${matches.length} runs (${matches.slice(0, 3).join(', ')}…); type more of the id.`);
  }

  /** Lists runs through the index, first bringing it up to date with the run files. */
  async list(query: RunQuery = {}): Promise<ListResult> {
    if (!(await this.exists())) return { runs: [], problems: [] };
    const index = await this.sync();
    return { runs: index.list(query), problems: index.problems().map(toStoreProblem) };
  }

  /**
   * Publishes runs whose tracking process died: their in-flight marker in `running/` holds a
   * provisional envelope with status `interrupted`. Markers of live processes, or written on
   * another host (whose processes cannot be checked), are left alone. Returns the ids published.
   */
  async recoverInterrupted(): Promise<string[]> {
    const runningDir = path.join(this.root, 'running');
    let names: string[];
    try {
      names = (await fs.readdir(runningDir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch {
      return [];
    }
    const recovered: string[] = [];
    for (const name of names) {
      const file = path.join(runningDir, name);
      let marker: { pid?: unknown; pidStartTime?: unknown; host?: unknown; envelope?: unknown };
      try {
        marker = JSON.parse(await fs.readFile(file, 'utf8')) as typeof marker;
      } catch {
        continue; // being written right now, or damaged: look again next time
      }
      if (marker.host !== os.hostname() || typeof marker.pid !== 'number') continue;
      if (processAlive(marker.pid, typeof marker.pidStartTime === 'string' ? marker.pidStartTime : null)) continue;
      const parsed = envelopeSchema.safeParse(marker.envelope);
      if (!parsed.success) continue;
      try {
        await this.writeRun(parsed.data);
        recovered.push(parsed.data.id);
      } catch (error) {
        if (!(error instanceof UserError && error.code === 'run-exists')) throw error;
      }
      await fs.rm(file, { force: true });
      await fs.rm(path.join(this.root, 'tmp', parsed.data.id), { recursive: true, force: true });
    }
    return recovered;
  }

  /** Brings the index up to date with `runs/` and saves it if anything changed. */
  async sync(): Promise<RunIndex> {
    await this.recoverInterrupted();
    if (!this.index) {
      this.index = await RunIndex.open(this.indexFile, this.options.sqlWasmPath);
      this.lastIndexRebuild = this.index.rebuiltBecause;
    }
    const index = this.index;
    const names = await this.runFiles();
    // Run files are immutable, so an unchanged set of names means unchanged runs: skip the
    // per-file comparison (the common case on every refresh).
    const fingerprint = sha256Hex(names.sort().join('\n'));
    const knownProblems = new Map(index.problems().map((p) => [p.file, p]));
    if (index.filesFingerprint() === fingerprint && (await allUnchanged(this.root, knownProblems.values()))) {
      await this.saveIndex(index);
      return index;
    }
    const onDisk = new Set(names);
    const indexed = index.indexedFiles();

    const removeFiles = [...indexed].filter((f) => !onDisk.has(f));
    const clearProblems: string[] = [...knownProblems.keys()].filter((f) => !onDisk.has(path.basename(f)));
    const candidates: string[] = [];
    for (const file of onDisk) {
      if (indexed.has(file)) continue;
      const known = knownProblems.get(`runs/${file}`);
      if (known && (await unchanged(path.join(this.runsDir, file), known))) continue;
      if (known) clearProblems.push(known.file);
      candidates.push(file);
    }

    const add: Array<{ file: string; envelope: RunEnvelope }> = [];
    const setProblems: IndexedProblem[] = [];
    // Read in bounded parallel batches: fast on a cold index of 10,000 runs without
    // exhausting file descriptors.
    const batchSize = 64;
    for (let i = 0; i < candidates.length; i += batchSize) {
      const outcomes = await Promise.all(candidates.slice(i, i + batchSize).map((f) => this.readRunFile(f)));
      outcomes.forEach((outcome, j) => {
        if (outcome.ok) add.push({ file: candidates[i + j]!, envelope: outcome.envelope });
        else setProblems.push(outcome.problem);
      });
    }
    if (removeFiles.length || clearProblems.length || add.length || setProblems.length) {
      index.update({ add, removeFiles, setProblems, clearProblems });
    }
    index.setFilesFingerprint(fingerprint);
    await this.saveIndex(index);
    return index;
  }

  private async saveIndex(index: RunIndex): Promise<void> {
    try {
      await index.save();
    } catch (error) {
      // A read-only store can still be listed; the index is rebuilt in memory each time.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw error;
    }
  }

  /** Releases the in-memory index. The store stays usable: the next read reopens it. */
  close(): void {
    this.index?.close();
    this.index = undefined;
  }

  private async ensureDirs(): Promise<void> {
    await fs.mkdir(this.runsDir, { recursive: true });
    await fs.mkdir(this.objectsDir, { recursive: true });
    await ensureStoreGitignore(this.root);
  }

  /** Names of the run files (`<id>.json`), skipping temporary and foreign files. */
  private async runFiles(): Promise<string[]> {
    try {
      return (await fs.readdir(this.runsDir)).filter((name) => RUN_FILE.test(name) || (name.endsWith('.json') && !name.startsWith('.')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private async readRunFile(file: string): Promise<ReadOutcome> {
    const full = path.join(this.runsDir, file);
    const relative = `runs/${file}`;
    const problem = (field: string, message: string, size = 0, mtimeMs = 0): ReadOutcome => ({
      ok: false,
      problem: { file: relative, size, mtimeMs, field, message },
    });
    let stat;
    try {
      stat = await fs.stat(full);
    } catch (error) {
      return problem('(file)', `${(error as NodeJS.ErrnoException).code ?? 'EIO'}: ${(error as Error).message}`);
    }
    if (stat.size > MAX_ENVELOPE_BYTES) return problem('(file)', `file is ${stat.size} bytes, larger than any run envelope`, stat.size, stat.mtimeMs);
    if (!RUN_FILE.test(file)) return problem('(file)', 'file name is not <run id>.json', stat.size, stat.mtimeMs);
    let text: string;
    try {
      text = await fs.readFile(full, 'utf8');
    } catch (error) {
      return problem('(file)', (error as Error).message, stat.size, stat.mtimeMs);
    }
    const parsed = parseEnvelopeText(text);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      return problem(first.field, first.message, stat.size, stat.mtimeMs);
    }
    if (`${parsed.envelope.id}.json` !== file) return problem('id', `id ${parsed.envelope.id} does not match the file name`, stat.size, stat.mtimeMs);
    return { ok: true, envelope: parsed.envelope };
  }
}

async function unchanged(file: string, known: IndexedProblem): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    return stat.size === known.size && stat.mtimeMs === known.mtimeMs;
  } catch {
    return false;
  }
}

async function allUnchanged(root: string, problems: Iterable<IndexedProblem>): Promise<boolean> {
  for (const p of problems) if (!(await unchanged(path.join(root, p.file), p))) return false;
  return true;
}

function toStoreProblem(p: IndexedProblem): StoreProblem {
  return { file: p.file, field: p.field, message: p.message };
}
