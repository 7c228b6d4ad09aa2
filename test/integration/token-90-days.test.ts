/**
 * 90 simulated days with 30-day Verifik tokens. One clock drives the fake Verifik (token expiry
 * and issue) and the runs. Each day: on every 7th day the rotation's four steps run in-process
 * as Secrets Manager would call them, the watch runs, and the daily report runs through the real
 * scheduled path (runs/scheduled.ts `deliverScheduledReport`, deps built as the scheduled
 * function builds them, against moto and the fake) on about 50 validations. With renewal: every
 * report is delivered. The control, the same days without renewal: reports fail from day 30,
 * when the first token expires, and the watch alerts the owners from day 23.
 *
 * One substitution: the report's rows are rendered in-thread (detail-writer.ts, the same contract
 * as render-thread.ts). Under tsx each render thread starts by transpiling its imports, ~1 s a
 * report here (not in a bundle), which would make 180 report runs take three minutes; the thread
 * has nothing to do with the token.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import {
  createDynamoDocClient,
  createS3Client,
  createSecretsClient,
  createSesClient,
} from '../../functions/delivery/aws-clients.js';
import { kindOf } from '../../functions/errors/kinds.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import { createTokenDeps, createTokenHandler, WATCH_EVENT } from '../../functions/handlers/token-rotation.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import { deliverScheduledReport } from '../../functions/runs/scheduled.js';
import type { TokenWatchOutcome } from '../../functions/runs/token-watch.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type Moto, startMoto } from '../support/moto.js';
import { readAwsCurrentByDefault, rotateLikeSecretsManager } from '../support/rotation.js';

vi.mock('../../functions/report/render-thread.js', async (importOriginal) => {
  const { createDetailWriter } = await import('../../functions/report/detail-writer.js');
  return { ...(await importOriginal<object>()), createThreadedDetailWriter: createDetailWriter };
});

const DAY = 86_400_000;
const DAY0 = new Date('2026-01-01T00:00:00Z');
const DAYS = 90;
const PER_DAY = 50;
const ROTATE_EVERY = 7;
const BUCKET = 'sim-reports';
const TABLE = 'sim-state';
const LINK_SECRET = 'sim-link-signing-key';
const OWNER = 'owner@ops.example';

let moto: Moto;
let s3: S3Client;
let sm: SecretsManagerClient;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
/** One clock per simulation (the two run side by side), read by its fake Verifik and its runs. */
const clocks = { renewed: DAY0, expiring: DAY0 };
const fakes: Partial<Record<keyof typeof clocks, FakeVerifik>> = {};
const silent = (serviceName: string) => new Logger({ serviceName, logLevel: 'SILENT' });

beforeAll(async () => {
  moto = await startMoto();
  const dataset = createDataset({
    seed: 90,
    start: DAY0,
    end: new Date(DAY0.getTime() + DAYS * DAY),
    count: DAYS * PER_DAY,
    timeZone: 'UTC',
  });
  for (const name of ['renewed', 'expiring'] as const) {
    fakes[name] = await startFakeVerifik({ dataset, now: () => clocks[name] });
  }
  s3 = createS3Client(moto.clientConfig);
  // moto 5.2 does not move its default version with AWSCURRENT (see support/rotation.ts).
  sm = readAwsCurrentByDefault(createSecretsClient(moto.clientConfig));
  ses = createSesClient(moto.clientConfig);
  doc = createDynamoDocClient(moto.clientConfig);
  await Promise.all([
    s3.send(new CreateBucketCommand({ Bucket: BUCKET })),
    sm.send(new CreateSecretCommand({ Name: LINK_SECRET, SecretString: 'k'.repeat(48) })),
    moto.verifyIdentity('reports.example'),
    moto.createStateTable(TABLE),
  ]);
});
afterAll(async () => {
  await Promise.all(Object.values(fakes).map((f) => f.close()));
  await moto?.stop();
});

interface Simulation {
  reportsRun: number;
  delivered: number;
  failed: { day: number; kind: string }[];
  rotations: number;
  /** Days on which the watch mailed the owners (alerted or expired). */
  alertDays: number[];
  minDaysLeft: number;
}

/** Days 1..DAYS at 06:00 UTC: rotate (if renewing, every 7th day), watch, then the day's report. */
async function simulate(name: keyof typeof clocks, renew: boolean): Promise<Simulation> {
  const fake = fakes[name]!;
  const tokenSecret = `sim-token-${name}`;
  clocks[name] = DAY0;
  // The operator puts the first token on day 0: a login's 30 days.
  await sm.send(new CreateSecretCommand({ Name: tokenSecret, SecretString: fake.issueToken(30 * 86_400) }));

  const definition: ReportDefinitionInput = {
    name,
    schedule: { hour: 6, minute: 0, timeZone: 'UTC' },
    formats: ['csv'],
    recipients: ['ops@ops.example'],
    owners: [OWNER],
  };
  const env = {
    REPORTS_BUCKET: BUCKET,
    STATE_TABLE: TABLE,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: tokenSecret,
    LINK_SIGNING_SECRET_ID: LINK_SECRET,
    MAIL_FROM: 'reports@reports.example',
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    REPORT_DEFINITIONS: JSON.stringify([definition]),
    PUBLIC_API_URL: 'https://reports.example/api',
    TOKEN_ALERT_RECIPIENTS: OWNER,
  };
  // As the scheduled function builds its ports, pointed at moto and the fake. The secret is read
  // afresh each run (ttl 0): runs are a simulated day apart, far beyond the 5-minute cache.
  const runDeps: RunDeps = createRunDeps('scheduled-report', {
    config: loadConfig('scheduled-report', env),
    s3,
    ses,
    doc,
    secrets: createSecretSource({
      client: sm,
      verifikTokenSecretId: tokenSecret,
      linkSigningSecretId: LINK_SECRET,
      ttlMs: 0,
    }),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: silent(`sim-${name}`),
    now: () => clocks[name],
  });
  const tokenHandler = createTokenHandler(
    (() => {
      const deps = createTokenDeps({
        env,
        sm,
        ses,
        logger: silent('token-rotation'),
        now: () => clocks[name],
        recordDaysLeft: () => {},
      });
      return () => deps;
    })(),
  );

  const sim: Simulation = {
    reportsRun: 0,
    delivered: 0,
    failed: [],
    rotations: 0,
    alertDays: [],
    minDaysLeft: Number.POSITIVE_INFINITY,
  };
  for (let day = 1; day <= DAYS; day++) {
    clocks[name] = new Date(DAY0.getTime() + day * DAY + 6 * 3_600_000);
    if (renew && day % ROTATE_EVERY === 0) {
      await rotateLikeSecretsManager(tokenHandler, tokenSecret);
      sim.rotations++;
    }
    const watch = (await tokenHandler(WATCH_EVENT)) as TokenWatchOutcome;
    if ('daysLeft' in watch) {
      sim.minDaysLeft = Math.min(sim.minDaysLeft, watch.daysLeft);
      if (watch.status !== 'ok') sim.alertDays.push(day);
    }
    sim.reportsRun++;
    try {
      const outcome = await deliverScheduledReport(runDeps, { definition: name });
      if (outcome.status === 'sent') sim.delivered++;
      else sim.failed.push({ day, kind: `not sent: ${outcome.status}` });
    } catch (err) {
      sim.failed.push({ day, kind: kindOf(err) });
    }
  }
  return sim;
}

describe('90 simulated days with 30-day tokens', () => {
  // The two simulations run side by side, each with its own clock and fake Verifik.
  let renewed: Promise<Simulation>;
  let expiring: Promise<Simulation>;
  const started = Date.now();
  beforeAll(() => {
    renewed = simulate('renewed', true);
    expiring = simulate('expiring', false);
    // Settled by the tests; an early failure of one must not be an unhandled rejection.
    renewed.catch(() => {});
    expiring.catch(() => {});
  });

  it('renewed every 7 days: 90 reports, 0 failed, 12 rotations, never an alert', {
    timeout: 120_000,
  }, async () => {
    const sim = await renewed;
    console.log(
      `renewed: ${sim.reportsRun} reports, ${sim.delivered} delivered, ${sim.failed.length} failed, ` +
        `${sim.rotations} rotations, fewest days left ${sim.minDaysLeft.toFixed(2)}, ${Date.now() - started} ms`,
    );
    expect(sim.failed).toEqual([]);
    expect(sim).toMatchObject({ reportsRun: DAYS, delivered: DAYS, rotations: 12, alertDays: [] });
    // A token is at most 7 days old, so at least 23 of its 30 days are left.
    expect(sim.minDaysLeft).toBeGreaterThanOrEqual(23);
    expect(fakes.renewed!.issued.filter((t) => t.via === 'refresh')).toHaveLength(12);
  });

  it('control, the same days without renewal: reports fail from day 30 (kind auth), alerts from day 23', {
    timeout: 120_000,
  }, async () => {
    const sim = await expiring;
    console.log(
      `control: ${sim.reportsRun} reports, ${sim.delivered} delivered, ${sim.failed.length} failed ` +
        `(first on day ${sim.failed[0]?.day}), alerts from day ${sim.alertDays[0]}, ${Date.now() - started} ms`,
    );
    expect(sim.delivered).toBe(29);
    expect(sim.failed.map((f) => f.day)).toEqual(Array.from({ length: DAYS - 29 }, (_, i) => 30 + i));
    expect(new Set(sim.failed.map((f) => f.kind))).toEqual(new Set(['auth']));
    expect(sim.rotations).toBe(0);
    expect(sim.alertDays[0]).toBe(23);
    expect(sim.alertDays).toHaveLength(DAYS - 22);
  });
});
