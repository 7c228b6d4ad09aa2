/**
 * Each on-demand report takes a 3 GB worker for up to 15 minutes, and a new account cannot
 * reserve Lambda concurrency to bound them: the API counts the reports a live worker holds and
 * answers 429 past MAX_PARALLEL_REPORTS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, ON_DEMAND_DEFINITION } from '../../functions/contract.js';
import { createDynamoDocClient, createS3Client } from '../../functions/delivery/aws-clients.js';
import { claimRun } from '../../functions/delivery/state/index.js';
import { createApiDeps } from '../../functions/handlers/api-deps.js';
import { createReportsApi } from '../../functions/handlers/reports-api.js';
import type { WorkerPayload } from '../../functions/runs/worker-payload.js';
import { loadConfig } from '../../functions/settings/config.js';
import { type ApiGatewayStandIn, startApiGateway } from '../support/apigw.js';
import { type Moto, startMoto } from '../support/moto.js';

const TABLE = 'parallel-state';
let moto: Moto;
let api: ApiGatewayStandIn;
let doc: DynamoDBDocumentClient;
let now = new Date('2024-12-02T12:00:00Z');
const started: WorkerPayload[] = [];

beforeAll(async () => {
  moto = await startMoto();
  doc = createDynamoDocClient(moto.clientConfig);
  await moto.createStateTable(TABLE);
  const config = loadConfig('reports-api', {
    REPORTS_BUCKET: 'unused',
    STATE_TABLE: TABLE,
    VERIFIK_TOKEN_SECRET_ID: 'tok',
    LINK_SIGNING_SECRET_ID: 'key',
    MAIL_FROM: 'reports@reports.example',
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    REPORT_DEFINITIONS: '[]',
    WORKER_FUNCTION_NAME: 'worker',
    MAX_PARALLEL_REPORTS: '2',
  });
  const deps = createApiDeps({
    config,
    doc,
    s3: createS3Client(moto.clientConfig),
    logger: new Logger({ serviceName: 'api', logLevel: 'SILENT' }),
    now: () => now,
    invokeWorker: async (payload) => {
      started.push(payload);
    },
  });
  api = await startApiGateway({ handler: createReportsApi(() => deps), routes: Object.values(API_ROUTES) });
});

afterAll(async () => {
  await api?.close();
  await moto?.stop();
});

const post = () =>
  fetch(`${api.url}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ date: '2024-12-01', timeZone: 'UTC' }),
  });

describe('POST /reports past the parallel limit', () => {
  it('answers 429 while the limit of live workers is reached, and 202 again once their leases end', async () => {
    for (const id of ['r-1', 'r-2']) {
      const claim = await claimRun(doc, TABLE, {
        definition: ON_DEMAND_DEFINITION,
        day: id,
        runId: id,
        leaseSeconds: 120,
        now,
      });
      expect(claim.claimed).toBe(true);
    }
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /2 reports are running already \(at most 2/,
    );
    expect(started).toHaveLength(0);

    // Workers that died stop counting once their leases run out (the sweeper fails them later).
    now = new Date(now.getTime() + 121_000);
    const accepted = await post();
    expect(accepted.status).toBe(202);
    expect(started).toHaveLength(1);
  });
});
