import type { EmbeddedVector, IndexedText } from '../../domain/indexed-text.js';
import type { TermCounts } from '../fts-tokenizer.js';
import { ftsBody, vectorBytes, type NewDoc } from '../search-doc.js';
import { lockThread, type WriteTx } from './write-tx.js';

/** A vector as pgvector's text input: [v1,v2,…] (each float32 printed exactly). */
export const vectorLiteral = (values: Float32Array): string => `[${Array.prototype.join.call(values, ',')}]`;

/** Where a doc sits in its thread, if it is in one. */
export interface ThreadPlace {
  doc_id: number;
  namespace: string;
  thread_id: string;
  position: number;
}

/**
 * The search layer's rows: one `search_docs` row (filter columns and length),
 * its tags, its terms and its vector, written together in the caller's
 * transaction; and the thread windows, kept as the SQLite backend keeps
 * window_fts (thread-windows.ts there): a change at one position rewrites
 * the windows of that position and of the neighbours on either side.
 */
export class DocIndex {
  constructor(
    /** Whether doc_vectors has pgvector's \`embedding\` column (see ensureVectorColumn). */
    private readonly vectorColumn = false,
  ) {}

  async add(tx: WriteTx, doc: NewDoc, indexed: IndexedText, counts?: TermCounts): Promise<number> {
    const held = doc.held === true;
    const terms = counts ?? tx.count([ftsBody(indexed)])[0]!;
    const [row] = await tx.query<{ doc_id: number }>(
      `INSERT INTO search_docs (type, entity_id, namespace, layer, kind, goal_id, occurred_at, created_at, hidden, thread_id, thread_position, tokens, origin, held, flagged)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING doc_id`,
      [doc.type, doc.entity_id, doc.namespace, doc.layer, doc.kind, doc.goal_id, doc.occurred_at, doc.created_at, doc.hidden, doc.thread_id ?? null, doc.thread_position ?? null, held ? 0 : terms.tokens, doc.origin, held, doc.flagged],
    );
    const docId = row!.doc_id;
    await this.setTags(tx, docId, doc.tags);
    // Held for review: nothing to find it by (no terms, no vector) until approved.
    if (held) return docId;
    await this.setTerms(tx, docId, terms);
    if (indexed.vector) await this.setVector(tx, docId, indexed.vector);
    return docId;
  }

  /**
   * Several docs at once, in order: the rows add() writes for each, in a few
   * statements whatever their number (a bulk remember would otherwise cost
   * five round trips a record). Returns their doc ids, in the same order.
   */
  async addMany(tx: WriteTx, docs: readonly NewDoc[], indexed: readonly IndexedText[], counts: readonly TermCounts[]): Promise<number[]> {
    if (docs.length === 0) return [];
    const inserted = await tx.query<{ doc_id: number; entity_id: string }>(
      `INSERT INTO search_docs (type, entity_id, namespace, layer, kind, goal_id, occurred_at, created_at, hidden, thread_id, thread_position, tokens, origin, flagged)
       SELECT type, entity_id, namespace, layer, kind, goal_id, occurred_at, created_at, hidden, thread_id, thread_position, tokens, origin, flagged
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[], $11::float8[], $12::int[], $13::text[], $14::boolean[])
         WITH ORDINALITY AS x(type, entity_id, namespace, layer, kind, goal_id, occurred_at, created_at, hidden, thread_id, thread_position, tokens, origin, flagged, ord)
       ORDER BY ord
       RETURNING doc_id, entity_id`,
      [
        docs.map((d) => d.type), docs.map((d) => d.entity_id), docs.map((d) => d.namespace), docs.map((d) => d.layer), docs.map((d) => d.kind),
        docs.map((d) => d.goal_id), docs.map((d) => d.occurred_at), docs.map((d) => d.created_at), docs.map((d) => d.hidden),
        docs.map((d) => d.thread_id ?? null), docs.map((d) => d.thread_position ?? null), counts.map((c) => c.tokens), docs.map((d) => d.origin), docs.map((d) => d.flagged),
      ],
    );
    const idOf = new Map(inserted.map((row) => [row.entity_id, row.doc_id]));
    const docIds = docs.map((d) => idOf.get(d.entity_id)!);
    const tags: { tag: string[]; doc: number[] } = { tag: [], doc: [] };
    const terms: { term: string[]; doc: number[]; tf: number[]; tokens: number[] } = { term: [], doc: [], tf: [], tokens: [] };
    docs.forEach((doc, i) => {
      for (const tag of new Set(doc.tags)) {
        tags.tag.push(tag);
        tags.doc.push(docIds[i]!);
      }
      tx.counted('docs', 1, counts[i]!.tokens);
      for (const [term, tf] of counts[i]!.terms) {
        terms.term.push(term);
        terms.doc.push(docIds[i]!);
        terms.tf.push(tf);
        terms.tokens.push(counts[i]!.tokens);
      }
    });
    await tx.query(
      `WITH tags AS (
         INSERT INTO doc_tags (tag, doc_id) SELECT tag, doc_id FROM unnest($1::text[], $2::bigint[]) AS x(tag, doc_id) ON CONFLICT DO NOTHING
       )
       INSERT INTO doc_terms (term, doc_id, tf, tokens)
       SELECT term, doc_id, tf, tokens FROM unnest($3::text[], $4::bigint[], $5::int[], $6::int[]) AS x(term, doc_id, tf, tokens)`,
      [tags.tag, tags.doc, terms.term, terms.doc, terms.tf, terms.tokens],
    );
    const withVector = docIds.flatMap((docId, i) => {
      const vector = indexed[i]!.vector;
      return vector ? [{ docId, vector }] : [];
    });
    if (withVector.length > 0) await this.setVectors(tx, withVector);
    return docIds;
  }

  /**
   * A held record approved: its terms and vector written now, and shown
   * (unless `hidden`: superseded meanwhile). False when it was not held.
   */
  async release(tx: WriteTx, docId: number, indexed: IndexedText, hidden: boolean): Promise<boolean> {
    const terms = tx.count([ftsBody(indexed)])[0]!;
    const released = await tx.query('UPDATE search_docs SET held = FALSE, hidden = $1, tokens = $2 WHERE doc_id = $3 AND held RETURNING doc_id', [hidden, terms.tokens, docId]);
    if (released.length === 0) return false;
    await this.setTerms(tx, docId, terms);
    if (indexed.vector) await this.setVector(tx, docId, indexed.vector);
    return true;
  }

  /** Replace the indexed text, vector and tags of an existing record. */
  async reindex(tx: WriteTx, docId: number, indexed: IndexedText, tags: readonly string[], hidden: boolean, kind: string): Promise<void> {
    const terms = tx.count([ftsBody(indexed)])[0]!;
    if ((await tx.query('SELECT 1 FROM search_docs WHERE doc_id = $1', [docId])).length === 0) return;
    await tx.query('DELETE FROM doc_terms WHERE doc_id = $1', [docId]);
    await tx.query('DELETE FROM doc_tags WHERE doc_id = $1', [docId]);
    await tx.query('UPDATE search_docs SET kind = $1, hidden = $2, tokens = $3 WHERE doc_id = $4', [kind, hidden, terms.tokens, docId]);
    await this.setTags(tx, docId, tags);
    await this.setTerms(tx, docId, terms);
    if (indexed.vector) await this.setVector(tx, docId, indexed.vector);
  }

  private async setTags(tx: WriteTx, docId: number, tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await tx.query('INSERT INTO doc_tags (tag, doc_id) SELECT DISTINCT unnest($1::text[]), $2::bigint ON CONFLICT DO NOTHING', [[...tags], docId]);
  }

  private async setTerms(tx: WriteTx, docId: number, counts: TermCounts): Promise<void> {
    tx.counted('docs', 1, counts.tokens);
    if (counts.terms.size === 0) return;
    // Each posting carries the doc's length (search_docs.tokens, written with it).
    await tx.query('INSERT INTO doc_terms (term, doc_id, tf, tokens) SELECT t, $3::bigint, f, $4::int FROM unnest($1::text[], $2::int[]) AS x(t, f)', [
      [...counts.terms.keys()],
      [...counts.terms.values()],
      docId,
      counts.tokens,
    ]);
  }

  /** Store a record's vector: in pgvector's column where there is one (a model's empty vector, which pgvector cannot hold, as bytes). */
  async setVector(tx: WriteTx, docId: number, vector: EmbeddedVector): Promise<void> {
    if (!this.vectorColumn) {
      await tx.query(
        `INSERT INTO doc_vectors (doc_id, model_key, vector) VALUES ($1, $2, $3)
         ON CONFLICT (doc_id) DO UPDATE SET model_key = excluded.model_key, vector = excluded.vector`,
        [docId, vector.modelKey, vectorBytes(vector.values)],
      );
      return;
    }
    const inColumn = vector.values.length > 0;
    await tx.query(
      `INSERT INTO doc_vectors (doc_id, model_key, vector, embedding) VALUES ($1, $2, $3, $4::vector)
       ON CONFLICT (doc_id) DO UPDATE SET model_key = excluded.model_key, vector = excluded.vector, embedding = excluded.embedding`,
      [docId, vector.modelKey, inColumn ? null : vectorBytes(vector.values), inColumn ? vectorLiteral(vector.values) : null],
    );
  }

  /** Several docs' vectors in one statement, as setVector stores each. */
  private async setVectors(tx: WriteTx, rows: ReadonlyArray<{ docId: number; vector: EmbeddedVector }>): Promise<void> {
    const docIds = rows.map((row) => row.docId);
    const modelKeys = rows.map((row) => row.vector.modelKey);
    if (!this.vectorColumn) {
      await tx.query(
        `INSERT INTO doc_vectors (doc_id, model_key, vector) SELECT doc_id, model_key, vector FROM unnest($1::bigint[], $2::text[], $3::bytea[]) AS x(doc_id, model_key, vector)
         ON CONFLICT (doc_id) DO UPDATE SET model_key = excluded.model_key, vector = excluded.vector`,
        [docIds, modelKeys, rows.map((row) => vectorBytes(row.vector.values))],
      );
      return;
    }
    const inColumn = rows.map((row) => row.vector.values.length > 0);
    await tx.query(
      `INSERT INTO doc_vectors (doc_id, model_key, vector, embedding)
       SELECT doc_id, model_key, vector, embedding::vector FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[]) AS x(doc_id, model_key, vector, embedding)
       ON CONFLICT (doc_id) DO UPDATE SET model_key = excluded.model_key, vector = excluded.vector, embedding = excluded.embedding`,
      [docIds, modelKeys, rows.map((row, i) => (inColumn[i] ? null : vectorBytes(row.vector.values))), rows.map((row, i) => (inColumn[i] ? vectorLiteral(row.vector.values) : null))],
    );
  }

  /** Hide a record from search (superseded, replaced plan) or show it again. */
  async setHidden(tx: WriteTx, docId: number, hidden: boolean): Promise<void> {
    await tx.query('UPDATE search_docs SET hidden = $1 WHERE doc_id = $2 AND hidden <> $1', [hidden, docId]);
  }

  /** Remove a doc with its terms, tags, vector and window (call after its entity row is gone). */
  async remove(tx: WriteTx, docId: number): Promise<void> {
    await this.removeWindow(tx, docId);
    await tx.query('DELETE FROM search_docs WHERE doc_id = $1', [docId]);
  }

  async locate(tx: WriteTx, docId: number): Promise<ThreadPlace | undefined> {
    const [row] = await tx.query<{ namespace: string; thread_id: string | null; thread_position: number | null }>(
      'SELECT namespace, thread_id, thread_position FROM search_docs WHERE doc_id = $1',
      [docId],
    );
    if (!row || row.thread_id === null || row.thread_position === null) return undefined;
    return { doc_id: docId, namespace: row.namespace, thread_id: row.thread_id, position: row.thread_position };
  }

  /** Rewrite the windows touched by a change to the doc at this place. */
  async refreshWindows(tx: WriteTx, place: ThreadPlace): Promise<void> {
    await lockThread(tx, place.namespace, place.thread_id);
    const member = 'SELECT d.doc_id, m.content FROM search_docs d JOIN memories m ON m.doc_id = d.doc_id';
    const before = (
      await tx.query<{ doc_id: number; content: string }>(
        `${member} WHERE d.namespace = $1 AND d.thread_id = $2 AND d.thread_position < $3 AND NOT d.hidden ORDER BY d.thread_position DESC LIMIT 2`,
        [place.namespace, place.thread_id, place.position],
      )
    ).reverse();
    const after = await tx.query<{ doc_id: number; content: string }>(
      `${member} WHERE d.namespace = $1 AND d.thread_id = $2 AND d.thread_position > $3 AND NOT d.hidden ORDER BY d.thread_position ASC LIMIT 2`,
      [place.namespace, place.thread_id, place.position],
    );
    const self = await tx.query<{ doc_id: number; content: string }>(`${member} WHERE d.doc_id = $1 AND NOT d.hidden`, [place.doc_id]);
    await this.removeWindow(tx, place.doc_id);
    const run = [...before, ...self, ...after];
    // The outermost members only provide text: their own windows reach beyond the change.
    for (let i = 0; i < run.length; i += 1) {
      const centre = run[i]!;
      const touched = (i > 0 || before.length < 2) && (i < run.length - 1 || after.length < 2);
      if (!touched) continue;
      if (centre.doc_id !== place.doc_id) await this.removeWindow(tx, centre.doc_id);
      const body = [run[i - 1]?.content, centre.content, run[i + 1]?.content].filter((text) => text !== undefined).join('\n');
      const counts = tx.count([body])[0]!;
      await tx.query('INSERT INTO thread_windows (doc_id, before_doc, after_doc, tokens) VALUES ($1, $2, $3, $4)', [
        centre.doc_id,
        run[i - 1]?.doc_id ?? null,
        run[i + 1]?.doc_id ?? null,
        counts.tokens,
      ]);
      tx.counted('windows', 1, counts.tokens);
      if (counts.terms.size > 0) {
        await tx.query('INSERT INTO window_terms (term, doc_id, tf) SELECT t, $3::bigint, f FROM unnest($1::text[], $2::int[]) AS x(t, f)', [
          [...counts.terms.keys()],
          [...counts.terms.values()],
          centre.doc_id,
        ]);
      }
    }
  }

  private async removeWindow(tx: WriteTx, docId: number): Promise<void> {
    await tx.query('DELETE FROM thread_windows WHERE doc_id = $1', [docId]);
  }
}
