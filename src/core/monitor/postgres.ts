/**
 * The audit log and the feedback read from (and labels written to) PostgreSQL, when the service
 * writes there (AUDIT_DSN): the tables `<table>` and `<table>_feedback` of service/sink.py,
 * `(id, written_at, time, request_id, entry jsonb)`. Read with `COPY (SELECT entry::text …) TO
 * STDOUT`, streamed: rows arrive as JSON text lines, so the same line parsing and engine as for
 * the files apply, in the same bounded memory. COPY's text format escapes a backslash as two;
 * jsonb's text never holds a raw tab or newline, so that is the only escape to undo.
 */
import type { Client } from 'pg';
import { UserError } from '../errors';
import type { LineProblems } from './lines';

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,40}$/;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

export function redactDsn(dsn: string): string {
  return dsn.replace(/(:\/\/[^:/@]*):[^@]*@/, '$1:***@').replace(/(password=)\S+/, '$1***');
}

async function connect(dsn: string): Promise<Client> {
  const pg = await import('pg');
  const client = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new UserError('source-not-found', `Cannot connect to ${redactDsn(dsn)}: ${(error as Error).message}`);
  }
  return client;
}

function checkTable(table: string): void {
  if (!TABLE_NAME.test(table)) throw new UserError('invalid-config', `audit.table "${table}" must be a lower-case SQL name (letters, digits, _)`);
}

/**
 * Streams `entry` of every row of `table` (in id order; from `since` on when given) to
 * `onEntry`. Returns the rows and bytes read; a missing table is zero rows.
 */
export async function readPostgresEntries(
  dsn: string,
  table: string,
  since: number | null,
  onEntry: (entry: Record<string, unknown>) => void,
  problems: LineProblems,
  onBytes?: (bytes: number) => void,
): Promise<{ lines: number; bytes: number }> {
  checkTable(table);
  const { to } = await import('pg-copy-streams');
  const client = await connect(dsn);
  try {
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
    if (!exists.rows[0]?.present) return { lines: 0, bytes: 0 };
    const where = since === null ? '' : ` WHERE time >= '${new Date(since).toISOString()}'::timestamptz`;
    const stream = client.query(to(`COPY (SELECT entry::text FROM ${table}${where} ORDER BY id) TO STDOUT`));
    let carry: Buffer | null = null;
    let lines = 0;
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      onBytes?.(chunk.length);
      const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = null;
      let start = 0;
      for (;;) {
        const end = data.indexOf(NEWLINE, start);
        if (end < 0) break;
        lines++;
        parseRow(data, start, end, `${table} row ${lines}`, onEntry, problems);
        start = end + 1;
      }
      if (start < data.length) carry = Buffer.from(data.subarray(start));
    }
    return { lines, bytes };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('source-not-found', `Reading ${table} from ${redactDsn(dsn)} failed: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function parseRow(data: Buffer, start: number, end: number, where: string, onEntry: (entry: Record<string, unknown>) => void, problems: LineProblems): void {
  let text = data.toString('utf8', start, end);
  if (data.subarray(start, end).includes(BACKSLASH)) text = text.replace(/\\\\/g, '\\');
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      onEntry(value as Record<string, unknown>);
      return;
    }
  } catch {
    // counted below
  }
  problems.invalid++;
  if (problems.examples.length < 5) problems.examples.push(where);
}

/** Appends feedback entries to `<table>_feedback` in one INSERT (the table must exist: the service creates it). */
export async function insertFeedback(dsn: string, table: string, entries: Array<Record<string, unknown>>): Promise<void> {
  checkTable(table);
  if (!entries.length) return;
  const client = await connect(dsn);
  try {
    const feedback = `${table}_feedback`;
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [feedback]);
    if (!exists.rows[0]?.present) throw new UserError('source-not-found', `${redactDsn(dsn)} has no table ${feedback}: start the service with AUDIT_DSN once, it creates it.`);
    await client.query(
      `INSERT INTO ${feedback} (time, request_id, entry) SELECT t::timestamptz, r, e::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, r, e)`,
      [entries.map((e) => String(e.time)), entries.map((e) => String(e.request_id)), entries.map((e) => JSON.stringify(e))],
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
