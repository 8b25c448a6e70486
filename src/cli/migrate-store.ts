import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { FingerprintSecretError } from '../audit/fingerprint-secret.js';
import type { Config } from '../config.js';
import { isPostgresUrl, redactDatabaseUrl } from '../domain/database-url.js';
import { MemoryError } from '../domain/errors.js';
import { LOCAL_TENANT, TENANT_PATTERN } from '../domain/principal.js';
import { createLogger, type Logger } from '../logging.js';
import { copyAuth, prepareAuth, SecretMismatch, verifyAuth } from '../migration/auth-tables.js';
import { copyTenant, type CopyCounts } from '../migration/copy-tenant.js';
import { PostgresTarget } from '../migration/postgres-target.js';
import { SqliteSource } from '../migration/sqlite-source.js';
import { differences, digestStore, type StoreDigest } from '../migration/verify.js';
import { openStore, sqliteFile, tenantSchema } from '../store/open-store.js';
import { isUnavailable } from '../store/postgres/pool.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';
import { settingsOf } from './setting-groups.js';
import { UsageError } from './usage-error.js';

/** Exit codes: copied and verified identical; could not copy (bad input, the database unreachable or refusing); copied, but the copy differs. */
const IDENTICAL = 0;
const FAILED = 1;
const DIFFERS = 2;

const say = (line: string): void => void process.stderr.write(`pinak-memory: ${line}\n`);

const counted = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** A list in words: "a, b and c". */
const listed = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** A tenant's SQLite store in the data directory. */
interface TenantStore {
  tenant: string;
  dir: string;
}

/**
 * The stores of a data directory: the local tenant's pinak.db in it, and
 * each tenant's in tenants/NAME/. Refuses, in one line, a directory that
 * is missing or unreadable or holds no store.
 */
function storesIn(dataDir: string): TenantStore[] {
  try {
    if (!statSync(dataDir).isDirectory()) throw new UsageError(`${dataDir} is not a directory; --from names the data directory to copy`);
    accessSync(dataDir, constants.R_OK | constants.X_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read the data directory ${dataDir}: ${code === 'ENOENT' ? 'it does not exist' : 'permission denied'} (${code}); check --from`);
  }
  const stores: TenantStore[] = existsSync(sqliteFile(dataDir)) ? [{ tenant: LOCAL_TENANT, dir: dataDir }] : [];
  const tenantsDir = join(dataDir, 'tenants');
  if (existsSync(tenantsDir)) {
    let names: string[];
    try {
      names = readdirSync(tenantsDir).sort();
    } catch (error) {
      throw new UsageError(`cannot read ${tenantsDir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    for (const name of names) {
      const dir = join(tenantsDir, name);
      if (!existsSync(sqliteFile(dir))) continue;
      if (!TENANT_PATTERN.test(name) || name === LOCAL_TENANT) {
        say(`skipping ${dir}: ${JSON.stringify(name)} is not a tenant name`);
        continue;
      }
      stores.push({ tenant: name, dir });
    }
  }
  if (stores.length === 0) throw new UsageError(`no memory store in ${dataDir} (neither pinak.db nor tenants/NAME/pinak.db); check --from`);
  for (const { dir } of stores) {
    try {
      accessSync(sqliteFile(dir), constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new UsageError(`cannot read ${sqliteFile(dir)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return stores;
}

/** A connection of the migration's own (the auth tables, progress, the rows the store interface has no writer for). */
async function connect(config: Config, url: string): Promise<pg.Client> {
  const deadline = Date.now() + config.waitForDatabaseMs;
  for (;;) {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: config.databaseConnectTimeoutMs,
      statement_timeout: config.databaseStatementTimeoutMs,
      application_name: 'pinak-memory migrate-store',
    });
    // A connection lost while idle fails the next query instead of the process.
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      if (!isUnavailable(error) || Date.now() >= deadline) {
        throw new UsageError(`cannot reach PostgreSQL at ${redactDatabaseUrl(url)}: ${(error as Error).message.split('\n')[0]}`);
      }
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  }
}

/**
 * One line for an error the user can act on, and whether running again
 * goes on from there (the database went away or refused a statement);
 * undefined for anything else (a bug: thrown on with its stack).
 */
function problem(error: unknown): { line: string; resumable: boolean } | undefined {
  const e = error as { code?: unknown; severity?: unknown; message?: string; cause?: unknown };
  if (isUnavailable(error) || isUnavailable(e.cause)) return { line: (e.message ?? '').split('\n')[0]!, resumable: true };
  if (error instanceof UsageError || error instanceof MemoryError || error instanceof SecretMismatch || error instanceof FingerprintSecretError) return { line: error.message, resumable: false };
  if (typeof e.severity === 'string' && typeof e.code === 'string') return { line: `PostgreSQL refused a statement: ${e.message ?? ''} (SQLSTATE ${e.code})`, resumable: true };
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) return { line: `cannot read the SQLite store: ${e.message ?? ''} (${e.code})`, resumable: false };
  return undefined;
}

function copiedLine(tenant: string, counts: CopyCounts, vectors: boolean): string {
  const parts = [
    counted(counts.memories, 'memory', 'memories'),
    counted(counts.goals, 'goal', 'goals'),
    counted(counts.outcomes, 'outcome', 'outcomes'),
    ...(vectors ? [counted(counts.vectors, 'vector', 'vectors')] : []),
    counted(counts.idempotencyKeys, 'idempotency key', 'idempotency keys'),
    counted(counts.auditRows, 'audit row', 'audit rows'),
  ];
  return `${tenant}: copied ${listed(parts)}; ${counts.present} already there`;
}

function verifiedLine(digest: StoreDigest): string {
  return listed([
    counted(digest.memories, 'memory', 'memories'),
    `${counted(digest.goals, 'goal', 'goals')} (${counted(digest.steps, 'plan step', 'plan steps')})`,
    counted(digest.outcomes, 'outcome', 'outcomes'),
    counted(digest.auditRows, 'audit row', 'audit rows'),
    counted(digest.idempotencyKeys, 'idempotency key', 'idempotency keys'),
    ...(digest.vectors ? [counted(digest.vectors.count, 'vector', 'vectors')] : []),
    counted(digest.speakerNames, 'speaker name', 'speaker names'),
    `the keyword index (${counted(digest.postings.count, 'posting', 'postings')})`,
  ]);
}

/** Copy one tenant and compare the two ends; true when identical. */
async function migrateTenant(config: Config, client: pg.Client, { tenant, dir }: TenantStore, logger: Logger): Promise<boolean> {
  const { store: source } = await openStore({ ...config, databaseUrl: undefined }, { tenant, dataDir: dir }, { serving: false });
  const sourceTables = SqliteSource.open(sqliteFile(dir), config.busyTimeoutMs);
  try {
    const opened = await openStore(config, { tenant, dataDir: dir }, { serving: false });
    try {
      const targetTables = new PostgresTarget(client, tenantSchema(tenant));
      await targetTables.prepare();
      // Vectors go where the database searches them (pgvector); kept as mere bytes they would never be searched, nor embedded again once it has pgvector.
      const vectors = opened.nearest !== null;
      const ends = { source, sourceTables, target: opened.store, targetTables, vectors };
      const bar = progressBar(tenant);
      const counts = await copyTenant(ends, logger, (done, total) => bar.update(done, total));
      bar.end();
      say(copiedLine(tenant, counts, vectors));
      const before = await digestStore(source, sourceTables, { vectors });
      const after = await digestStore(opened.store, targetTables, { vectors });
      const found = differences(before, after);
      if (!vectors && sourceTables.vectorCounts().size > 0) {
        say(`${tenant}: vectors not copied: the database has no pgvector; once it has, a server started with the embedding model embeds the records again`);
      }
      if (found.length === 0) say(`${tenant}: verified ${verifiedLine(before)}: identical`);
      else say(`${tenant}: the copy differs from the source: ${found.join('; ')}`);
      return found.length === 0;
    } finally {
      await opened.store.close();
    }
  } finally {
    sourceTables.close();
    await source.close();
  }
}

async function migrateStore(config: Config): Promise<number> {
  const url = config.databaseUrl;
  if (url === undefined) throw new UsageError('migrate-store needs the database to copy into: --to postgres://user@host:port/database (or --database-url, PINAK_DATABASE_URL)');
  const stores = storesIn(config.dataDir);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const client = await connect(config, url);
  let tenant: string | null = null;
  try {
    say(`copying ${counted(stores.length, 'tenant', 'tenants')} (${listed(stores.map((s) => s.tenant))}) from ${config.dataDir} into ${redactDatabaseUrl(url)}`);
    await prepareAuth(client, config.dataDir);
    const auth = await copyAuth(client, config.dataDir, config.busyTimeoutMs);
    say(`API keys: ${auth.keys === 0 ? 'none' : `${auth.keys}, ${auth.changed} of them copied or brought up to date`}; audit fingerprint secret: ${
      auth.secret === 'none' ? 'none in the data directory' : auth.secret === 'copied' ? 'copied' : 'already there'}`);
    let identical = true;
    for (const store of stores) {
      tenant = store.tenant;
      if (!(await migrateTenant(config, client, store, logger))) identical = false;
    }
    tenant = null;
    const keys = await verifyAuth(client, config.dataDir, config.busyTimeoutMs);
    const what = `${counted(keys.keys, 'API key', 'API keys')}${keys.secret ? ' and the audit fingerprint secret' : ''}`;
    if (keys.differences.length === 0) say(`verified ${what}: identical`);
    else {
      identical = false;
      say(`the keys differ: ${keys.differences.join('; ')}`);
    }
    if (!identical) say('the copy is not identical to the source (see above); exit code 2');
    return identical ? IDENTICAL : DIFFERS;
  } catch (error) {
    const found = problem(error);
    if (found === undefined) throw error;
    say(`migrate-store stopped${tenant === null ? '' : ` while copying tenant ${tenant}`}: ${found.line}${found.resumable && tenant !== null ? '; run it again to go on from there' : ''}`);
    return FAILED;
  } finally {
    await client.end().catch(() => {});
  }
}

export const migrateStoreCommand: Command = {
  name: 'migrate-store',
  summary: 'copy a data directory\'s SQLite stores (every tenant) and keys into PostgreSQL, and verify the copy',
  usage: 'migrate-store --from DIR --to postgres://… [options]',
  details: `Copies every tenant (the data directory's own store and each one under tenants/) into its schema:
memories, goals with every plan revision, outcomes, the audit trail, idempotency records, speaker names and
vectors (where the database has pgvector), as they are; then the API keys and the audit fingerprint secret
(schema pinak_auth). Stop the servers using the data directory first. Run it again after an interruption: it
goes on where it stopped, copying nothing twice. It ends by comparing both ends, tenant by tenant (counts,
and checksums of the records, the audit trail, the vectors and the keyword index).
Exit code 0: identical; 1: nothing or not all was copied (see the message); 2: copied, but not identical.`,
  operands: { min: 0, max: 0 },
  options: {
    from: { type: 'string', value: 'DIR', help: 'the data directory to copy (default: --data-dir)' },
    to: { type: 'string', value: 'URL', help: 'the PostgreSQL database to copy into, postgres://user@host:port/db (default: --database-url)' },
  },
  // The HNSW settings shape the vector index of each model, made as its vectors are copied.
  settings: [...settingsOf('place', 'locking', 'postgres'), 'hnsw-m', 'hnsw-ef-construction'],
  settingsFrom(settings, options) {
    const out = { ...settings };
    if (options.from !== undefined) {
      if (options.from === '') throw new UsageError('--from needs the data directory to copy');
      if (settings['data-dir'] !== undefined && settings['data-dir'] !== options.from) throw new UsageError('--from and --data-dir name different directories; give one');
      out['data-dir'] = options.from;
    }
    if (options.to !== undefined) {
      if (!isPostgresUrl(options.to)) throw new UsageError(`--to needs a PostgreSQL URL (postgres://user@host:port/database), not ${JSON.stringify(redactDatabaseUrl(options.to))}`);
      if (settings['database-url'] !== undefined && settings['database-url'] !== options.to) throw new UsageError('--to and --database-url name different databases; give one');
      out['database-url'] = options.to;
    }
    return out;
  },
  run: ({ config }) => migrateStore(config),
};
