import type { TrackRecord } from '../domain/evidence.js';
import type { DocView } from '../store/store.js';
import type { MemoryContext } from './context.js';

/**
 * How far a track record may move a hit's score: less than 3 % of it. With
 * the bundled model's fusion (hybrid hits score 1 / (60 + place), see
 * tieBreakFusion) the first, second and third hits score about 1.6 % apart
 * each, so a lesson passes only hits at most two places above it (a
 * near tie), never a clearly better match; in keyword and vector search a
 * 3 % gap in BM25 or cosine is as close. A hit's weight grows with its
 * evidence: (successes − failures) / (outcomes + 1), so one success gives
 * half of it, two give two thirds.
 */
export const TRACK_RECORD_WEIGHT = 0.03;

/** Between −1 and 1: how well the outcomes a memory came from or was recalled before went, damped while they are few. */
export function trackSignal(t: TrackRecord): number {
  return (t.success - t.failure) / (t.success + t.failure + t.partial + 1);
}

/** A score moved by a track record, in its direction whatever the score's sign (a cosine may be negative). */
export const withTrackRecord = (score: number, t: TrackRecord | undefined): number => (t ? score + TRACK_RECORD_WEIGHT * trackSignal(t) * Math.abs(score) : score);

const counted = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** What a hit's why says of its track record, e.g. "from 1 outcome, recalled before 2: 2 successes, 1 failure". */
export function describeTrackRecord(t: TrackRecord): string {
  const whence = [
    ...(t.from > 0 ? [`from ${counted(t.from, 'outcome', 'outcomes')}`] : []),
    ...(t.recalled > 0 ? [`recalled before ${t.from > 0 ? t.recalled : counted(t.recalled, 'outcome', 'outcomes')}`] : []),
  ];
  const results = [
    ...(t.success > 0 ? [counted(t.success, 'success', 'successes')] : []),
    ...(t.failure > 0 ? [counted(t.failure, 'failure', 'failures')] : []),
    ...(t.partial > 0 ? [`${t.partial} partial`] : []),
  ];
  return `${whence.join(', ')}: ${results.join(', ')}`;
}

/**
 * The track records of the procedural memories among a search's hits, by
 * memory id: one store read, and none when no hit is a procedural memory.
 */
export async function trackRecordsOf(ctx: MemoryContext, views: readonly DocView[]): Promise<Map<string, TrackRecord>> {
  const ids = views.filter((view) => view.type === 'memory' && view.layer === 'procedural').map((view) => view.entity_id);
  return ids.length > 0 ? ctx.store.trackRecords(ids) : new Map();
}
