import type { AuditRow } from '../store/store.js';

/** Two audit trails, each in time order, as one in time order (streamed). */
export function* mergeByTime(left: Iterable<AuditRow>, right: Iterable<AuditRow>): Iterable<AuditRow> {
  const a = left[Symbol.iterator]();
  const b = right[Symbol.iterator]();
  let x = a.next();
  let y = b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.at <= y.value.at)) {
      yield x.value as AuditRow;
      x = a.next();
    } else {
      yield y.value;
      y = b.next();
    }
  }
}
