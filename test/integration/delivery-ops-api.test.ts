/**
 * The delivery log, re-send, backfill and pause/resume through the reports API over real HTTP:
 * moto (S3, SES v2, Secrets Manager, DynamoDB), the fake Verifik, the API Gateway stand-in, and
 * the scheduled and SES-events handlers driven in-process. Backfills start the scheduled function
 * through an injected `startScheduledRun` (moto cannot run Lambda functions): the test records
 * each start, then runs the scheduled handler for it, as Lambda would.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import type { ApiDeps } from '../../functions/api/deps.js';
import { API_ROUTES } from '../../functions/contract.js';
import {
  claimRun,
  getReport,
  type LogEntry,
  markRun,
  putReport,
  readLog,
  updateReportStatus,
} from '../../functions/delivery/state/index.js';
import { createApiDeps } from '../../functions/handlers/api-deps.js';
import { createReportsApi } from '../../functions/handlers/reports-api.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import { createSesEventsHandler } from '../../functions/handlers/ses-events.js';
import { startQueuedBackfills } from '../../functions/runs/backfill.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import type { ScheduledInput } from '../../functions/runs/schedule-input.js';
import type { ScheduledOutcome } from '../../functions/runs/scheduled.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type ApiGatewayStandIn, startApiGateway } from '../support/apigw.js';
import { type Moto, type MotoSentEmail, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';

const BUCKET = 'reports-bucket';
const TABLE = 'report-state';
const TOKEN_SECRET = 'verifik-token';
const LINK_SECRET = 'link-signing-key';
const FROM = 'reports@reports.example';
const NOW = new Date('2024-12-02T11:00:00Z'); // 06:00 in Bogotá: "yesterday" is 2024-12-01
const TZ = 'America/Bogota';
/**
 * NOW, a millisecond later at every reading: the delivery log is ordered by time, and entries
 * written in the same millisecond have no order among themselves.
 */
let ticks = 0;
const clock = () => new Date(NOW.getTime() + ticks++);

const daily = (name: string, recipients: string[]): ReportDefinitionInput => ({
  name,
  schedule: { timeZone: TZ },
  recipients,
  owners: ['owner@ops.example'],
  formats: ['csv'],
});

const definitions: ReportDefinitionInput[] = [
  daily('log-ops', ['alice@ops.example']),
  daily('resend-ops', ['bob@ops.example']),
  daily('fill-ops', ['fill@ops.example']),
  daily('pause-ops', ['paula@ops.example']),
];

let moto: Moto;
let fake: FakeVerifik;
let api: ApiGatewayStandIn;
let s3: S3Client;
let secretsSm: SecretsManagerClient;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
/** What backfills asked the scheduled function to run, in order. */
const started: ScheduledInput[] = [];

function env(): Record<string, string> {
  return {
    REPORTS_BUCKET: BUCKET,
    STATE_TABLE: TABLE,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: TOKEN_SECRET,
    LINK_SIGNING_SECRET_ID: LINK_SECRET,
    MAIL_FROM: FROM,
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    REPORT_DEFINITIONS: JSON.stringify(definitions),
    WORKER_FUNCTION_NAME: 'report-worker',
    PUBLIC_API_URL: api.url,
  };
}

const silent = (serviceName: string) => new Logger({ serviceName, logLevel: 'SILENT' });

function secretSource() {
  return createSecretSource({
    client: secretsSm,
    verifikTokenSecretId: TOKEN_SECRET,
    linkSigningSecretId: LINK_SECRET,
  });
}

function runDeps(): RunDeps {
  return createRunDeps('scheduled-report', {
    config: loadConfig('scheduled-report', env()),
    s3,
    ses,
    doc,
    secrets: secretSource(),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: silent('scheduled-report'),
    now: clock,
  });
}

function apiDeps(over: Partial<ApiDeps> = {}): ApiDeps {
  return createApiDeps({
    config: loadConfig('reports-api', env()),
    s3,
    doc,
    ses,
    secrets: secretSource(),
    logger: silent('reports-api'),
    now: clock,
    invokeWorker: async () => undefined,
    startScheduledRun: async (input) => {
      started.push(input);
    },
    ...over,
  });
}

const scheduled = (input: ScheduledInput): Promise<ScheduledOutcome> =>
  createScheduledHandler(runDeps)(input);

async function mailsTo(address: string): Promise<ParsedMail[]> {
  const sent = await moto.sentEmails();
  const raw = sent.filter(
    (m): m is Extract<MotoSentEmail, { kind: 'raw' }> => m.kind === 'raw' && m.destinations.includes(address),
  );
  return Promise.all(raw.map((m) => simpleParser(m.raw)));
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  opts: { key?: string; body?: unknown; raw?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.key !== undefined ? { 'idempotency-key': opts.key } : {}),
    },
    ...(opts.raw !== undefined
      ? { body: opts.raw }
      : opts.body !== undefined
        ? { body: JSON.stringify(opts.body) }
        : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface FieldProblem {
  field: string;
  message: string;
}
const fieldsOf = (body: Record<string, unknown>) => body.fields as FieldProblem[];

beforeAll(async () => {
  [moto, api] = await Promise.all([
    startMoto(),
    startApiGateway({
      handler: (e, c) => createReportsApi(() => apiDeps())(e, c),
      routes: Object.values(API_ROUTES),
    }),
  ]);
  const dataset = createDataset({
    seed: 11,
    start: new Date('2024-11-27T05:00:00Z'),
    end: new Date('2024-12-02T05:00:00Z'),
    count: 300,
  });
  fake = await startFakeVerifik({ dataset, token: 'right-token' });
  ({
    s3,
    secrets: secretsSm,
    ses,
    doc,
  } = await provisionStack(moto, {
    bucket: BUCKET,
    table: TABLE,
    tokenSecret: TOKEN_SECRET,
    linkSecret: LINK_SECRET,
    token: 'right-token',
  }));
});

afterAll(async () => {
  await Promise.allSettled([api?.close(), fake?.close()]);
  await moto?.stop();
});

type Sent = Extract<ScheduledOutcome, { status: 'sent' }>;

async function sentRun(input: ScheduledInput): Promise<Sent> {
  const outcome = await scheduled(input);
  expect(outcome.status, JSON.stringify(outcome)).toBe('sent');
  return outcome as Sent;
}

describe('GET /reports/{id}: the delivery log', () => {
  it('shows the run and its claimed / produced / send / sent entries, then the SES events fed to ses-events', async () => {
    const run = await sentRun({ definition: 'log-ops' });
    const first = await call('GET', `/reports/${run.reportId}`);
    expect(first.status).toBe(200);
    const log = first.body.deliveryLog as {
      run: { status: string; attempts: number; mailMessageId?: string; reportId?: string };
      entries: LogEntry[];
    };
    expect(log.run).toMatchObject({
      status: 'sent',
      attempts: 1,
      mailMessageId: run.messageId,
      reportId: run.reportId,
    });
    expect(log.entries.map((e) => e.type)).toEqual(['claimed', 'produced', 'send', 'sent']);
    const send = log.entries.find((e) => e.type === 'send') as LogEntry;
    expect(send.recipients).toEqual(['alice@ops.example']);
    expect(log.entries.find((e) => e.type === 'sent')).toMatchObject({
      messageId: run.messageId,
      sendId: send.sendId,
    });

    // SES publishes the mail's events (tagged with its send id) to EventBridge → ses-events.
    const sesEvents = createSesEventsHandler(() => ({
      doc,
      config: loadConfig('ses-events', env()),
      logger: silent('ses-events'),
      now: () => new Date(clock().getTime() + 5_000),
    }));
    const mail = {
      messageId: run.messageId,
      destination: ['alice@ops.example'],
      tags: { 'send-id': [send.sendId as string], 'report-id': [run.reportId] },
    };
    expect(
      await sesEvents({
        source: 'aws.ses',
        'detail-type': 'Email Delivered',
        detail: { eventType: 'Delivery', mail, delivery: { recipients: ['alice@ops.example'] } },
      }),
    ).toMatchObject({ status: 'logged', event: 'Delivery' });
    await sesEvents({
      source: 'aws.ses',
      'detail-type': 'Email Bounced',
      detail: {
        eventType: 'Bounce',
        mail,
        bounce: {
          bounceType: 'Transient',
          bounceSubType: 'MailboxFull',
          bouncedRecipients: [{ emailAddress: 'alice@ops.example' }],
        },
      },
    });
    const after = (await call('GET', `/reports/${run.reportId}`)).body.deliveryLog as { entries: LogEntry[] };
    const events = after.entries.filter((e) => e.type === 'event');
    expect(events).toEqual([
      expect.objectContaining({
        event: 'Delivery',
        messageId: run.messageId,
        recipients: ['alice@ops.example'],
      }),
      expect.objectContaining({ event: 'Bounce', detail: 'Transient / MailboxFull' }),
    ]);
  });

  it('is null for a report nothing was logged for', async () => {
    await putReport(doc, TABLE, {
      id: 'on-demand-quiet-1',
      status: 'queued',
      request: { definition: 'on-demand', from: '2024-12-01', to: '2024-12-01', timeZone: TZ },
      createdAt: NOW.toISOString(),
      date: '2024-12-01',
    });
    const res = await call('GET', '/reports/on-demand-quiet-1');
    expect(res.status).toBe(200);
    expect(res.body.deliveryLog).toBeNull();
  });
});

describe('POST /reports/{id}/resend', () => {
  let reportId: string;
  beforeAll(async () => {
    reportId = (await sentRun({ definition: 'resend-ops' })).reportId;
  });

  it('twice with the same Idempotency-Key: one mail, the second answers duplicate', async () => {
    const first = await call('POST', `/reports/${reportId}/resend`, {
      key: 'again-1',
      body: { to: ['carol@ops.example'] },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'sent',
      reportId,
      to: ['carol@ops.example'],
      idempotencyKey: 'again-1',
    });
    const second = await call('POST', `/reports/${reportId}/resend`, {
      key: 'again-1',
      body: { to: ['carol@ops.example'] },
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'duplicate', reportId, state: 'sent' });
    const mails = await mailsTo('carol@ops.example');
    expect(mails).toHaveLength(1);
    // The same files, with fresh links signed to this API, which redirect to the stored bytes.
    const mail = mails[0] as ParsedMail;
    expect(mail.subject).toMatch(/^\[resend-ops\] 2024-12-01 \(America\/Bogota\): /);
    expect(mail.attachments.map((a) => a.filename?.replace(/^.*-/, '')).sort()).toEqual([
      'summary.csv',
      'validations.csv',
    ]);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/reports\/\S+)/.exec(mail.text ?? '')?.[1] as string;
    expect(link).toContain(`/reports/${reportId}/files/`);
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect((await fetch(redirect.headers.get('location') as string)).status).toBe(200);
  });

  it('a re-send SES refused sent nothing, so the same Idempotency-Key may try again and then sends once', async () => {
    // moto refuses a sender that is not a verified identity, as SES does (MessageRejected, 400).
    const refusing = await startApiGateway({
      handler: (e, c) =>
        createReportsApi(() =>
          apiDeps({
            config: loadConfig('reports-api', { ...env(), MAIL_FROM: 'nobody@unverified.example' }),
          }),
        )(e, c),
      routes: Object.values(API_ROUTES),
    });
    try {
      const refused = await fetch(`${refusing.url}/reports/${reportId}/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'retry-after-refusal' },
        body: JSON.stringify({ to: ['dave@ops.example'] }),
      });
      expect(refused.status).toBe(502);
    } finally {
      await refusing.close();
    }
    expect(await mailsTo('dave@ops.example')).toHaveLength(0);
    const retried = await call('POST', `/reports/${reportId}/resend`, {
      key: 'retry-after-refusal',
      body: { to: ['dave@ops.example'] },
    });
    expect(retried.body).toMatchObject({ status: 'sent' });
    expect(await mailsTo('dave@ops.example')).toHaveLength(1);
  });

  it('without `to` goes to the report’s own recipients, logged in the report’s delivery log', async () => {
    const res = await call('POST', `/reports/${reportId}/resend`, { key: 'own-recipients' });
    expect(res.body).toMatchObject({ status: 'sent', to: ['bob@ops.example'] });
    expect(await mailsTo('bob@ops.example')).toHaveLength(2); // the scheduled mail and this one
    const log = (await call('GET', `/reports/${reportId}`)).body.deliveryLog as { entries: LogEntry[] };
    const resends = log.entries.filter((e) => e.type === 'resend');
    // The refused attempt is logged as well as its retry under the same key.
    expect(resends.map((e) => e.detail)).toEqual([
      'request again-1',
      'request retry-after-refusal',
      'request retry-after-refusal',
      'request own-recipients',
    ]);
    expect(log.entries.some((e) => e.type === 'send-refused')).toBe(true);
    // The scheduled mail, again-1, the retry after the refusal, own-recipients.
    expect(log.entries.filter((e) => e.type === 'sent')).toHaveLength(4);
  });

  it('refuses a recipient outside the allowed domains by name, and a missing or bad Idempotency-Key', async () => {
    const before = (await moto.sentEmails()).length;
    const refused = await call('POST', `/reports/${reportId}/resend`, {
      key: 'k-2',
      body: { to: ['dave@ops.example', 'mallory@evil.example'] },
    });
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused.body)).toEqual([
      { field: 'to', message: 'not in an allowed recipient domain: mallory@evil.example' },
    ]);
    const noKey = await call('POST', `/reports/${reportId}/resend`, { body: {} });
    expect(noKey.status).toBe(400);
    expect(fieldsOf(noKey.body).map((f) => f.field)).toEqual(['Idempotency-Key']);
    expect(fieldsOf(noKey.body)[0]?.message).toMatch(/^required header/);
    const badKey = await call('POST', `/reports/${reportId}/resend`, { key: 'a b', body: {} });
    expect(fieldsOf(badKey.body)).toEqual([
      {
        field: 'Idempotency-Key',
        message: '"a b" is not a request key: use 1–64 letters, digits, "_" or "-"',
      },
    ]);
    const junk = await call('POST', `/reports/${reportId}/resend`, {
      key: 'k-3',
      body: { to: 'dave@ops.example', cc: [] },
    });
    expect(
      fieldsOf(junk.body)
        .map((f) => f.field)
        .sort(),
    ).toEqual(['cc', 'to']);
    const notJson = await call('POST', `/reports/${reportId}/resend`, { key: 'k-4', raw: '{oops' });
    expect(fieldsOf(notJson.body)).toEqual([{ field: 'body', message: 'not valid JSON' }]);
    expect((await moto.sentEmails()).length).toBe(before);
  });

  it('404 for an unknown report, 409 for one that is not complete or whose files are gone', async () => {
    const missing = await call('POST', '/reports/no-such-report/resend', { key: 'k-5' });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('No report no-such-report.');

    await putReport(doc, TABLE, {
      id: 'on-demand-running-1',
      status: 'queued',
      request: {
        definition: 'on-demand',
        from: '2024-12-01',
        to: '2024-12-01',
        timeZone: TZ,
        notify: ['erin@ops.example'],
      },
      createdAt: NOW.toISOString(),
      date: '2024-12-01',
    });
    await updateReportStatus(doc, TABLE, 'on-demand-running-1', { status: 'running' });
    const running = await call('POST', '/reports/on-demand-running-1/resend', { key: 'k-6' });
    expect(running.status).toBe(409);
    expect(running.body).toEqual({
      error: 'Conflict',
      message: 'Report on-demand-running-1 is running; only a complete report can be re-sent.',
    });

    // A complete report whose files the bucket's retention removed.
    const gone = await sentRun({ definition: 'resend-ops', day: '2024-11-30' });
    const record = await getReport(doc, TABLE, gone.reportId);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: record?.manifestKey as string }));
    const expired = await call('POST', `/reports/${gone.reportId}/resend`, { key: 'k-7' });
    expect(expired.status).toBe(409);
    expect(expired.body.message).toMatch(/files are no longer stored/);
    expect(await mailsTo('erin@ops.example')).toHaveLength(0);
  });
});

describe('POST /definitions/{name}/backfill', () => {
  const path = '/definitions/fill-ops/backfill';
  const startedSince = (n: number) => started.slice(n);

  it('skips the delivered day, starts the others; forced, all of them, and the same forced request twice sends once', async () => {
    await sentRun({ definition: 'fill-ops' }); // 2024-12-01, delivered by its schedule
    expect(await mailsTo('fill@ops.example')).toHaveLength(1);

    let mark = started.length;
    const plain = await call('POST', path, { key: 'fill-1', body: { from: '2024-11-29', to: '2024-12-01' } });
    expect(plain.status).toBe(202);
    expect(plain.body).toEqual({
      definition: 'fill-ops',
      from: '2024-11-29',
      to: '2024-12-01',
      force: false,
      idempotencyKey: 'fill-1',
      days: [
        { day: '2024-11-29', action: 'started' },
        { day: '2024-11-30', action: 'started' },
        { day: '2024-12-01', action: 'skipped', reason: 'already sent' },
      ],
    });
    const plainStarts = startedSince(mark);
    expect(plainStarts).toEqual([
      { definition: 'fill-ops', day: '2024-11-29' },
      { definition: 'fill-ops', day: '2024-11-30' },
    ]);
    for (const input of plainStarts) expect((await scheduled(input)).status).toBe('sent');
    expect(await mailsTo('fill@ops.example')).toHaveLength(3);

    mark = started.length;
    const forced = await call('POST', path, {
      key: 'fill-force',
      body: { from: '2024-11-29', to: '2024-12-01', force: true },
    });
    expect(forced.status).toBe(202);
    // At most BACKFILL_WIDTH (2) runs of a definition at once: the third day waits in the queue.
    expect((forced.body.days as { action: string }[]).map((d) => d.action)).toEqual([
      'started',
      'started',
      'queued',
    ]);
    const forcedStarts = startedSince(mark);
    const forcedInput = (day: string) => ({ definition: 'fill-ops', day, force: 'fill-force' });
    expect(forcedStarts).toEqual([forcedInput('2024-11-29'), forcedInput('2024-11-30')]);
    const drain = () =>
      startQueuedBackfills({
        ...runDeps(),
        redo: async (input) => {
          started.push(input);
        },
      });
    // While both run (live leases), the sweeper's drain starts nothing more.
    const live = await Promise.all(
      forcedStarts.map((input, i) =>
        claimRun(doc, TABLE, {
          definition: 'fill-ops',
          day: `${input.day}~probe`,
          runId: `probe-${i}`,
          leaseSeconds: 120,
          now: clock(),
        }),
      ),
    );
    expect(live.every((c) => c.claimed)).toBe(true);
    expect(await drain()).toEqual([]);
    for (const [i, input] of forcedStarts.entries()) {
      await markRun(doc, TABLE, {
        definition: 'fill-ops',
        day: `${input.day}~probe`,
        runId: `probe-${i}`,
        status: 'done',
        now: clock(),
      });
    }
    const outcomes = await Promise.all(forcedStarts.map((input) => scheduled(input)));
    expect(outcomes.map((o) => o.status)).toEqual(['sent', 'sent']);
    // Once they finished, the drain starts the queued day, once.
    mark = started.length;
    expect(await drain()).toEqual([forcedInput('2024-12-01')]);
    expect(await drain()).toEqual([]);
    expect(startedSince(mark)).toEqual([forcedInput('2024-12-01')]);
    expect((await scheduled(forcedInput('2024-12-01'))).status).toBe('sent');
    expect(await mailsTo('fill@ops.example')).toHaveLength(6);
    // A forced report's status shows the log of its own claim (day~key).
    const forcedLog = (await call('GET', `/reports/${(outcomes[0] as Sent).reportId}`)).body.deliveryLog as {
      run: { status: string };
      entries: LogEntry[];
    };
    expect(forcedLog.run.status).toBe('sent');
    expect(forcedLog.entries.map((e) => e.type)).toEqual(['redo', 'claimed', 'produced', 'send', 'sent']);

    // The same forced request again (a retried call): it starts days whose claims refuse them.
    mark = started.length;
    const again = await call('POST', path, {
      key: 'fill-force',
      body: { from: '2024-11-29', to: '2024-12-01', force: true },
    });
    expect(again.status).toBe(202);
    const againStarts = [...startedSince(mark)];
    expect(againStarts).toHaveLength(2);
    againStarts.push(...(await drain()));
    expect(againStarts).toHaveLength(3);
    const repeats = await Promise.all(againStarts.map((input) => scheduled(input)));
    expect(repeats.map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(await mailsTo('fill@ops.example')).toHaveLength(6);

    // Unforced, every day is delivered now: nothing to start.
    mark = started.length;
    const done = await call('POST', path, { key: 'fill-2', body: { from: '2024-11-29', to: '2024-12-01' } });
    expect((done.body.days as { action: string }[]).every((d) => d.action === 'skipped')).toBe(true);
    expect(startedSince(mark)).toEqual([]);
  });

  it('404 for an unknown definition; 400 for a bad range, an unfinished day or a missing key', async () => {
    const mark = started.length;
    const unknown = await call('POST', '/definitions/nope/backfill', {
      key: 'k',
      body: { from: '2024-11-29', to: '2024-11-30' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/^No report definition named "nope"\. Known definitions: log-ops, /);

    // 2024-12-02 is today in Bogotá at NOW: not finished, so not reportable.
    const today = await call('POST', path, { key: 'k', body: { from: '2024-11-30', to: '2024-12-02' } });
    expect(today.status).toBe(400);
    expect(fieldsOf(today.body)).toEqual([
      {
        field: 'to',
        message:
          '2024-12-02 has not ended yet in America/Bogota: reports cover whole days, the latest is 2024-12-01',
      },
    ]);
    const backwards = await call('POST', path, { key: 'k', body: { from: '2024-11-30', to: '2024-11-29' } });
    expect(fieldsOf(backwards.body)).toEqual([
      { field: 'to', message: '2024-11-29 is before from (2024-11-30)' },
    ]);
    const tooLong = await call('POST', path, { key: 'k', body: { from: '2024-01-01', to: '2024-11-30' } });
    expect(fieldsOf(tooLong.body)[0]?.message).toMatch(/at most 93/);
    const badDay = await call('POST', path, {
      key: 'k',
      body: { from: '2024-02-30', to: '2024-03-01', force: 'yes' },
    });
    expect(
      fieldsOf(badDay.body)
        .map((f) => f.field)
        .sort(),
    ).toEqual(['force', 'from']);
    const noKey = await call('POST', path, { body: { from: '2024-11-29', to: '2024-11-30' } });
    expect(fieldsOf(noKey.body).map((f) => f.field)).toEqual(['Idempotency-Key']);
    const noBody = await call('POST', path, { key: 'k' });
    expect(fieldsOf(noBody.body).map((f) => f.field)).toEqual(['body']);
    expect(started.length).toBe(mark);
  });

  it('503 naming SCHEDULED_FUNCTION_NAME when the API cannot start scheduled runs', async () => {
    const ports = apiDeps();
    delete ports.startScheduledRun;
    const bare = createReportsApi(() => ports);
    const event = api.events.find((e) => e.rawPath === path) as Parameters<typeof bare>[0];
    const res = await bare({ ...event, headers: { ...event.headers, 'idempotency-key': 'k-503' } });
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body ?? '{}').message).toMatch(/SCHEDULED_FUNCTION_NAME is not set/);
  });
});

describe('pause, resume and GET /definitions', () => {
  it('a paused definition’s scheduled run is skipped and logged; resumed, it runs', async () => {
    const paused = await call('POST', '/definitions/pause-ops/pause');
    expect(paused).toEqual({ status: 200, body: { definition: 'pause-ops', paused: true } });
    // Idempotent: pausing a paused definition answers the same.
    expect((await call('POST', '/definitions/pause-ops/pause')).body).toEqual({
      definition: 'pause-ops',
      paused: true,
    });

    const listed = await call('GET', '/definitions');
    expect(listed.status).toBe(200);
    const defs = listed.body.definitions as Record<string, unknown>[];
    expect(defs.map((d) => d.name)).toEqual(['log-ops', 'resend-ops', 'fill-ops', 'pause-ops']);
    expect(defs.find((d) => d.name === 'pause-ops')).toMatchObject({
      schedule: { hour: 6, minute: 0, timeZone: TZ },
      recipients: 1,
      paused: true,
      by: 'api',
      // The schedule fired at NOW (06:00 in Bogotá); the next fire is tomorrow's, for today.
      nextRun: { at: '2024-12-03T11:00:00.000Z', reportsOn: '2024-12-02' },
    });
    expect(defs.find((d) => d.name === 'log-ops')).toMatchObject({ paused: false, sendIf: 'always' });
    expect(defs.find((d) => d.name === 'log-ops')).not.toHaveProperty('splitBy');

    const skipped = await scheduled({ definition: 'pause-ops' });
    expect(skipped).toEqual({
      status: 'skipped',
      definition: 'pause-ops',
      day: '2024-12-01',
      reason: 'pause-ops is paused',
    });
    const log = await readLog(doc, TABLE, { definition: 'pause-ops', day: '2024-12-01' });
    expect(log).toEqual([expect.objectContaining({ type: 'skipped', detail: 'pause-ops is paused' })]);
    expect(await mailsTo('paula@ops.example')).toHaveLength(0);

    const resumed = await call('POST', '/definitions/pause-ops/resume');
    expect(resumed).toEqual({ status: 200, body: { definition: 'pause-ops', paused: false } });
    expect((await scheduled({ definition: 'pause-ops' })).status).toBe('sent');
    expect(await mailsTo('paula@ops.example')).toHaveLength(1);
  });

  it('404 for an unknown definition, 405 for the wrong method', async () => {
    const unknown = await call('POST', '/definitions/nope/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/^No report definition named "nope"/);
    const wrong = await fetch(`${api.url}/definitions/pause-ops/pause`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const list = await fetch(`${api.url}/definitions`, { method: 'POST' });
    expect(list.status).toBe(405);
  });
});
