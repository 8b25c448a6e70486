import pg from 'pg';
import { isUnavailable } from '../../domain/database-errors.js';
import { DatabaseUnavailable } from '../../domain/errors.js';

export { isUnavailable };

export interface PoolSettings {
  url: string;
  /** The schema every query of this pool reads and writes (a tenant's). */
  schema: string;
  size: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** int8 columns (doc ids, sequence numbers, counts) as numbers: they stay far below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** A schema name quoted for SQL. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The tables of a tenant's schema (migrations.ts). */
const TABLES = [
  'search_docs', 'doc_tags', 'doc_terms', 'thread_windows', 'window_terms', 'fts_totals', 'memories', 'goals', 'plan_revisions', 'plan_steps',
  'outcomes', 'speaker_names', 'audit_log', 'audit_sessions', 'idempotency_keys', 'leases', 'embedding_models', 'doc_vectors', 'lesson_evidence', 'store_settings',
];
const TABLE_REFERENCE = new RegExp(`\\b(FROM|JOIN|INTO|UPDATE|LOCK TABLE)(\\s+)(${TABLES.join('|')})\\b`, 'gi');

/**
 * Statements as the store writes them (table names bare, as in SQLite) with
 * every table they read or write named in the tenant's schema. The search
 * path alone is not enough: a server that multiplexes clients onto one
 * session (PGlite's socket server) shares one search path among them.
 */
export function inSchema(sql: string, schema: string): string {
  return sql.replace(TABLE_REFERENCE, (_, keyword: string, space: string, table: string) => `${keyword}${space}${quoteIdent(schema)}.${table}`);
}

/** A client class whose every statement is put in the schema (statements rewritten once each, then remembered). */
function schemaClient(schema: string): new () => pg.ClientBase {
  const rewritten = new Map<string, string>();
  const place = (sql: string): string => {
    let out = rewritten.get(sql);
    if (out === undefined) {
      out = inSchema(sql, schema);
      if (rewritten.size < 10_000) rewritten.set(sql, out);
    }
    return out;
  };
  class SchemaClient extends pg.Client {
    constructor(...args: ConstructorParameters<typeof pg.Client>) {
      super(...args);
      // The pool listens for errors only while a connection is idle. One checked out (in a
      // transaction, between two statements) that the server ends (a restart: 57P01) would
      // otherwise emit an unhandled 'error' and crash the process. Its next statement fails
      // instead ("not queryable": the retryable DatabaseUnavailable), and the pool drops it on release.
      this.on('error', () => {});
    }

    // pg's query() has many overloads; only the statement text is changed, everything else passes through.
    override query(...args: unknown[]): never {
      const [first] = args;
      if (typeof first === 'string') args[0] = place(first);
      else if (first !== null && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') {
        args[0] = { ...(first as object), text: place((first as { text: string }).text) };
      }
      return (pg.Client.prototype.query as (...a: unknown[]) => never).apply(this, args);
    }
  }
  return SchemaClient as unknown as new () => pg.ClientBase;
}

/**
 * A pool whose connections all work in one schema (set at connect time, so
 * the queries name tables as the SQLite backend does), with the configured
 * timeouts: a statement or a transaction left idle cannot hold a connection
 * or its locks for long.
 */
export function openPool(settings: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.size,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
    // public: where pgvector's types and operators live, for every tenant.
    options: `-c search_path=${quoteIdent(settings.schema)},public`,
    application_name: 'pinak-memory',
    types,
    Client: schemaClient(settings.schema),
  });
  // An idle connection the server closed (a restart): the pool drops it and opens another when asked.
  pool.on('error', () => {});
  return pool;
}

/** SQLSTATEs after which the whole transaction can simply run again: nothing of it was committed. */
const RETRYABLE = new Set(['40001', '40P01']);

const databaseUnavailable = (): DatabaseUnavailable => new DatabaseUnavailable();

/** Run one query; a lost database becomes the retryable tool error. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(pool: pg.Pool | pg.PoolClient, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await pool.query<R>(sql, params)).rows;
  } catch (error) {
    throw isUnavailable(error) ? withCause(databaseUnavailable(), error) : error;
  }
}

const withCause = (error: Error, cause: unknown): Error => Object.assign(error, { cause });

const MAX_ATTEMPTS = 5;

/**
 * Run `work` in one transaction on one connection, committing at the end.
 * A serialization failure or deadlock rolls it back and runs it again (it
 * committed nothing); a lost connection fails fast with the retryable tool
 * error. Any other error rolls back and is thrown as it is.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw isUnavailable(error) ? withCause(databaseUnavailable(), error) : error;
    }
    let broken = false;
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isUnavailable(error)) {
        broken = true;
        throw withCause(databaseUnavailable(), error);
      }
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      const code = (error as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
