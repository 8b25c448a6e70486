import { describe, expect, it } from 'vitest';
import { countMessages, perSecond, recoveryAfter, type Outcome } from '../../scripts/bench/replica-stats.js';

const KILL = 10_000;
const call = (session: number, started: number, ended: number, ok = true): Outcome => ({ session, started: KILL + started, ended: KILL + ended, ok });

describe('recoveryAfter', () => {
  it('is the time until the last session finished a successful call started after the kill', () => {
    const outcomes = [
      call(0, -50, 20), // began before the kill: does not count
      call(0, 20, 35, false),
      call(0, 35, 60),
      call(1, -10, 5, false),
      call(1, 5, 400),
      call(1, 400, 410),
      call(2, 1, 30),
    ];
    expect(recoveryAfter(outcomes, 3, KILL)).toEqual({ recovery_ms: 400, recovery_ms_of_recovered_sessions: 400, sessions_recovered: 3, sessions: 3, last_error_after_ms: 35 });
  });

  it('is null while a session has had no success since the kill, and ignores errors before it', () => {
    const outcomes = [call(0, -100, -90, false), call(0, -5, 10), call(1, 2, 8)];
    expect(recoveryAfter(outcomes, 2, KILL)).toEqual({ recovery_ms: null, recovery_ms_of_recovered_sessions: 8, sessions_recovered: 1, sessions: 2, last_error_after_ms: null });
  });
});

describe('perSecond', () => {
  it('counts calls by the second they ended in, relative to the kill, within the window', () => {
    const outcomes = [call(0, -2500, -1500), call(0, -1, 0), call(1, 100, 999, false), call(1, 999, 1000), call(2, 0, 5000)];
    expect(perSecond(outcomes, KILL, -2, 2)).toEqual([
      { second: -2, ok: 1, errors: 0 },
      { second: -1, ok: 0, errors: 0 },
      { second: 0, ok: 1, errors: 1 },
      { second: 1, ok: 1, errors: 0 },
    ]);
  });
});

describe('countMessages', () => {
  it('groups messages that differ only by ids and whitespace, most frequent first', () => {
    expect(
      countMessages([
        'remember: HTTP 502\n bad gateway',
        'Session 01JZ8W3Q9V7K2M4N6P8R0S1T2V not found',
        'remember: HTTP 502 bad gateway',
        'Session 01JZ8W3Q9V7K2M4N6P8R0S1T2W not found',
        'Session 01JZ8W3Q9V7K2M4N6P8R0S1T2X not found',
      ]),
    ).toEqual({ 'Session <id> not found': 3, 'remember: HTTP 502 bad gateway': 2 });
  });
});
