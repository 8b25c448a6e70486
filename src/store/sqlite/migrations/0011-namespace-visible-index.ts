import type { Migration } from './migration.js';

/**
 * The visible doc ids of a namespace, from the index alone. The vector leg
 * lists them to scan a small namespace exactly; through the (namespace,
 * created_at) index each one also needed its table row for `hidden`
 * (a namespace of 2,700 of a million: 3.5 → 1.2 ms).
 */
export const migration0011: Migration = {
  version: 11,
  name: 'namespace visibility index',
  up(db) {
    db.exec('CREATE INDEX search_docs_ns_visible ON search_docs (namespace, hidden)');
  },
};
