/**
 * The CLI's weekly, monthly and scoped reports, locally against the fake Verifik: a week and a
 * month are whole periods in the zone (a DST month has its true length), figures equal the
 * oracle's, and `--split-by` writes one complete report per scope with only its rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { Manifest } from '../../functions/report/manifest.js';
import { reportWindow } from '../../functions/time/window.js';
import { refId } from '../../functions/verifik/schema.js';
import { captureIo } from '../support/cli-io.js';

const TZ = 'Europe/Madrid';

let fake: FakeVerifik;
let dataset: Dataset;
let out: string;

beforeAll(async () => {
  // September to mid-November 2024 in Madrid: October has the change back to CET (745 hours).
  dataset = createDataset({
    seed: 5,
    count: 6000,
    start: new Date('2024-09-28T00:00:00Z'),
    end: new Date('2024-11-12T00:00:00Z'),
    clients: 2,
    projectsPerClient: 2,
    timeZone: TZ,
  });
  fake = await startFakeVerifik({ dataset, token: 'cli-token', faults: { maxPerPage: 500 } });
  out = mkdtempSync(join(tmpdir(), 'cli-periods-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(out, { recursive: true, force: true });
});

function io() {
  return captureIo(
    { VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token },
    () => new Date('2024-11-11T12:00:00Z'),
  );
}

async function json(args: string[]): Promise<unknown> {
  const run = io();
  const code = await runCli([...args, '--tz', TZ, '--out', out, '--json'], run.io);
  expect(run.err()).toBe('');
  expect(code).toBe(EXIT.ok);
  return JSON.parse(run.out());
}

describe('--cadence', () => {
  it('monthly: the calendar month containing --date, 745 hours in October 2024 in Madrid', async () => {
    const m = Manifest.parse(await json(['--cadence', 'monthly', '--date', '2024-10-15', '--format', 'csv']));
    expect([m.window.from, m.window.to]).toEqual(['2024-10-01', '2024-10-31']);
    const w = reportWindow('2024-10-01', '2024-10-31', TZ);
    expect((w.end.getTime() - w.start.getTime()) / 3600_000).toBe(745);
    expect(m.totals.validations).toBe(expectedRecords(dataset, w).length);
  });

  it('weekly without --date: the last whole Monday–Sunday week before today', async () => {
    const m = Manifest.parse(await json(['--cadence', 'weekly', '--format', 'csv']));
    // Today is Monday 2024-11-11: the last whole week is 4–10 November.
    expect([m.window.from, m.window.to]).toEqual(['2024-11-04', '2024-11-10']);
    expect(m.totals.validations).toBe(
      expectedRecords(dataset, reportWindow('2024-11-04', '2024-11-10', TZ)).length,
    );
  });

  it('weekly on a chosen week start, and the mistakes it refuses', async () => {
    const m = Manifest.parse(
      await json(['--cadence', 'weekly', '--week-start', '7', '--date', '2024-10-30', '--format', 'csv']),
    );
    expect([m.window.from, m.window.to]).toEqual(['2024-10-27', '2024-11-02']);
    for (const [args, message] of [
      [['--cadence', 'yearly'], /--cadence: daily, weekly or monthly/],
      [['--cadence', 'weekly', '--from', '2024-10-01', '--to', '2024-10-02'], /give --date/],
      [['--cadence', 'weekly', '--week-start', '8'], /--week-start: an ISO weekday/],
      [['--cadence', 'monthly', '--date', '2024-11-05'], /not over|has not ended/],
    ] as const) {
      const run = io();
      expect(await runCli([...args, '--tz', TZ, '--out', out], run.io)).toBe(EXIT.usage);
      expect(run.err()).toMatch(message);
    }
  });
});

describe('--split-by', () => {
  it('one read, one complete report per project with only its rows, and the overall report', async () => {
    const [p0, p1] = dataset.projects;
    const result = (await json([
      '--date',
      '2024-10-27',
      '--format',
      'csv',
      '--split-by',
      'project',
      '--scope',
      `first=${p0?._id}`,
      '--scope',
      `second=${p1?._id}`,
    ])) as { overall: unknown; scopes: Record<string, unknown> };
    const overall = Manifest.parse(result.overall);
    const records = expectedRecords(dataset, reportWindow('2024-10-27', '2024-10-27', TZ));
    expect(overall.totals.validations).toBe(records.length);
    for (const [name, project] of [
      ['first', p0],
      ['second', p1],
    ] as const) {
      const m = Manifest.parse(result.scopes[name]);
      const own = records.filter((r) => refId(r.project) === project?._id);
      expect(own.length).toBeGreaterThan(0);
      expect(m.totals.validations).toBe(own.length);
      expect(m.id).toMatch(new RegExp(`^cli--${name}-2024-10-27-`));
      expect(m.filters.projects).toEqual([project?._id]);
      const text = readFileSync(join(out, m.id, 'validations.csv'), 'utf8').replace(/^\uFEFF/, '');
      const rows: Record<string, string>[] = parse(text, { columns: true });
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(own.map((r) => r._id)));
    }
  });

  it('refuses a scope without NAME=ID, --scope without --split-by, and --mail-to with scopes', async () => {
    for (const [args, message] of [
      [['--split-by', 'project', '--scope', 'nope'], /write NAME=ID/],
      [['--scope', 'a=b'], /--scope needs --split-by/],
      [['--split-by', 'project'], /needs at least one --scope/],
      [['--split-by', 'team', '--scope', 'a=b'], /--split-by\/--scope/],
      [['--split-by', 'project', '--scope', 'Bad Name=x'], /--split-by\/--scope: .*lowercase/],
      [
        ['--split-by', 'project', '--scope', 'a=b', '--bucket', 'bkt', '--mail-to', 'x@example.com'],
        /scoped reports are mailed by a definition/,
      ],
    ] as const) {
      const run = io();
      expect(await runCli([...args, '--date', '2024-10-27', '--tz', TZ, '--out', out], run.io)).toBe(
        EXIT.usage,
      );
      expect(run.err()).toMatch(message);
    }
  });
});
