import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Principal } from '../../src/domain/principal.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { createLogger } from '../../src/logging.js';
import type { ContextScoring } from '../../src/memory/context-scoring.js';
import { assembleRuntime, type Runtime } from '../../src/runtime.js';
import { createServer } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { VectorIndex, type VectorIndexOptions } from '../../src/vector/vector-index.js';
import { HashEmbedder } from './hash-embedder.js';
import { makeTempDir } from './temp-dir.js';

export interface Linked {
  client: Client;
  runtime: Runtime;
  dir: string;
  index: VectorIndex | null;
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
  index?: Partial<Pick<VectorIndexOptions, 'snapshotEveryChanges' | 'snapshotIntervalMs' | 'exactScanLimit'>>;
  /** Who the client is; default the local principal (admin, every namespace). */
  principal?: Principal;
}

/** A real server over a real SQLite file in a temp dir, linked to an SDK client in memory. */
export async function linkedServer(options: LinkOptions = {}): Promise<Linked> {
  const temp = options.dir ? undefined : makeTempDir();
  const dir = options.dir ?? temp!.dir;
  const logger = createLogger('silent');
  const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 2000, keywordRowBudget: options.keywordRowBudget });
  const embedder = options.embedder === true ? new HashEmbedder() : (options.embedder ?? null);
  let index: VectorIndex | null = null;
  if (embedder) {
    await store.registerModel({ key: embedder.model.key, id: embedder.model.id, dimension: embedder.model.dimension, fingerprint: embedder.model.fingerprint });
    index = await VectorIndex.open({
      dir: join(dir, 'vectors'),
      modelKey: embedder.model.key,
      graph: { dimension: embedder.model.dimension, m: 16, efConstruction: 100, efSearch: 100 },
      log: store.vectorLog,
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
    settings: {
      namespace: options.namespace ?? 'default',
      maxContentBytes: options.maxContentBytes ?? 32 * 1024,
      maxMetadataBytes: options.maxMetadataBytes ?? 16 * 1024,
    },
    fusion: { keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
    ...(options.context ? { context: options.context } : {}),
  });
  const { server } = createServer(runtime, options.principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: options.clientName ?? 'test-client', version: '1.2.3' });
  await client.connect(clientSide);
  return {
    client,
    runtime,
    dir,
    index,
    async close() {
      await client.close();
      await server.close();
      await runtime.close();
      temp?.cleanup();
    },
  };
}
