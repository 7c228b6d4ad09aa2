import { tzOffset } from '@date-fns/tz';
import { describe, expect, it, vi } from 'vitest';
import {
  addDays,
  daysBetween,
  dayWindow,
  EARLIEST_REPORT_DAY,
  InvalidDateError,
  MAX_RANGE_DAYS,
  nextDay,
  parseDay,
  previousDay,
  reportWindow,
  today,
  tooEarlyDayProblem,
  unfinishedDayProblem,
  yesterday,
} from '../../functions/time/window.js';
import { assertTimeZone, InvalidTimeZoneError, isTimeZone, ZoneClock } from '../../functions/time/zone.js';

// tzOffset itself, counted: ZoneClock's cache promises one pair of lookups per UTC hour, not one per instant.
vi.mock('@date-fns/tz', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@date-fns/tz')>();
  return { ...actual, tzOffset: vi.fn(actual.tzOffset) };
});

const HOUR = 3_600_000;

describe('report windows', () => {
  it('is 24 hours on an ordinary day, starting at local midnight', () => {
    const w = dayWindow('2024-12-01', 'America/Bogota');
    expect(w.start.toISOString()).toBe('2024-12-01T05:00:00.000Z');
    expect(w.end.getTime() - w.start.getTime()).toBe(24 * HOUR);
  });

  it('is 23 hours on a spring-forward day and 25 on a fall-back day', () => {
    const spring = dayWindow('2026-03-08', 'America/New_York');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    const fall = dayWindow('2026-11-01', 'America/New_York');
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * HOUR);
    const madrid = dayWindow('2026-03-29', 'Europe/Madrid');
    expect(madrid.start.toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(madrid.end.toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it('starts at the first valid instant when midnight does not exist (Santiago)', () => {
    const w = dayWindow('2026-09-06', 'America/Santiago');
    expect(w.start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(w.end.getTime() - w.start.getTime()).toBe(23 * HOUR);
  });

  it('covers inclusive ranges and refuses reversed or over-long ones', () => {
    const w = reportWindow('2024-02-28', '2024-03-01', 'UTC');
    expect(w.end.getTime() - w.start.getTime()).toBe(3 * 24 * HOUR);
    expect(() => reportWindow('2024-03-02', '2024-03-01', 'UTC')).toThrow(InvalidDateError);
    expect(() => reportWindow('2024-01-01', '2024-12-31', 'UTC')).toThrow(/at most/);
  });

  it('refuses bad dates and unknown zones with a message saying what to do', () => {
    expect(() => dayWindow('2024-02-30', 'UTC')).toThrow(/no day 30/);
    expect(() => dayWindow('01/12/2024', 'UTC')).toThrow(/YYYY-MM-DD/);
    expect(() => dayWindow('2024-12-01', 'Mars/Olympus')).toThrow(InvalidTimeZoneError);
    expect(() => assertTimeZone('Europe/Madird')).toThrow(/IANA/);
    expect([isTimeZone('Europe/Madrid'), isTimeZone('Europe/Madird'), isTimeZone('')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('computes yesterday in the report zone, not in UTC', () => {
    const now = new Date('2024-12-02T03:00:00Z'); // still Dec 1 in Bogota (UTC-5)
    expect(today('America/Bogota', now)).toBe('2024-12-01');
    expect(yesterday('America/Bogota', now)).toBe('2024-11-30');
    expect(yesterday('UTC', now)).toBe('2024-12-01');
    expect(yesterday('UTC', new Date('2024-03-01T00:00:00Z'))).toBe('2024-02-29');
  });
});

describe('ZoneClock', () => {
  it('renders ISO with the zone offset and local hours across a DST change', () => {
    const ny = new ZoneClock('America/New_York');
    expect(ny.iso(Date.parse('2026-03-08T06:59:59.123Z'))).toBe('2026-03-08T01:59:59.123-05:00');
    expect(ny.iso(Date.parse('2026-03-08T07:00:00Z'))).toBe('2026-03-08T03:00:00.000-04:00');
    expect(ny.hourOf(Date.parse('2026-03-08T07:30:00Z'))).toBe(3);
    expect(new ZoneClock('Asia/Kathmandu').iso(0)).toBe('1970-01-01T05:30:00.000+05:30');
    expect(new ZoneClock('UTC').dayOf(Date.parse('2024-12-01T23:59:59Z'))).toBe('2024-12-01');
  });

  it('is exact in zones whose clocks change off the hour (Lord Howe moves 30 minutes at 15:30 UTC)', () => {
    const clock = new ZoneClock('Australia/Lord_Howe');
    // Warm the cache with the first half of that UTC hour, then ask for the second half.
    expect(clock.iso(Date.parse('2024-10-05T15:10:00Z'))).toBe('2024-10-06T01:40:00.000+10:30');
    expect(clock.iso(Date.parse('2024-10-05T15:40:00Z'))).toBe('2024-10-06T02:40:00.000+11:00');
    expect(clock.hourOf(Date.parse('2024-10-05T15:29:59Z'))).toBe(1);
  });
});

describe('calendar days: the edges', () => {
  it('refuses month 0 and 13, and says so', () => {
    expect(() => parseDay('2024-13-01')).toThrow(
      '"2024-13-01" is not a calendar day (there is no month 13).',
    );
    expect(() => parseDay('2024-00-10')).toThrow('(there is no month 0)');
    expect(parseDay('2024-12-31')).toEqual({ y: 2024, m: 12, d: 31 });
    expect(parseDay('2024-01-01')).toEqual({ y: 2024, m: 1, d: 1 });
  });

  it('refuses day 0 and day 32 with the month in the message', () => {
    expect(() => parseDay('2024-01-00')).toThrow(
      '"2024-01-00" is not a calendar day (month 1 has no day 0).',
    );
    expect(() => parseDay('2024-01-32')).toThrow('(month 1 has no day 32)');
  });

  it('reads years 0000–0099 as themselves, not as 1900–1999 (Date.UTC would)', () => {
    expect(parseDay('0050-03-01')).toEqual({ y: 50, m: 3, d: 1 });
    // 1904 is a leap year, 4 is too, 50 and 1950 are not: the check runs on the year given.
    expect(parseDay('0004-02-29')).toEqual({ y: 4, m: 2, d: 29 });
    expect(() => parseDay('0050-02-29')).toThrow(/no day 29/);
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(addDays('0004-03-01', -1)).toBe('0004-02-29');
    expect(daysBetween('0099-12-31', '0100-01-01')).toBe(2);
  });

  it('takes exactly YYYY-MM-DD: nothing before, nothing after, no short fields', () => {
    for (const bad of ['2024-12-01x', '2024-12-01 ', 'x2024-12-01', '2024-1-01', '24-12-01', '2024-12-1']) {
      expect(() => parseDay(bad), bad).toThrow(
        `"${bad}" is not a date: use YYYY-MM-DD, for example 2024-12-01.`,
      );
    }
  });

  it('a range of exactly 93 days is allowed, 94 is refused with both numbers', () => {
    const w = reportWindow('2024-01-01', addDays('2024-01-01', 92), 'UTC');
    expect(daysBetween(w.from, w.to)).toBe(MAX_RANGE_DAYS);
    expect(() => reportWindow('2024-01-01', addDays('2024-01-01', 93), 'UTC')).toThrow(
      'The range 2024-01-01..2024-04-03 is 94 days; at most 93 are allowed.',
    );
    // One day is a range of 1; the day before the start is a range of 0, refused.
    expect(daysBetween('2024-03-01', '2024-03-01')).toBe(1);
    expect(() => reportWindow('2024-03-01', '2024-02-29', 'UTC')).toThrow(
      'The range ends (2024-02-29) before it starts (2024-03-01).',
    );
  });

  it('the window names its days and zone, and pads single-digit months and days', () => {
    expect(dayWindow('2024-01-05', 'UTC')).toMatchObject({
      from: '2024-01-05',
      to: '2024-01-05',
      timeZone: 'UTC',
    });
    expect(today('UTC', new Date('2024-01-05T12:00:00Z'))).toBe('2024-01-05');
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(previousDay('2024-03-01')).toBe('2024-02-29');
  });

  it('a day before 2000-01-01 is too early, with a message that says from when', () => {
    expect(tooEarlyDayProblem(EARLIEST_REPORT_DAY)).toBeNull();
    expect(tooEarlyDayProblem('1999-12-31')).toBe(
      '1999-12-31 is before 2000-01-01, older than any Verifik validation: give a day from 2000-01-01 on',
    );
  });

  it('a day that has not ended in the zone is refused, one that has is not', () => {
    const now = new Date('2024-12-02T03:00:00Z'); // 2024-12-01 22:00 in Bogota
    expect(unfinishedDayProblem('2024-11-30', 'America/Bogota', now)).toBeNull();
    expect(unfinishedDayProblem('2024-12-01', 'America/Bogota', now)).toBe(
      '2024-12-01 has not ended yet in America/Bogota: reports cover whole days, the latest is 2024-11-30',
    );
    expect(unfinishedDayProblem('2024-12-02', 'America/Bogota', now)).toBe(
      '2024-12-02 is in the future in America/Bogota (today there is 2024-12-01)',
    );
  });
});

describe('calendar day errors', () => {
  it('are usage errors, by name', () => {
    expect(() => parseDay('2024-02-30')).toThrow(InvalidDateError);
    try {
      parseDay('2024-02-30');
    } catch (err) {
      expect(err).toMatchObject({ kind: 'usage', name: 'InvalidDateError' });
    }
  });

  it('today() refuses an unknown zone instead of answering a day that does not exist', () => {
    expect(() => today('Mars/Olympus', new Date('2024-12-01T00:00:00Z'))).toThrow(InvalidTimeZoneError);
  });
});

describe('ZoneClock: offsets and their signs', () => {
  it('UTC is +00:00, never -00:00; negative half-hour offsets keep their minutes', () => {
    expect(new ZoneClock('UTC').iso(Date.parse('2024-12-01T10:00:00Z'))).toBe(
      '2024-12-01T10:00:00.000+00:00',
    );
    expect(new ZoneClock('America/St_Johns').iso(Date.parse('2024-12-01T10:00:00Z'))).toBe(
      '2024-12-01T06:30:00.000-03:30',
    );
    expect(new ZoneClock('Asia/Kolkata').offsetMinutes(Date.parse('2024-12-01T10:00:00Z'))).toBe(330);
  });

  it('local wall clock, hour and day in the zone', () => {
    const bogota = new ZoneClock('America/Bogota');
    const ms = Date.parse('2024-12-02T03:30:00Z');
    expect(bogota.wallClockMs(ms)).toBe(Date.parse('2024-12-01T22:30:00Z'));
    expect(bogota.hourOf(ms)).toBe(22);
    expect(bogota.dayOf(ms)).toBe('2024-12-01');
  });

  it('an unknown zone is a usage error that names it and says what to use', () => {
    let caught: unknown;
    try {
      new ZoneClock('Mars/Olympus');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      kind: 'usage',
      name: 'InvalidTimeZoneError',
      timeZone: 'Mars/Olympus',
      message:
        'Unknown time zone "Mars/Olympus": use an IANA name such as "UTC", "America/Bogota" or "Europe/Madrid".',
    });
    expect(assertTimeZone('Europe/Madrid')).toBe('Europe/Madrid');
  });
});

describe('ZoneClock: the offset of the instant itself, whatever the cache holds', () => {
  it('the first second of 1970 in London is +01:00 (British Standard Time, 1968–71), at every millisecond', () => {
    // The cache is keyed by UTC hour: a key computed from anything but the instant's own hour
    // (ms × hour instead of ms ÷ hour) would look up some far-off winter and answer +00:00.
    const london = new ZoneClock('Europe/London');
    for (const ms of [0, 1, 200, 500, 999]) expect(london.offsetMinutes(ms), String(ms)).toBe(60);
    expect(london.iso(200)).toBe('1970-01-01T01:00:00.200+01:00');
  });

  it('looks a zone up twice per UTC hour (its two ends, and no further), not once per instant', () => {
    // London's last hour of GMT before the clocks go forward at 01:00 UTC: its own two ends agree
    // (+00:00), while the next hour's first instant and 1970 (British Standard Time) are +01:00.
    const london = new ZoneClock('Europe/London');
    const start = Date.parse('2024-03-31T00:00:00Z');
    vi.mocked(tzOffset).mockClear();
    for (let ms = start; ms < start + HOUR; ms += 60_000) expect(london.offsetMinutes(ms)).toBe(0);
    expect(vi.mocked(tzOffset)).toHaveBeenCalledTimes(2);
    // The next hour is another pair.
    expect(london.offsetMinutes(start + HOUR)).toBe(60);
    expect(vi.mocked(tzOffset)).toHaveBeenCalledTimes(4);
  });

  it('an hour in which the offset changes is looked up per instant after its ends, and each instant gets its own', () => {
    const lordHowe = new ZoneClock('Australia/Lord_Howe');
    const start = Date.parse('2024-10-05T15:00:00Z'); // +10:30 until 15:30 UTC, then +11:00
    vi.mocked(tzOffset).mockClear();
    expect(lordHowe.offsetMinutes(start + 10 * 60_000)).toBe(630);
    expect(lordHowe.offsetMinutes(start + 40 * 60_000)).toBe(660);
    // Two for the hour's ends, once (that they disagree is remembered), then one per instant.
    expect(vi.mocked(tzOffset)).toHaveBeenCalledTimes(2 + 1 + 1);
  });
});
