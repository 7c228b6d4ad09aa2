import { describe, expect, it } from 'vitest';
import { lastDailyFire } from '../../functions/time/schedule.js';

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
