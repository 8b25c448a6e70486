import { describe, expect, it } from 'vitest';
import { noTrackRecord, type TrackRecord } from '../../src/domain/evidence.js';
import { describeTrackRecord, TRACK_RECORD_WEIGHT, trackSignal, withTrackRecord } from '../../src/memory/track-record.js';

const record = (fields: Partial<TrackRecord>): TrackRecord => ({ ...noTrackRecord(), ...fields });

describe('track record', () => {
  it('weighs successes against failures, damped while they are few, never past ±1', () => {
    expect(trackSignal(record({ from: 1, success: 1 }))).toBeCloseTo(1 / 2);
    expect(trackSignal(record({ recalled: 2, success: 2 }))).toBeCloseTo(2 / 3);
    expect(trackSignal(record({ recalled: 2, failure: 2 }))).toBeCloseTo(-2 / 3);
    expect(trackSignal(record({ from: 2, success: 1, failure: 1 }))).toBe(0);
    expect(trackSignal(record({ from: 1, partial: 1 }))).toBe(0);
    expect(trackSignal(record({ from: 1000, success: 1000 }))).toBeLessThan(1);
  });

  it('moves a score by less than TRACK_RECORD_WEIGHT of it, in the right direction whatever its sign', () => {
    const best = record({ from: 1000, success: 1000 });
    const worst = record({ from: 1000, failure: 1000 });
    expect(withTrackRecord(0.9836, undefined)).toBe(0.9836);
    expect(withTrackRecord(10, best)).toBeLessThan(10 * (1 + TRACK_RECORD_WEIGHT));
    expect(withTrackRecord(10, best)).toBeGreaterThan(10);
    expect(withTrackRecord(10, worst)).toBeGreaterThan(10 * (1 - TRACK_RECORD_WEIGHT));
    expect(withTrackRecord(-0.2, best)).toBeGreaterThan(-0.2);
    expect(withTrackRecord(-0.2, worst)).toBeLessThan(-0.2);
    expect(withTrackRecord(0, best)).toBe(0);
    // Keyword ranks 1 and 3 of the bundled model's fusion (60 / (60 + rank)): not even a perfect record bridges them.
    expect(withTrackRecord(60 / 63, best)).toBeLessThan(60 / 61);
  });

  it('says where the evidence came from and how it went', () => {
    expect(describeTrackRecord(record({ from: 3, success: 2, failure: 1 }))).toBe('from 3 outcomes: 2 successes, 1 failure');
    expect(describeTrackRecord(record({ from: 1, success: 1 }))).toBe('from 1 outcome: 1 success');
    expect(describeTrackRecord(record({ recalled: 2, failure: 2 }))).toBe('recalled before 2 outcomes: 2 failures');
    expect(describeTrackRecord(record({ from: 1, recalled: 2, success: 2, partial: 1 }))).toBe('from 1 outcome, recalled before 2: 2 successes, 1 partial');
  });
});
