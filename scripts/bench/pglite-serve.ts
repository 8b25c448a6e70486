/**
 * PGlite (PostgreSQL compiled to WebAssembly, in memory) with pgvector,
 * served over the PostgreSQL wire protocol on a free port of 127.0.0.1, in a
 * process of its own so its work is not timed as the benchmark's. Prints one
 * JSON line, {"url": …}, once it listens; stops when its standard input
 * closes or on SIGTERM.
 *
 * PGlite is a single session: every connection shares it, one statement at
 * a time, so a server on it needs --database-pool-size 1.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const db = await PGlite.create({ extensions: { vector } });
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
await server.start();
process.stdout.write(`${JSON.stringify({ url: `postgres://postgres@${server.getServerConn()}/postgres` })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  await db.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
