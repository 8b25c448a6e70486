import type { Database, Statement } from 'better-sqlite3';

/** Who said or wrote memories: per doc from its metadata, and every name seen (migration 0013). */
export class SpeakerRows {
  private readonly speakers: Statement;
  private readonly namesAfter: Statement;

  constructor(db: Database) {
    this.speakers = db.prepare(`SELECT d.doc_id, COALESCE(json_extract(m.metadata, '$.speaker'), json_extract(m.metadata, '$.author')) AS speaker
      FROM search_docs d JOIN memories m ON m.id = d.entity_id
      WHERE d.type = 'memory' AND d.doc_id IN (SELECT value FROM json_each(?))`);
    this.namesAfter = db.prepare('SELECT seq, name FROM speaker_names WHERE seq > ? ORDER BY seq');
  }

  ofDocs(docIds: readonly number[]): Map<number, string> {
    const rows = this.speakers.all(JSON.stringify(docIds)) as Array<{ doc_id: number; speaker: unknown }>;
    // Only a name given as text counts; a number or an object in metadata is not a speaker.
    return new Map(rows.filter((row): row is { doc_id: number; speaker: string } => typeof row.speaker === 'string').map((row) => [row.doc_id, row.speaker]));
  }

  /** Names first seen after position `after`, and the position reached. */
  namesAfterPosition(after: number): { names: string[]; through: number } {
    const rows = this.namesAfter.all(after) as Array<{ seq: number; name: string }>;
    return { names: rows.map((row) => row.name), through: rows.at(-1)?.seq ?? after };
  }
}
