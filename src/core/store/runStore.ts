/**
 * The run store, a folder (`.nb2prod/` by default):
 *   runs/<id>.json     one immutable envelope per run: the source of truth
 *   objects/<sha256>   content-addressed snapshots (code, profiles)
 *   index.jsonl        a derived index of run summaries (see runIndex.ts)
 *   .gitignore         what a team commits and what not (storeGitignore.ts)
 * Any number of processes may write at once: every file appears atomically and run files are
 * never overwritten. The index is never written by writers; readers bring it up to date.
 *
 * When a reader trusts the index (docs/architecture.md, "The store"):
 * - The set of run files: the index records the stamp (mtime, ctime, inode) of `runs/` under
 *   which it last listed the folder. Creating, deleting or renaming a file (a new run, an
 *   editor's save-by-rename, a git checkout) changes that stamp; then every file is checked
 *   (a sweep: one stat each, and a read for new or changed ones).
 * - A file changed in place (same name, same inode) shows only in its own size, mtime and
 *   ctime. A list checks those for every run it returns and re-reads the ones that changed, so a
 *   run is never shown older than its file. In the editor a file watcher reports such changes.
 * Stamps taken less than RACY_MS after the change they record cannot tell a second change in
 * the same clock tick; such entries are checked again next time.
 */
import { promises as fsp } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Envelope from '../envelope';
import type { EnvelopeParseResult, RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { sha256Hex } from '../hash';
import { processAlive } from '../processes';
import { exists, writeFileAtomic, writeFileExclusive } from './atomicFile';
import { ensureStoreGitignore } from './storeGitignore';
import {
  type DirStamp,
  type FileStamp,
  IndexCorrupt,
  IndexFile,
  type IndexedProblem,
  type IndexedRun,
  type IndexRecord,
  IndexState,
  type RunQuery,
  type RunSummary,
  indexedRun,
  runQuery,
  sameDir,
  sameStamp,
  summarize,
} from './runIndex';

/** Envelopes are small; a larger "run file" is not one of ours and is not read into memory. */
const MAX_ENVELOPE_BYTES = 32 * 1024 * 1024;
const RUN_FILE = /^[0-9A-HJKMNP-TV-Z]{26}\.json$/;
/** Coarsest timestamp granularity of the file systems a store may live on (FAT: 2 s). */
export const RACY_MS = 2000;
/** Records appended to the index before it is rewritten sorted. */
const MAX_TAIL_RECORDS = 256;
/** Temporary files older than this belong to a process that died; younger ones may be in use. */
const STALE_TEMP_MS = 10 * 60 * 1000;
/** Files read between two yields to the event loop (the editor's host stays responsive). */
const BATCH = 256;

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
  /**
   * A long-lived reader whose caller reports changed run files (a file watcher, see
   * `noteChanged`): the index is kept in memory, and the runs a list returns are not checked
   * one by one. Default: each list reads the index file and checks the runs it returns.
   */
  watched?: boolean;
}

type ReadOutcome = { ok: true; entry: IndexedRun; envelope: RunEnvelope } | { ok: false; entry: IndexedProblem };

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type ParseEnvelope = (text: string) => EnvelopeParseResult;
let envelopeModule: Promise<typeof Envelope> | undefined;
/**
 * zod and the envelope schema, loaded on first use: building the schemas costs about as much as
 * listing from a trusted index, which needs neither.
 */
const envelopeLib = () => (envelopeModule ??= import('../envelope'));

export class RunStore {
  readonly runsDir: string;
  readonly objectsDir: string;
  readonly indexFile: string;
  /** The file hash stat cache of tracked runs (a cache: losing it only costs re-hashing). */
  readonly hashCacheFile: string;
  /** Why the index was last rebuilt, for the log; null when it was reused. */
  lastIndexRebuild: string | null = null;
  /** Watched mode: the index in memory, and the files reported changed since the last list. */
  private memory: IndexState | null = null;
  private noted: Set<string> | 'all' = new Set();

  constructor(
    readonly root: string,
    private readonly options: RunStoreOptions = {},
  ) {
    this.runsDir = path.join(root, 'runs');
    this.objectsDir = path.join(root, 'objects');
    this.indexFile = path.join(root, 'index.jsonl');
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
    const { envelopeSchema } = await envelopeLib();
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
    return fsp.readFile(path.join(this.objectsDir, hash));
  }

  /** Reads one run by full id, straight from its file (no index needed). */
  async getRun(id: string): Promise<RunEnvelope> {
    if (!RUN_FILE.test(`${id}.json`)) throw new UserError('run-not-found', `No run ${id} in ${this.root}.`);
    const outcome = this.readRunFile(`${id}.json`, Date.now(), (await envelopeLib()).parseEnvelopeText);
    if (!outcome.ok) {
      if (outcome.entry.field === '(file)' && outcome.entry.message.startsWith('ENOENT')) {
        throw new UserError('run-not-found', `No run ${id} in ${this.root}.`);
      }
      throw new UserError('invalid-envelope', `runs/${id}.json is not a valid run: ${outcome.entry.field}: ${outcome.entry.message}`);
    }
    return outcome.envelope;
  }

  /**
   * Turns what a user typed into a run id: a full id, a unique prefix of one (case-insensitive),
   * or `latest`.
   */
  async resolveRunId(reference: string): Promise<string> {
    const ids = this.readRunsDir()
      .filter((f) => RUN_FILE.test(f))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
    if (reference === 'latest') {
      const newest = ids.at(-1);
      if (!newest) throw new UserError('run-not-found', `There are no runs in ${this.root}.`);
      return newest;
    }
    const wanted = reference.toUpperCase();
    if (RUN_FILE.test(`${wanted}.json`) && ids.includes(wanted)) return wanted;
    const matches = wanted ? ids.filter((id) => id.startsWith(wanted)) : [];
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new UserError('run-not-found', `No run matches "${reference}" in ${this.root}. List runs with: nb2prod runs`);
    throw new UserError('run-ambiguous', `"${reference}" matches ${matches.length} runs (${matches.slice(0, 3).join(', ')}…); type more of the id.`);
  }

  /**
   * Reports run files that changed (paths or names), for watched stores; with no argument,
   * every file is checked at the next list (what an explicit refresh asks for).
   */
  noteChanged(files?: Iterable<string>): void {
    if (files === undefined) {
      this.noted = 'all';
      return;
    }
    if (this.noted === 'all') return;
    for (const file of files) this.noted.add(path.basename(file));
  }

  /** Lists runs through the index, first bringing it up to date with the run files. */
  async list(query: RunQuery = {}): Promise<ListResult> {
    if (!(await this.exists())) return { runs: [], problems: [] };
    await this.recoverInterrupted();
    const now = Date.now();
    const dir = this.statRunsDir();
    if (!dir) return { runs: [], problems: [] };
    if (this.options.watched && this.memory) return this.listWatched(query, dir, now);

    const opened = IndexFile.open(this.indexFile);
    let file = opened.index;
    this.lastIndexRebuild = 'reason' in opened ? opened.reason : null;
    try {
      let state: IndexState | null = null;
      let swept = false;
      const records: IndexRecord[] = [];
      const apply = (changes: IndexRecord[]) => {
        if (!changes.length) return;
        state ??= this.materialize(file);
        for (const r of changes) state.apply(r);
        records.push(...changes);
      };
      const sweep = async () => {
        state ??= this.materialize(file);
        const changes = await this.sweep(state, dir, now);
        for (const r of changes) state.apply(r);
        records.push(...changes);
        swept = true;
      };
      if (this.options.watched || !file || !sameDir(file.dir(), dir)) await sweep();
      else apply(await this.recheck(file.problems(), now));

      let result: IndexedRun[];
      const checked = new Set<string>();
      for (;;) {
        try {
          result = runQuery(state ?? file!, query);
        } catch (error) {
          if (!(error instanceof IndexCorrupt) || state) throw error;
          // A damaged line of the index: drop it and rebuild from the run files.
          this.lastIndexRebuild = `index unusable (${error.message})`;
          file?.close();
          file = null;
          await sweep();
          continue;
        }
        if (swept) break;
        // Every run shown is checked against its file (one stat each; a read if it changed), once.
        const unchecked = result.filter((e) => !checked.has(e.file));
        for (const e of unchecked) checked.add(e.file);
        const changes = await this.recheck(unchecked, now);
        if (!changes.length) break;
        apply(changes);
      }
      const problems = state ? [...(state as IndexState).problems.values()] : file!.problems();
      // A folder stamp taken within its clock tick is kept in memory only (a watched store's
      // watcher covers it); other processes must not trust it.
      const lasting = records.filter((r) => r.kind !== 'dir' || !isRacy(r.dir, now));
      const fileDir = state && (state as IndexState).dir && !isRacy((state as IndexState).dir!, now) ? (state as IndexState).dir : null;
      this.persist(file, state, lasting, 'writable' in opened ? opened.writable : true, fileDir);
      if (this.options.watched) {
        this.memory = state;
        this.noted = new Set();
      }
      return { runs: result.map((e) => e.run), problems: problems.sort(byFile).map(toStoreProblem) };
    } finally {
      file?.close();
    }
  }

  /** A watched store's list: the index in memory, brought up to date with the folder and the reported files. */
  private async listWatched(query: RunQuery, dir: DirStamp, now: number): Promise<ListResult> {
    const state = this.memory!;
    const noted = this.noted;
    this.noted = new Set();
    if (noted === 'all') {
      for (const r of await this.sweep(state, dir, now)) state.apply(r);
    } else {
      const changes: IndexRecord[] = [];
      if (!sameDir(state.dir, dir)) changes.push(...(await this.sweep(state, dir, now, { namesOnly: true })));
      const suspects = [...noted]
        .map((name) => state.runs.get(name) ?? state.problems.get(name) ?? name)
        .concat([...state.problems.values()]);
      changes.push(...(await this.recheck(suspects, now)));
      for (const r of changes) state.apply(r);
    }
    const result = runQuery(state, query);
    return { runs: result.map((e) => e.run), problems: [...state.problems.values()].sort(byFile).map(toStoreProblem) };
  }

  private materialize(file: IndexFile | null): IndexState {
    if (!file) return new IndexState();
    try {
      return file.materialize();
    } catch (error) {
      if (!(error instanceof IndexCorrupt)) throw error;
      this.lastIndexRebuild = `index unusable (${error.message})`;
      return new IndexState();
    }
  }

  /**
   * Checks every file in `runs/` against the index and returns what changed: new files are read,
   * files whose stamp changed are read again, vanished ones dropped. `namesOnly`: only the set
   * of names is compared (a watcher reports changes to existing files).
   */
  private async sweep(state: IndexState, dir: DirStamp, now: number, options: { namesOnly?: boolean } = {}): Promise<IndexRecord[]> {
    const names = this.readRunsDir({ withTemporary: true });
    const changes: IndexRecord[] = [];
    const seen = new Set<string>();
    let sinceYield = 0;
    let parse: ParseEnvelope | undefined;
    for (const name of names) {
      if (name.startsWith('.')) {
        if (name.endsWith('.tmp')) removeIfStale(path.join(this.runsDir, name), now);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      seen.add(name);
      const known = state.runs.get(name) ?? state.problems.get(name);
      if (known && options.namesOnly) continue;
      if (known && !known.racy) {
        const stamp = statStamp(path.join(this.runsDir, name));
        if (stamp && sameStamp(stamp, known.stamp)) continue;
      }
      parse ??= (await envelopeLib()).parseEnvelopeText;
      changes.push(recordOf(this.readRunFile(name, now, parse)));
      if (++sinceYield >= BATCH) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    for (const name of [...state.runs.keys(), ...state.problems.keys()]) if (!seen.has(name)) changes.push({ kind: 'gone', file: name });
    // The folder's stamp is trusted from now on only if no change can hide in its clock tick,
    // or if a watcher will report such a change anyway.
    if ((!isRacy(dir, now) || this.options.watched) && !sameDir(state.dir, dir)) changes.push({ kind: 'dir', dir });
    return changes;
  }

  /**
   * Checks indexed entries (or bare file names) against their files and returns records for
   * those that changed or were racy: re-read, or gone.
   */
  private async recheck(entries: Iterable<IndexedRun | IndexedProblem | string>, now: number): Promise<IndexRecord[]> {
    const changes: IndexRecord[] = [];
    let parse: ParseEnvelope | undefined;
    for (const entry of entries) {
      const name = typeof entry === 'string' ? entry : entry.file;
      if (!name.endsWith('.json') || name.startsWith('.') || name.includes('/')) continue;
      const full = path.join(this.runsDir, name);
      const stamp = statStamp(full);
      if (typeof entry !== 'string' && stamp && !entry.racy && sameStamp(stamp, entry.stamp)) continue;
      if (!stamp && !lstatStamp(full)) {
        if (typeof entry !== 'string') changes.push({ kind: 'gone', file: name });
        continue;
      }
      parse ??= (await envelopeLib()).parseEnvelopeText;
      changes.push(recordOf(this.readRunFile(name, now, parse)));
    }
    return changes;
  }

  /** Writes what changed: appended to the generation read, or the whole index rewritten. */
  private persist(file: IndexFile | null, state: IndexState | null, records: IndexRecord[], writable: boolean, dir: DirStamp | null): void {
    if (!writable) return;
    if (file && !records.length) return;
    if (file && file.tailLength + records.length <= MAX_TAIL_RECORDS && file.append(records)) return;
    const whole = state ?? this.materialize(file);
    try {
      writeFileAtomicSync(this.indexFile, whole.serialize(dir));
    } catch {
      // A cache: a store that cannot be written (read-only, full, the name taken by a folder)
      // is listed all the same, from the run files.
      return;
    }
    this.removeStaleIndexFiles(Date.now());
  }

  /** The old sql.js index and temporary files of index writers that died. */
  private removeStaleIndexFiles(now: number): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(this.root, name);
      if (name === 'index.sqlite') rmFile(full);
      else if (/^\.index\.(jsonl|sqlite)\..*\.tmp$/.test(name)) removeIfStale(full, now);
    }
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
      names = await fsp.readdir(runningDir);
    } catch {
      return [];
    }
    const recovered: string[] = [];
    const now = Date.now();
    for (const name of names) {
      const file = path.join(runningDir, name);
      if (name.startsWith('.')) {
        if (name.endsWith('.tmp')) removeIfStale(file, now);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let marker: { pid?: unknown; pidStartTime?: unknown; host?: unknown; envelope?: unknown };
      try {
        marker = JSON.parse(await fsp.readFile(file, 'utf8')) as typeof marker;
      } catch {
        continue; // being written right now, or damaged: look again next time
      }
      if (marker === null || typeof marker !== 'object') continue;
      const pid = marker.pid;
      if (marker.host !== os.hostname() || typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) continue;
      if (processAlive(pid, typeof marker.pidStartTime === 'string' ? marker.pidStartTime : null)) continue;
      const parsed = (await envelopeLib()).envelopeSchema.safeParse(marker.envelope);
      if (!parsed.success) continue;
      try {
        await this.writeRun(parsed.data);
        recovered.push(parsed.data.id);
      } catch (error) {
        if (!(error instanceof UserError && error.code === 'run-exists')) throw error;
      }
      await fsp.rm(file, { force: true });
      await fsp.rm(path.join(this.root, 'tmp', parsed.data.id), { recursive: true, force: true });
    }
    return recovered;
  }

  /** Releases the in-memory index. The store stays usable: the next read reloads it. */
  close(): void {
    this.memory = null;
    this.noted = new Set();
  }

  private async ensureDirs(): Promise<void> {
    await fsp.mkdir(this.runsDir, { recursive: true });
    await fsp.mkdir(this.objectsDir, { recursive: true });
    await ensureStoreGitignore(this.root);
  }

  /** The stamp of `runs/`; null when it does not exist. */
  private statRunsDir(): DirStamp | null {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.runsDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw storeError(this.runsDir, error);
    }
    if (!stat.isDirectory()) throw new UserError('store-unreadable', `${this.runsDir} is not a folder, so the run store cannot be read: move that file away.`);
    return { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
  }

  /** Names in `runs/`: run files and other `.json` files (reported as problems); temporary ones on request. */
  private readRunsDir(options: { withTemporary?: boolean } = {}): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.runsDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return [];
      if (code === 'ENOTDIR') throw new UserError('store-unreadable', `${this.runsDir} is not a folder, so the run store cannot be read: move that file away.`);
      throw storeError(this.runsDir, error);
    }
    return names.filter((n) => (options.withTemporary && n.startsWith('.') ? n.endsWith('.tmp') : n.endsWith('.json') && !n.startsWith('.')));
  }

  /** Reads and validates one file of `runs/`; never throws (a file that cannot be read is a problem). */
  private readRunFile(file: string, now: number, parseEnvelopeText: ParseEnvelope): ReadOutcome {
    const full = path.join(this.runsDir, file);
    const problem = (field: string, message: string, stamp: FileStamp | null): ReadOutcome => ({
      ok: false,
      entry: {
        file,
        stamp: stamp ?? lstatStamp(full) ?? { size: -1, mtimeMs: 0, ctimeMs: 0 },
        // Without a stamp of its own the entry is checked again every time.
        racy: stamp ? isRacy(stamp, now) : true,
        field,
        message,
      },
    });
    let fd: number;
    try {
      // Non-blocking: a FIFO named like a run file must not hang the listing.
      fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (error) {
      return problem('(file)', errnoMessage(error), null);
    }
    let text: string;
    let stamp: FileStamp;
    try {
      const stat = fs.fstatSync(fd);
      stamp = { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
      if (!stat.isFile()) return problem('(file)', stat.isDirectory() ? 'a folder, not a run file' : 'not a regular file', stamp);
      if (stat.size > MAX_ENVELOPE_BYTES) return problem('(file)', `file is ${stat.size} bytes, larger than any run envelope`, stamp);
      if (!RUN_FILE.test(file)) return problem('(file)', 'file name is not <run id>.json', stamp);
      // Straight into a string (Node reads UTF-8 files without an intermediate Buffer).
      text = fs.readFileSync(fd, 'utf8');
    } catch (error) {
      return problem('(file)', errnoMessage(error), null);
    } finally {
      fs.closeSync(fd);
    }
    const parsed = parseEnvelopeText(text);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      return problem(first.field, first.message, stamp);
    }
    if (`${parsed.envelope.id}.json` !== file) return problem('id', `id ${parsed.envelope.id} does not match the file name`, stamp);
    return { ok: true, envelope: parsed.envelope, entry: indexedRun(file, stamp, isRacy(stamp, now), summarize(parsed.envelope)) };
  }
}

function recordOf(outcome: ReadOutcome): IndexRecord {
  return outcome.ok ? { kind: 'run', entry: outcome.entry } : { kind: 'problem', entry: outcome.entry };
}

function isRacy(stamp: { mtimeMs: number; ctimeMs: number }, now: number): boolean {
  return now - Math.max(stamp.mtimeMs, stamp.ctimeMs) < RACY_MS;
}

function statStamp(file: string): FileStamp | null {
  try {
    const s = fs.statSync(file);
    return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  } catch {
    return null;
  }
}

function lstatStamp(file: string): FileStamp | null {
  try {
    const s = fs.lstatSync(file);
    return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  } catch {
    return null;
  }
}

function removeIfStale(file: string, now: number): void {
  try {
    if (now - fs.lstatSync(file).mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { force: true });
  } catch {
    // Gone already, or not ours to remove: nothing to do.
  }
}

function rmFile(file: string): void {
  try {
    if (fs.lstatSync(file).isFile()) fs.rmSync(file, { force: true });
  } catch {
    // Nothing to do.
  }
}

/** Writes a cache file atomically, without flushing it to disk (losing it only costs a rebuild). */
function writeFileAtomicSync(target: string, data: string): void {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`);
  try {
    fs.writeFileSync(temp, data, { flag: 'wx' });
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function errnoMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? error);
}

function storeError(file: string, error: unknown): UserError {
  return new UserError('store-unreadable', `Cannot read the run store at ${file}: ${errnoMessage(error)}`);
}

function byFile(a: IndexedProblem, b: IndexedProblem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

function toStoreProblem(p: IndexedProblem): StoreProblem {
  return { file: `runs/${p.file}`, field: p.field, message: p.message };
}
