/** One change the vector index must follow, with the record's current vector (null when it has none of this model). */
export interface IndexChange {
  seq: number;
  doc_id: number;
  op: 'upsert' | 'delete';
  vector: Float32Array | null;
}

/** What the last good snapshot of a model's index holds, and where its file is. */
export interface SnapshotManifest {
  model_key: string;
  file: string;
  seq: number;
  count: number;
  dimension: number;
  bytes: number;
  sha256: string;
  created_at: string;
}

/**
 * The source of truth the vector index follows: the change log and the vectors
 * stored with each record. The SQLite store implements it; the index never
 * writes records, only its own snapshot manifest.
 */
export interface VectorLog {
  /** Changes after `seq`, oldest first, at most `limit`; vectors are of `modelKey` only. */
  changesSince(seq: number, modelKey: string, limit: number): IndexChange[];
  /**
   * Visible records' vectors of `modelKey` with doc ids above `afterDocId`, in
   * doc id order, at most `limit`: the index reads them a page at a time so a
   * large store loads without blocking searches. Bytes are float32, little-endian.
   */
  vectorPage(modelKey: string, afterDocId: number, limit: number): Array<{ doc_id: number; vector: Uint8Array }>;
  lastSeq(): number;
  readManifest(modelKey: string): SnapshotManifest | undefined;
  writeManifest(manifest: SnapshotManifest): void;
  /** Take or renew a named lease shared by every process on the database; false while another live process holds it. */
  acquireLease(name: string, ttlMs: number): boolean;
  releaseLease(name: string): void;
}
