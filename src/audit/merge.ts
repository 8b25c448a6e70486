import type { AuditRow } from '../store/store.js';

/** Two audit trails, each in time order, as one in time order (streamed). */
export async function* mergeByTime(left: AsyncIterable<AuditRow>, right: AsyncIterable<AuditRow>): AsyncIterable<AuditRow> {
  const a = left[Symbol.asyncIterator]();
  const b = right[Symbol.asyncIterator]();
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.at <= y.value.at)) {
      yield x.value as AuditRow;
      x = await a.next();
    } else {
      yield y.value;
      y = await b.next();
    }
  }
}

/** Only the rows of one tenant, streamed. */
export async function* ofTenant(rows: AsyncIterable<AuditRow>, tenant: string): AsyncIterable<AuditRow> {
  for await (const row of rows) if (row.tenant === tenant) yield row;
}

/** No rows. */
export async function* noRows(): AsyncIterable<AuditRow> {}
