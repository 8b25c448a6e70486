import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Principal } from '../../src/domain/principal.js';
import type { Config } from '../../src/config.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { createLogger } from '../../src/logging.js';
import type { ContextScoring } from '../../src/memory/context-scoring.js';
import type { FusionSettings } from '../../src/memory/context.js';
import { assembleRuntime, type Runtime } from '../../src/runtime.js';
import { createServer } from '../../src/server.js';
import type { VectorLog } from '../../src/domain/vector-log.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { MemoryStore, NearestVectors } from '../../src/store/store.js';
import { startPgliteServer, type PgliteServer } from './pglite-server.js';
import { VectorIndex, type VectorIndexOptions } from '../../src/vector/vector-index.js';
import { HashEmbedder } from './hash-embedder.js';
import { makeTempDir } from './temp-dir.js';
import { freshDatabase } from './postgres.js';

export interface Linked {
  client: Client;
  runtime: Runtime;
  dir: string;
  index: VectorIndex | null;
  /** A second client over the same runtime, as another principal; closed with the server. */
  clientAs(principal: Principal): Promise<Client>;
  close(): Promise<void>;
}

export interface LinkOptions {
  dir?: string;
  namespace?: string;
  maxContentBytes?: number;
  maxMetadataBytes?: number;
  clientName?: string;
  /** An embedder for the vector leg; true for the deterministic HashEmbedder; default none (keyword only). */
  embedder?: Embedder | true;
  /** Rows a keyword query may score (see term-budget.ts); default the store's own. */
  keywordRowBudget?: number;
  /** Conversation-aware scoring; default the server's own (DEFAULT_CONTEXT). */
  context?: ContextScoring;
  /** How hybrid search joins its legs; default equal weights by rank (k 60). */
  fusion?: FusionSettings;
  index?: Partial<Pick<VectorIndexOptions, 'snapshotEveryChanges' | 'snapshotIntervalMs' | 'exactScanLimit'>>;
  /** Namespaces that handle secrets otherwise than by redacting them (--secrets-by-namespace). */
  secretsByNamespace?: Array<[string, 'redact' | 'refuse' | 'allow']>;
  /** Who the client is; default the local principal (admin, every namespace). */
  principal?: Principal;
  /** What writes do with text the injection detector flags (--injections, --injections-own, --injections-by-namespace). */
  injections?: Pick<Config, 'injections' | 'injectionsOwn' | 'injectionsByNamespace'>;
  /** The tenant the runtime serves (for tenant/namespace entries). */
  tenant?: string;
}

/**
 * The backend the tool suite runs on: SQLite, or PostgreSQL when
 * PINAK_TEST_BACKEND=postgres: a fresh database on the test server per
 * server, or, for a test with vectors, a schema of its own on PGlite with
 * pgvector (the Debian server has no pgvector), one PGlite per test worker.
 */
export const TEST_BACKEND = process.env.PINAK_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

let pglite: Promise<PgliteServer> | null = null;
let schemas = 0;

interface TestStore {
  store: MemoryStore;
  vectorLog: VectorLog | null;
  nearest: NearestVectors | null;
  drop(): Promise<void>;
}

async function openTestStore(dir: string, options: LinkOptions): Promise<TestStore> {
  if (TEST_BACKEND === 'postgres') {
    const pool = { size: 4, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 60_000 };
    if (options.embedder) {
      pglite ??= startPgliteServer();
      const server = await pglite;
      // One connection: PGlite runs every client in one session, so two open transactions would mix.
      // Calls queue for it, on a busy machine for seconds: the connect timeout also bounds that wait.
      const store = await PostgresStore.open({ url: server.url, schema: `test_${process.pid}_${++schemas}`, ...pool, size: 1, connectTimeoutMs: 120_000 });
      return { store, vectorLog: null, nearest: store, drop: async () => {} };
    }
    const database = await freshDatabase();
    const store = await PostgresStore.open({ url: database.url, schema: 'pinak', ...pool });
    return { store, vectorLog: null, nearest: null, drop: () => database.drop() };
  }
  const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 2000, keywordRowBudget: options.keywordRowBudget });
  return { store, vectorLog: store.vectorLog, nearest: null, drop: async () => {} };
}

/** A real server over a real store (a SQLite file in a temp dir, or a PostgreSQL database: TEST_BACKEND), linked to an SDK client in memory. */
export async function linkedServer(options: LinkOptions = {}): Promise<Linked> {
  const temp = options.dir ? undefined : makeTempDir();
  const dir = options.dir ?? temp!.dir;
  const logger = createLogger('silent');
  const { store, vectorLog, nearest, drop } = await openTestStore(dir, options);
  const embedder = options.embedder === true ? new HashEmbedder() : (options.embedder ?? null);
  let index: VectorIndex | null = null;
  if (embedder && nearest) {
    await store.registerModel({ key: embedder.model.key, id: embedder.model.id, dimension: embedder.model.dimension, fingerprint: embedder.model.fingerprint });
  } else if (embedder && vectorLog) {
    await store.registerModel({ key: embedder.model.key, id: embedder.model.id, dimension: embedder.model.dimension, fingerprint: embedder.model.fingerprint });
    index = await VectorIndex.open({
      dir: join(dir, 'vectors'),
      modelKey: embedder.model.key,
      graph: { dimension: embedder.model.dimension, m: 16, efConstruction: 100, efSearch: 100 },
      log: vectorLog,
      logger,
      snapshotEveryChanges: options.index?.snapshotEveryChanges ?? 1_000_000,
      snapshotIntervalMs: options.index?.snapshotIntervalMs ?? 3_600_000,
      exactScanLimit: options.index?.exactScanLimit ?? 20_000,
    });
  }
  const runtime = assembleRuntime({
    store,
    logger,
    embedder,
    vectorIndex: index,
    databaseVectors: nearest,
    settings: {
      namespace: options.namespace ?? 'default',
      maxContentBytes: options.maxContentBytes ?? 32 * 1024,
      maxMetadataBytes: options.maxMetadataBytes ?? 16 * 1024,
      ...(options.secretsByNamespace ? { secretsByNamespace: options.secretsByNamespace } : {}),
      ...options.injections,
    },
    ...(options.tenant ? { tenant: options.tenant } : {}),
    fusion: options.fusion ?? { keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
    ...(options.context ? { context: options.context } : {}),
  });
  const { server } = createServer(runtime, options.principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: options.clientName ?? 'test-client', version: '1.2.3' });
  await client.connect(clientSide);
  const others: Array<{ client: Client; server: typeof server }> = [];
  return {
    client,
    runtime,
    dir,
    index,
    async clientAs(principal: Principal) {
      const other = createServer(runtime, principal).server;
      const [otherClientSide, otherServerSide] = InMemoryTransport.createLinkedPair();
      await other.connect(otherServerSide);
      const otherClient = new Client({ name: `as-${principal.id}`, version: '1' });
      await otherClient.connect(otherClientSide);
      others.push({ client: otherClient, server: other });
      return otherClient;
    },
    async close() {
      for (const other of others.splice(0)) {
        await other.client.close();
        await other.server.close();
      }
      await client.close();
      await server.close();
      await runtime.close();
      await drop();
      temp?.cleanup();
    },
  };
}
