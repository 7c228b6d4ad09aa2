/**
 * Text from Verifik (a client or project name, a status, an error message) never carries control
 * characters into the terminal or the mail's plain-text part: no escape sequences, no CR/LF that
 * would forge a `Bcc:`-looking line. The HTML part escapes what it shows and keeps the names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { renderReportMail } from '../../functions/delivery/mail/index.js';
import { compareSummaries, SummaryBuilder } from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

const TZ = 'UTC';
const DAY = '2024-12-01';
const window = dayWindow(DAY, TZ);
const EVIL = '\x1b[31mred\x1b[0m\r\nBcc: x@evil.test\u0085\u2028';

/** Control characters a value must not bring along (C0, DEL, C1, line separators). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const FORGED_LINE = /^\s*Bcc:/im;

let dataset: Dataset;
let evil: BiometricValidation[];

beforeAll(() => {
  dataset = createDataset({ seed: 11, count: 60, start: window.start, end: window.end, timeZone: TZ });
  evil = dataset.generate(5).map((r, i) => {
    const record = structuredClone(r) as BiometricValidation & {
      client: { _id: string; name: string };
      project: { name: string };
    };
    // A client of its own, so its name is the one the summary keeps (and in the top five).
    record.client._id = 'eeeeeeeeeeeeeeeeeeeeeeee';
    record.client.name = `Acme${EVIL}`;
    record.project.name = `Project${EVIL}`;
    if (i < 3) record.status = `failed${EVIL}`;
    return record;
  });
  dataset.insert(evil);
});

describe('the mail', () => {
  it('plain-text part: no control characters, no forged header line; HTML keeps the escaped name', () => {
    const current = new SummaryBuilder({ timeZone: TZ });
    for (const r of dataset) current.add(r);
    const summary = current.result();
    // The previous report had the evil status too: the "what changed" lines name it.
    const previous = new SummaryBuilder({ timeZone: TZ });
    for (const r of evil) previous.add(r);
    const mail = renderReportMail({
      definition: 'daily-ops',
      window: { from: DAY, to: DAY, timeZone: TZ },
      summary,
      delta: compareSummaries(summary, previous.result()),
      links: [{ name: 'validations.csv', url: 'https://example.test/x', bytes: 10 }],
      attachments: { mode: 'attached', encodedBytes: 10, budgetBytes: 100 },
      linksExpireAt: new Date('2024-12-09T00:00:00Z'),
      generatedAt: new Date('2024-12-02T06:00:00Z'),
      reportId: 'daily-ops-2024-12-01-x',
    });
    // The evil values are in the mail (top client, status, what changed), defanged.
    expect(mail.text).toContain('Acme [31mred [0m Bcc: x@evil.test ');
    expect(mail.text).toContain('  failed [31mred [0m Bcc: x@evil.test : 3 (');
    expect(mail.text).toMatch(/ {2}Status failed \[31mred \[0m Bcc: x@evil\.test : 3 \(previous 3/);
    expect(mail.text).not.toMatch(CONTROL);
    expect(mail.text).not.toMatch(FORGED_LINE);
    expect(mail.subject).not.toMatch(CONTROL);
    expect(mail.html).toContain('Acme');
    expect(mail.html).not.toMatch(CONTROL);
  });
});

describe('the terminal', () => {
  let fake: FakeVerifik;
  let out: string;

  beforeAll(async () => {
    fake = await startFakeVerifik({ dataset, token: 'control-token' });
    out = mkdtempSync(join(tmpdir(), 'cli-control-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(out, { recursive: true, force: true });
  });

  function io() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const text = { out: '', err: '' };
    stdout.on('data', (d) => {
      text.out += d;
    });
    stderr.on('data', (d) => {
      text.err += d;
    });
    return {
      text,
      io: {
        stdout,
        stderr,
        env: { VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token },
        now: () => new Date('2024-12-03T00:00:00Z'),
      },
    };
  }

  it('the summary a run prints: statuses without escape sequences or forged lines', async () => {
    const run = io();
    const code = await runCli(['--date', DAY, '--tz', TZ, '--out', out, '--format', 'csv'], run.io);
    expect(run.text.err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(run.text.out).toContain('failed [31mred [0m Bcc: x@evil.test  3');
    expect(run.text.out).not.toMatch(CONTROL);
    expect(run.text.out).not.toMatch(FORGED_LINE);
  });

  it("Verifik's error message: one line, no escape sequences", async () => {
    fake.faults.push({
      kind: 'status',
      status: 400,
      body: { code: 'INVALID_PARAMETERS', message: `bad filter${EVIL}` },
    });
    const run = io();
    const code = await runCli(['--date', DAY, '--tz', TZ, '--out', out], run.io);
    fake.faults.clear();
    expect(code).toBe(EXIT.usage);
    expect(run.text.err).toContain('bad filter [31mred [0m Bcc: x@evil.test ');
    expect(run.text.err).not.toMatch(CONTROL);
    expect(run.text.err).not.toMatch(FORGED_LINE);
  });
});
