import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An in-memory PGlite, with pgvector, served over the PostgreSQL wire protocol. */
export interface PgliteServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres: what any PostgreSQL client connects to. */
  url: string;
  /** The database itself, for a test that wants to look without a client. */
  db: PGlite;
  /** Close every connection, stop listening, and close the database; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Start PGlite (PostgreSQL compiled to WebAssembly, in this process, in
 * memory) with the pgvector extension available (`CREATE EXTENSION vector`
 * still has to be run), and serve it on a free port of 127.0.0.1.
 *
 * PGlite is one single-user backend: connections share it, so they see one
 * database (`postgres`), their statements run one at a time, and while one
 * connection is inside a transaction the others' statements wait until it
 * ends (a transaction that waits for another connection never finishes).
 * The socket server takes `maxConnections` connections at once (its own
 * default is 1) and closes any more without a word, which a client sees as
 * "Connection terminated unexpectedly": give it at least a pool's size.
 * Starting takes a few seconds (WebAssembly, then initdb in memory).
 */
export async function startPgliteServer(options: { maxConnections?: number } = {}): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: options.maxConnections ?? 100 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  // host:port, the port being the one the system picked.
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    db,
    stop: () => {
      stopping ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}
