/**
 * The query index: a sql.js (SQLite in wasm) database saved as `index.sqlite`. It is a cache
 * derived from `runs/*.json` and never the source of truth: it is brought up to date on every
 * read by comparing the run files on disk with the ones it has seen, and rebuilt from scratch
 * when it is missing, unreadable or of another layout version. Saves are atomic, so concurrent
 * writers can only lose index updates, never runs, and the next read repairs them.
 */
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { promises as fs } from 'node:fs';
import type { JsonValue, RunEnvelope, RunStatus } from '../envelope';
import { sha256Hex } from '../hash';
import { configurationKey, duplicateKey } from '../stats/repeats';
import { writeFileAtomic } from './atomicFile';

/** Bump when the tables or the summary change: an index of another version is rebuilt. */
const INDEX_VERSION = '2';

/** What a list query returns per run: enough for a list view without reading the envelope. */
export interface RunSummary {
  id: string;
  name: string;
  kind: RunEnvelope['kind'];
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  sourcePath: string;
  group: string | null;
  parent: string | null;
  tags: string[];
  /** Last value of every metric. */
  metrics: Record<string, number>;
  /** For the experiments table and the Runs view's tooltips, without reading the envelope: */
  params: Record<string, JsonValue>;
  paramSources: NonNullable<RunEnvelope['paramSources']>;
  /** sha256 of the code that ran. */
  code: string;
  git: { commit: string; dirty: boolean } | null;
  /** Input files and their sha256: the data version. */
  inputs: Array<{ path: string; sha256: string }>;
  /** Distinct values of the seeds the tracker recorded. */
  seeds: JsonValue[];
  /** Metrics logged as series: lowest and highest value and the number of steps. */
  series: Record<string, { min: number; max: number; steps: number }>;
  /** Runs with the same key repeat one configuration (core/stats/repeats.ts configurationKey), hashed. */
  configKey: string;
  /** Runs with the same key are exact duplicates (repeats.ts duplicateKey), hashed; null for a run with unseeded randomness. */
  duplicateKey: string | null;
}

/** A run file that could not be indexed, remembered so it is not re-read until it changes. */
export interface IndexedProblem {
  file: string;
  size: number;
  mtimeMs: number;
  field: string;
  message: string;
}

export interface RunQuery {
  /** Runs of this source path (relative to the workspace). */
  source?: string;
  tag?: string;
  group?: string;
  status?: RunStatus;
  kind?: RunEnvelope['kind'];
  /** `time` (default) or a metric name; runs without the metric come last. */
  sortBy?: 'time' | { metric: string };
  /** Default: descending (newest or highest first). */
  order?: 'asc' | 'desc';
  limit?: number;
}

let sqlJsPromise: Promise<SqlJsStatic> | undefined;

/** Loads sql.js once per process. Deferred to first use so activation never pays for it. */
export function loadSqlJs(wasmPath: string): Promise<SqlJsStatic> {
  sqlJsPromise ??= (async () => {
    const { default: initSqlJs } = await import('sql.js');
    const wasmBinary = await fs.readFile(wasmPath);
    return initSqlJs({ wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer });
  })();
  sqlJsPromise.catch(() => (sqlJsPromise = undefined));
  return sqlJsPromise;
}

export function summarize(envelope: RunEnvelope): RunSummary {
  return {
    id: envelope.id,
    name: envelope.name,
    kind: envelope.kind,
    status: envelope.status,
    startedAt: envelope.startedAt,
    endedAt: envelope.endedAt,
    durationMs: envelope.durationMs,
    sourcePath: envelope.source.path,
    group: envelope.group,
    parent: envelope.parent,
    tags: envelope.tags,
    metrics: Object.fromEntries(Object.entries(envelope.metrics).map(([name, metric]) => [name, metric.value])),
    params: envelope.params,
    paramSources: envelope.paramSources ?? {},
    code: envelope.source.sha256,
    git: envelope.git ? { commit: envelope.git.commit, dirty: envelope.git.dirty } : null,
    inputs: envelope.inputs.map((f) => ({ path: f.path, sha256: f.sha256 })),
    seeds: [...new Map(envelope.seeds.map((s) => [JSON.stringify(s.value), s.value])).values()],
    series: seriesStats(envelope),
    configKey: sha256Hex(configurationKey(envelope)).slice(0, 16),
    duplicateKey: ((key) => (key === null ? null : sha256Hex(key).slice(0, 16)))(duplicateKey(envelope)),
  };
}

function seriesStats(envelope: RunEnvelope): RunSummary['series'] {
  const out: RunSummary['series'] = {};
  for (const [name, metric] of Object.entries(envelope.metrics)) {
    let min = Infinity;
    let max = -Infinity;
    for (const point of metric.series ?? []) {
      if (!Number.isFinite(point.value)) continue;
      if (point.value < min) min = point.value;
      if (point.value > max) max = point.value;
    }
    if (min <= max) out[name] = { min, max, steps: metric.series!.length };
  }
  return out;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
  id TEXT PRIMARY KEY, file TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
  status TEXT NOT NULL, started_at TEXT NOT NULL, source_path TEXT NOT NULL,
  group_name TEXT, summary TEXT NOT NULL
);
CREATE INDEX runs_source ON runs (source_path);
CREATE INDEX runs_group ON runs (group_name);
CREATE TABLE tags (run_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag));
CREATE INDEX tags_tag ON tags (tag);
CREATE TABLE metrics (run_id TEXT NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, name));
CREATE TABLE problems (file TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, field TEXT NOT NULL, message TEXT NOT NULL);
`;

export class RunIndex {
  private dirty = false;

  private constructor(
    private readonly db: Database,
    private readonly file: string,
    /** Why the index was rebuilt on open (missing, corrupt, old layout), for logs and tests. */
    readonly rebuiltBecause: string | null,
  ) {}

  /** Opens the index file, or starts an empty one when it is missing or unusable. */
  static async open(file: string, wasmPath: string): Promise<RunIndex> {
    const SQL = await loadSqlJs(wasmPath);
    let bytes: Uint8Array | null = null;
    try {
      bytes = await fs.readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (bytes && bytes.length > 0) {
      let db: Database | undefined;
      try {
        db = new SQL.Database(bytes);
        const version = db.exec("SELECT value FROM meta WHERE key = 'version'")[0]?.values[0]?.[0];
        if (version === INDEX_VERSION) return new RunIndex(db, file, null);
        db.close();
        return RunIndex.fresh(SQL, file, `index layout ${String(version)} is not ${INDEX_VERSION}`);
      } catch (error) {
        db?.close();
        return RunIndex.fresh(SQL, file, `index unreadable (${(error as Error).message})`);
      }
    }
    return RunIndex.fresh(SQL, file, bytes ? 'index file empty' : 'index file missing');
  }

  private static fresh(SQL: SqlJsStatic, file: string, reason: string): RunIndex {
    const db = new SQL.Database();
    db.run(SCHEMA);
    db.run("INSERT INTO meta (key, value) VALUES ('version', ?)", [INDEX_VERSION]);
    const index = new RunIndex(db, file, reason);
    index.dirty = true;
    return index;
  }

  /** A fingerprint of the run file names the index was last synced with (null if never). */
  filesFingerprint(): string | null {
    const value = this.column("SELECT value FROM meta WHERE key = 'files'")[0];
    return value === undefined || value === null ? null : String(value);
  }

  setFilesFingerprint(fingerprint: string): void {
    if (this.filesFingerprint() === fingerprint) return;
    this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('files', ?)", [fingerprint]);
    this.dirty = true;
  }

  /** File names (`<id>.json`) of the runs in the index. */
  indexedFiles(): Set<string> {
    return new Set(this.column('SELECT file FROM runs').map(String));
  }

  problems(): IndexedProblem[] {
    return this.rows('SELECT file, size, mtime_ms, field, message FROM problems ORDER BY file').map((r) => ({
      file: String(r[0]),
      size: Number(r[1]),
      mtimeMs: Number(r[2]),
      field: String(r[3]),
      message: String(r[4]),
    }));
  }

  /** Applies a batch of changes in one transaction. */
  update(changes: {
    add?: Array<{ file: string; envelope: RunEnvelope }>;
    removeFiles?: Iterable<string>;
    setProblems?: IndexedProblem[];
    clearProblems?: Iterable<string>;
  }): void {
    const db = this.db;
    db.run('BEGIN');
    try {
      for (const file of changes.removeFiles ?? []) {
        const id = this.column('SELECT id FROM runs WHERE file = ?', [file])[0];
        if (id === undefined) continue;
        db.run('DELETE FROM runs WHERE id = ?', [id]);
        db.run('DELETE FROM tags WHERE run_id = ?', [id]);
        db.run('DELETE FROM metrics WHERE run_id = ?', [id]);
      }
      for (const file of changes.clearProblems ?? []) db.run('DELETE FROM problems WHERE file = ?', [file]);
      const insertRun = db.prepare(
        'INSERT OR REPLACE INTO runs (id, file, name, kind, status, started_at, source_path, group_name, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insertTag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      const insertMetric = db.prepare('INSERT OR REPLACE INTO metrics (run_id, name, value) VALUES (?, ?, ?)');
      try {
        for (const { file, envelope } of changes.add ?? []) {
          const summary = summarize(envelope);
          insertRun.run([envelope.id, file, envelope.name, envelope.kind, envelope.status, envelope.startedAt, envelope.source.path, envelope.group, JSON.stringify(summary)]);
          for (const tag of envelope.tags) insertTag.run([envelope.id, tag]);
          for (const [name, value] of Object.entries(summary.metrics)) insertMetric.run([envelope.id, name, Number.isFinite(value) ? value : null]);
        }
      } finally {
        insertRun.free();
        insertTag.free();
        insertMetric.free();
      }
      for (const p of changes.setProblems ?? []) {
        db.run('INSERT OR REPLACE INTO problems (file, size, mtime_ms, field, message) VALUES (?, ?, ?, ?, ?)', [p.file, p.size, p.mtimeMs, p.field, p.message]);
      }
      db.run('COMMIT');
    } catch (error) {
      db.run('ROLLBACK');
      throw error;
    }
    this.dirty = true;
  }

  list(query: RunQuery = {}): RunSummary[] {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.source !== undefined) {
      where.push('r.source_path = ?');
      params.push(query.source);
    }
    if (query.group !== undefined) {
      where.push('r.group_name = ?');
      params.push(query.group);
    }
    if (query.status !== undefined) {
      where.push('r.status = ?');
      params.push(query.status);
    }
    if (query.kind !== undefined) {
      where.push('r.kind = ?');
      params.push(query.kind);
    }
    if (query.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)');
      params.push(query.tag);
    }
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    let orderBy: string;
    const sortBy = query.sortBy ?? 'time';
    if (sortBy === 'time') {
      // Ids are ULIDs: they sort by creation time and break ties between equal start times.
      orderBy = `r.started_at ${direction}, r.id ${direction}`;
    } else {
      orderBy = `(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.name = ?) ${direction} NULLS LAST, r.id DESC`;
      params.push(sortBy.metric);
    }
    let sql = `SELECT r.summary FROM runs r${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy}`;
    if (query.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(query.limit);
    }
    return this.column(sql, params).map((s) => JSON.parse(String(s)) as RunSummary);
  }

  /** Writes the index if it changed since it was opened or last saved. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, this.db.export());
    this.dirty = false;
  }

  close(): void {
    this.db.close();
  }

  private rows(sql: string, params: SqlValue[] = []): SqlValue[][] {
    const statement = this.db.prepare(sql, params);
    const out: SqlValue[][] = [];
    try {
      while (statement.step()) out.push(statement.get());
    } finally {
      statement.free();
    }
    return out;
  }

  private column(sql: string, params: SqlValue[] = []): SqlValue[] {
    return this.rows(sql, params).map((r) => r[0] ?? null);
  }
}
