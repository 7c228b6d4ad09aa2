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

describe('report periods: the edges', () => {
  const weekly = (weekStart: number) => ({ kind: 'weekly', weekday: 1, weekStart }) as const;

  it('ISO weekdays: Monday 1 … Sunday 7', () => {
    expect(['2024-10-21', '2024-10-25', '2024-10-26', '2024-10-27'].map(isoWeekday)).toEqual([1, 5, 6, 7]);
  });

  it('a week starting Monday is named by its ISO week, across the turn of the year', () => {
    expect(periodContaining(weekly(1), '2024-10-27')).toEqual({
      from: '2024-10-21',
      to: '2024-10-27',
      key: '2024-W43',
    });
    expect(periodContaining(weekly(1), '2024-10-21')).toEqual({
      from: '2024-10-21',
      to: '2024-10-27',
      key: '2024-W43',
    });
    expect(periodContaining(weekly(1), '2025-01-01').key).toBe('2025-W01'); // the week of 2024-12-30
    expect(periodContaining(weekly(1), '2021-01-03').key).toBe('2020-W53');
    expect(periodContaining(weekly(1), '2024-01-03').key).toBe('2024-W01');
  });

  it('ISO week 1 is the week holding the first Thursday, even when it falls on 6 or 7 January', () => {
    // 2021-01-07 and 2022-01-06 are Thursdays: their weeks are week 1, the weeks after week 2.
    expect(periodContaining(weekly(1), '2021-01-04').key).toBe('2021-W01');
    expect(periodContaining(weekly(1), '2021-01-11').key).toBe('2021-W02');
    expect(periodContaining(weekly(1), '2022-01-03').key).toBe('2022-W01');
    expect(periodContaining(weekly(1), '2022-01-10').key).toBe('2022-W02');
  });

  it('a week starting another day runs from that day to the day before it, named by its days', () => {
    expect(periodContaining(weekly(7), '2024-10-27')).toEqual({
      from: '2024-10-27',
      to: '2024-11-02',
      key: '2024-10-27..2024-11-02',
    });
    expect(periodContaining(weekly(3), '2024-10-22')).toEqual({
      from: '2024-10-16',
      to: '2024-10-22',
      key: '2024-10-16..2024-10-22',
    });
  });

  it('a month runs from its 1st to its last day: December, a leap February, a year below 1000', () => {
    const monthly = { kind: 'monthly', day: 1 } as const;
    expect(periodContaining(monthly, '2024-12-15')).toEqual({
      from: '2024-12-01',
      to: '2024-12-31',
      key: '2024-12',
    });
    expect(periodContaining(monthly, '2024-02-10')).toEqual({
      from: '2024-02-01',
      to: '2024-02-29',
      key: '2024-02',
    });
    expect(periodContaining(monthly, '2023-09-30')).toEqual({
      from: '2023-09-01',
      to: '2023-09-30',
      key: '2023-09',
    });
    // December of a year below 999: the next year's 1 January is written with four digits too.
    expect(periodContaining(monthly, '0998-12-05')).toEqual({
      from: '0998-12-01',
      to: '0998-12-31',
      key: '0998-12',
    });
    expect(periodContaining(monthly, '0999-12-05')).toEqual({
      from: '0999-12-01',
      to: '0999-12-31',
      key: '0999-12',
    });
    expect(periodFor(monthly, '2024-11-01')).toEqual({
      from: '2024-10-01',
      to: '2024-10-31',
      key: '2024-10',
    });
    expect(periodFor(monthly, '2024-11-15')).toEqual({
      from: '2024-10-01',
      to: '2024-10-31',
      key: '2024-10',
    });
  });

  it('weekdays covering the weekend: Friday, Saturday and Sunday are one period; Thursday its own', () => {
    const covers = { kind: 'weekdays', monday: 'covers-weekend' } as const;
    const weekend = { from: '2024-10-25', to: '2024-10-27', key: '2024-10-25' };
    expect(periodContaining(covers, '2024-10-25')).toEqual(weekend);
    expect(periodContaining(covers, '2024-10-26')).toEqual(weekend);
    expect(periodContaining(covers, '2024-10-27')).toEqual(weekend);
    expect(periodContaining(covers, '2024-10-24')).toEqual({
      from: '2024-10-24',
      to: '2024-10-24',
      key: '2024-10-24',
    });
    expect(periodFor(covers, '2024-10-28')).toEqual(weekend);
    expect(periodFor(covers, '2024-10-26')).toEqual({
      from: '2024-10-24',
      to: '2024-10-24',
      key: '2024-10-24',
    });
  });

  it('weekdays skipping the weekend: a run on Sunday or Monday reports Friday; a weekend day is its own period', () => {
    const skips = { kind: 'weekdays', monday: 'skips-weekend' } as const;
    const friday = { from: '2024-10-25', to: '2024-10-25', key: '2024-10-25' };
    expect(periodFor(skips, '2024-10-28')).toEqual(friday);
    expect(periodFor(skips, '2024-10-27')).toEqual(friday);
    expect(periodFor(skips, '2024-10-26')).toEqual(friday);
    expect(periodContaining(skips, '2024-10-26')).toEqual({
      from: '2024-10-26',
      to: '2024-10-26',
      key: '2024-10-26',
    });
  });

  it('the previous period of a week is the week before it', () => {
    expect(previousPeriod(weekly(1), { from: '2024-10-21' })).toEqual({
      from: '2024-10-14',
      to: '2024-10-20',
      key: '2024-W42',
    });
  });

  it('a daily run on Sunday or Monday reports the day before, weekend or not', () => {
    expect(periodFor({ kind: 'daily' }, '2024-10-27')).toEqual({
      from: '2024-10-26',
      to: '2024-10-26',
      key: '2024-10-26',
    });
    expect(periodFor({ kind: 'daily' }, '2024-10-28')).toEqual({
      from: '2024-10-27',
      to: '2024-10-27',
      key: '2024-10-27',
    });
  });
});
