import { describe, expect, it } from 'vitest';
import { parseScheduledEvent } from '../../functions/handlers/scheduled-report.js';
import { runDayOf } from '../../functions/runs/schedule-input.js';

describe('the day a scheduled run reports from', () => {
  const tz = 'America/Bogota'; // UTC−5

  it('is the fire day in the zone, however late Lambda or the Scheduler retries it', () => {
    // The 23:58 schedule of 2024-12-01 in Bogotá, retried 5 minutes later (after local midnight).
    const fired = '2024-12-02T04:58:00Z';
    const retriedAt = new Date('2024-12-02T05:03:00Z');
    expect(runDayOf({ scheduledTime: fired }, tz, retriedAt)).toBe('2024-12-01');
    // Without the fire time it would have been the next day.
    expect(runDayOf({}, tz, retriedAt)).toBe('2024-12-02');
  });

  it('falls back to today when the fire time is unusable, and the event refuses a bad one', () => {
    expect(runDayOf({ scheduledTime: 'not a time' }, tz, new Date('2024-12-02T12:00:00Z'))).toBe(
      '2024-12-02',
    );
    expect(
      parseScheduledEvent({ definition: 'd', scheduledTime: '2024-12-02T04:58:00Z' }).scheduledTime,
    ).toBe('2024-12-02T04:58:00Z');
    expect(() => parseScheduledEvent({ definition: 'd', scheduledTime: 'yesterday' })).toThrow(
      /scheduledTime/,
    );
  });
});
