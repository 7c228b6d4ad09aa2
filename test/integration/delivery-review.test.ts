/**
 * Regressions from an adversarial review of the delivery protocol: each case once produced two
 * mails, a wrong alert or a silent day; each now ends in one mail, or none and one alert.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { ON_DEMAND_DEFINITION } from '../../functions/contract.js';
import {
  claimRun,
  getRun,
  listOpenRuns,
  markMailSending,
  markRun,
  readLog,
  setPaused,
} from '../../functions/delivery/state/index.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import { senderOf, sendReportMessage } from '../../functions/runs/mail.js';
import { RESEND, resendReport } from '../../functions/runs/resend.js';
import type { ScheduledInput } from '../../functions/runs/schedule-input.js';
import { sweep } from '../../functions/runs/sweep.js';
import { loadConfig } from '../../functions/settings/config.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type Moto, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';

const BUCKET = 'reports-bucket',
  TABLE = 'report-state',
  FROM = 'reports@reports.example';
const NOW = new Date('2024-12-02T11:00:00Z');
let nowMs = NOW.getTime();
const clock = () => new Date(nowMs++);
const daily = (name: string, recipients: string[]) => ({
  name,
  schedule: { timeZone: 'America/Bogota' },
  recipients,
  owners: [`owner-${name}@ops.example`],
  formats: ['csv'],
});
const definitions = [
  daily('race-ops', ['race@ops.example']),
  daily('rs-ops', ['rs@ops.example']),
  daily('pz-ops', ['pz@ops.example']),
  daily('miss-ops', ['miss@ops.example']),
];
let moto: Moto;
let fake: FakeVerifik;
let s3: S3Client;
let sm: SecretsManagerClient;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
const env = () => ({
  REPORTS_BUCKET: BUCKET,
  STATE_TABLE: TABLE,
  VERIFIK_BASE_URL: fake.url,
  VERIFIK_TOKEN_SECRET_ID: 'tok',
  LINK_SIGNING_SECRET_ID: 'lnk',
  MAIL_FROM: FROM,
  ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
  REPORT_DEFINITIONS: JSON.stringify(definitions),
  WORKER_FUNCTION_NAME: 'w',
  PUBLIC_API_URL: 'https://api.example',
});
let rid = 0;
function runDeps(d: DynamoDBDocumentClient = doc): RunDeps {
  const deps = createRunDeps('scheduled-report', {
    config: loadConfig('scheduled-report', env()),
    s3,
    ses,
    doc: d,
    secrets: createSecretSource({ client: sm, verifikTokenSecretId: 'tok', linkSigningSecretId: 'lnk' }),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: new Logger({ serviceName: 'x', logLevel: 'SILENT' }),
    now: clock,
  });
  return { ...deps, newRunId: () => `run-${++rid}` };
}
const redos: ScheduledInput[] = [];
const sweepDeps = (d?: DynamoDBDocumentClient) => ({
  ...runDeps(d),
  redo: async (i: ScheduledInput) => {
    redos.push(i);
  },
});
const scheduled = (i: ScheduledInput) => createScheduledHandler(() => runDeps())(i);
const mailsTo = async (a: string) =>
  (await moto.sentEmails()).filter((m) => m.kind === 'raw' && m.destinations.includes(a));

beforeAll(async () => {
  moto = await startMoto();
  fake = await startFakeVerifik({
    dataset: createDataset({
      seed: 11,
      start: new Date('2024-11-27T05:00:00Z'),
      end: new Date('2024-12-02T05:00:00Z'),
      count: 50,
    }),
    token: 'right',
  });
  ({
    s3,
    secrets: sm,
    ses,
    doc,
  } = await provisionStack(moto, {
    bucket: BUCKET,
    table: TABLE,
    tokenSecret: 'tok',
    linkSecret: 'lnk',
    token: 'right',
  }));
});
afterAll(async () => {
  await fake?.close();
  await moto?.stop();
});

describe('delivery protocol, as an adversary found it', () => {
  it('a run whose lease ran out cannot start sending: the sweeper fails and redoes it, one mail', async () => {
    nowMs = NOW.getTime();
    const day = '2024-11-29';
    await claimRun(doc, TABLE, { definition: 'race-ops', day, runId: 'R1', leaseSeconds: 120, now: clock() });
    nowMs += 10 * 60_000; // R1 lives, but its heartbeats did not land
    await expect(
      markMailSending(doc, TABLE, {
        definition: 'race-ops',
        day,
        runId: 'R1',
        sendId: 'S1',
        reportId: 'rep-R1',
        now: clock(),
      }),
    ).rejects.toThrow(/cannot mark race-ops 2024-11-29 sending/);
    redos.length = 0;
    const actions = await sweep(sweepDeps());
    expect(actions.find((a) => a.definition === 'race-ops' && a.day === day)?.action).toBe('redo');
    const redo = redos.find((r) => r.definition === 'race-ops' && r.day === day) as ScheduledInput;
    expect((await scheduled(redo)).status).toBe('sent');
    expect(await mailsTo('race@ops.example')).toHaveLength(1);
  });

  it('a run that reached sending before its lease ran out is never failed by the sweeper, only made unknown', async () => {
    nowMs = NOW.getTime();
    const day = '2024-11-27';
    await claimRun(doc, TABLE, { definition: 'race-ops', day, runId: 'R2', leaseSeconds: 120, now: clock() });
    await markMailSending(doc, TABLE, {
      definition: 'race-ops',
      day,
      runId: 'R2',
      sendId: 'S2',
      reportId: 'rep-R2',
      now: clock(),
    });
    nowMs += 10 * 60_000;
    redos.length = 0;
    await sweep(sweepDeps());
    expect((await getRun(doc, TABLE, 'race-ops', day))?.status).toBe('unknown');
    expect(redos.some((r) => r.day === day)).toBe(false);
  });

  it('a re-send that stopped while sending keeps its key answering duplicate: one mail for one key', async () => {
    nowMs = NOW.getTime();
    const run = await scheduled({ definition: 'rs-ops', day: '2024-11-30' });
    expect(run.status).toBe('sent');
    const reportId = (run as { reportId: string }).reportId;
    const links = async () => ({ links: [], expiresAt: clock() });
    await claimRun(doc, TABLE, {
      definition: RESEND,
      day: `${reportId}~K1`,
      runId: 'RS1',
      leaseSeconds: 120,
      now: clock(),
    });
    await markMailSending(doc, TABLE, {
      definition: RESEND,
      day: `${reportId}~K1`,
      runId: 'RS1',
      sendId: 'SX',
      reportId,
      now: clock(),
    });
    await sendReportMessage(
      senderOf(runDeps()),
      ['rs@ops.example'],
      { mail: { subject: 'resend K1', text: 'x', html: '<p>x</p>' }, attachments: [] },
      reportId,
      'SX',
    );
    nowMs += 10 * 60_000;
    await sweep(sweepDeps());
    expect((await getRun(doc, TABLE, RESEND, `${reportId}~K1`))?.status).toBe('unknown');
    expect((await resendReport(runDeps(), { reportId, requestKey: 'K1', links })).status).toBe('duplicate');
    expect(await mailsTo('rs@ops.example')).toHaveLength(2); // the scheduled mail and the one re-send
  });

  it('a paused definition whose attempt crashed is failed quietly, and redone after the resume', async () => {
    nowMs = NOW.getTime();
    const day = '2024-11-28';
    await claimRun(doc, TABLE, { definition: 'pz-ops', day, runId: 'P1', leaseSeconds: 120, now: clock() });
    await setPaused(doc, TABLE, { name: 'pz-ops', paused: true, now: clock() });
    nowMs += 10 * 60_000;
    const a = (await sweep(sweepDeps())).filter((x) => x.definition === 'pz-ops' && x.day === day);
    expect(a).toEqual([]);
    expect((await getRun(doc, TABLE, 'pz-ops', day))?.status).toBe('failed');
    expect(await mailsTo('owner-pz-ops@ops.example')).toHaveLength(0);
    await setPaused(doc, TABLE, { name: 'pz-ops', paused: false, now: clock() });
    nowMs += 30 * 60_000;
    const b = (await sweep(sweepDeps())).filter((x) => x.definition === 'pz-ops' && x.day === day);
    expect(b.map((x) => x.action)).toEqual(['redo']);
  });

  it('a failed on-demand run leaves the open index at the next sweep', async () => {
    nowMs = NOW.getTime();
    await claimRun(doc, TABLE, {
      definition: ON_DEMAND_DEFINITION,
      day: 'od-x',
      runId: 'O1',
      leaseSeconds: 120,
      now: clock(),
    });
    await markRun(doc, TABLE, {
      definition: ON_DEMAND_DEFINITION,
      day: 'od-x',
      runId: 'O1',
      status: 'failed',
      reason: 'verifik down',
      now: clock(),
    });
    expect((await listOpenRuns(doc, TABLE)).some((r) => r.day === 'od-x')).toBe(true);
    await sweep(sweepDeps());
    expect((await listOpenRuns(doc, TABLE)).some((r) => r.day === 'od-x')).toBe(false);
  });

  it('a day whose every start dies before its claim is redone a bounded number of times, then the owners are told once', async () => {
    // 06:31 in Bogotá on a day no earlier case swept: the 06:00 schedule reports 2024-12-02.
    nowMs = new Date('2024-12-03T11:31:00Z').getTime();
    redos.length = 0;
    for (let i = 0; i < 10; i++) {
      await sweep(sweepDeps()); // nothing ever runs the redos: each start "dies before the claim"
      nowMs += 5 * 60_000;
    }
    const missDay = redos.filter((r) => r.definition === 'miss-ops' && r.day === '2024-12-02');
    expect(missDay).toHaveLength(3);
    // One alert for this day (an earlier case's day 2024-12-01 gets its own).
    const alerts = (await mailsTo('owner-miss-ops@ops.example')).filter(
      (m) => m.kind === 'raw' && /^Subject:.*2024-12-02/m.test(m.raw),
    );
    expect(alerts).toHaveLength(1);
    expect((await getRun(doc, TABLE, 'miss-ops', '2024-12-02'))?.alertedAt).toBeDefined();
    const log = await readLog(doc, TABLE, { definition: 'miss-ops', day: '2024-12-02' });
    expect(log.map((e) => e.type)).toContain('alert');
  });
});
