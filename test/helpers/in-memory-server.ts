import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createLogger } from '../../src/logging.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createServer } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeTempDir } from './temp-dir.js';

export interface Linked {
  client: Client;
  runtime: Runtime;
  dir: string;
  close(): Promise<void>;
}

export interface LinkOptions {
  dir?: string;
  namespace?: string;
  maxContentBytes?: number;
  maxMetadataBytes?: number;
  clientName?: string;
}

/** A real server over a real SQLite file in a temp dir, linked to an SDK client in memory. */
export async function linkedServer(options: LinkOptions = {}): Promise<Linked> {
  const temp = options.dir ? undefined : makeTempDir();
  const dir = options.dir ?? temp!.dir;
  const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 2000 });
  const runtime = createRuntime(
    store,
    {
      namespace: options.namespace ?? 'default',
      maxContentBytes: options.maxContentBytes ?? 32 * 1024,
      maxMetadataBytes: options.maxMetadataBytes ?? 16 * 1024,
    },
    createLogger('silent'),
  );
  const { server } = createServer(runtime);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: options.clientName ?? 'test-client', version: '1.2.3' });
  await client.connect(clientSide);
  return {
    client,
    runtime,
    dir,
    async close() {
      await client.close();
      await server.close();
      await runtime.close();
      temp?.cleanup();
    },
  };
}
