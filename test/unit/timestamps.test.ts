import { describe, expect, it } from 'vitest';
import { isCalendarTimestamp, toIsoTimestamp } from '../../src/domain/fields.js';

describe('timestamps', () => {
  it('accept ISO dates and date-times that exist', () => {
    for (const ok of ['2024-02-29', '2025-05-08T13:56:00Z', '2025-05-08T13:56Z', '2025-05-08 13:56:00.123+02:00', '2025-12-31T23:59:59-0500']) {
      expect(isCalendarTimestamp(ok), ok).toBe(true);
    }
  });

  it('refuse impossible dates, bad times and other formats', () => {
    for (const bad of ['2025-02-29', '2025-04-31', '2025-13-01', '2025-01-01T24:00:00Z', '2025-01-01T10:60Z', 'May 8, 2025', '1715000000', '']) {
      expect(isCalendarTimestamp(bad), bad).toBe(false);
    }
  });

  it('normalise to UTC', () => {
    expect(toIsoTimestamp('2025-05-08T15:56:00+02:00')).toBe('2025-05-08T13:56:00.000Z');
    expect(toIsoTimestamp('2025-05-08')).toBe('2025-05-08T00:00:00.000Z');
    // No offset: UTC, whatever the server's time zone.
    expect(toIsoTimestamp('2025-05-08T13:56:00')).toBe('2025-05-08T13:56:00.000Z');
    expect(toIsoTimestamp('2025-05-08 13:56')).toBe('2025-05-08T13:56:00.000Z');
  });
});
