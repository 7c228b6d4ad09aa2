/**
 * The fault matrix: "every report day ends in exactly one mail, or the owners know within 20
 * minutes". For each fault point — before the claim, after it, mid-read, mid-upload, before the
 * send, SES accepted but the answer lost, SES refused, after the send before recording it, a
 * crash or a timeout at each — one scheduled day is driven through the real handlers against moto
 * and the fake Verifik, with Lambda's own asynchronous retry timing (+1 min, +3 min, then the
 * dead-letter queue), the sweeper every 5 minutes and SES's events, on a controllable clock.
 *
 * A crash is a process that stops: from the crash point on, every AWS call of that invocation
 * hangs forever and nothing in its catch/finally reaches AWS. A timeout is the same at 15 minutes,
 * with the lease kept alive by the heartbeat until then. SES's events come from what moto
 * actually accepted (its sent-mail store), as the configuration set would publish them.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { ON_DEMAND_DEFINITION, SEND_ID_HEADER } from '../../functions/contract.js';
import { createS3Client, createSesClient } from '../../functions/delivery/aws-clients.js';
import {
  claimRun,
  getReport,
  getRun,
  putReport,
  renewLease,
  setPaused,
} from '../../functions/delivery/state/index.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import { createSesEventsHandler } from '../../functions/handlers/ses-events.js';
import { RUN_LEASE_SECONDS } from '../../functions/runs/claim.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import type { ScheduledInput } from '../../functions/runs/schedule-input.js';
import { sweep } from '../../functions/runs/sweep.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import {
  type FaultProxy,
  type ProxiedRequest,
  type ProxyAction,
  startFaultProxy,
} from '../support/fault-proxy.js';
import { type Moto, startMoto } from '../support/moto.js';
import { provisionStack } from '../support/stack.js';

const BUCKET = 'fault-reports';
const TABLE = 'fault-state';
const TOKEN_SECRET = 'verifik-token';
const LINK_SECRET = 'link-key';
const FROM = 'reports@reports.example';
const TZ = 'America/Bogota';
const DAY = '2024-12-01';
/** The schedule fires at 06:00 in Bogotá on the 2nd: 11:00 UTC. */
const FIRE = new Date('2024-12-02T11:00:00Z');
const MINUTE = 60_000;
const HORIZON = 60 * MINUTE;
/** Lambda's asynchronous retries: the first 1 minute after the failure, the second 2 minutes after that. */
const RETRY_DELAYS = [MINUTE, 2 * MINUTE];
const SWEEP_EVERY = 5 * MINUTE;
const LAMBDA_TIMEOUT = 15 * MINUTE;

// ---------------------------------------------------------------- faults

type Crash = 'crash' | 'timeout';
/** Which invocations of the day (1 = the schedule's) a fault applies to. */
type When = 'first' | 'all';

interface Row {
  point: string;
  /** An AWS call to stop the process at: before it is sent, or after its answer came. */
  stopAt?: {
    client: 'doc' | 's3' | 'ses';
    match: (cmd: Command) => boolean;
    side: 'before' | 'after';
    how: Crash;
    when: When;
  };
  /** What the network in front of moto does to SES or S3 requests. */
  proxy?: { service: 'ses' | 's3'; match: (req: ProxiedRequest) => boolean; action: ProxyAction; when: When };
  /** Verifik answers 503 to every request. */
  verifikDown?: When;
  /** The process stops while Verifik pages are being read. */
  stopMidRead?: { how: Crash; when: When };
}

interface Command {
  constructor: { name: string };
  input?: Record<string, unknown>;
}

const isClaim = (cmd: Command) =>
  cmd.constructor.name === 'UpdateCommand' &&
  String(cmd.input?.UpdateExpression ?? '').includes('#claimedAt');
const isSend = (cmd: Command) => cmd.constructor.name === 'SendEmailCommand';
const isUpload = (cmd: Command) =>
  ['PutObjectCommand', 'CreateMultipartUploadCommand'].includes(cmd.constructor.name);
const isSesSend = (req: ProxiedRequest) =>
  req.method === 'POST' && req.path.startsWith('/v2/email/outbound-emails');
const isS3Put = (req: ProxiedRequest) => req.method === 'PUT' && req.path.includes('validations');

const ROWS: Row[] = [
  { point: 'no fault' },
  {
    point: 'before the claim: crash',
    stopAt: { client: 'doc', match: isClaim, side: 'before', how: 'crash', when: 'first' },
  },
  {
    point: 'after the claim: crash',
    stopAt: { client: 'doc', match: isClaim, side: 'after', how: 'crash', when: 'first' },
  },
  {
    point: 'after the claim: timeout',
    stopAt: { client: 'doc', match: isClaim, side: 'after', how: 'timeout', when: 'first' },
  },
  { point: 'mid-read: Verifik down', verifikDown: 'first' },
  { point: 'mid-read: crash', stopMidRead: { how: 'crash', when: 'first' } },
  { point: 'mid-read: timeout', stopMidRead: { how: 'timeout', when: 'first' } },
  {
    point: 'mid-upload: S3 fails',
    proxy: {
      service: 's3',
      match: isS3Put,
      action: {
        kind: 'refuse',
        status: 500,
        errorType: 'InternalError',
        message: 'We encountered an internal error.',
        xml: true,
      },
      when: 'first',
    },
  },
  {
    point: 'mid-upload: crash',
    stopAt: { client: 's3', match: isUpload, side: 'before', how: 'crash', when: 'first' },
  },
  {
    point: 'before the send: crash',
    stopAt: { client: 'ses', match: isSend, side: 'before', how: 'crash', when: 'first' },
  },
  {
    point: 'before the send: timeout',
    stopAt: { client: 'ses', match: isSend, side: 'before', how: 'timeout', when: 'first' },
  },
  {
    point: 'SES accepted, answer lost',
    proxy: { service: 'ses', match: isSesSend, action: { kind: 'drop-after' }, when: 'first' },
  },
  {
    point: 'SES refused',
    proxy: {
      service: 'ses',
      match: isSesSend,
      action: {
        kind: 'refuse',
        status: 400,
        errorType: 'MessageRejected',
        message: 'Email address is not verified.',
      },
      when: 'first',
    },
  },
  {
    point: 'SES never reached (reset)',
    proxy: { service: 'ses', match: isSesSend, action: { kind: 'reset-before' }, when: 'first' },
  },
  {
    point: 'after the send, before recording: crash',
    stopAt: { client: 'ses', match: isSend, side: 'after', how: 'crash', when: 'first' },
  },
  {
    point: 'after the send, before recording: timeout',
    stopAt: { client: 'ses', match: isSend, side: 'after', how: 'timeout', when: 'first' },
  },
  { point: 'Verifik down all day', verifikDown: 'all' },
  {
    point: 'crash after the claim, every attempt',
    stopAt: { client: 'doc', match: isClaim, side: 'after', how: 'crash', when: 'all' },
  },
];

// ---------------------------------------------------------------- the simulated world

/** One invocation of a function: once stopped, every AWS call it makes hangs forever. */
class Invocation {
  dead = false;
  crashedHow: Crash | null = null;
  private resolveDead!: () => void;
  readonly deadSignal = new Promise<void>((resolve) => {
    this.resolveDead = resolve;
  });
  stop(how: Crash): void {
    if (this.dead) return;
    this.dead = true;
    this.crashedHow = how;
    this.resolveDead();
  }
}

const never = <T>() => new Promise<T>(() => undefined);

function stoppable<T extends object>(
  client: T,
  kind: 'doc' | 's3' | 'ses',
  inv: Invocation,
  row: Row,
  n: number,
): T {
  const stop = row.stopAt;
  const applies = stop && stop.client === kind && (stop.when === 'all' || n === 1);
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'send' || typeof value !== 'function') return value;
      return async (cmd: Command, ...rest: unknown[]) => {
        if (inv.dead) return never();
        if (applies && stop.side === 'before' && stop.match(cmd)) {
          inv.stop(stop.how);
          return never();
        }
        const answer = await (value as (...a: unknown[]) => Promise<unknown>).call(target, cmd, ...rest);
        if (inv.dead) return never();
        if (applies && stop.side === 'after' && stop.match(cmd)) {
          inv.stop(stop.how);
          return never();
        }
        return answer;
      };
    },
  });
}

interface Sent {
  to: string[];
  subject: string;
  at: number;
}

interface RowResult {
  point: string;
  reportMails: number;
  ownerAlerts: number;
  finalState: string;
  attempts: number[];
  alertAt: number | null;
}

let moto: Moto;
let fake: FakeVerifik;
let sesProxy: FaultProxy;
let s3Proxy: FaultProxy;
let doc: DynamoDBDocumentClient;
let secretsSm: SecretsManagerClient;
let s3Direct: S3Client;
const seenMail = new Set<string>();

beforeAll(async () => {
  moto = await startMoto();
  [sesProxy, s3Proxy] = await Promise.all([startFaultProxy(moto.endpoint), startFaultProxy(moto.endpoint)]);
  const dataset = createDataset({
    seed: 3,
    start: new Date('2024-12-01T05:00:00Z'),
    end: new Date('2024-12-02T05:00:00Z'),
    // Three pages of 500: a read that stops at its second page stops mid-read.
    count: 1050,
  });
  fake = await startFakeVerifik({ dataset, token: 'right-token' });
  ({
    doc,
    secrets: secretsSm,
    s3: s3Direct,
  } = await provisionStack(moto, {
    bucket: BUCKET,
    table: TABLE,
    tokenSecret: TOKEN_SECRET,
    linkSecret: LINK_SECRET,
    token: 'right-token',
  }));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([fake?.close(), sesProxy?.close(), s3Proxy?.close()]);
  await moto?.stop();
});

function env(definitions: ReportDefinitionInput[]): Record<string, string> {
  return {
    REPORTS_BUCKET: BUCKET,
    STATE_TABLE: TABLE,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: TOKEN_SECRET,
    LINK_SIGNING_SECRET_ID: LINK_SECRET,
    MAIL_FROM: FROM,
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    REPORT_DEFINITIONS: JSON.stringify(definitions),
    PUBLIC_API_URL: 'https://api.example.test',
    SCHEDULED_FUNCTION_NAME: 'scheduled-report',
  };
}

/** Drives one report day of `row` through schedule, retries, sweeps and SES events for an hour. */
async function driveRow(row: Row, index: number): Promise<RowResult> {
  const name = `row-${index}`;
  const recipient = `${name}@ops.example`;
  const owner = `${name}-owner@ops.example`;
  const config = loadConfig(
    'scheduled-report',
    env([
      {
        name,
        schedule: { hour: 6, minute: 0, timeZone: TZ },
        recipients: [recipient],
        owners: [owner],
        formats: ['xlsx', 'csv'],
      },
    ]),
  );
  const silent = new Logger({ serviceName: name, logLevel: 'SILENT' });
  const secrets = createSecretSource({
    client: secretsSm,
    verifikTokenSecretId: TOKEN_SECRET,
    linkSigningSecretId: LINK_SECRET,
  });
  let clock = FIRE.getTime();
  const now = () => new Date(clock);
  let invocationCount = 0;
  let current: Invocation | null = null;
  const attemptsAt: number[] = [];
  const queue: { at: number; seq: number; run: () => Promise<void> }[] = [];
  let seq = 0;
  const at = (when: number, run: () => Promise<void>) => queue.push({ at: when, seq: seq++, run });
  const mails: Sent[] = [];

  const applies = (when: When | undefined, n: number) => when === 'all' || (when === 'first' && n === 1);
  const proxyFor = (service: 'ses' | 's3') => (req: ProxiedRequest) => {
    const p = row.proxy;
    return p && p.service === service && applies(p.when, invocationCount) && p.match(req)
      ? p.action
      : ({ kind: 'pass' } as ProxyAction);
  };
  sesProxy.plan = proxyFor('ses');
  s3Proxy.plan = proxyFor('s3');
  fake.faults.clear();
  fake.faults.push(
    { kind: 'status', status: 503 },
    { times: Number.POSITIVE_INFINITY, when: () => applies(row.verifikDown, invocationCount) },
  );
  fake.faults.push(
    { kind: 'status', status: 503 },
    {
      times: Number.POSITIVE_INFINITY,
      when: (req) => {
        // The process stops once the read is under way (its second page); nothing is answered wrong.
        if (
          row.stopMidRead &&
          applies(row.stopMidRead.when, invocationCount) &&
          req.query.get('page') === '2'
        ) {
          current?.stop(row.stopMidRead.how);
        }
        return false;
      },
    },
  );

  const depsFor = (inv: Invocation, n: number, runId: string): RunDeps =>
    createRunDeps('scheduled-report', {
      config,
      logger: silent,
      secrets,
      doc: stoppable(doc, 'doc', inv, row, n),
      s3: stoppable(createS3Client({ ...moto.clientConfig, endpoint: s3Proxy.url }), 's3', inv, row, n),
      ses: stoppable(createSesClient({ ...moto.clientConfig, endpoint: sesProxy.url }), 'ses', inv, row, n),
      verifik: (token) =>
        createVerifikClient({
          baseUrl: fake.url,
          token,
          retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
          sleep: async () => undefined,
        }),
      now,
      newRunId: () => runId,
    });

  /** One asynchronous invocation of the scheduled function, with Lambda's retries after it. */
  const invoke = (input: ScheduledInput, lambdaAttempt: number) => async () => {
    invocationCount += 1;
    const n = invocationCount;
    const inv = new Invocation();
    current = inv;
    const runId = `${name}-inv${n}-${randomUUID().slice(0, 8)}`;
    const started = clock;
    attemptsAt.push(started);
    const handler = createScheduledHandler(() => depsFor(inv, n, runId));
    const outcome = await Promise.race([
      handler(input).then(
        () => 'ok' as const,
        () => 'error' as const,
      ),
      inv.deadSignal.then(() => 'stopped' as const),
    ]);
    current = null;
    if (outcome === 'stopped' && inv.crashedHow === 'timeout') {
      // Killed at Lambda's timeout: the heartbeat kept the lease alive until then.
      clock = started + LAMBDA_TIMEOUT;
      await renewLease(doc, TABLE, {
        definition: name,
        day: DAY,
        runId,
        leaseSeconds: RUN_LEASE_SECONDS,
        now: now(),
      });
    }
    await pumpSesEvents();
    if (outcome !== 'ok' && lambdaAttempt <= RETRY_DELAYS.length) {
      at(clock + (RETRY_DELAYS[lambdaAttempt - 1] ?? 0), invoke(input, lambdaAttempt + 1));
    }
  };

  /** SES publishes Send and Delivery events for what it accepted; the stack's rule hands them over. */
  const onSesEvent = createSesEventsHandler(() => ({ doc, config, logger: silent, now }));
  async function pumpSesEvents(): Promise<void> {
    for (const m of await moto.sentEmails()) {
      if (m.kind !== 'raw' || seenMail.has(m.id)) continue;
      const parsed = await simpleParser(m.raw);
      const to = m.destinations;
      if (!to.some((d) => d.startsWith(`${name}@`) || d.startsWith(`${name}-owner@`))) continue;
      seenMail.add(m.id);
      mails.push({ to, subject: parsed.subject ?? '', at: clock });
      const sendId = parsed.headers.get(SEND_ID_HEADER.toLowerCase());
      const headers = typeof sendId === 'string' ? [{ name: SEND_ID_HEADER, value: sendId }] : [];
      for (const [eventType, detailType] of [
        ['Send', 'Email Sent'],
        ['Delivery', 'Email Delivered'],
      ] as const) {
        await onSesEvent({
          source: 'aws.ses',
          'detail-type': detailType,
          detail: {
            eventType,
            mail: { messageId: m.id, destination: to, headers, timestamp: now().toISOString() },
            ...(eventType === 'Delivery' ? { delivery: { recipients: to } } : {}),
          },
        });
      }
    }
  }

  at(clock, invoke({ definition: name, day: DAY }, 1));
  for (let t = FIRE.getTime() + SWEEP_EVERY; t <= FIRE.getTime() + HORIZON; t += SWEEP_EVERY) {
    at(t, async () => {
      await sweep({
        ...createRunDeps('scheduled-report', {
          config,
          logger: silent,
          secrets,
          doc,
          s3: s3Direct,
          ses: createSesClient(moto.clientConfig),
          now,
          newRunId: () => 'sweeper',
        }),
        redo: async (input) => {
          at(clock, invoke(input, 1));
        },
      });
      await pumpSesEvents();
    });
  }
  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = queue.shift();
    if (!next) break;
    clock = Math.max(clock, next.at);
    if (clock > FIRE.getTime() + HORIZON) break;
    await next.run();
  }

  const run = await getRun(doc, TABLE, name, DAY);
  const reportMails = mails.filter((m) => m.to.includes(recipient));
  const alerts = mails.filter((m) => m.to.includes(owner));
  const lastAttempt = Math.max(...attemptsAt);
  const alertAfterLast = alerts.find((a) => a.at >= lastAttempt);
  return {
    point: row.point,
    reportMails: reportMails.length,
    ownerAlerts: alerts.length,
    finalState: `${run?.status ?? 'none'}${run?.alertedAt ? ', owners alerted' : ''}`,
    attempts: attemptsAt.map((t) => (t - FIRE.getTime()) / MINUTE),
    alertAt: alertAfterLast ? (alertAfterLast.at - lastAttempt) / MINUTE : null,
  };
}

describe('delivery under faults', () => {
  it('every fault point ends in exactly one report mail, or none and an owner alert within 20 minutes', async () => {
    const results: RowResult[] = [];
    for (const [i, row] of ROWS.entries()) results.push(await driveRow(row, i));

    const table = [
      '| fault point | report mails | owner alerts | final state | attempts at (min) |',
      '| --- | --- | --- | --- | --- |',
      ...results.map(
        (r) =>
          `| ${r.point} | ${r.reportMails} | ${r.ownerAlerts} | ${r.finalState} | ${r.attempts.join(', ')} |`,
      ),
    ].join('\n');
    console.log(`\n${table}\n`);

    for (const r of results) {
      expect(r.reportMails, `${r.point}: never two mails`).toBeLessThanOrEqual(1);
      if (r.reportMails === 0) {
        expect(r.alertAt, `${r.point}: no mail, so the owners must be told`).not.toBeNull();
        expect(
          r.alertAt ?? Number.POSITIVE_INFINITY,
          `${r.point}: within 20 minutes of the last attempt`,
        ).toBeLessThanOrEqual(20);
      }
    }
    // Every row where the mail can be known not to have reached SES ends in exactly one mail.
    // The others end in none and an alert, by design: a send that may have reached SES (the
    // process stopped after marking it, or the connection was reset) is never repeated on a
    // guess — SES's events are best effort, so a missing one does not prove the mail missing.
    const mayHaveReachedSes = [
      'before the send: crash',
      'before the send: timeout',
      'SES never reached (reset)',
    ];
    const permanent = ['Verifik down all day', 'crash after the claim, every attempt'];
    const mustMail = results.filter((r) => ![...mayHaveReachedSes, ...permanent].includes(r.point));
    expect(mustMail.filter((r) => r.reportMails !== 1).map((r) => r.point)).toEqual([]);
    for (const point of [...mayHaveReachedSes, ...permanent]) {
      expect(results.find((r) => r.point === point)?.finalState, point).toMatch(/owners alerted/);
    }
    expect(results.find((r) => r.point === 'SES accepted, answer lost')?.finalState).toBe('sent');
  }, 300_000);
});

describe('the sweeper, on what nobody invoked', () => {
  const silent = new Logger({ serviceName: 'sweeper', logLevel: 'SILENT' });
  function sweeperAt(at: Date, definitions: ReportDefinitionInput[]) {
    const redone: ScheduledInput[] = [];
    const deps = {
      ...createRunDeps('scheduled-report', {
        config: loadConfig('scheduled-report', env(definitions)),
        logger: silent,
        secrets: createSecretSource({
          client: secretsSm,
          verifikTokenSecretId: TOKEN_SECRET,
          linkSigningSecretId: LINK_SECRET,
        }),
        doc,
        s3: s3Direct,
        ses: createSesClient(moto.clientConfig),
        now: () => at,
        newRunId: () => 'sweeper',
      }),
      redo: async (input: ScheduledInput) => {
        redone.push(input);
      },
    };
    return { run: () => sweep(deps), redone };
  }
  const missed = (name: string): ReportDefinitionInput => ({
    name,
    schedule: { hour: 6, minute: 0, timeZone: TZ },
    recipients: [`${name}@ops.example`],
    owners: [`${name}-owner@ops.example`],
  });

  it('starts a scheduled day that never ran, 30 minutes after its schedule fired, unless paused', async () => {
    const defs = [missed('never-ran'), missed('never-ran-paused')];
    await setPaused(doc, TABLE, { name: 'never-ran-paused', paused: true, now: FIRE });
    const early = sweeperAt(new Date(FIRE.getTime() + 29 * MINUTE), defs);
    await early.run();
    expect(early.redone).toEqual([]);
    const late = sweeperAt(new Date(FIRE.getTime() + 31 * MINUTE), defs);
    await late.run();
    expect(late.redone).toEqual([{ definition: 'never-ran', day: DAY }]);
  });

  it('ends an on-demand report whose worker died as failed with the reason, and tells its requester once', async () => {
    const reportId = 'on-demand-2024-12-01-20241202T110000-dead01';
    const notify = 'requester@ops.example';
    await putReport(doc, TABLE, {
      id: reportId,
      status: 'running',
      request: { definition: ON_DEMAND_DEFINITION, from: DAY, to: DAY, timeZone: TZ, notify: [notify] },
      createdAt: FIRE.toISOString(),
      date: DAY,
    });
    const claim = await claimRun(doc, TABLE, {
      definition: ON_DEMAND_DEFINITION,
      day: reportId,
      runId: 'dead-worker',
      leaseSeconds: RUN_LEASE_SECONDS,
      now: FIRE,
    });
    expect(claim.claimed).toBe(true);
    // While the lease is live the worker may still be working: nothing happens.
    await sweeperAt(new Date(FIRE.getTime() + MINUTE), []).run();
    expect((await getReport(doc, TABLE, reportId))?.status).toBe('running');
    // Its lease ran out: the report ends failed, with a reason, and the requester hears once.
    await sweeperAt(new Date(FIRE.getTime() + 3 * MINUTE), []).run();
    await sweeperAt(new Date(FIRE.getTime() + 8 * MINUTE), []).run();
    const record = await getReport(doc, TABLE, reportId);
    expect(record?.status).toBe('failed');
    expect(record?.error).toMatch(/worker stopped without finishing/);
    const mails = (await moto.sentEmails()).filter(
      (m) => m.kind === 'raw' && m.destinations.includes(notify),
    );
    expect(mails).toHaveLength(1);
    expect((await getRun(doc, TABLE, ON_DEMAND_DEFINITION, reportId))?.alertedAt).toBeDefined();
  });
});
