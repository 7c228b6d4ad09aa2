/**
 * A report covers whole days: the CLI and the API both refuse a day that has not ended in the
 * report's zone (today, or a future day), with one line naming the day and the zone.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseReportRequest } from '../../functions/api/input.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { unfinishedDayProblem } from '../../functions/time/window.js';

// 03:00 UTC on 2 December: still 1 December in Bogotá (UTC−5), already 2 December in Madrid.
const NOW = new Date('2024-12-02T03:00:00Z');

describe('unfinishedDayProblem', () => {
  it('refuses today and the future in the zone, accepts a day that has ended there', () => {
    expect(unfinishedDayProblem('2024-12-01', 'America/Bogota', NOW)).toBe(
      '2024-12-01 has not ended yet in America/Bogota: reports cover whole days, the latest is 2024-11-30',
    );
    expect(unfinishedDayProblem('2024-12-01', 'Europe/Madrid', NOW)).toBeNull();
    expect(unfinishedDayProblem('2024-12-02', 'Europe/Madrid', NOW)).toMatch(
      /has not ended yet in Europe\/Madrid/,
    );
    expect(unfinishedDayProblem('2024-12-03', 'UTC', NOW)).toBe(
      '2024-12-03 is in the future in UTC (today there is 2024-12-02)',
    );
    expect(unfinishedDayProblem('2024-11-30', 'America/Bogota', NOW)).toBeNull();
  });
});

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d) => {
    err += d;
  });
  const code = await runCli(args, {
    stdout,
    stderr,
    // No Verifik behind it: a refused day never gets that far.
    env: { VERIFIK_TOKEN: 't', VERIFIK_BASE_URL: 'http://127.0.0.1:9' },
    now: () => NOW,
  });
  return { code, err };
}

describe('the CLI refuses a day that has not ended in --tz', () => {
  it.each([
    [
      ['--date', '2024-12-01', '--tz', 'America/Bogota'],
      /^verifik-reports: --date: 2024-12-01 has not ended yet in America\/Bogota/,
    ],
    [
      ['--date', '2024-12-02', '--tz', 'Europe/Madrid'],
      /--date: 2024-12-02 has not ended yet in Europe\/Madrid/,
    ],
    [
      ['--date', '2025-01-15', '--tz', 'UTC'],
      /--date: 2025-01-15 is in the future in UTC \(today there is 2024-12-02\)/,
    ],
    [
      ['--from', '2024-11-28', '--to', '2024-12-01', '--tz', 'America/Bogota'],
      /--to: 2024-12-01 has not ended yet in America\/Bogota/,
    ],
  ])('%j: exit 2 and one line', async (args, message) => {
    const { code, err } = await cli([...args, '--out', '/nonexistent-never-written']);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(message);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});

describe('the API refuses a day that has not ended in timeZone (400 with the field)', () => {
  const ctx = { allowedDomains: ['ops.example'], now: NOW };

  it('today in the zone: date', () => {
    expect(parseReportRequest({ date: '2024-12-01', timeZone: 'America/Bogota' }, ctx)).toEqual({
      ok: false,
      errors: [
        {
          field: 'date',
          message:
            '2024-12-01 has not ended yet in America/Bogota: reports cover whole days, the latest is 2024-11-30',
        },
      ],
    });
  });

  it('a range ending today or later: to', () => {
    expect(
      parseReportRequest({ from: '2024-11-25', to: '2024-12-02', timeZone: 'Europe/Madrid' }, ctx),
    ).toMatchObject({
      ok: false,
      errors: [
        { field: 'to', message: expect.stringMatching(/2024-12-02 has not ended yet in Europe\/Madrid/) },
      ],
    });
    expect(parseReportRequest({ date: '2024-12-05', timeZone: 'UTC' }, ctx)).toMatchObject({
      ok: false,
      errors: [{ field: 'date', message: '2024-12-05 is in the future in UTC (today there is 2024-12-02)' }],
    });
  });

  it('a day that has ended there is accepted, and so is the default (yesterday)', () => {
    expect(parseReportRequest({ date: '2024-12-01', timeZone: 'Europe/Madrid' }, ctx).ok).toBe(true);
    expect(parseReportRequest({ timeZone: 'America/Bogota' }, ctx)).toMatchObject({
      ok: true,
      value: { from: '2024-11-30', to: '2024-11-30' },
    });
  });
});
