import type { Database, Statement } from 'better-sqlite3';
import type { EmbeddedVector } from '../../domain/indexed-text.js';
import type { IndexChange, SnapshotManifest, VectorLog } from '../../domain/vector-log.js';
import type { LeaseRows } from './lease-rows.js';
import type { SearchDocs } from './search-docs.js';

const asFloat32 = (blob: Buffer): Float32Array => {
  // Copy: the buffer better-sqlite3 returns may not be 4-byte aligned.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
};

/** Vectors, the index change log, snapshot manifests and model identities. */
export class VectorRows implements VectorLog {
  private readonly changes: Statement;
  private readonly visibleVectors: Statement;
  private readonly someVectors: Statement;
  private readonly maxSeq: Statement;
  private readonly manifestGet: Statement;
  private readonly manifestPut: Statement;
  private readonly withoutVector: Statement;
  private readonly hiddenOf: Statement;
  private readonly docCount: Statement;
  private readonly embeddedCount: Statement;
  private readonly insertModel: Statement;

  constructor(
    private readonly db: Database,
    private readonly docs: SearchDocs,
    private readonly leases: LeaseRows,
  ) {
    this.changes = db.prepare(`SELECT c.seq, c.doc_id, c.op,
        CASE WHEN v.model_key = ? THEN v.vector END AS vector
      FROM index_changes c LEFT JOIN doc_vectors v ON v.doc_id = c.doc_id
      WHERE c.seq > ? ORDER BY c.seq LIMIT ?`);
    this.visibleVectors = db.prepare(`SELECT v.doc_id, v.vector FROM doc_vectors v
      JOIN search_docs d ON d.doc_id = v.doc_id WHERE v.doc_id > ? AND v.model_key = ? AND d.hidden = 0
      ORDER BY v.doc_id LIMIT ?`);
    this.someVectors = db.prepare('SELECT doc_id, vector FROM doc_vectors WHERE doc_id IN (SELECT value FROM json_each(?)) AND model_key = ?');
    this.maxSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM index_changes');
    this.manifestGet = db.prepare('SELECT * FROM vector_snapshots WHERE model_key = ?');
    this.manifestPut = db.prepare(`INSERT INTO vector_snapshots (model_key, file, seq, count, dimension, bytes, sha256, created_at)
      VALUES (@model_key, @file, @seq, @count, @dimension, @bytes, @sha256, @created_at)
      ON CONFLICT (model_key) DO UPDATE SET file = excluded.file, seq = excluded.seq, count = excluded.count,
        dimension = excluded.dimension, bytes = excluded.bytes, sha256 = excluded.sha256, created_at = excluded.created_at`);
    this.withoutVector = db.prepare(`SELECT d.doc_id,
        CASE d.type
          WHEN 'memory' THEN (SELECT m.content || COALESCE(char(10) || g.title, '') FROM memories m
                              LEFT JOIN goals g ON g.id = m.goal_id WHERE m.id = d.entity_id)
          WHEN 'goal' THEN (SELECT title || COALESCE(char(10) || description, '') FROM goals WHERE id = d.entity_id)
          ELSE (SELECT title || COALESCE(char(10) || detail, '') FROM plan_steps WHERE id = d.entity_id)
        END AS text
      FROM search_docs d LEFT JOIN doc_vectors v ON v.doc_id = d.doc_id
      WHERE d.doc_id > ? AND (v.doc_id IS NULL OR v.model_key != ?) AND d.held = 0
      ORDER BY d.doc_id LIMIT ?`);
    this.hiddenOf = db.prepare('SELECT hidden FROM search_docs WHERE doc_id = ?');
    // Counters kept by triggers (migration 0010): counting rows took tens of ms at a million.
    // Memories held for review are embedded when approved, not before: not counted as records to embed.
    this.docCount = db.prepare("SELECT COALESCE((SELECT n FROM row_counts WHERE name = 'search_docs'), 0) - (SELECT COUNT(*) FROM memories WHERE held = 1) AS n");
    this.embeddedCount = db.prepare('SELECT COALESCE((SELECT n FROM vector_counts WHERE model_key = ?), 0) AS n');
    this.insertModel = db.prepare(
      'INSERT OR IGNORE INTO embedding_models (model_key, model_id, dimension, fingerprint, first_used) VALUES (?, ?, ?, ?, ?)',
    );
  }

  changesSince(seq: number, modelKey: string, limit: number): IndexChange[] {
    const rows = this.changes.all(modelKey, seq, limit) as Array<{ seq: number; doc_id: number; op: IndexChange['op']; vector: Buffer | null }>;
    return rows.map((row) => ({ ...row, vector: row.vector ? asFloat32(row.vector) : null }));
  }

  vectorPage(modelKey: string, afterDocId: number, limit: number): Array<{ doc_id: number; vector: Uint8Array }> {
    return this.visibleVectors.all(afterDocId, modelKey, limit) as Array<{ doc_id: number; vector: Buffer }>;
  }

  vectorsOf(docIds: readonly number[], modelKey: string): Array<{ doc_id: number; vector: Uint8Array }> {
    return this.someVectors.all(JSON.stringify(docIds), modelKey) as Array<{ doc_id: number; vector: Buffer }>;
  }

  lastSeq(): number {
    return (this.maxSeq.get() as { seq: number }).seq;
  }

  readManifest(modelKey: string): SnapshotManifest | undefined {
    return this.manifestGet.get(modelKey) as SnapshotManifest | undefined;
  }

  writeManifest(manifest: SnapshotManifest): void {
    this.manifestPut.run(manifest);
  }

  acquireLease(name: string, ttlMs: number): boolean {
    return this.leases.acquire(name, ttlMs);
  }

  releaseLease(name: string): void {
    this.leases.releaseLease(name);
  }

  docsWithoutVector(modelKey: string, limit: number, afterDocId = 0): Array<{ doc_id: number; text: string }> {
    return this.withoutVector.all(afterDocId, modelKey, limit) as Array<{ doc_id: number; text: string }>;
  }

  setVectors(vectors: ReadonlyArray<{ doc_id: number; vector: EmbeddedVector }>): void {
    this.db.transaction(() => {
      for (const { doc_id, vector } of vectors) {
        const row = this.hiddenOf.get(doc_id) as { hidden: number } | undefined;
        if (row) this.docs.setVector(doc_id, vector, row.hidden === 0);
      }
    }).immediate();
  }

  embeddingProgress(modelKey: string): { docs: number; embedded: number } {
    const docs = (this.docCount.get() as { n: number }).n;
    const embedded = (this.embeddedCount.get(modelKey) as { n: number }).n;
    return { docs, embedded };
  }

  registerModel(model: { key: string; id: string; dimension: number; fingerprint: string }): boolean {
    const result = this.insertModel.run(model.key, model.id, model.dimension, model.fingerprint, new Date().toISOString());
    return result.changes > 0;
  }
}
