import { describe, expect, it } from 'vitest';
import { Cadence, ReportDefinition } from '../../functions/settings/definitions.js';
import { isoWeekday, periodContaining, periodFor, previousPeriod } from '../../functions/time/period.js';
import { reportWindow } from '../../functions/time/window.js';

const HOUR = 3_600_000;
const hours = (p: { from: string; to: string }, zone: string) => {
  const w = reportWindow(p.from, p.to, zone);
  return (w.end.getTime() - w.start.getTime()) / HOUR;
};
const c = (input: unknown) => Cadence.parse(input);

describe('report periods', () => {
  it('daily: the previous day, keyed by the day', () => {
    expect(periodFor(c({ kind: 'daily' }), '2024-11-01')).toEqual({
      from: '2024-10-31',
      to: '2024-10-31',
      key: '2024-10-31',
    });
    expect(previousPeriod(c({ kind: 'daily' }), { from: '2024-10-31' }).from).toBe('2024-10-30');
  });

  it('weekly: the last whole Monday–Sunday week, a DST week in Madrid being 169 hours', () => {
    const weekly = c({ kind: 'weekly' });
    const p = periodFor(weekly, '2024-10-28'); // a Monday
    expect(p).toEqual({ from: '2024-10-21', to: '2024-10-27', key: '2024-W43' });
    expect(hours(p, 'Europe/Madrid')).toBe(169);
    // Run on a Wednesday: still the last whole week, not the current one.
    expect(periodFor(c({ kind: 'weekly', weekday: 3 }), '2024-10-30')).toEqual(p);
    expect(previousPeriod(weekly, p)).toEqual({ from: '2024-10-14', to: '2024-10-20', key: '2024-W42' });
    expect(periodContaining(weekly, '2024-12-31').key).toBe('2025-W01');
  });

  it('weekly with another week start: Sunday–Saturday', () => {
    const sunday = c({ kind: 'weekly', weekStart: 7 });
    const p = periodFor(sunday, '2024-10-28');
    expect(p).toEqual({ from: '2024-10-20', to: '2024-10-26', key: '2024-10-20..2024-10-26' });
    expect(isoWeekday(p.from)).toBe(7);
    expect(periodFor(sunday, '2024-10-27')).toEqual(p);
    expect(previousPeriod(sunday, p).from).toBe('2024-10-13');
  });

  it('monthly: the previous calendar month, October 2024 in Madrid being 31 days and 745 hours', () => {
    const monthly = c({ kind: 'monthly' });
    const p = periodFor(monthly, '2024-11-01');
    expect(p).toEqual({ from: '2024-10-01', to: '2024-10-31', key: '2024-10' });
    expect(hours(p, 'Europe/Madrid')).toBe(745);
    expect(periodFor(c({ kind: 'monthly', day: 28 }), '2024-11-28')).toEqual(p);
    expect(previousPeriod(monthly, p)).toEqual({ from: '2024-09-01', to: '2024-09-30', key: '2024-09' });
    expect(periodFor(monthly, '2024-03-01')).toEqual({
      from: '2024-02-01',
      to: '2024-02-29',
      key: '2024-02',
    });
    expect(periodFor(monthly, '2025-01-01')).toEqual({
      from: '2024-12-01',
      to: '2024-12-31',
      key: '2024-12',
    });
    expect(hours(periodFor(monthly, '2024-04-01'), 'Europe/Madrid')).toBe(743);
  });

  it('weekdays covering the weekend: Monday reports Friday–Sunday (72 h, 73 h on the DST weekend)', () => {
    const weekdays = c({ kind: 'weekdays' });
    expect(weekdays).toEqual({ kind: 'weekdays', monday: 'covers-weekend' });
    const monday = periodFor(weekdays, '2024-10-21');
    expect(monday).toEqual({ from: '2024-10-18', to: '2024-10-20', key: '2024-10-18' });
    expect(hours(monday, 'Europe/Madrid')).toBe(72);
    expect(hours(periodFor(weekdays, '2024-10-28'), 'Europe/Madrid')).toBe(73);
    expect(periodFor(weekdays, '2024-10-22')).toEqual({
      from: '2024-10-21',
      to: '2024-10-21',
      key: '2024-10-21',
    });
    expect(previousPeriod(weekdays, { from: '2024-10-21' })).toEqual(monday);
    expect(previousPeriod(weekdays, monday).from).toBe('2024-10-17');
    expect(periodContaining(weekdays, '2024-10-19')).toEqual(monday);
  });

  it('weekdays skipping the weekend: Monday reports Friday alone', () => {
    const skips = c({ kind: 'weekdays', monday: 'skips-weekend' });
    expect(periodFor(skips, '2024-10-21')).toEqual({
      from: '2024-10-18',
      to: '2024-10-18',
      key: '2024-10-18',
    });
    expect(previousPeriod(skips, { from: '2024-10-21' }).from).toBe('2024-10-18');
    expect(periodContaining(skips, '2024-10-19').from).toBe('2024-10-19');
  });

  it('a definition without a cadence is daily; bad cadences are refused', () => {
    const def = ReportDefinition.parse({
      name: 'd',
      schedule: { timeZone: 'Europe/Madrid' },
      owners: ['o@example.com'],
    });
    expect(def.cadence).toEqual({ kind: 'daily' });
    expect(c({ kind: 'weekly' })).toEqual({ kind: 'weekly', weekday: 1, weekStart: 1 });
    expect(() => c({ kind: 'monthly', day: 29 })).toThrow();
    expect(() => c({ kind: 'weekly', weekday: 0 })).toThrow();
    expect(() => c({ kind: 'weekdays', monday: 'sometimes' })).toThrow();
    expect(() => c({ kind: 'hourly' })).toThrow();
  });
});
