/** PGlite with pgvector over the wire protocol, shared with the scripts (benchmarks, evaluation). */
export { startPgliteServer, type PgliteServer } from '../../scripts/lib/pglite-server.js';
