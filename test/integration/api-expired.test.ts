/**
 * A report whose files have expired while its record has not (the bucket's retention is shorter
 * than the record's lifetime): `GET /reports/{id}` answers 200 with `expired: true` and no files,
 * and a mailed download link answers the 410 HTML page. Never a 500, whether S3 says NoSuchKey
 * (moto, or a role that may list the bucket) or AccessDenied (the API's role: GetObject only).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReportsApi } from '../../functions/api/app.js';
import type { ApiDeps } from '../../functions/api/deps.js';
import { API_ROUTES } from '../../functions/contract.js';
import { createDynamoDocClient, createS3Client } from '../../functions/delivery/aws-clients.js';
import { signFileLink } from '../../functions/delivery/links.js';
import { putReport, updateReportStatus } from '../../functions/delivery/state/index.js';
import { loadConfig } from '../../functions/settings/config.js';
import { type ApiGatewayStandIn, startApiGateway } from '../support/apigw.js';
import { type Moto, startMoto } from '../support/moto.js';

const BUCKET = 'reports-bucket';
const TABLE = 'report-state';
const LINK_KEY = Buffer.from('k'.repeat(48));
const NOW = new Date('2025-03-10T12:00:00Z');

let moto: Moto;
let api: ApiGatewayStandIn;
let s3: S3Client;
let doc: DynamoDBDocumentClient;
/** The S3 client the API uses: moto's, or one answering AccessDenied for reads. */
let apiS3: S3Client;

beforeAll(async () => {
  [moto, api] = await Promise.all([
    startMoto(),
    startApiGateway({ handler: (e, c) => handler(e, c), routes: Object.values(API_ROUTES) }),
  ]);
  s3 = createS3Client(moto.clientConfig);
  doc = createDynamoDocClient(moto.clientConfig);
  apiS3 = s3;
  await Promise.all([s3.send(new CreateBucketCommand({ Bucket: BUCKET })), moto.createStateTable(TABLE)]);
});
afterAll(async () => {
  await api?.close();
  await moto?.stop();
});

function deps(): ApiDeps {
  return {
    config: loadConfig('reports-api', {
      REPORTS_BUCKET: BUCKET,
      STATE_TABLE: TABLE,
      VERIFIK_TOKEN_SECRET_ID: 'tok',
      LINK_SIGNING_SECRET_ID: 'key',
      MAIL_FROM: 'reports@reports.example',
      ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
      REPORT_DEFINITIONS: '[]',
      WORKER_FUNCTION_NAME: 'report-worker',
    }),
    s3: apiS3,
    doc,
    logger: new Logger({ serviceName: 'reports-api', logLevel: 'SILENT' }),
    secrets: {
      verifikToken: async () => 'unused',
      linkKeys: async () => LINK_KEY,
      invalidate: () => undefined,
    },
    invokeWorker: async () => undefined,
    now: () => NOW,
  };
}
const handler: Parameters<typeof startApiGateway>[0]['handler'] = (event, context) =>
  createReportsApi(deps)(event, context);

/** A complete report record, as the worker leaves it, whose manifest (and files) may be stored. */
async function completeReport(id: string, stored: boolean): Promise<string> {
  const manifestKey = `reports/on-demand/2024/12/01/${id}/manifest.json`;
  await putReport(doc, TABLE, {
    id,
    status: 'queued',
    request: { definition: 'on-demand', from: '2024-12-01', to: '2024-12-01', timeZone: 'UTC' },
    createdAt: '2024-12-02T00:00:00.000Z',
    date: '2024-12-01',
  });
  await updateReportStatus(doc, TABLE, id, { status: 'running' });
  await updateReportStatus(doc, TABLE, id, {
    status: 'complete',
    manifestKey,
    summary: { validations: 3 },
  });
  const manifest = {
    id,
    window: {
      start: '2024-12-01T00:00:00.000Z',
      end: '2024-12-02T00:00:00.000Z',
      timeZone: 'UTC',
      from: '2024-12-01',
      to: '2024-12-01',
    },
    filters: {},
    generatedAt: '2024-12-02T00:01:00.000Z',
    totals: { validations: 1, byStatus: { failed: 1 } },
    diagnostics: {},
    files: [{ name: 'validations.csv', kind: 'details-csv', bytes: 3, sha256: 'a'.repeat(64), rows: 1 }],
  };
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey, Body: JSON.stringify(manifest) }));
  if (!stored) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: manifestKey }));
  return id;
}

function link(id: string): string {
  return signFileLink({
    baseUrl: api.url,
    reportId: id,
    file: 'validations.csv',
    expiresAt: Math.floor(NOW.getTime() / 1000) + 3600,
    key: LINK_KEY,
  });
}

describe('a complete report whose files have expired', () => {
  it('NoSuchKey: GET /reports/{id} answers 200 expired with no files; the link answers 410 HTML', async () => {
    const id = await completeReport('on-demand-expired-1', false);
    const res = await fetch(`${api.url}/reports/${id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id, status: 'complete', expired: true, files: [] });
    expect(body.message).toMatch(/files of this report have expired/);
    expect(body.summary).toEqual({ validations: 3 });
    expect(body.linksExpireAt).toBeUndefined();

    const click = await fetch(link(id), { redirect: 'manual' });
    expect(click.status).toBe(410);
    expect(click.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await click.text()).toContain('This report has expired');
  });

  it('AccessDenied (a role without s3:ListBucket reading a missing key): the same answers, not 500', async () => {
    const id = await completeReport('on-demand-expired-2', false);
    apiS3 = {
      send: async (command: unknown) => {
        if (command instanceof GetObjectCommand) {
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: {} });
        }
        return s3.send(command as never);
      },
    } as unknown as S3Client;
    try {
      const res = await fetch(`${api.url}/reports/${id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'complete', expired: true, files: [] });
      const click = await fetch(link(id), { redirect: 'manual' });
      expect(click.status).toBe(410);
    } finally {
      apiS3 = s3;
    }
  });

  it('a report whose files are still stored lists them with links, and is not expired', async () => {
    const id = await completeReport('on-demand-stored-1', true);
    const res = await fetch(`${api.url}/reports/${id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { expired?: boolean; files: { name: string; url: string }[] };
    expect(body.expired).toBeUndefined();
    expect(body.files.map((f) => f.name)).toEqual(['validations.csv']);
    expect((await fetch(link(id), { redirect: 'manual' })).status).toBe(302);
  });

  it('any other S3 failure is still ours: a 500 with the request id, not "expired"', async () => {
    const id = await completeReport('on-demand-broken-1', true);
    apiS3 = {
      send: async () => {
        throw Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: {} });
      },
    } as unknown as S3Client;
    try {
      const res = await fetch(`${api.url}/reports/${id}`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: 'InternalError' });
    } finally {
      apiS3 = s3;
    }
  });
});
