import { describe, expect, it } from 'vitest';
import { dayWindow, InvalidDateError, reportWindow, today, yesterday } from '../../functions/time/window.js';
import { assertTimeZone, InvalidTimeZoneError, isTimeZone, ZoneClock } from '../../functions/time/zone.js';

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
