/**
 * The three handlers end to end against real servers: moto (S3, SES v2, Secrets Manager,
 * DynamoDB), the fake Verifik, and the reports API served over HTTP by the API Gateway stand-in.
 *
 * The worker is invoked in-process (asynchronously, like `InvocationType: 'Event'`): moto cannot
 * run Lambda functions here (no Docker), so `invokeWorker` is injected.
 */

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import type { ApiDeps } from '../../functions/api/deps.js';
import {
  API_ROUTES,
  ASYNC_RETRY_ATTEMPTS,
  LAMBDA_NODE_FLAGS,
  LAMBDA_PROCESS_ENV,
  LAMBDA_V8_FLAGS,
} from '../../functions/contract.js';
import { setClients } from '../../functions/delivery/aws-clients.js';
import { signFileLink } from '../../functions/delivery/links.js';
import { createApiDeps } from '../../functions/handlers/api-deps.js';
import { createWorkerHandler } from '../../functions/handlers/report-worker.js';
import { createReportsApi } from '../../functions/handlers/reports-api.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import { Manifest } from '../../functions/report/manifest.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import type { WorkerPayload } from '../../functions/runs/worker-payload.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';

import { createVerifikClient } from '../../functions/verifik/client.js';
import { BUNDLING } from '../../infra/constructs/report-functions.js';
import { type ApiGatewayStandIn, fakeLambdaContext, startApiGateway } from '../support/apigw.js';
import { type Moto, type MotoSentEmail, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';

const BUCKET = 'reports-bucket';
const TABLE = 'report-state';
const TOKEN_SECRET = 'verifik-token';
const LINK_SECRET = 'link-signing-key';
const LINK_KEY = 'k'.repeat(48);
const FROM = 'reports@reports.example';
const NOW = new Date('2024-12-02T11:00:00Z'); // 06:00 in Bogotá: "yesterday" is 2024-12-01
const TZ = 'America/Bogota';

/** A daily definition in TZ whose failures go to owner@ops.example unless `extra` says otherwise. */
function daily(
  name: string,
  recipients: string[],
  extra: Partial<ReportDefinitionInput> = {},
): ReportDefinitionInput {
  return { name, schedule: { timeZone: TZ }, recipients, owners: ['owner@ops.example'], ...extra };
}

const definitions: ReportDefinitionInput[] = [
  daily('daily-ops', ['alice@ops.example', 'bob@ops.example']),
  daily('twin-ops', ['carol@ops.example'], { formats: ['csv'] }),
  daily('retry-ops', ['dave@ops.example'], { formats: ['csv'] }),
  daily('bundle-ops', ['bundle@ops.example']),
  daily('flaky-ops', ['erin@ops.example'], { formats: ['csv'], owners: ['flaky-owner@ops.example'] }),
  daily('delta-ops', ['frank@ops.example'], { formats: ['csv'] }),
  daily('race-ops', ['ivan@ops.example'], { formats: ['csv'] }),
  daily('env-ops', ['judy@ops.example'], { formats: ['csv'] }),
  daily('big-ops', ['kim@ops.example']),
  daily('gentle-ops', ['liam@ops.example'], { formats: ['csv'] }),
  daily('quiet-ops', ['grace@ops.example'], { clients: ['no-such-client'] }),
  daily('silent-ops', ['heidi@ops.example'], { clients: ['no-such-client'], skipIfEmpty: true }),
  daily('weekly-ops', ['mia@ops.example'], { formats: ['csv'], cadence: { kind: 'weekly' } }),
  daily('weekend-ops', ['noah@ops.example'], { formats: ['csv'], cadence: { kind: 'weekdays' } }),
];

let moto: Moto;
let fake: FakeVerifik;
let dataset: Dataset;
let api: ApiGatewayStandIn;
let s3: S3Client;
let secretsSm: SecretsManagerClient;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
const workers: Promise<unknown>[] = [];

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

function deps(role: 'scheduled-report' | 'report-worker', over: Partial<RunDeps> = {}): RunDeps {
  return createRunDeps(role, {
    config: loadConfig(role, env()),
    s3,
    ses,
    doc,
    secrets: secretSource(),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: new Logger({ serviceName: role, logLevel: 'SILENT' }),
    now: () => NOW,
    ...over,
  });
}

function apiDeps(over: Partial<ApiDeps> = {}): ApiDeps {
  return createApiDeps({
    config: loadConfig('reports-api', env()),
    s3,
    doc,
    secrets: secretSource(),
    logger: new Logger({ serviceName: 'reports-api', logLevel: 'SILENT' }),
    now: () => NOW,
    ...over,
  });
}

function secretSource() {
  return createSecretSource({
    client: secretsSm,
    verifikTokenSecretId: TOKEN_SECRET,
    linkSigningSecretId: LINK_SECRET,
  });
}

async function objectBytes(key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function manifests(prefix: string): Promise<{ key: string; manifest: Manifest }[]> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  const keys = (list.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.endsWith('/manifest.json'));
  return Promise.all(
    keys.map(async (key) => ({
      key,
      manifest: Manifest.parse(JSON.parse((await objectBytes(key)).toString())),
    })),
  );
}

async function mailsTo(address: string): Promise<ParsedMail[]> {
  const sent = await moto.sentEmails();
  const raw = sent.filter(
    (m): m is Extract<MotoSentEmail, { kind: 'raw' }> => m.kind === 'raw' && m.destinations.includes(address),
  );
  return Promise.all(raw.map((m) => simpleParser(m.raw)));
}

/** Personal data of the day's records: none of it may appear in a failure mail. */
function personalData(): string[] {
  const out: string[] = [];
  for (const r of dataset) {
    if (r.identifier) out.push(r.identifier);
    if (r.ipAddress) out.push(r.ipAddress);
    out.push(r._id);
  }
  return out;
}

beforeAll(async () => {
  [moto, api] = await Promise.all([
    startMoto(),
    // The handler is attached below, once the dependencies exist.
    startApiGateway({
      handler: (e, c) => apiHandler(e, c),
      // The routes the CDK stack declares; anything else still reaches the handler ($default).
      routes: Object.values(API_ROUTES),
    }),
  ]);
  dataset = createDataset({
    seed: 7,
    start: new Date('2024-11-30T05:00:00Z'),
    end: new Date('2024-12-02T05:00:00Z'),
    count: 400,
  });
  fake = await startFakeVerifik({ dataset, token: 'right-token' });
  // The factories the deployed functions use, pointed at moto (path-style S3, the same marshalling).
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
    linkKey: LINK_KEY,
  }));
});

afterAll(async () => {
  await Promise.allSettled(workers);
  await Promise.allSettled([api?.close(), fake?.close()]);
  await moto?.stop();
});

let apiImpl: ReturnType<typeof createReportsApi> | undefined;
const apiHandler: Parameters<typeof startApiGateway>[0]['handler'] = async (event, context) => {
  if (!apiImpl) {
    const worker = createWorkerHandler(() => deps('report-worker'));
    const invokeWorker = async (payload: WorkerPayload) => {
      // Like an async Lambda invoke: queued now, run later, the caller does not wait.
      workers.push(new Promise((resolve) => setImmediate(resolve)).then(() => worker(payload)));
    };
    const ports = apiDeps({ invokeWorker });
    apiImpl = createReportsApi(() => ports);
  }
  return apiImpl(event, context);
};

const run = promisify(execFile);

describe('scheduled-report', () => {
  const scheduled = () => createScheduledHandler(() => deps('scheduled-report'));

  it('reports yesterday end to end: S3 bytes match the manifest, one mail with figures, links and the same files', async () => {
    const outcome = await scheduled()({ definition: 'daily-ops' });
    expect(outcome).toMatchObject({ status: 'sent', definition: 'daily-ops', day: '2024-12-01' });

    const [found, ...more] = await manifests('reports/daily-ops/2024/12/01/');
    expect(more).toHaveLength(0);
    if (!found) throw new Error('no manifest');
    const { key, manifest } = found;
    expect(manifest.files.map((f) => f.kind).sort()).toEqual(['details-csv', 'summary-csv', 'xlsx']);
    const prefix = key.slice(0, -'manifest.json'.length);
    const stored = new Map<string, Buffer>();
    for (const f of manifest.files) {
      const bytes = await objectBytes(prefix + f.name);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
      stored.set(f.name, bytes);
    }

    const [mail, ...others] = await mailsTo('alice@ops.example');
    expect(others).toHaveLength(0);
    if (!mail) throw new Error('no mail');
    const total = manifest.totals.validations;
    expect(total).toBeGreaterThan(50);
    expect(mail.subject).toMatch(
      new RegExp(
        `^\\[daily-ops\\] 2024-12-01 \\(America/Bogota\\): ${total.toLocaleString('en-US')} validations, `,
      ),
    );
    expect(mail.text).toContain(`Validations: ${total.toLocaleString('en-US')}`);
    for (const [status, count] of Object.entries(manifest.totals.byStatus)) {
      expect(mail.text).toContain(`  ${status}: ${count.toLocaleString('en-US')} (`);
    }
    // Attachments are the S3 objects, byte for byte.
    expect(mail.attachments).toHaveLength(manifest.files.length);
    for (const a of mail.attachments) {
      const name = manifest.files.find((f) => a.filename?.endsWith(`-${f.name}`))?.name;
      expect(name, `attachment ${a.filename}`).toBeDefined();
      expect(Buffer.compare(a.content, stored.get(name as string) as Buffer)).toBe(0);
    }
    // Every link goes through the API's redirect to the same bytes.
    const links = [...(mail.text ?? '').matchAll(/(http:\/\/127\.0\.0\.1:\d+\/reports\/\S+)/g)].map(
      (m) => m[1] as string,
    );
    expect(links).toHaveLength(manifest.files.length);
    for (const link of links) {
      const res = await fetch(link, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const file = await fetch(res.headers.get('location') as string);
      expect(file.status).toBe(200);
      const name = new URL(link).pathname.split('/').pop() as string;
      expect(Buffer.compare(Buffer.from(await file.arrayBuffer()), stored.get(name) as Buffer)).toBe(0);
    }
  });

  it('twice in a row and twice concurrently: exactly one mail per day', async () => {
    const handler = scheduled();
    const twins = await Promise.all([
      handler({ definition: 'twin-ops' }),
      handler({ definition: 'twin-ops' }),
    ]);
    expect(twins.map((t) => t.status).sort()).toEqual(['sent', 'skipped']);
    // The loser is told by its claim, or (if both claims raced through) by the `sending` step:
    // either way it is not a failure, so the owners hear nothing.
    expect((await mailsTo('owner@ops.example')).filter((m) => m.subject?.includes('twin-ops'))).toHaveLength(
      0,
    );
    expect(await mailsTo('carol@ops.example')).toHaveLength(1);
    // In a row: a duplicate delivery, and a retry naming the same day explicitly.
    expect((await handler({ definition: 'twin-ops' })).status).toBe('skipped');
    expect((await handler({ definition: 'twin-ops', day: '2024-12-01' })).status).toBe('skipped');
    expect(await mailsTo('carol@ops.example')).toHaveLength(1);
  });

  it('a slow run whose claim was taken over after its lease ran out sends nothing', async () => {
    let reached!: () => void;
    const atVerifik = new Promise<void>((r) => {
      reached = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = createScheduledHandler(() =>
      deps('scheduled-report', {
        verifik: (token) => {
          const real = createVerifikClient({ baseUrl: fake.url, token });
          return {
            urlFor: (q) => real.urlFor(q),
            listPage: async (q, o) => {
              reached();
              await gate;
              return real.listPage(q, o);
            },
          };
        },
      }),
    );
    const first = slow({ definition: 'race-ops' });
    await atVerifik;
    // 17 minutes later the first run's 16-minute lease has expired: a retry takes the day over.
    const later = new Date(NOW.getTime() + 17 * 60_000);
    const takeover = await createScheduledHandler(() => deps('scheduled-report', { now: () => later }))({
      definition: 'race-ops',
    });
    expect(takeover.status).toBe('sent');
    release();
    const outcome = await first;
    expect(outcome.status).toBe('skipped');
    expect(outcome.status === 'skipped' && outcome.reason).toMatch(/^superseded/);
    expect(await mailsTo('ivan@ops.example')).toHaveLength(1);
    expect((await mailsTo('owner@ops.example')).filter((m) => m.subject?.includes('race-ops'))).toHaveLength(
      0,
    );
  });

  it('a run that fails before sending is retried to completion; the owners get the reason without personal data', async () => {
    await secretsSm.send(new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'wrong-token' }));
    // Both attempts share one secret cache, as in a warm Lambda: the retry reads the fixed token
    // only because the 401 dropped the cached one.
    const secrets = createSecretSource({
      client: secretsSm,
      verifikTokenSecretId: TOKEN_SECRET,
      linkSigningSecretId: LINK_SECRET,
    });
    const warm = createScheduledHandler(() => deps('scheduled-report', { secrets }));
    await expect(warm({ definition: 'retry-ops' })).rejects.toMatchObject({ name: 'VerifikAuthError' });
    expect(await mailsTo('dave@ops.example')).toHaveLength(0);

    const ownerMails = (await mailsTo('owner@ops.example')).filter((m) => m.subject?.includes('retry-ops'));
    expect(ownerMails).toHaveLength(1);
    const notice = ownerMails[0] as ParsedMail;
    expect(notice.subject).toBe(
      '[retry-ops] 2024-12-01 (America/Bogota): report FAILED — Verifik rejected the API token',
    );
    expect(notice.text).toContain('What happened: VerifikAuthError: HTTP 401');
    expect(notice.text).toContain('Renew the Verifik token');
    const body = `${notice.text}\n${notice.html}`;
    for (const value of personalData()) expect(body).not.toContain(value);
    for (const c of dataset.clients) expect(body).not.toContain(c.name);
    expect(body).not.toContain('wrong-token');

    // The operator fixes the token; the scheduler's retry completes the day.
    await secretsSm.send(new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'right-token' }));
    const retried = await warm({ definition: 'retry-ops' });
    expect(retried.status).toBe('sent');
    expect(await mailsTo('dave@ops.example')).toHaveLength(1);
    expect(await scheduled()({ definition: 'retry-ops' })).toMatchObject({ status: 'skipped' });
    expect(await mailsTo('dave@ops.example')).toHaveLength(1);
  });

  it('owners hear of a failing day on its first and on its last automatic attempt only', async () => {
    await secretsSm.send(new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'wrong-token' }));
    const notices = async () =>
      (await mailsTo('flaky-owner@ops.example')).filter((m) => m.subject?.includes('flaky-ops'));
    // Lambda runs a failed asynchronous invocation 1 + ASYNC_RETRY_ATTEMPTS times.
    for (let attempt = 1; attempt <= 1 + ASYNC_RETRY_ATTEMPTS; attempt++) {
      await expect(scheduled()({ definition: 'flaky-ops' })).rejects.toMatchObject({
        name: 'VerifikAuthError',
      });
      expect(await notices()).toHaveLength(attempt === 1 ? 1 : attempt <= ASYNC_RETRY_ATTEMPTS ? 1 : 2);
    }
    const [first, last] = await notices();
    expect(`${first?.text}`).not.toEqual(`${last?.text}`);
    expect(await mailsTo('erin@ops.example')).toHaveLength(0);
    await secretsSm.send(new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'right-token' }));
  });

  it('compares with the previous day: the mail says what changed, from the stored summary.json', async () => {
    const handler = scheduled();
    expect((await handler({ definition: 'delta-ops', day: '2024-11-30' })).status).toBe('sent');
    expect((await handler({ definition: 'delta-ops' })).status).toBe('sent');
    const [before] = await manifests('reports/delta-ops/2024/11/30/');
    const [after] = await manifests('reports/delta-ops/2024/12/01/');
    const prev = before?.manifest.totals.validations ?? -1;
    const now = after?.manifest.totals.validations ?? -1;
    expect(prev).toBeGreaterThan(0);
    const mails = await mailsTo('frank@ops.example');
    expect(mails).toHaveLength(2);
    const latest = mails.find((m) => m.subject?.includes('2024-12-01')) as ParsedMail;
    expect(latest.text).toContain('WHAT CHANGED VS THE PREVIOUS REPORT');
    const diff = now - prev;
    const sign = diff > 0 ? '+' : diff < 0 ? '−' : '±';
    expect(latest.text).toContain(`  Validations: ${now} (previous ${prev}, ${sign}${Math.abs(diff)}`);
    const first = mails.find((m) => m.subject?.includes('2024-11-30')) as ParsedMail;
    expect(first.text).not.toContain('WHAT CHANGED');
  });

  it('weekly: Monday reports the last Monday–Sunday week, claimed once per week, with deltas vs the week before', async () => {
    const handler = scheduled();
    // NOW is Monday 2024-12-02: the week is 2024-11-25..2024-12-01 (2024-W48).
    expect(await handler({ definition: 'weekly-ops', day: '2024-11-20' })).toMatchObject({
      status: 'sent',
      day: '2024-11-18',
    });
    expect(await handler({ definition: 'weekly-ops' })).toMatchObject({ status: 'sent', day: '2024-11-25' });
    const again = await handler({ definition: 'weekly-ops', day: '2024-11-30' });
    expect(again).toMatchObject({ status: 'skipped', day: '2024-11-25' });
    expect(again.status === 'skipped' && again.reason).toContain('weekly-ops 2024-W48 is already sent');
    // A day of the current week waits for the week to end.
    const early = await handler({ definition: 'weekly-ops', day: '2024-12-02' });
    expect(early.status === 'skipped' && early.reason).toContain('2024-W49 is not over');
    const [week] = await manifests('reports/weekly-ops/2024/11/25/');
    expect(week?.manifest.window).toMatchObject({ from: '2024-11-25', to: '2024-12-01' });
    expect(week?.manifest.totals.validations).toBeGreaterThan(0);
    const mails = await mailsTo('mia@ops.example');
    expect(mails).toHaveLength(2);
    const latest = mails.find((m) => m.subject?.includes('2024-11-25')) as ParsedMail;
    expect(latest.text).toContain('WHAT CHANGED VS THE PREVIOUS REPORT');
    expect(latest.text).toContain('(previous 0,');
  });

  it('weekdays: Monday reports Friday–Sunday under Friday, compared with Thursday', async () => {
    const handler = scheduled();
    expect(await handler({ definition: 'weekend-ops', day: '2024-11-28' })).toMatchObject({ status: 'sent' });
    expect(await handler({ definition: 'weekend-ops' })).toMatchObject({ status: 'sent', day: '2024-11-29' });
    expect(await handler({ definition: 'weekend-ops', day: '2024-12-01' })).toMatchObject({
      status: 'skipped',
    });
    const [weekend] = await manifests('reports/weekend-ops/2024/11/29/');
    expect(weekend?.manifest.window).toMatchObject({ from: '2024-11-29', to: '2024-12-01' });
    const latest = (await mailsTo('noah@ops.example')).find((m) =>
      m.subject?.includes('2024-11-29'),
    ) as ParsedMail;
    expect(latest.text).toContain('WHAT CHANGED VS THE PREVIOUS REPORT');
  });

  it('a day without validations sends the short "no validations" mail, or nothing when skipIfEmpty', async () => {
    const handler = scheduled();
    expect(await handler({ definition: 'quiet-ops' })).toMatchObject({ status: 'sent' });
    const [quiet, ...more] = await mailsTo('grace@ops.example');
    expect(more).toHaveLength(0);
    expect(quiet?.subject).toBe('[quiet-ops] 2024-12-01 (America/Bogota): no validations');
    expect(quiet?.text).toContain(
      'There were no validations on 2024-12-01 (America/Bogota) matching this report',
    );
    expect(quiet?.attachments).toHaveLength(0);

    expect(await handler({ definition: 'silent-ops' })).toMatchObject({ status: 'done' });
    expect(await handler({ definition: 'silent-ops' })).toMatchObject({ status: 'skipped' });
    expect(await mailsTo('heidi@ops.example')).toHaveLength(0);
  });

  it('the deployed entry point wires itself from the environment alone (SDK endpoint variables, secrets)', async () => {
    Object.assign(process.env, env(), moto.env);
    setClients(); // the shared SDK clients are built from these variables on first use
    const { handler } = await import('../../functions/handlers/scheduled-report.js');
    const outcome = await handler(
      { definition: 'env-ops', day: '2024-12-01' },
      fakeLambdaContext('scheduled-report'),
    );
    expect(outcome).toMatchObject({ status: 'sent', day: '2024-12-01' });
    const [mail] = await mailsTo('judy@ops.example');
    expect(mail?.subject).toMatch(/^\[env-ops\] 2024-12-01 \(America\/Bogota\): \d+ validations/);
  });

  it('the Lambda bundle (esbuild as the CDK builds it) runs a report, workbook thread included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambda-bundle-'));
    const bundled = join(dir, 'index.mjs');
    await build({
      entryPoints: ['functions/handlers/scheduled-report.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: BUNDLING.target,
      mainFields: BUNDLING.mainFields,
      banner: { js: BUNDLING.banner ?? '' },
      minify: true,
      outfile: bundled,
      logLevel: 'error',
    });
    const runner = join(dir, 'invoke.mjs');
    writeFileSync(
      runner,
      `const { handler } = await import(${JSON.stringify(bundled)});
const context = { functionName: 'scheduled-report', awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 900000 };
console.log(JSON.stringify(await handler({ definition: 'bundle-ops', day: '2024-12-01' }, context)));`,
    );
    // Asynchronous on purpose: the fake Verifik and the API stand-in live in this process.
    const child = await run(process.execPath, [runner], {
      env: {
        ...process.env,
        ...env(),
        ...moto.env,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        NODE_OPTIONS: [...LAMBDA_NODE_FLAGS, ...LAMBDA_V8_FLAGS].join(' '),
        ...LAMBDA_PROCESS_ENV,
      },
    }).catch((err: { stderr?: string }) => {
      throw new Error(`the bundled handler failed: ${err.stderr?.slice(-2000)}`);
    });
    expect(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ status: 'sent' });
    const [mail] = await mailsTo('bundle@ops.example');
    expect(mail?.attachments.map((a) => a.filename?.split('.').pop()).sort()).toEqual(['csv', 'csv', 'xlsx']);
    const xlsx = mail?.attachments.find((a) => a.filename?.endsWith('.xlsx'));
    expect(XLSX.read(xlsx!.content).SheetNames[0]).toBe('Summary');
  });

  it('files over the attachment budget go by link only, and the mail says so', async () => {
    const small = { ...loadConfig('scheduled-report', env()), ATTACHMENT_BUDGET_BYTES: 10_000 };
    const outcome = await createScheduledHandler(() => deps('scheduled-report', { config: small }))({
      definition: 'big-ops',
    });
    expect(outcome.status).toBe('sent');
    const [mail] = await mailsTo('kim@ops.example');
    expect(mail?.attachments).toHaveLength(0);
    expect(mail?.text).toContain('The files are NOT attached');
    expect(mail?.text).toContain("over this mail's 9.8 KB attachment budget");
    const links = [...(mail?.text ?? '').matchAll(/(http:\/\/127\.0\.0\.1:\d+\/reports\/\S+)/g)];
    expect(links).toHaveLength(3);
    const res = await fetch(links[0]?.[1] as string, { redirect: 'manual' });
    expect(res.status).toBe(302);
  });

  it('reads Verifik with at most VERIFIK_CONCURRENCY requests open', async () => {
    // A fake of its own (its peak counts from its start), with small pages and a little latency,
    // so that a read at the default concurrency would overlap many requests.
    const gentle = await startFakeVerifik({
      dataset,
      token: 'right-token',
      faults: { maxPerPage: 10, latencyMs: 5 },
    });
    try {
      const config = loadConfig('scheduled-report', { ...env(), VERIFIK_CONCURRENCY: '2' });
      const outcome = await createScheduledHandler(() =>
        deps('scheduled-report', {
          config,
          verifik: (token) => createVerifikClient({ baseUrl: gentle.url, token, retry: { attempts: 2 } }),
        }),
      )({ definition: 'gentle-ops' });
      expect(outcome.status).toBe('sent');
      expect(gentle.requests.length).toBeGreaterThan(10);
      expect(gentle.peakConcurrent).toBeLessThanOrEqual(2);
      const [found] = await manifests('reports/gentle-ops/2024/12/01/');
      // The read ran at the configured concurrency (no 429 lowered it), not at the default.
      expect(found?.manifest.diagnostics.lowestConcurrency).toBe(2);
    } finally {
      await gentle.close();
    }
  });

  it('refuses a bad event or an unknown definition with a clear error', async () => {
    await expect(scheduled()({ definition: 'nope' })).rejects.toThrow(/No report definition named "nope"/);
    await expect(scheduled()({ definition: 'daily-ops', day: '2024-02-30' })).rejects.toThrow(/YYYY-MM-DD/);
    await expect(scheduled()({})).rejects.toThrow(/definition/);
  });
});

describe('reports-api over HTTP', () => {
  async function post(body: unknown): Promise<Response> {
    return fetch(`${api.url}/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function waitFor(statusUrl: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(statusUrl);
      const body = (await res.json()) as Record<string, unknown>;
      if (body.status === 'complete' || body.status === 'failed') return body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('report did not finish');
  }

  it('POST → 202 → poll → complete; a signed link redirects to the S3 bytes; tampered 403, expired 410', async () => {
    const res = await post({
      date: '2024-12-01',
      timeZone: TZ,
      formats: ['csv'],
      notify: ['erin@ops.example'],
    });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { id: string; status: string; statusUrl: string };
    expect(accepted.status).toBe('queued');
    expect(res.headers.get('location')).toBe(accepted.statusUrl);
    expect(accepted.statusUrl).toBe(`${api.url}/reports/${accepted.id}`);

    const done = await waitFor(accepted.statusUrl);
    expect(done.status).toBe('complete');
    const summary = done.summary as { validations: number };
    const files = done.files as { name: string; sha256: string; url: string }[];
    expect(files.map((f) => f.name).sort()).toEqual(['summary.csv', 'validations.csv']);
    expect(summary.validations).toBeGreaterThan(50);

    const csv = files.find((f) => f.name === 'validations.csv') as { sha256: string; url: string };
    const redirect = await fetch(csv.url, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const bytes = Buffer.from(await (await fetch(redirect.headers.get('location') as string)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(csv.sha256);

    const url = new URL(csv.url);
    const sig = url.searchParams.get('signature') as string;
    url.searchParams.set('signature', `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BA' : 'AA'}`);
    const tampered = await fetch(url, { redirect: 'manual' });
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await tampered.text()).toContain('This link is not valid');

    const expired = signFileLink({
      baseUrl: api.url,
      reportId: accepted.id,
      file: 'validations.csv',
      expiresAt: Math.floor(NOW.getTime() / 1000) - 1,
      key: Buffer.from(LINK_KEY),
    });
    const gone = await fetch(expired, { redirect: 'manual' });
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain('This link has expired');

    const notInManifest = signFileLink({
      baseUrl: api.url,
      reportId: accepted.id,
      file: 'validations.xlsx',
      expiresAt: Math.floor(NOW.getTime() / 1000) + 60,
      key: Buffer.from(LINK_KEY),
    });
    expect((await fetch(notInManifest, { redirect: 'manual' })).status).toBe(404);

    // The notify recipient got the report mail, with the same links.
    const [mail] = await mailsTo('erin@ops.example');
    expect(mail?.subject).toMatch(/^\[on-demand\] 2024-12-01 \(America\/Bogota\): /);
    expect(mail?.attachments.map((a) => a.filename?.replace(/^.*-/, '')).sort()).toEqual([
      'summary.csv',
      'validations.csv',
    ]);

    // The day's listing has the scheduled and the on-demand reports.
    const list = await fetch(`${api.url}/reports?date=2024-12-01`);
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { reports: { id: string; status: string }[] };
    expect(listed.reports.map((r) => r.id)).toContain(accepted.id);
    expect(listed.reports.some((r) => r.id.startsWith('daily-ops-2024-12-01'))).toBe(true);
  });

  it('a report that fails is recorded failed with its reason, and notify gets the notice', async () => {
    await secretsSm.send(new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'wrong-token' }));
    try {
      const res = await post({
        date: '2024-12-01',
        timeZone: TZ,
        formats: ['csv'],
        notify: ['lee@ops.example'],
      });
      expect(res.status).toBe(202);
      const { statusUrl } = (await res.json()) as { statusUrl: string };
      const done = await waitFor(statusUrl);
      expect(done.status).toBe('failed');
      expect(done.error).toBe('VerifikAuthError: HTTP 401 UNAUTHORIZED');
      expect(done.files).toBeUndefined();
      const [notice] = await mailsTo('lee@ops.example');
      expect(notice?.subject).toBe(
        '[on-demand] 2024-12-01 (America/Bogota): report FAILED — Verifik rejected the API token',
      );
    } finally {
      await secretsSm.send(
        new PutSecretValueCommand({ SecretId: TOKEN_SECRET, SecretString: 'right-token' }),
      );
    }
  });

  it('bad input → 400 naming every bad field; notify outside the allowlist is refused', async () => {
    const res = await post({
      date: '2024-13-01',
      timeZone: 'Mars/Olympus',
      formats: ['pdf'],
      notify: ['someone@elsewhere.example'],
      colour: 'blue',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; fields: { field: string; message: string }[] };
    expect(body.error).toBe('ValidationError');
    expect(body.fields.map((f) => f.field).sort()).toEqual([
      'colour',
      'date',
      'formats.0',
      'notify',
      'timeZone',
    ]);
    expect(body.fields.find((f) => f.field === 'notify')?.message).toContain('someone@elsewhere.example');

    const range = await post({ from: '2024-12-05', to: '2024-12-01', timeZone: TZ });
    expect(((await range.json()) as { fields: { field: string }[] }).fields.map((f) => f.field)).toEqual([
      'to',
    ]);
    const long = await post({ from: '2024-01-01', to: '2024-12-01', timeZone: TZ });
    expect(((await long.json()) as { fields: { message: string }[] }).fields[0]?.message).toMatch(
      /at most 93/,
    );
    const notJson = await fetch(`${api.url}/reports`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    const badDate = await fetch(`${api.url}/reports?date=yesterday`);
    expect(badDate.status).toBe(400);
    expect(((await badDate.json()) as { fields: { field: string }[] }).fields[0]?.field).toBe('date');
  });

  it('a worker that cannot be started: 503, and the report is recorded failed (never left queued)', async () => {
    const broken = createReportsApi(() =>
      apiDeps({
        invokeWorker: async () => {
          throw new Error('Lambda throttled');
        },
      }),
    );
    const res = await broken({
      ...(api.events.find((e) => e.requestContext.http.method === 'POST') as APIGatewayProxyEventV2),
      body: JSON.stringify({ date: '2024-12-01', timeZone: TZ }),
      isBase64Encoded: false,
    });
    expect(res.statusCode).toBe(503);
    const { id } = JSON.parse(res.body ?? '{}') as { id: string };
    const status = (await (await fetch(`${api.url}/reports/${id}`)).json()) as {
      status: string;
      error: string;
    };
    expect(status).toMatchObject({
      status: 'failed',
      error: 'the report worker could not be started; try again',
    });
  });

  it('unknown routes 404, wrong methods 405 with Allow, unknown reports 404', async () => {
    const nope = await fetch(`${api.url}/nope`);
    expect(nope.status).toBe(404);
    expect(nope.headers.get('content-type')).toMatch(/application\/json/);
    const wrong = await fetch(`${api.url}/reports/abc`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    const put = await fetch(`${api.url}/reports`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET');
    const missing = await fetch(`${api.url}/reports/does-not-exist`);
    expect(missing.status).toBe(404);
    // The stand-in shaped the events as API Gateway does.
    const last = api.events.at(-1);
    expect(last).toMatchObject({
      routeKey: 'GET /reports/{id}',
      rawPath: '/reports/does-not-exist',
      pathParameters: { id: 'does-not-exist' },
      requestContext: { http: { method: 'GET' }, stage: '$default' },
    });
  });
});
