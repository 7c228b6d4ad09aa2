import { beforeEach, describe, expect, it } from 'vitest';
import { describeFailure, scrub } from '../../functions/delivery/mail/failure-reason.js';
import {
  barHeights,
  type ReportMailInput,
  renderEmptyMail,
  renderFailureMail,
  renderReportMail,
} from '../../functions/delivery/mail/index.js';
import { base64MimeSize, checkRecipients, decideAttachments } from '../../functions/delivery/mail/send.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../../functions/report/summary.js';
import { escapeHtml } from '../../functions/util/html-escape.js';
import {
  IncompleteReadError,
  VerifikAuthError,
  VerifikMalformedResponseError,
} from '../../functions/verifik/errors.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

const TZ = 'America/Bogota';
const window = { from: '2024-12-01', to: '2024-12-01', timeZone: TZ };

/** A record at local hour `hour` on 2024-12-01 in Bogotá (UTC−5). */
function record(i: number, hour: number, over: Partial<BiometricValidation> = {}): BiometricValidation {
  const created = new Date(Date.UTC(2024, 11, 1, hour + 5, i % 60, 0));
  return {
    _id: `65a1b2c3d4e5f6a7b8c9${String(i).padStart(4, '0')}`,
    client: { _id: 'c1', name: 'Acme Bank' },
    project: { _id: 'p1', name: 'Onboarding' },
    status: 'completed',
    type: 'validation',
    identifier: `person${i}@private-mail.example`,
    ipAddress: `203.0.113.${i % 250}`,
    requires2FA: false,
    biometricData: { quality: 'high', livenessScore: 0.9 },
    verificationResults: {
      livenessDetection: 'passed',
      identityMatch: 'passed',
      qualityScore: 0.9,
      antiSpoofing: 'passed',
    },
    riskScore: 0.1,
    createdAt: created.toISOString(),
    completedAt: new Date(created.getTime() + 30_000).toISOString(),
    ...over,
  };
}

function buildSummary(records: BiometricValidation[]): Summary {
  const b = new SummaryBuilder({ timeZone: TZ });
  for (const r of records) b.add(r);
  return b.result();
}

// 40 records: 10 at 09:00, 20 at 14:00, 10 at 23:00; 4 failed, 3 high-risk, an evil client name.
const records: BiometricValidation[] = [
  ...Array.from({ length: 10 }, (_, i) => record(i, 9)),
  ...Array.from({ length: 20 }, (_, i) => record(100 + i, 14)),
  ...Array.from({ length: 10 }, (_, i) =>
    record(200 + i, 23, {
      client: { _id: 'c2', name: '<script>alert("x")</script> & Co' },
      ...(i < 4 ? { status: 'failed' } : {}),
      ...(i >= 7 ? { riskScore: 0.95 } : {}),
    }),
  ),
];
// Built before each test, not at collection nor in beforeAll: Stryker's vitest setup attributes
// coverage to a test only between beforeEach and afterEach; code run earlier is "static" to it, and
// its mutants are not active in these tests (README "Mutation testing").
let summary: Summary;
beforeEach(() => {
  summary = buildSummary(records);
});

function input(over: Partial<ReportMailInput> = {}): ReportMailInput {
  return {
    definition: 'daily-ops',
    window,
    summary,
    delta: null,
    links: [
      {
        name: 'report.xlsx',
        url: 'https://api.example/reports/r1/files/report.xlsx?expires=1&signature=abc',
        bytes: 12_345,
      },
      {
        name: 'details.csv',
        url: 'https://api.example/reports/r1/files/details.csv?expires=1&signature=def',
        bytes: 2_000_000,
      },
    ],
    attachments: { mode: 'attached', encodedBytes: 100, budgetBytes: 1000 },
    linksExpireAt: new Date('2024-12-09T11:00:00Z'),
    generatedAt: new Date('2024-12-02T11:00:05Z'),
    reportId: 'r1',
    ...over,
  };
}

const personal = [/person\d+@private-mail\.example/, /203\.0\.113\./, /65a1b2c3d4e5f6a7b8c9/];

describe('renderReportMail', () => {
  it('puts definition, day, zone and the headline figures in the subject', () => {
    expect(summary.totals).toMatchObject({ validations: 40, failed: 4, highRisk: 3 });
    const mail = renderReportMail(input());
    expect(mail.subject).toBe(
      '[daily-ops] 2024-12-01 (America/Bogota): 40 validations, 4 failed (10.0%), 3 high-risk',
    );
  });

  it('formats thousands and ranges', () => {
    const big = { ...summary, totals: { validations: 1234, failed: 87, highRisk: 12 } };
    const mail = renderReportMail(
      input({ summary: big, window: { from: '2024-12-01', to: '2024-12-07', timeZone: TZ } }),
    );
    expect(mail.subject).toBe(
      '[daily-ops] 2024-12-01 to 2024-12-07 (America/Bogota): 1,234 validations, 87 failed (7.1%), 12 high-risk',
    );
  });

  it('escapes data: a client name with markup arrives as text', () => {
    const { html, text } = renderReportMail(input());
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    // The plain-text part shows the name as it is.
    expect(text).toContain('<script>alert("x")</script> & Co: 10 validations, 4 failed, 3 high risk');
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('draws 24 hour bars with heights proportional to the counts', () => {
    const { html } = renderReportMail(input());
    const bars = [...html.matchAll(/<td data-hour="(\d+)" data-count="(\d+)" data-height="(\d+)"/g)].map(
      (m) => ({
        hour: Number(m[1]),
        count: Number(m[2]),
        height: Number(m[3]),
      }),
    );
    expect(bars).toHaveLength(24);
    expect(bars.map((b) => b.hour)).toEqual(Array.from({ length: 24 }, (_, h) => h));
    expect(bars[9]).toMatchObject({ count: 10, height: 48 });
    expect(bars[14]).toMatchObject({ count: 20, height: 96 });
    expect(bars[23]).toMatchObject({ count: 10, height: 48 });
    expect(bars.filter((b) => b.height > 0)).toHaveLength(3);
    // The visible bar is a cell with that height, styled inline (no images, no scripts).
    expect(html).toContain('height="96" style="height:96px;');
    expect(html).not.toMatch(/<img|<script|<style/i);
  });

  it('barHeights keeps small non-zero hours visible and zero hours empty', () => {
    expect(barHeights([0, 1, 1000], 100)).toEqual([0, 1, 100]);
    expect(barHeights([0, 0], 100)).toEqual([0, 0]);
  });

  it('answers the first questions in the HTML: status, checks, clients, links, attachments', () => {
    const { html } = renderReportMail(input());
    expect(html).toMatch(/>completed<\/td><td[^>]*>36<\/td><td[^>]*>90\.0%</);
    expect(html).toMatch(/>failed<\/td><td[^>]*>4<\/td><td[^>]*>10\.0%</);
    expect(html).toMatch(
      />Liveness detection<\/td><td[^>]*>40<\/td><td[^>]*>0<\/td><td[^>]*>0<\/td><td[^>]*>100\.0%</,
    );
    expect(html).toMatch(/>Acme Bank<\/td><td[^>]*>30</);
    expect(html).toContain(
      'href="https://api.example/reports/r1/files/report.xlsx?expires=1&amp;signature=abc"',
    );
    expect(html).toContain('attached to this mail');
    expect(html).toContain('(12.1 KB, attached)');
  });

  it('says links only when the files were over budget', () => {
    const { html, text } = renderReportMail(
      input({
        attachments: { mode: 'links-only', encodedBytes: 9 * 1024 * 1024, budgetBytes: 7 * 1024 * 1024 },
      }),
    );
    expect(html).toContain('NOT attached');
    expect(html).toContain('9.0 MB encoded, over this mail&#39;s 7.0 MB attachment budget');
    expect(html).toContain('link only');
    expect(text).toContain('NOT attached');
  });

  it('the text alternative carries the same figures as the HTML', () => {
    const { text } = renderReportMail(input());
    expect(text).toContain('Validations: 40');
    expect(text).toContain('Failed (status or a failed check): 4 (10.0%)');
    expect(text).toContain('High risk (score ≥ 0.7): 3');
    expect(text).toContain('  completed: 36 (90.0%)');
    expect(text).toContain('  Identity match: pass rate 100.0% (passed 40, failed 0, missing 0)');
    expect(text).toMatch(/ {2}14:00 {6}20 #{40}\n/);
    expect(text).toMatch(/ {2}09:00 {6}10 #{20}\n/);
    expect(text).toContain(
      'report.xlsx (12.1 KB): https://api.example/reports/r1/files/report.xlsx?expires=1&signature=abc',
    );
  });

  it('shows what changed vs the previous report when there is one', () => {
    const previous = buildSummary(records.slice(0, 20));
    const delta = compareSummaries(summary, previous);
    const { html, text } = renderReportMail(input({ delta }));
    expect(html).toContain('What changed vs the previous report');
    expect(html).toMatch(/>Validations<\/td><td[^>]*>40<\/td><td[^>]*>20<\/td><td[^>]*>\+20 \(\+100\.0%\)</);
    expect(text).toContain('  Failed: 4 (previous 0, +4)');
    expect(renderReportMail(input()).html).not.toContain('What changed');
  });

  it('never includes personal data from the records (identifiers, IPs, record ids)', () => {
    const { html, text } = renderReportMail(input());
    for (const p of personal) {
      expect(html).not.toMatch(p);
      expect(text).not.toMatch(p);
    }
  });
});

describe('renderEmptyMail', () => {
  it('says there were no validations, with the filters', () => {
    const mail = renderEmptyMail({
      definition: 'daily-ops',
      window,
      filters: { statuses: ['failed'], types: [], clients: ['c1'] },
      generatedAt: new Date('2024-12-02T11:00:00Z'),
      reportId: 'r2',
    });
    expect(mail.subject).toBe('[daily-ops] 2024-12-01 (America/Bogota): no validations');
    expect(mail.text).toContain(
      'There were no validations on 2024-12-01 (America/Bogota) matching this report (status failed; client c1).',
    );
    expect(mail.html).toContain('No validations on 2024-12-01');
  });
});

describe('failure mail', () => {
  it('names the cause and what to do, without personal data or raw bodies', () => {
    const err = new IncompleteReadError(
      'page 3: record person7@private-mail.example from 203.0.113.7 (65a1b2c3d4e5f6a7b8c90007) failed the schema; phone +57 300 123 4567',
    );
    const reason = describeFailure(err, 'r3');
    const mail = renderFailureMail({
      definition: 'daily-ops',
      window,
      reason,
      reportId: 'r3',
      occurredAt: new Date('2024-12-02T11:00:00Z'),
      willRetry: true,
    });
    expect(mail.subject).toBe(
      '[daily-ops] 2024-12-01 (America/Bogota): report FAILED — Verifik returned data the report cannot trust',
    );
    expect(mail.text).toContain(
      'What happened: IncompleteReadError: The read of Verifik validations is incomplete: page 3: record [address] from [ip] ([id]) failed',
    );
    expect(mail.text).toContain(
      'What to do: The run was stopped rather than send an incomplete or wrong report.',
    );
    for (const p of [...personal, /300 123 4567/]) {
      expect(mail.html).not.toMatch(p);
      expect(mail.text).not.toMatch(p);
    }
  });

  it('quotes only status and code of errors that embed server text', () => {
    const url = 'https://verifik.test/v2/biometric-validations?page=1';
    const body = '{"data":[{"identifier":"Juan Pérez"}]}';
    const malformed = new VerifikMalformedResponseError({ url, status: 200, problem: 'bad', body });
    expect(describeFailure(malformed, 'r5').detail).toBe('VerifikMalformedResponseError: HTTP 200');
    const auth = describeFailure(
      new VerifikAuthError({ url, status: 401, code: 'UNAUTHORIZED', serverMessage: body }),
      'r5',
    );
    expect(auth.detail).toBe('VerifikAuthError: HTTP 401 UNAUTHORIZED');
    expect(auth.title).toBe('Verifik rejected the API token');
    expect(JSON.stringify(auth)).not.toContain('Juan');
  });

  it('reads the reason off the kind, not the class name', () => {
    // A renamed (or minified) class keeps its reason...
    class RenamedAuthError extends VerifikAuthError {
      override name = 'SomethingElse';
    }
    const url = 'https://verifik.test/v2/x';
    const renamed = new RenamedAuthError({ url, status: 401, code: null, serverMessage: 'no' });
    expect(describeFailure(renamed, 'r6').title).toBe('Verifik rejected the API token');
    // ...and a foreign error that merely shares a name is not taken for ours.
    class VerifikAuthErrorLookalike extends Error {
      override name = 'VerifikAuthError';
    }
    expect(describeFailure(new VerifikAuthErrorLookalike('x'), 'r6').title).toBe(
      'An unexpected error stopped the run',
    );
  });

  it('recognises the AWS SDK codes for a resource that could not be read', () => {
    const err = Object.assign(new Error('Secrets Manager can’t find the specified secret.'), {
      name: 'ResourceNotFoundException',
    });
    const reason = describeFailure(err, 'r7');
    expect(reason.title).toBe('A secret or AWS resource could not be read');
    expect(reason.detail).toBe('ResourceNotFoundException: Secrets Manager can’t find the specified secret.');
  });

  it('never quotes errors it does not know (they could carry a server body)', () => {
    const reason = describeFailure(new TypeError('{"identifier":"person1@private-mail.example"}'), 'r4');
    expect(reason.detail).toBe("TypeError (details are in the function's logs under run r4)");
    expect(JSON.stringify(reason)).not.toContain('private-mail');
  });

  it('scrubs tokens', () => {
    expect(scrub('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc')).toBe(
      'Authorization: Bearer [redacted]',
    );
  });
});

describe('mail-send policy', () => {
  it('attachment budget is measured on the base64 size', () => {
    expect(base64MimeSize(3)).toBe(6);
    expect(base64MimeSize(57)).toBe(78);
    expect(base64MimeSize(3_000_000)).toBe(4_000_000 + 2 * Math.ceil(4_000_000 / 76));
    expect(decideAttachments([3_000_000], 4_200_000).mode).toBe('attached');
    expect(decideAttachments([3_000_000, 1], 4_100_000).mode).toBe('links-only');
    expect(decideAttachments([], 1000).mode).toBe('links-only');
  });

  it('refuses disallowed recipients by name, dedupes, caps at 50', () => {
    expect(() =>
      checkRecipients(['a@ok.example', 'b@evil.example', 'c@EVIL.example'], ['ok.example']),
    ).toThrow(/Refusing to mail b@evil\.example, c@EVIL\.example/);
    expect(checkRecipients(['a@ok.example', 'A@ok.example', 'b@OK.example'], ['ok.example'])).toEqual([
      'A@ok.example',
      'b@OK.example',
    ]);
    const many = Array.from({ length: 51 }, (_, i) => `u${i}@ok.example`);
    expect(() => checkRecipients(many, ['ok.example'])).toThrow(/at most 50/);
    expect(() => checkRecipients([], ['ok.example'])).toThrow(/at least one/);
  });
});
