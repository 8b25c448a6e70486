/** What the replica benchmark computes from its calls around a killed replica (times in ms, from performance.now()). */

/** One finished call of one session. */
export interface Outcome {
  session: number;
  started: number;
  ended: number;
  ok: boolean;
}

export interface Recovery {
  /** From the kill until every session had finished a successful call started at or after the kill; null if some never did. */
  recovery_ms: number | null;
  /** The same over the sessions that were served again (null if none was). */
  recovery_ms_of_recovered_sessions: number | null;
  sessions_recovered: number;
  sessions: number;
  /** From the kill until the last failed call ended; null without failures after the kill. */
  last_error_after_ms: number | null;
}

/** How long after `killAt` every one of `sessions` sessions (0 … sessions-1) was served again. */
export function recoveryAfter(outcomes: readonly Outcome[], sessions: number, killAt: number): Recovery {
  const firstOk = new Map<number, number>();
  let lastError: number | null = null;
  for (const outcome of outcomes) {
    if (outcome.ok) {
      if (outcome.started >= killAt && (firstOk.get(outcome.session) ?? Number.POSITIVE_INFINITY) > outcome.ended) firstOk.set(outcome.session, outcome.ended);
    } else if (outcome.ended >= killAt && (lastError === null || outcome.ended > lastError)) {
      lastError = outcome.ended;
    }
  }
  let slowest = Number.NEGATIVE_INFINITY;
  let recovered = 0;
  for (let session = 0; session < sessions; session += 1) {
    const at = firstOk.get(session);
    if (at === undefined) continue;
    recovered += 1;
    slowest = Math.max(slowest, at);
  }
  return {
    recovery_ms: recovered === sessions && sessions > 0 ? Math.round(slowest - killAt) : null,
    recovery_ms_of_recovered_sessions: recovered > 0 ? Math.round(slowest - killAt) : null,
    sessions_recovered: recovered,
    sessions,
    last_error_after_ms: lastError === null ? null : Math.round(lastError - killAt),
  };
}

/** Calls ended per second, successful and failed, in the seconds [from, to) around `killAt` (second 0 starts at the kill). */
export function perSecond(outcomes: readonly Outcome[], killAt: number, from: number, to: number): Array<{ second: number; ok: number; errors: number }> {
  const buckets = Array.from({ length: Math.max(0, to - from) }, (_, i) => ({ second: from + i, ok: 0, errors: 0 }));
  for (const outcome of outcomes) {
    const second = Math.floor((outcome.ended - killAt) / 1000);
    const bucket = buckets[second - from];
    if (!bucket) continue;
    if (outcome.ok) bucket.ok += 1;
    else bucket.errors += 1;
  }
  return buckets;
}

/** Failure messages counted by message, with ids and numbers that differ from call to call made alike; most frequent first. */
export function countMessages(messages: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const key = message
      .replace(/\s+/g, ' ')
      .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>')
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
      .trim()
      .slice(0, 200);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}
