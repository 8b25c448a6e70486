import type { Database, Statement } from 'better-sqlite3';
import { keywordTextKey, type KeywordText } from '../store.js';
import { ftsBody } from '../search-doc.js';
import type { FtsRowChanges } from './doc-lengths.js';

/** The store_settings row naming the version that wrote the keyword text. */
export const VERSION_SETTING = 'keyword_text_version';

/** Docs read per step while rewriting (the whole rewrite is one transaction). */
const PAGE = 5_000;

/**
 * Writes `search_fts` again from nothing (see MemoryStore.rewriteKeywordIndex).
 *
 * FTS5's 'delete-all' empties the contentless table and its statistics:
 * deleting or rewriting rows one by one never lowers its row count or token
 * total, so a table rewritten that way would score as if it held every row
 * twice. Every row written is told to `changes` as rewritten, so that this
 * process's row lengths and the other processes' (through the change log)
 * are read again.
 */
export class KeywordIndexRewrite {
  private readonly markQuery: Statement;
  private readonly page: Statement;
  private readonly deleteAll: Statement;
  private readonly insert: Statement;
  private readonly versionQuery: Statement;
  private readonly setVersion: Statement;
  private readonly adoptVersion: Statement;

  constructor(
    db: Database,
    private readonly changes: FtsRowChanges,
  ) {
    this.markQuery = db
      .prepare(
        `SELECT json_array(
           (SELECT coalesce(max(doc_id), 0) FROM search_docs),
           (SELECT count(*) FROM search_docs WHERE held = 0),
           (SELECT count(*) FROM search_docs WHERE hidden = 1),
           (SELECT coalesce(max(updated_at), '') FROM goals),
           (SELECT coalesce(max(updated_at), '') FROM memories))`,
      )
      .pluck();
    this.page = db.prepare('SELECT doc_id, type, entity_id FROM search_docs WHERE held = 0 AND doc_id > ? ORDER BY doc_id LIMIT ?');
    this.deleteAll = db.prepare("INSERT INTO search_fts (search_fts) VALUES ('delete-all')");
    this.insert = db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)');
    this.versionQuery = db.prepare(`SELECT value FROM store_settings WHERE name = '${VERSION_SETTING}'`).pluck();
    this.setVersion = db.prepare(`INSERT INTO store_settings (name, value) VALUES ('${VERSION_SETTING}', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
    this.adoptVersion = db.prepare(`INSERT OR IGNORE INTO store_settings (name, value) SELECT '${VERSION_SETTING}', ? WHERE NOT EXISTS (SELECT 1 FROM search_docs)`);
  }

  /** See MemoryStore.keywordTextVersion. */
  version(): number | null {
    const value = this.versionQuery.get() as string | undefined;
    return value === undefined ? null : Number(value);
  }

  /** Inside the write transaction: see MemoryStore.adoptKeywordTextVersion. */
  adopt(version: number): void {
    this.adoptVersion.run(String(version));
  }

  mark(): string {
    return this.markQuery.get() as string;
  }

  /** Inside the write transaction: null when the mark moved, else the rows written. Throws (the caller rolls back) on a record without a text. */
  rewrite(texts: ReadonlyMap<string, KeywordText>, mark: string, version: number): number | null {
    if (this.mark() !== mark) return null;
    this.deleteAll.run();
    this.setVersion.run(String(version));
    let written = 0;
    for (let after = 0; ; ) {
      const docs = this.page.all(after, PAGE) as Array<{ doc_id: number; type: 'memory' | 'goal' | 'step'; entity_id: string }>;
      for (const doc of docs) {
        const text = texts.get(keywordTextKey(doc.type, doc.entity_id));
        if (text === undefined) throw new Error(`no keyword text was given for ${doc.type} ${doc.entity_id}`);
        this.insert.run(doc.doc_id, ftsBody(text));
        this.changes.forget(doc.doc_id);
        written += 1;
      }
      if (docs.length < PAGE) return written;
      after = docs[docs.length - 1]!.doc_id;
    }
  }
}
