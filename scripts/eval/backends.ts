import pg from 'pg';
import { startPgliteServer } from '../lib/pglite-server.js';

export const BACKENDS = ['sqlite', 'postgres', 'pglite'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Where an evaluation's server keeps its memories: the settings to start it with, and how to clean up. */
export interface EvalStore {
  /** Environment for the server (PINAK_*). */
  env: Record<string, string>;
  /** Searches the backend can serve: PostgreSQL without pgvector has no vector leg. */
  keywordOnly: boolean;
  note: string;
  close(): Promise<void>;
}

/**
 * A fresh store for one evaluation run:
 * - sqlite: the server's own file in its temp data directory (nothing to do);
 * - postgres: a new database on the server PINAK_DATABASE_URL names (its
 *   user may create databases), dropped at the end; keyword search only
 *   unless that server has pgvector;
 * - pglite: PostgreSQL with pgvector in this process (PGlite, served over the
 *   wire protocol): every mode, slowly (not production numbers).
 */
export async function openEvalStore(backend: Backend, adminUrl: string | undefined): Promise<EvalStore> {
  if (backend === 'sqlite') return { env: {}, keywordOnly: false, note: 'SQLite', close: async () => {} };
  if (backend === 'pglite') {
    const server = await startPgliteServer();
    return { env: { PINAK_DATABASE_URL: server.url, PINAK_DATABASE_POOL_SIZE: '1' }, keywordOnly: false, note: 'PGlite with pgvector (single-session WASM PostgreSQL)', close: () => server.stop() };
  }
  if (!adminUrl) throw new Error('--backend postgres needs PINAK_DATABASE_URL: a PostgreSQL server whose user may create databases');
  const name = `pinak_eval_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const { rows } = await admin.query<{ vector: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS vector");
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const keywordOnly = !rows[0]?.vector;
    return {
      env: { PINAK_DATABASE_URL: url.toString(), ...(keywordOnly ? { PINAK_EMBED_MODEL: 'none' } : {}) },
      keywordOnly,
      note: `PostgreSQL (${keywordOnly ? 'no pgvector: keyword search only' : 'with pgvector'})`,
      close: async () => {
        const drop = new pg.Client({ connectionString: adminUrl });
        await drop.connect();
        try {
          await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await drop.end();
        }
      },
    };
  } finally {
    await admin.end();
  }
}
