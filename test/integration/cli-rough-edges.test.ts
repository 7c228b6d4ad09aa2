/**
 * The CLI's rough edges, each refused at once with one line that names the flag or the variable
 * and exits 2: an --out that cannot be made, VERIFIK_BASE_URL with credentials, not a URL or with a
 * wrong path, a day far in the future or before any data, empty flag values, a --concurrency
 * that is not written in digits.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { parseConcurrency } from '../../functions/settings/read-concurrency.js';
import { dayWindow } from '../../functions/time/window.js';
import { captureIo } from '../support/cli-io.js';

const DAY = '2024-12-01';
const TZ = 'UTC';

let fake: FakeVerifik;
let out: string;

beforeAll(async () => {
  const window = dayWindow(DAY, TZ);
  const dataset = createDataset({ seed: 5, count: 50, start: window.start, end: window.end, timeZone: TZ });
  fake = await startFakeVerifik({ dataset, token: 'rough-token' });
  out = mkdtempSync(join(tmpdir(), 'cli-rough-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(out, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const captured = captureIo(
    { VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token, ...env },
    () => new Date('2024-12-03T00:00:00Z'),
  );
  const started = Date.now();
  const code = await runCli(args, captured.io);
  const o = captured.out();
  const e = captured.err();
  // The message lines, without the "No report was written." that follows a failed run.
  const lines = e
    .trim()
    .split('\n')
    .filter((l) => l !== 'No report was written.');
  return { code, out: o, err: e, lines, ms: Date.now() - started };
}

const report = ['--date', DAY, '--tz', TZ, '--format', 'csv'];

describe('--out', () => {
  it('a directory that cannot be made (/proc/x) fails at once, naming --out; nothing is read', async () => {
    const before = fake.requests.length;
    const run = await cli([...report, '--out', '/proc/x']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(
      /^verifik-reports: --out \/proc\/x: the report directory cannot be created there \(ENOENT/,
    );
    expect(run.ms).toBeLessThan(5000);
    expect(fake.requests.length).toBe(before);
  });

  it('a file where the directory should be', async () => {
    const run = await cli([...report, '--out', '/etc/hostname/reports']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines[0]).toMatch(
      /--out \/etc\/hostname\/reports: the report directory cannot be created there \(ENOTDIR/,
    );
  });

  it('a directory that does not exist yet is made, levels and all', async () => {
    const run = await cli([...report, '--out', join(out, 'a', 'b')]);
    expect(run.code).toBe(EXIT.ok);
    expect(readdirSync(join(out, 'a', 'b'))).toHaveLength(1);
  });
});

describe('VERIFIK_BASE_URL', () => {
  it('with a user name and password: refused by name, the credentials never printed', async () => {
    const run = await cli([...report, '--out', out], {
      VERIFIK_BASE_URL: fake.url.replace('http://', 'http://alice:pw-s3cr3t-987@'),
    });
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(/VERIFIK_BASE_URL holds a user name or password/);
    expect(run.out + run.err).not.toMatch(/pw-s3cr3t-987|alice/);
  });

  it('not a URL: names the variable, not "Failed to parse URL", and does not echo the value', async () => {
    const run = await cli([...report, '--out', out], { VERIFIK_BASE_URL: 'api.verifik.co/tok-123' });
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toEqual([
      "verifik-reports: VERIFIK_BASE_URL is not a URL: give the API's origin, such as https://api.verifik.co (the value is not shown: it could hold a credential).",
    ]);
    expect(run.err).not.toMatch(/Failed to parse URL|tok-123/);
  });

  it('not http(s)', async () => {
    const run = await cli([...report, '--out', out], { VERIFIK_BASE_URL: 'ftp://api.verifik.co' });
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines[0]).toMatch(/VERIFIK_BASE_URL must be an https:\/\/ \(or http:\/\/\) URL.*"ftp:"/);
  });

  it('a wrong path (Verifik answers 404): the path looks wrong, check VERIFIK_BASE_URL, not the filters', async () => {
    const run = await cli([...report, '--out', out], { VERIFIK_BASE_URL: `${fake.url}/api` });
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(/HTTP 404.*the URL path looks wrong\. Check VERIFIK_BASE_URL/);
    expect(run.err).not.toMatch(/Check the filters/);
    expect(readdirSync(out).filter((d) => d.endsWith('.partial'))).toEqual([]);
  });
});

describe('--date bounds', () => {
  it.each([
    [
      '9999-12-31',
      'verifik-reports: --date: 9999-12-31 is in the future in UTC (today there is 2024-12-03).',
    ],
    [
      '0050-01-01',
      'verifik-reports: --date: 0050-01-01 is before 2000-01-01, older than any Verifik validation: give a day from 2000-01-01 on.',
    ],
    [
      '1999-12-31',
      'verifik-reports: --date: 1999-12-31 is before 2000-01-01, older than any Verifik validation: give a day from 2000-01-01 on.',
    ],
    ['0050-02-30', 'verifik-reports: --date: "0050-02-30" is not a calendar day (month 2 has no day 30).'],
    ['2024-13-01', 'verifik-reports: --date: "2024-13-01" is not a calendar day (there is no month 13).'],
  ])('--date %s: exit 2 and the right reason', async (day, line) => {
    const run = await cli(['--date', day, '--tz', TZ, '--out', out]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toEqual([line]);
  });

  it('2000-01-01 itself is accepted (it only has no data)', async () => {
    const run = await cli(['--date', '2000-01-01', '--tz', TZ, '--out', out, '--format', 'csv']);
    expect(run.code).toBe(EXIT.ok);
  });
});

describe('empty and malformed flag values: one line, never the usage', () => {
  it.each([
    [['--tz', ''], 'verifik-reports: --tz was given an empty value; give one, or leave the flag out.'],
    [['--date='], 'verifik-reports: --date was given an empty value; give one, or leave the flag out.'],
    [
      ['--date', DAY, '--from', ''],
      'verifik-reports: --from was given an empty value; give one, or leave the flag out.',
    ],
    [
      ['--status', 'failed', '--status', ' '],
      'verifik-reports: --status was given an empty value; give one, or leave the flag out.',
    ],
    [
      ['--date', DAY, '--tz'],
      "verifik-reports: Option '--tz <value>' argument missing (--help lists the flags)",
    ],
    [['--concurrency', '0x10'], 'verifik-reports: --concurrency: must be a whole number from 1 to 32'],
    [['--concurrency', '1e1'], 'verifik-reports: --concurrency: must be a whole number from 1 to 32'],
    [['--concurrency', '+8'], 'verifik-reports: --concurrency: must be a whole number from 1 to 32'],
    [['--concurrency', '8.0'], 'verifik-reports: --concurrency: must be a whole number from 1 to 32'],
  ])('%j', async (args, line) => {
    const run = await cli(['--out', out, ...args]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.lines).toEqual([line]);
  });

  it('VERIFIK_CONCURRENCY follows the same rule: decimal digits only', () => {
    expect(parseConcurrency('16')).toBe(16);
    expect(parseConcurrency(' 8 ')).toBe(8);
    for (const text of ['0x10', '1e1', '+8', '8.0', '', ' ']) expect(parseConcurrency(text)).toBeUndefined();
  });
});
