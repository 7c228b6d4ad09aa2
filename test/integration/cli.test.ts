/**
 * The CLI end to end over real HTTP: the fake Verifik, a local directory, and (with --bucket /
 * --mail-to) moto's S3 and SES v2. Figures are checked against the generator's own records.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { downloadName } from '../../functions/core/naming.js';
import { Manifest } from '../../functions/report/manifest.js';
import { dayWindow } from '../../functions/time/window.js';
import { captureIo } from '../support/cli-io.js';
import { type Moto, startMoto } from '../support/moto.js';

const DAY = '2024-12-01';
const TZ = 'America/Bogota';
const window = dayWindow(DAY, TZ);

let fake: FakeVerifik;
let dataset: Dataset;
let out: string;

beforeAll(async () => {
  // Records on both sides of the window prove the window is applied.
  dataset = createDataset({
    seed: 42,
    count: 3000,
    start: new Date(window.start.getTime() - 3 * 3600_000),
    end: new Date(window.end.getTime() + 3 * 3600_000),
    timeZone: TZ,
  });
  fake = await startFakeVerifik({ dataset, token: 'cli-secret-token', faults: { maxPerPage: 250 } });
  out = mkdtempSync(join(tmpdir(), 'cli-test-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(out, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined> = {}) {
  return captureIo(
    { VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token, ...env },
    () => new Date('2024-12-02T12:00:00Z'),
  );
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const i of items) m[key(i)] = (m[key(i)] ?? 0) + 1;
  return m;
}

const reportDirs = (dir: string) => readdirSync(dir);

describe('verifik-reports into a directory', () => {
  it('writes a complete report whose figures equal the generator records of the window', async () => {
    const run = io();
    const code = await runCli(['--date', DAY, '--tz', TZ, '--out', out, '--json'], run.io);
    expect(run.err()).toBe('');
    expect(code).toBe(EXIT.ok);
    const manifest = Manifest.parse(JSON.parse(run.out()));
    const expected = expectedRecords(dataset, { start: window.start, end: window.end });
    expect(expected.length).toBeGreaterThan(1000);
    expect(expected.length).toBeLessThan(dataset.size);
    expect(manifest.totals.validations).toBe(expected.length);
    expect(manifest.totals.byStatus).toEqual(countBy(expected, (r) => r.status));
    expect(manifest.window).toMatchObject({
      timeZone: TZ,
      start: window.start.toISOString(),
      end: window.end.toISOString(),
    });

    const dir = join(out, manifest.id);
    expect(readdirSync(dir).sort()).toEqual([
      'manifest.json',
      'summary.csv',
      'summary.json',
      'validations.csv',
      'validations.xlsx',
    ]);
    // Every file but the manifest and the summary JSON is listed, so the loop below checks each.
    expect(manifest.files.map((f) => f.name).sort()).toEqual([
      'summary.csv',
      'validations.csv',
      'validations.xlsx',
    ]);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.name));
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    const csv = parse(readFileSync(join(dir, 'validations.csv')), { bom: true, columns: true }) as Record<
      string,
      string
    >[];
    expect(csv.map((r) => r.id)).toEqual(expected.map((r) => r._id));
    const summaryRows = parse(readFileSync(join(dir, 'summary.csv')), {
      bom: true,
      columns: true,
    }) as unknown[];
    expect(manifest.files.find((f) => f.kind === 'summary-csv')?.rows).toBe(summaryRows.length);
    expect(manifest.files.find((f) => f.kind === 'details-csv')?.rows).toBe(expected.length);
    const wb = XLSX.read(readFileSync(join(dir, 'validations.xlsx')), { sheetRows: 3 });
    expect(wb.SheetNames[0]).toBe('Summary');
    expect(wb.SheetNames).toContain('Validations');
  });

  it('applies status and type filters, including several types filtered record by record', async () => {
    const run = io();
    const code = await runCli(
      [
        '--date',
        DAY,
        '--tz',
        TZ,
        '--out',
        out,
        '--json',
        '--status',
        'failed',
        '--status',
        'expired',
        '--type',
        'login',
        '--type',
        'onboarding',
        '--format',
        'csv',
      ],
      run.io,
    );
    expect(code).toBe(EXIT.ok);
    const manifest = Manifest.parse(JSON.parse(run.out()));
    const expected = expectedRecords(dataset, {
      start: window.start,
      end: window.end,
      statuses: ['failed', 'expired'],
    }).filter((r) => r.type === 'login' || r.type === 'onboarding');
    expect(expected.length).toBeGreaterThan(0);
    expect(manifest.totals.validations).toBe(expected.length);
    expect(manifest.files.map((f) => f.kind).sort()).toEqual(['details-csv', 'summary-csv']);
  });

  it('compares with the previous local report of the same definition, zone and filters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-delta-'));
    const run = async (day: string, extra: string[] = []) => {
      const r = io();
      const args = [
        '--date',
        day,
        '--tz',
        TZ,
        '--out',
        dir,
        '--json',
        '--definition',
        'daily-delta',
        '--format',
        'csv',
      ];
      expect(await runCli([...args, ...extra], r.io)).toBe(EXIT.ok);
      const manifest = Manifest.parse(JSON.parse(r.out()));
      const rows = parse(readFileSync(join(dir, manifest.id, 'summary.csv')), {
        bom: true,
        columns: true,
      }) as {
        section: string;
        key: string;
        metric: string;
        value: string;
      }[];
      return { manifest, previous: rows.filter((row) => row.section === 'previous') };
    };
    const first = await run('2024-11-30');
    expect(first.previous).toEqual([]);
    const second = await run(DAY);
    const validations = second.previous.filter((row) => row.key === 'validations');
    expect(Number(validations.find((row) => row.metric === 'previous')?.value)).toBe(
      first.manifest.totals.validations,
    );
    expect(Number(validations.find((row) => row.metric === 'current')?.value)).toBe(
      second.manifest.totals.validations,
    );
    // Other filters are another report: no comparison with it.
    expect((await run(DAY, ['--status', 'failed'])).previous).toEqual([]);
  });

  it('draws a progress line (pages, records, records/s) on a terminal, and clears it', async () => {
    const run = io();
    Object.assign(run.io.stderr, { isTTY: true });
    expect(await runCli(['--date', DAY, '--tz', TZ, '--out', out, '--format', 'csv'], run.io)).toBe(EXIT.ok);
    expect(run.err()).toMatch(/\r\x1b\[Kpages \d+ · [\d,]+ records · [\d,]+\/s/);
    expect(run.err().endsWith('\r\x1b[K')).toBe(true);
  });

  it('--concurrency 2 never has more than two requests open at Verifik', async () => {
    // A fake of its own: the peak counts from the server's start. Small pages with a little
    // latency, so that a read at the default concurrency would overlap many requests.
    const gentle = await startFakeVerifik({
      dataset,
      token: fake.token,
      faults: { maxPerPage: 100, latencyMs: 5 },
    });
    try {
      const run = io({ VERIFIK_BASE_URL: gentle.url });
      const args = ['--date', DAY, '--tz', TZ, '--out', out, '--format', 'csv', '--json'];
      expect(await runCli([...args, '--concurrency', '2'], run.io)).toBe(EXIT.ok);
      const manifest = Manifest.parse(JSON.parse(run.out()));
      expect(manifest.totals.validations).toBe(
        expectedRecords(dataset, { start: window.start, end: window.end }).length,
      );
      expect(gentle.requests.length).toBeGreaterThan(10);
      expect(gentle.peakConcurrent).toBeLessThanOrEqual(2);
      // The read ran at the flag's concurrency (no 429 lowered it), not at the default.
      expect(manifest.diagnostics.lowestConcurrency).toBe(2);
    } finally {
      await gentle.close();
    }
  });

  it('prints a human summary with the file paths when not asked for JSON', async () => {
    const run = io();
    expect(await runCli(['--date', DAY, '--tz', TZ, '--out', out, '--format', 'xlsx'], run.io)).toBe(EXIT.ok);
    expect(run.out()).toMatch(/validations \d/);
    expect(run.out()).toContain('validations.xlsx');
    expect(run.out()).toContain(out);
  });
});

describe('verifik-reports refuses bad input and leaves nothing behind', () => {
  it.each([
    [['--date', '2024-02-30'], /no day 30/],
    [['--date', '01/12/2024'], /YYYY-MM-DD/],
    [['--tz', 'Mars/Olympus'], /Unknown time zone/],
    [['--from', '2024-12-05', '--to', '2024-12-01'], /before it starts/],
    [['--from', '2024-12-05'], /go together/],
    [['--format', 'pdf'], /--format/],
    [['--concurrency', '0'], /--concurrency: must be a whole number from 1 to 32/],
    [['--concurrency', '33'], /--concurrency: must be a whole number from 1 to 32/],
    [['--concurrency', 'abc'], /--concurrency: must be a whole number from 1 to 32/],
    [['--frobnicate'], /Unknown option/],
    [['--mail-to', 'ops@example.com'], /needs --bucket/],
  ])('%j exits 2 with a message', async (args, message) => {
    const run = io();
    expect(await runCli([...args, '--out', out], run.io)).toBe(EXIT.usage);
    expect(run.err()).toMatch(message);
  });

  it('exits 2 without a token and says what to do', async () => {
    const run = io({ VERIFIK_TOKEN: '' });
    expect(await runCli(['--date', DAY, '--out', out], run.io)).toBe(EXIT.usage);
    expect(run.err()).toMatch(/VERIFIK_TOKEN/);
  });

  it('exits 3 on a rejected token, never prints the token, and leaves no report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-auth-'));
    const run = io({ VERIFIK_TOKEN: 'wrong-token-0123456789' });
    expect(await runCli(['--date', DAY, '--tz', TZ, '--out', dir], run.io)).toBe(EXIT.auth);
    expect(run.err()).toMatch(/rejected the token/);
    expect(run.err()).toMatch(/No report was written/);
    expect(run.err() + run.out()).not.toContain('wrong-token-0123456789');
    expect(reportDirs(dir)).toEqual([]);
  });

  it('exits 4 on a malformed page mid-read and leaves no report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-malformed-'));
    fake.faults.push(
      { kind: 'malformed', body: '{"data": 5}' },
      { when: (r) => r.query.get('page') === '3' },
    );
    const run = io();
    const code = await runCli(['--date', DAY, '--tz', TZ, '--out', dir], run.io);
    fake.faults.clear();
    fake.faults.set({ maxPerPage: 250 });
    expect(code).toBe(EXIT.upstream);
    expect(run.err()).toMatch(/cannot read/);
    expect(reportDirs(dir)).toEqual([]);
  });
});

describe('the verifik-reports bin', () => {
  it('runs as a command: --help exits 0, a bad date exits 2', () => {
    const help = spawnSync(process.execPath, ['bin/verifik-reports.js', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--date YYYY-MM-DD/);
    const bad = spawnSync(process.execPath, ['bin/verifik-reports.js', '--date', 'yesterday'], {
      encoding: 'utf8',
      env: { ...process.env, VERIFIK_TOKEN: 'x' },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/YYYY-MM-DD/);
  });
});

describe('verifik-reports --bucket --mail-to (moto S3 and SES v2)', () => {
  let moto: Moto;
  let s3: S3Client;
  const bucket = 'cli-reports';

  beforeAll(async () => {
    moto = await startMoto();
    // The CLI configures its AWS clients from the standard SDK variables, as it would against AWS.
    Object.assign(process.env, moto.env);
    s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await moto.verifyIdentity('reports@example.com');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const mailEnv = { MAIL_FROM: 'reports@example.com', ALLOWED_RECIPIENT_DOMAINS: 'example.com' };

  it('stores the files in S3 and mails them; attachments equal the stored objects', async () => {
    const run = io(mailEnv);
    const code = await runCli(
      [
        '--date',
        DAY,
        '--tz',
        TZ,
        '--bucket',
        bucket,
        '--mail-to',
        'ops@example.com',
        '--definition',
        'daily-ops',
        '--json',
      ],
      run.io,
    );
    expect(run.err()).toBe('');
    expect(code).toBe(EXIT.ok);
    const manifest = Manifest.parse(JSON.parse(run.out()));
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'reports/daily-ops/2024/12/01/' }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toContain(`reports/daily-ops/2024/12/01/${manifest.id}/manifest.json`);

    const mails = await moto.sentEmails();
    expect(mails).toHaveLength(1);
    const parsed = await simpleParser((mails[0] as { raw: string }).raw);
    expect(parsed.subject).toContain('daily-ops');
    expect(parsed.subject).toContain(manifest.totals.validations.toLocaleString('en-US'));
    expect(manifest.files).toHaveLength(3);
    expect(parsed.attachments.length).toBe(manifest.files.length);
    for (const f of manifest.files) {
      const object = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: `reports/daily-ops/2024/12/01/${manifest.id}/${f.name}`,
        }),
      );
      const stored = Buffer.from(await object.Body!.transformToByteArray());
      expect(createHash('sha256').update(stored).digest('hex')).toBe(f.sha256);
      // Attachments carry the download name: definition and day in it.
      const attached = parsed.attachments.find(
        (a) => a.filename === downloadName({ definition: 'daily-ops', window }, f.name),
      );
      expect(attached?.content.equals(stored)).toBe(true);
    }
  });

  it('a mail that fails after the report is stored: exit 5, the report id and where it is, no "No report was written"', async () => {
    const before = (await moto.sentEmails()).length;
    // SES refuses an unverified sender; the report is stored before the mail is tried.
    const run = io({ ...mailEnv, MAIL_FROM: 'reports@unverified.example' });
    const code = await runCli(
      [
        '--date',
        DAY,
        '--tz',
        TZ,
        '--bucket',
        bucket,
        '--mail-to',
        'ops@example.com',
        '--definition',
        'mail-fails',
        '--json',
      ],
      run.io,
    );
    expect(code).toBe(EXIT.mailNotSent);
    expect(EXIT.mailNotSent).toBe(5);
    // The report is complete: its manifest is printed and stored.
    const manifest = Manifest.parse(JSON.parse(run.out()));
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'reports/mail-fails/2024/12/01/' }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key)).toContain(
      `reports/mail-fails/2024/12/01/${manifest.id}/manifest.json`,
    );
    const lines = run.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `report ${manifest.id} is complete and stored at s3://${bucket}/reports/mail-fails/2024/12/01/${manifest.id}/`,
    );
    expect(lines[0]).toMatch(/no mail was sent to ops@example\.com: SES refused the mail: /);
    expect(run.err()).not.toMatch(/No report was written/);
    expect((await moto.sentEmails()).length).toBe(before);
  });

  it('names the missing mail settings before doing any work', async () => {
    const before = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const run = io({ MAIL_FROM: undefined, ALLOWED_RECIPIENT_DOMAINS: undefined });
    const code = await runCli(
      ['--date', DAY, '--tz', TZ, '--bucket', bucket, '--mail-to', 'ops@example.com'],
      run.io,
    );
    expect(run.err()).toMatch(/MAIL_FROM: .*ALLOWED_RECIPIENT_DOMAINS: /);
    expect(code).toBe(EXIT.usage);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.KeyCount).toBe(before.KeyCount);
  });

  it('refuses a recipient outside the allowed domains before doing any work', async () => {
    const before = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const run = io(mailEnv);
    const code = await runCli(
      ['--date', DAY, '--tz', TZ, '--bucket', bucket, '--mail-to', 'someone@evil.test'],
      run.io,
    );
    expect(run.err()).toContain('someone@evil.test');
    expect(code).toBe(EXIT.usage);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.KeyCount).toBe(before.KeyCount);
  });
});
