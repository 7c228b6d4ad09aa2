/**
 * The fan-out as the stack runs it (issue 13), minus Step Functions itself: the worker handler,
 * given a long report, plans it and hands it over (slices 0/n in the report record, one start of
 * the execution); the machine's steps, sent to the same handler as `{ step }` events in the order
 * the state machine would send them, then complete it: the record shows slices done/total while
 * running, the files and the manifest appear after assembly, exactly one mail goes out after it
 * (a repeated delivery sends none). A failed execution's fail step fails the report with the
 * reason, leaves nothing under its prefix and tells the requester. Over moto and the fake Verifik.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { readLog } from '../../functions/delivery/state/log.js';
import { getReport, putReport } from '../../functions/delivery/state/reports.js';
import { createWorkerHandler } from '../../functions/handlers/report-worker.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { RunDeps, SecretSource } from '../../functions/runs/deps.js';
import type { FanOutExecution } from '../../functions/runs/fanout.js';
import { loadConfig } from '../../functions/settings/config.js';
import { reportWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type Moto, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';

const BUCKET = 'fanout-steps';
const TABLE = 'fanout-state';
const NOW = new Date('2024-12-10T12:00:00Z');
const window = reportWindow('2024-12-01', '2024-12-04', 'UTC');

let moto: Moto;
let fake: FakeVerifik;
let s3: S3Client;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
let secretsSm: SecretsManagerClient;
let secrets: SecretSource;

/** `attempts`: Verifik attempts per request (1 by default: a fault fails the step at once). */
function deps(attempts = 1): RunDeps {
  return createRunDeps('report-worker', {
    config: loadConfig('report-worker', {
      REPORTS_BUCKET: BUCKET,
      STATE_TABLE: TABLE,
      VERIFIK_BASE_URL: fake.url,
      VERIFIK_TOKEN_SECRET_ID: 'token',
      LINK_SIGNING_SECRET_ID: 'link',
      MAIL_FROM: 'reports@reports.example',
      ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
      REPORT_DEFINITIONS: '[]',
      VERIFIK_CONCURRENCY: '4',
    }),
    s3,
    ses,
    doc,
    secrets,
    verifik: (token) =>
      createVerifikClient({ baseUrl: fake.url, token, retry: { attempts, baseDelayMs: 5, maxDelayMs: 20 } }),
    logger: new Logger({ serviceName: 'report-worker', logLevel: 'SILENT' }),
    now: () => NOW,
  });
}

beforeAll(async () => {
  moto = await startMoto();
  ({
    s3,
    ses,
    doc,
    secrets: secretsSm,
  } = await provisionStack(moto, {
    bucket: BUCKET,
    table: TABLE,
    tokenSecret: 'token',
    linkSecret: 'link',
    token: 'steps-token',
  }));
  secrets = createSecretSource({
    client: secretsSm,
    verifikTokenSecretId: 'token',
    linkSigningSecretId: 'link',
  });
  const dataset = createDataset({
    seed: 21,
    count: 4000,
    start: window.start,
    end: window.end,
    timeZone: 'UTC',
  });
  fake = await startFakeVerifik({ dataset, token: 'steps-token' });
}, 60_000);

afterAll(async () => {
  await fake?.close();
  await moto?.stop();
});

async function newReport(id: string, notify: string[], attempts = 1) {
  const request = {
    from: window.from,
    to: window.to,
    timeZone: 'UTC',
    statuses: [],
    types: [],
    clients: [],
    formats: ['xlsx', 'csv'] as ('xlsx' | 'csv')[],
    notify,
  };
  await putReport(doc, TABLE, {
    id,
    status: 'queued',
    request: { definition: 'on-demand', ...request },
    createdAt: NOW.toISOString(),
    date: window.from,
  });
  const started: FanOutExecution[] = [];
  // Slices of at most 1,500 rows: four days of ~1,000 make a few slices.
  const starter = {
    start: async (input: FanOutExecution) => void started.push(input),
    model: { lambdaSeconds: 0.01, maxRowsPerSlice: 1500, rowsPerSecond: 1e9 },
  };
  const handler = createWorkerHandler(
    () => deps(attempts),
    () => starter,
  );
  const outcome = await handler({ reportId: id, request, baseUrl: 'https://api.example/' });
  return { handler, outcome, started };
}

/** Mails SES accepted (this test runs first: see the delivery-log check of the next one). */
const sentMails = () => moto.sentEmails();

const keysUnder = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map(
    (o) => o.Key,
  );

describe('a long on-demand report through the worker and the machine’s steps', () => {
  it('a failed execution fails the report with the reason, leaves nothing under its prefix and tells the requester', async () => {
    const { handler, started } = await newReport('long-report-2', ['ops@ops.example']);
    const input = started[0] as FanOutExecution;
    const { slices, parallelSlices: _p, ...shared } = input;
    await handler({ step: 'slice', ...shared, slice: slices[0] });
    const before = (await sentMails()).length;
    await handler({
      step: 'fail',
      ...input,
      error: {
        Error: 'upstream-unavailable:VerifikUnavailableError',
        Cause: JSON.stringify({
          errorType: 'upstream-unavailable:VerifikUnavailableError',
          errorMessage: 'Verifik answered 503 three times',
        }),
      },
    });
    const record = await getReport(doc, TABLE, 'long-report-2');
    expect(record?.status).toBe('failed');
    expect(record?.error).toMatch(/503 three times/);
    expect(await keysUnder('reports/on-demand/2024/12/01/long-report-2/')).toEqual([]);
    expect((await sentMails()).length).toBe(before + 1);
  }, 60_000);

  it('is handed over once, shows slices done/total while running, and ends with one mail after assembly', async () => {
    const { handler, outcome, started } = await newReport('long-report-1', ['ops@ops.example']);
    expect(outcome).toMatchObject({ status: 'fanned-out', reportId: 'long-report-1' });
    expect(started).toHaveLength(1);
    const input = started[0] as FanOutExecution;
    expect(input.slices.length).toBeGreaterThan(1);
    expect((await getReport(doc, TABLE, 'long-report-1'))?.slices).toEqual({
      done: 0,
      total: input.slices.length,
    });

    const { slices, parallelSlices: _p, ...shared } = input;
    await handler({ step: 'slice', ...shared, slice: slices[0] });
    expect((await getReport(doc, TABLE, 'long-report-1'))?.slices).toEqual({ done: 1, total: slices.length });
    expect((await getReport(doc, TABLE, 'long-report-1'))?.status).toBe('running');
    await Promise.all(slices.slice(1).map((slice) => handler({ step: 'slice', ...shared, slice })));
    // Nothing is sent before assembly: the run is still only claimed.
    expect((await getReport(doc, TABLE, 'long-report-1'))?.status).toBe('running');

    await handler({ step: 'assemble', ...input });
    const record = await getReport(doc, TABLE, 'long-report-1');
    expect(record?.status).toBe('complete');
    expect(record?.slices).toEqual({ done: slices.length, total: slices.length });
    expect(record?.summary?.validations).toBe(
      expectedRecords(fake.dataset, { start: window.start, end: window.end }).length,
    );

    await handler({ step: 'deliver', ...input });
    // A delivery repeated (the machine's retry after a lost answer) sends nothing more.
    await handler({ step: 'deliver', ...input }).catch(() => undefined);
    // One mail in the delivery log, handed to SES once and accepted (moto's mail store cannot be read
    // back once the bucket has held checksummed multipart objects: data.json answers 500).
    const log = await readLog(doc, TABLE, { definition: 'on-demand', day: 'long-report-1' });
    expect(log.filter((e) => e.type === 'send')).toHaveLength(1);
    expect(log.filter((e) => e.type === 'sent')).toHaveLength(1);
  }, 120_000);
  it("a slice refused with 429 posts the pause on the report's backoff board, beside its record", async () => {
    const { handler, started } = await newReport('long-report-429', [], 3);
    const input = started[0] as FanOutExecution;
    const { slices, parallelSlices: _p, ...shared } = input;
    fake.faults.push({ kind: 'status', status: 429, retryAfter: 1 });
    const before = Date.now();
    await handler({ step: 'slice', ...shared, slice: slices[0] });
    const board = (
      await doc.send(
        new GetCommand({ TableName: TABLE, Key: { pk: 'REPORT#long-report-429', sk: 'BACKOFF' } }),
      )
    ).Item;
    // The other slices of this report (on other Lambdas) read this item: one burst, its pause.
    expect(board).toMatchObject({ epoch: 1, level: Math.max(1, Math.floor(input.concurrencyPerSlice / 2)) });
    expect(Number(board?.pauseUntil)).toBeGreaterThanOrEqual(before + 1000);
    expect(Number(board?.expiresAt)).toBeGreaterThan(NOW.getTime() / 1000);
    expect(fake.faults.pending).toBe(0);
  }, 60_000);
});
