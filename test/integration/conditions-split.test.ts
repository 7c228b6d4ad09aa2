/**
 * Scheduled runs with `sendIf` and `splitBy`, end to end against moto and the fake Verifik: an
 * alert that fires and one that does not (logged with its figures, no mail), a baseline built
 * from the stored previous periods, and a split run whose every mail holds only its scope's rows,
 * delivered exactly once per scope even when SES refuses one scope's mail on the first attempt.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { MessageRejected, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { claimRun, getRun, markMailSending, readLog } from '../../functions/delivery/state/index.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import { resendReport } from '../../functions/runs/resend.js';
import { deliverScheduledReport } from '../../functions/runs/scheduled.js';
import { sweep } from '../../functions/runs/sweep.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { refId } from '../../functions/verifik/schema.js';
import { type Moto, type MotoSentEmail, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';
import { type Receiver, startReceiver, verifySignature } from '../support/webhook-receiver.js';

const BUCKET = 'reports-bucket';
const TABLE = 'report-state';
const TZ = 'America/Bogota';
const NOW = new Date('2024-12-02T11:00:00Z');

let moto: Moto;
let fake: FakeVerifik;
let dataset: Dataset;
let s3: S3Client;
let secrets: SecretsManagerClient;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
let definitions: ReportDefinitionInput[];
let slack: Receiver;
let hook: Receiver;
const SIGNING_KEY = 's'.repeat(40);

const def = (name: string, extra: Partial<ReportDefinitionInput>): ReportDefinitionInput => ({
  name,
  schedule: { timeZone: TZ },
  owners: ['owner@ops.example'],
  formats: ['csv'],
  ...extra,
});

function deps(over: Partial<RunDeps> = {}): RunDeps {
  const env = {
    REPORTS_BUCKET: BUCKET,
    STATE_TABLE: TABLE,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: 'verifik-token',
    LINK_SIGNING_SECRET_ID: 'link-key',
    MAIL_FROM: 'reports@reports.example',
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    REPORT_DEFINITIONS: JSON.stringify(definitions),
    PUBLIC_API_URL: 'https://api.example/',
  };
  return createRunDeps('scheduled-report', {
    config: loadConfig('scheduled-report', env),
    s3,
    ses,
    doc,
    secrets: createSecretSource({
      client: secrets,
      verifikTokenSecretId: 'verifik-token',
      linkSigningSecretId: 'link-key',
    }),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => NOW,
    ...over,
  });
}

async function mailsTo(address: string): Promise<ParsedMail[]> {
  const sent = await moto.sentEmails();
  const raw = sent.filter(
    (m): m is Extract<MotoSentEmail, { kind: 'raw' }> => m.kind === 'raw' && m.destinations.includes(address),
  );
  return Promise.all(raw.map((m) => simpleParser(m.raw)));
}

function attachedCsv(mail: ParsedMail | undefined): Record<string, string>[] {
  const a = mail?.attachments.find((x) => x.filename?.endsWith('validations.csv'));
  if (!a) throw new Error('no validations.csv attached');
  return parse(a.content.toString('utf8').replace(/^\uFEFF/, ''), { columns: true });
}

beforeAll(async () => {
  moto = await startMoto();
  [slack, hook] = await Promise.all([
    startReceiver(),
    startReceiver({ signingKey: SIGNING_KEY, nowSeconds: () => Math.floor(NOW.getTime() / 1000) }),
  ]);
  dataset = createDataset({
    seed: 21,
    start: new Date('2024-11-20T05:00:00Z'),
    end: new Date('2024-12-02T05:00:00Z'),
    count: 2400,
    clients: 2,
    projectsPerClient: 2,
    timeZone: TZ,
  });
  fake = await startFakeVerifik({ dataset, token: 'right-token' });
  ({ s3, secrets, ses, doc } = await provisionStack(moto, {
    bucket: BUCKET,
    table: TABLE,
    tokenSecret: 'verifik-token',
    linkSecret: 'link-key',
    token: 'right-token',
  }));
  await secrets.send(new CreateSecretCommand({ Name: 'dest/team-a-slack', SecretString: slack.url }));
  await secrets.send(
    new CreateSecretCommand({
      Name: 'dest/siem',
      SecretString: JSON.stringify({ url: hook.url, signingKey: SIGNING_KEY }),
    }),
  );
  const [p0, p1] = dataset.projects;
  definitions = [
    def('alert-ops', {
      recipients: ['alice@ops.example'],
      sendIf: { conditions: [{ metric: 'validations', above: 10 }], whenMet: 'alert', otherwise: 'skip' },
    }),
    def('quiet-ops', {
      recipients: ['bob@ops.example'],
      sendIf: { conditions: [{ metric: 'failureRate', above: 0.99 }] },
    }),
    def('base-ops', {
      recipients: ['carol@ops.example'],
      sendIf: {
        conditions: [{ metric: 'validations', above: 0.5, baseline: { periods: 3, minPeriods: 3 } }],
      },
    }),
    def('split-ops', {
      recipients: ['dave@ops.example'],
      splitBy: {
        by: 'project',
        scopes: [
          { name: 'p0', id: p0?._id as string, recipients: ['erin@ops.example'] },
          { name: 'p1', id: p1?._id as string, recipients: ['frank@ops.example'] },
          { name: 'nobody', id: 'project_without_rows', recipients: ['grace@ops.example'] },
        ],
      },
      sendIf: 'not-empty',
    }),
    def('chat-ops', {
      recipients: [],
      destinations: [
        { kind: 'slack', name: 'team-a-slack', secret: 'dest/team-a-slack' },
        { kind: 'webhook', name: 'siem', secret: 'dest/siem' },
      ],
      splitBy: {
        by: 'project',
        scopes: [
          { name: 'a', id: p0?._id as string, destinations: ['team-a-slack'] },
          { name: 'b', id: p1?._id as string },
        ],
      },
      sendIf: { conditions: [{ metric: 'validations', above: 1 }], whenMet: 'alert', otherwise: 'send' },
    }),
  ];
});

afterAll(async () => {
  await Promise.allSettled([slack?.close(), hook?.close()]);
  await fake?.close();
  await moto?.stop();
});

describe('sendIf in scheduled runs', () => {
  it('a threshold that fires sends an alert with the condition on top', async () => {
    const out = await deliverScheduledReport(deps(), { definition: 'alert-ops' });
    expect(out.status).toBe('sent');
    const [mail, ...more] = await mailsTo('alice@ops.example');
    expect(more).toHaveLength(0);
    const n = expectedRecords(dataset, dayWindow('2024-12-01', TZ)).length;
    expect(mail?.subject).toMatch(/^ALERT: \[alert-ops\] 2024-12-01/);
    expect(mail?.text?.split('\n')[0]).toBe("ALERT: this report's conditions held");
    expect(mail?.text).toContain(`validations ${n.toLocaleString('en-US')} is above 10`);
    expect(mail?.html).toContain('role="alert"');
  });

  it('one that does not fire sends nothing and logs the skip with the figures', async () => {
    const out = await deliverScheduledReport(deps(), { definition: 'quiet-ops' });
    expect(out).toMatchObject({
      status: 'done',
      reason: expect.stringMatching(/^skipped by condition: failure rate/),
    });
    expect(await mailsTo('bob@ops.example')).toHaveLength(0);
    const log = await readLog(doc, TABLE, { definition: 'quiet-ops', day: '2024-12-01' });
    const skip = log.find((e) => e.type === 'skipped-condition');
    expect(skip?.detail).toMatch(/^skip: failure rate .* is at most 99\.0% \(validations=\d+, failed=\d+/);
    expect((await getRun(doc, TABLE, 'quiet-ops', '2024-12-01'))?.status).toBe('done');
    // The report is still stored and complete: only its delivery was skipped.
    expect(skip?.reportId).toMatch(/^quiet-ops-2024-12-01-/);
  });

  it('a baseline needs its stored periods, then compares with their median', async () => {
    for (const day of ['2024-11-25', '2024-11-26', '2024-11-27']) {
      const out = await deliverScheduledReport(deps(), { definition: 'base-ops', day });
      expect(out.status).toBe('done');
    }
    const log = await readLog(doc, TABLE, { definition: 'base-ops', day: '2024-11-27' });
    expect(log.find((e) => e.type === 'skipped-condition')?.detail).toMatch(
      /only 2 of the last 3 periods are stored \(3 needed/,
    );
    const out = await deliverScheduledReport(deps(), { definition: 'base-ops', day: '2024-11-28' });
    expect(out.status).toBe('sent');
    const [mail] = await mailsTo('carol@ops.example');
    expect(mail?.text).toMatch(
      /validations [\d,]+ is [\d.]+× the median of the last 3 periods \([\d,.]+\); the limit is 0\.5×/,
    );
  });
});

describe('splitBy in scheduled runs', () => {
  it('mails each scope only its own rows, exactly once, even when SES refused one scope at first', async () => {
    const [p0, p1] = dataset.projects;
    // SES refuses frank's mail once (a fault moto cannot produce on demand), then takes it.
    let refused = 0;
    const flaky = {
      send: (cmd: { input?: { Destination?: { ToAddresses?: string[] } } }, ...rest: unknown[]) => {
        if (refused === 0 && cmd.input?.Destination?.ToAddresses?.includes('frank@ops.example')) {
          refused++;
          return Promise.reject(
            new MessageRejected({
              message: 'Email address is not verified.',
              $metadata: { httpStatusCode: 400 },
            }),
          );
        }
        return (ses.send as (...a: unknown[]) => Promise<unknown>)(cmd, ...rest);
      },
    } as unknown as SESv2Client;

    await expect(deliverScheduledReport(deps({ ses: flaky }), { definition: 'split-ops' })).rejects.toThrow(
      /1 of 3 scope mails failed \(p1: .*\); the retry mails only those/,
    );
    expect(await mailsTo('erin@ops.example')).toHaveLength(1);
    expect(await mailsTo('frank@ops.example')).toHaveLength(0);
    expect(await mailsTo('dave@ops.example')).toHaveLength(0);

    // The retry (Lambda's): p0 is not mailed again, p1 and the overall report are.
    const out = await deliverScheduledReport(deps({ ses: flaky }), { definition: 'split-ops' });
    expect(out.status).toBe('sent');
    expect('scopes' in out && out.scopes?.map((s) => [s.scope, s.status])).toEqual([
      ['p0', 'already'],
      ['p1', 'sent'],
      ['nobody', 'done'],
    ]);
    // And once more: the day is delivered, nothing is sent.
    expect((await deliverScheduledReport(deps(), { definition: 'split-ops' })).status).toBe('skipped');

    const records = expectedRecords(dataset, dayWindow('2024-12-01', TZ));
    for (const [address, project] of [
      ['erin@ops.example', p0],
      ['frank@ops.example', p1],
    ] as const) {
      const mails = await mailsTo(address);
      expect(mails).toHaveLength(1);
      const rows = attachedCsv(mails[0]);
      const own = records.filter((r) => refId(r.project) === project?._id);
      expect(own.length).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(own.map((r) => r._id)));
      expect(mails[0]?.subject).toContain(`[split-ops / ${address === 'erin@ops.example' ? 'p0' : 'p1'}]`);
    }
    // The overall report has every row; the empty scope was skipped by "not-empty", with a log entry.
    const [overall] = await mailsTo('dave@ops.example');
    expect(attachedCsv(overall)).toHaveLength(records.length);
    expect(await mailsTo('grace@ops.example')).toHaveLength(0);
    const emptyLog = await readLog(doc, TABLE, { definition: 'split-ops--nobody', day: '2024-12-01' });
    expect(emptyLog.map((e) => e.type)).toContain('skipped-condition');
    // Each scope's mail went under its own claim.
    expect((await getRun(doc, TABLE, 'split-ops--p0', '2024-12-01'))?.status).toBe('sent');
    expect((await getRun(doc, TABLE, 'split-ops--p1', '2024-12-01'))?.status).toBe('sent');

    // Re-sent on request, a scope's report goes to that scope's recipients, with its own rows.
    const p0Report = out.status === 'sent' ? out.scopes?.find((x) => x.scope === 'p0')?.reportId : undefined;
    const resent = await resendReport(deps(), {
      reportId: p0Report as string,
      requestKey: 'again-1',
      links: async (files) => ({
        links: files.map((f) => ({ name: f.name, bytes: f.bytes, url: `https://api.example/${f.name}` })),
        expiresAt: NOW,
      }),
    });
    expect(resent).toMatchObject({ status: 'sent', to: ['erin@ops.example'] });
    const again = await mailsTo('erin@ops.example');
    expect(again).toHaveLength(2);
    expect(new Set(attachedCsv(again[1]).map((r) => r.projectId))).toEqual(new Set([p0?._id]));
  });

  it('the sweeper settles a scope claim left by a dead run: released, or unknown and then told to the owners', async () => {
    const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
    const at = (d: Date) => deps({ now: () => d });
    // A run died between claiming scope p0 of 2024-11-30 and its send, another while sending p1.
    for (const [scope, sending] of [
      ['p0', false],
      ['p1', true],
    ] as const) {
      const name = `split-ops--${scope}`;
      const claim = await claimRun(doc, TABLE, {
        definition: name,
        day: '2024-11-30',
        runId: 'dead',
        leaseSeconds: 120,
        now: NOW,
      });
      expect(claim.claimed).toBe(true);
      if (sending)
        await markMailSending(doc, TABLE, {
          definition: name,
          day: '2024-11-30',
          runId: 'dead',
          sendId: 's1',
          now: NOW,
        });
    }
    const redone: unknown[] = [];
    const sweepAt = (d: Date) => sweep({ ...at(d), redo: async (input) => void redone.push(input) });

    const first = await sweepAt(minutes(5));
    expect(first.filter((a) => a.day === '2024-11-30').map((a) => [a.definition, a.action])).toEqual([
      ['split-ops--p0', 'failed'],
      ['split-ops--p1', 'unknown'],
    ]);
    // Released, so the definition's own redo can claim the scope again; never redone as a definition.
    expect((await getRun(doc, TABLE, 'split-ops--p0', '2024-11-30'))?.status).toBe('failed');
    expect(redone).toEqual([]);
    expect(
      (
        await claimRun(doc, TABLE, {
          definition: 'split-ops--p0',
          day: '2024-11-30',
          runId: 'redo',
          leaseSeconds: 120,
          now: minutes(6),
        })
      ).claimed,
    ).toBe(true);

    // Unknown for longer than the bound: the definition's owners hear of it, once.
    const before = (await mailsTo('owner@ops.example')).length;
    const later = await sweepAt(minutes(20));
    expect(later.filter((a) => a.definition === 'split-ops--p1').map((a) => a.action)).toEqual(['alert']);
    await sweepAt(minutes(30));
    const alerts = (await mailsTo('owner@ops.example')).slice(before);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(/split-ops/);
  });

  it("posts a scope's report to the scope's channel only, the overall one to the rest, once each", async () => {
    const [p0] = dataset.projects;
    const out = await deliverScheduledReport(deps(), { definition: 'chat-ops' });
    expect(out).toMatchObject({
      status: 'done',
      destinations: [{ destination: 'siem', status: 'sent' }],
      scopes: [
        { scope: 'a', destinations: [{ destination: 'team-a-slack', status: 'sent' }] },
        { scope: 'b', status: 'done' },
      ],
    });
    const records = expectedRecords(dataset, dayWindow('2024-12-01', TZ));
    const own = records.filter((r) => refId(r.project) === p0?._id);
    // Slack: one post, scope a's figures and links only, as an alert (the condition held).
    expect(slack.requests).toHaveLength(1);
    const post = JSON.parse(slack.requests[0]?.body ?? '{}');
    const text = JSON.stringify(post);
    expect(text).toContain(':rotating_light:');
    expect(text).toContain(own.length.toLocaleString('en-US'));
    expect(text).toContain('chat-ops--a-2024-12-01-');
    expect(text).not.toContain('chat-ops-2024-12-01-');
    // The signed webhook: the overall report, every row, a valid signature.
    expect(hook.requests).toHaveLength(1);
    const body = JSON.parse(hook.requests[0]?.body ?? '{}');
    expect(body.headline.validations).toBe(records.length);
    expect(body.alert.conditions[0]).toMatch(/^validations [\d,]+ is above 1$/);
    expect(
      verifySignature(
        SIGNING_KEY,
        hook.requests[0]?.headers ?? {},
        hook.requests[0]?.body ?? '',
        Math.floor(NOW.getTime() / 1000),
      ),
    ).toBe(true);

    // A retry after the run (the day is done): nothing is posted again.
    expect((await deliverScheduledReport(deps(), { definition: 'chat-ops' })).status).toBe('skipped');
    expect(slack.requests).toHaveLength(1);
    expect(hook.requests).toHaveLength(1);
  });
});
