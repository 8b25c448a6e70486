import type { Database, Statement } from 'better-sqlite3';
import type { DocView } from '../store.js';
import { toOrigin } from '../../domain/provenance.js';
import { parseJson } from '../json.js';
import { injectionOf } from '../memory-mapping.js';

/** A doc's injection verdict, from its record (a step's from its goal). */
const INJECTION = `CASE d.type
          WHEN 'memory' THEN (SELECT injection FROM memories WHERE id = d.entity_id)
          ELSE (SELECT injection FROM goals WHERE id = d.goal_id)
        END`;

interface DocRow {
  doc_id: number;
  type: DocView['type'];
  entity_id: string;
  namespace: string;
  layer: DocView['layer'];
  kind: string;
  goal_id: string | null;
  occurred_at: string;
  hidden: number;
  text: string | null;
  tags: string;
  thread_id: string | null;
  thread_position: number | null;
  origin: string | null;
  injection: string | null;
}

/**
 * What search hits are shown with: each doc's text (a memory's content, a
 * goal's or step's title and description) and its display fields, read in one
 * query for all the hits of a search.
 */
export class DocViews {
  private readonly describe: Statement;
  private readonly texts: Statement;

  constructor(db: Database) {
    const text = `CASE d.type
          WHEN 'memory' THEN (SELECT content FROM memories WHERE id = d.entity_id)
          WHEN 'goal' THEN (SELECT title || COALESCE(char(10) || description, '') FROM goals WHERE id = d.entity_id)
          ELSE (SELECT title || COALESCE(char(10) || detail, '') FROM plan_steps WHERE id = d.entity_id)
        END`;
    this.texts = db.prepare(`SELECT d.doc_id, ${text} AS text FROM search_docs d WHERE d.doc_id IN (SELECT value FROM json_each(?))`);
    this.describe = db.prepare(`SELECT d.doc_id, d.type, d.entity_id, d.namespace, d.layer, d.kind, d.goal_id,
        d.occurred_at, d.hidden, d.thread_id, d.thread_position, d.origin,
        ${text} AS text, ${INJECTION} AS injection,
        (SELECT json_group_array(tag) FROM doc_tags t WHERE t.doc_id = d.doc_id) AS tags
      FROM search_docs d WHERE d.doc_id IN (SELECT value FROM json_each(?))`);
  }

  docTexts(docIds: readonly number[]): Map<number, string> {
    const rows = this.texts.all(JSON.stringify(docIds)) as Array<{ doc_id: number; text: string | null }>;
    return new Map(rows.map((row) => [row.doc_id, row.text ?? '']));
  }

  describeDocs(docIds: readonly number[]): DocView[] {
    const rows = this.describe.all(JSON.stringify(docIds)) as DocRow[];
    const byId = new Map(rows.map((row) => [row.doc_id, row]));
    const views: DocView[] = [];
    for (const id of docIds) {
      const row = byId.get(id);
      if (!row) continue;
      views.push({
        doc_id: row.doc_id,
        type: row.type,
        entity_id: row.entity_id,
        namespace: row.namespace,
        layer: row.layer,
        kind: row.kind,
        text: row.text ?? '',
        tags: parseJson<string[]>(row.tags, []),
        goal_id: row.goal_id,
        occurred_at: row.occurred_at,
        hidden: row.hidden !== 0,
        thread_id: row.thread_id,
        thread_position: row.thread_position,
        origin: toOrigin(row.origin),
        injection: injectionOf(row.injection),
      });
    }
    return views;
  }
}
