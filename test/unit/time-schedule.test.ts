import { describe, expect, it } from 'vitest';
import { lastDailyFire, nextFire } from '../../functions/time/schedule.js';

describe('lastDailyFire', () => {
  const bogota = { hour: 6, minute: 30, timeZone: 'America/Bogota' }; // UTC−5, no DST

  it('is today’s fire once it has passed, reporting on yesterday', () => {
    const r = lastDailyFire(bogota, new Date('2024-12-02T12:00:00Z'));
    expect(r.at.toISOString()).toBe('2024-12-02T11:30:00.000Z');
    expect(r.reportDay).toBe('2024-12-01');
  });

  it('is yesterday’s fire before today’s has come', () => {
    const r = lastDailyFire(bogota, new Date('2024-12-02T11:29:59Z'));
    expect(r.at.toISOString()).toBe('2024-12-01T11:30:00.000Z');
    expect(r.reportDay).toBe('2024-11-30');
  });

  it('counts the fire instant itself as fired', () => {
    expect(lastDailyFire(bogota, new Date('2024-12-02T11:30:00Z')).reportDay).toBe('2024-12-01');
  });

  it('follows the zone across a daylight-saving change', () => {
    const madrid = { hour: 7, minute: 0, timeZone: 'Europe/Madrid' };
    // 2024-10-27: Madrid leaves CEST (UTC+2) for CET (UTC+1); 07:00 local is 06:00 UTC that day.
    expect(lastDailyFire(madrid, new Date('2024-10-27T12:00:00Z')).at.toISOString()).toBe(
      '2024-10-27T06:00:00.000Z',
    );
    expect(lastDailyFire(madrid, new Date('2024-10-26T12:00:00Z')).at.toISOString()).toBe(
      '2024-10-26T05:00:00.000Z',
    );
  });
});

describe('nextFire', () => {
  const at6 = { hour: 6, minute: 0, timeZone: 'Europe/Madrid' };
  // Wednesday 2024-10-23, noon in Madrid.
  const now = new Date('2024-10-23T10:00:00Z');

  it('is tomorrow 06:00 for a daily schedule, reporting today', () => {
    const next = nextFire({ kind: 'daily' }, at6, now);
    expect(next.at.toISOString()).toBe('2024-10-24T04:00:00.000Z');
    expect(next.period).toMatchObject({ from: '2024-10-23', to: '2024-10-23' });
  });

  it('is next Monday for a weekly schedule, reporting the week before it (across the DST change)', () => {
    const next = nextFire({ kind: 'weekly', weekday: 1, weekStart: 1 }, at6, now);
    // Monday 2024-10-28 06:00 is CET (UTC+1) after the 27th's change.
    expect(next.at.toISOString()).toBe('2024-10-28T05:00:00.000Z');
    expect(next.period).toMatchObject({ from: '2024-10-21', to: '2024-10-27' });
  });

  it('is the 1st of next month for a monthly schedule, reporting the month', () => {
    const next = nextFire({ kind: 'monthly', day: 1 }, at6, now);
    expect(next.at.toISOString()).toBe('2024-11-01T05:00:00.000Z');
    expect(next.period).toMatchObject({ from: '2024-10-01', to: '2024-10-31' });
  });

  it('skips the weekend for a weekdays schedule: from Friday noon, Monday, covering Friday–Sunday', () => {
    const next = nextFire(
      { kind: 'weekdays', monday: 'covers-weekend' },
      at6,
      new Date('2024-10-25T10:00:00Z'),
    );
    expect(next.at.toISOString()).toBe('2024-10-28T05:00:00.000Z');
    expect(next.period).toMatchObject({ from: '2024-10-25', to: '2024-10-27' });
  });
});

describe('schedules: the edges', () => {
  const at6 = { hour: 6, minute: 0, timeZone: 'Europe/Madrid' };

  it('a weekdays schedule fires on Friday (weekday 5), not on Saturday', () => {
    // Thursday noon: the next fire is Friday 06:00, reporting Thursday.
    const next = nextFire(
      { kind: 'weekdays', monday: 'covers-weekend' },
      at6,
      new Date('2024-10-24T10:00:00Z'),
    );
    expect(next.at.toISOString()).toBe('2024-10-25T04:00:00.000Z');
    expect(next.period).toEqual({ from: '2024-10-24', to: '2024-10-24', key: '2024-10-24' });
  });

  it('a weekly schedule on another weekday, a monthly one on the 28th of a 31-day month', () => {
    const friday = nextFire(
      { kind: 'weekly', weekday: 5, weekStart: 5 },
      at6,
      new Date('2024-10-23T10:00:00Z'),
    );
    expect(friday.at.toISOString()).toBe('2024-10-25T04:00:00.000Z');
    expect(friday.period).toEqual({ from: '2024-10-18', to: '2024-10-24', key: '2024-10-18..2024-10-24' });
    // From 2024-10-29 the next 28th is 2024-11-28: the longest wait a monthly cadence has (30 daily steps).
    const monthly = nextFire({ kind: 'monthly', day: 28 }, at6, new Date('2024-10-29T10:00:00Z'));
    expect(monthly.at.toISOString()).toBe('2024-11-28T05:00:00.000Z');
    expect(monthly.period).toEqual({ from: '2024-10-01', to: '2024-10-31', key: '2024-10' });
  });

  it('refuses an unknown zone', () => {
    expect(() => lastDailyFire({ hour: 6, minute: 0, timeZone: 'Mars/Olympus' }, new Date())).toThrow(
      /Mars\/Olympus/,
    );
  });

  it('a fire at 00:00 and one at 23:59 fall on their own days', () => {
    const now = new Date('2024-12-02T12:00:00Z');
    expect(lastDailyFire({ hour: 0, minute: 0, timeZone: 'UTC' }, now)).toEqual({
      at: new Date('2024-12-02T00:00:00Z'),
      reportDay: '2024-12-01',
    });
    expect(lastDailyFire({ hour: 23, minute: 59, timeZone: 'UTC' }, now)).toEqual({
      at: new Date('2024-12-01T23:59:00Z'),
      reportDay: '2024-11-30',
    });
  });
});

describe('a daily schedule fires every day', () => {
  it('from Friday noon, Saturday 06:00, reporting Friday', () => {
    const next = nextFire(
      { kind: 'daily' },
      { hour: 6, minute: 0, timeZone: 'Europe/Madrid' },
      new Date('2024-10-25T10:00:00Z'),
    );
    expect(next.at.toISOString()).toBe('2024-10-26T04:00:00.000Z');
    expect(next.period).toEqual({ from: '2024-10-25', to: '2024-10-25', key: '2024-10-25' });
  });
});
