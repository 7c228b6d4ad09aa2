/**
 * Chat and webhook destinations end to end (runs/destinations.ts): local receivers that record
 * every request and fail on demand, moto for the secrets, the state table and the owners' mail.
 * Exactly once per destination and period across repeated calls and a crash after the post;
 * retries on 5xx/429/resets/timeouts, none on 400; one alert to the owners per failing
 * destination; no URL or key in any log line, delivery log entry or mail.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DestinationMessage, PostPolicy } from '../../functions/delivery/chat/index.js';
import { getDestinationSend, readLog } from '../../functions/delivery/state/index.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import { type DestinationsInput, deliverToDestinations } from '../../functions/runs/destinations.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { Destination } from '../../functions/settings/destinations.js';
import { type Moto, startMoto } from '../support/moto.js';
import { provisionStack, type StackClients } from '../support/stack.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const TABLE = 'state';
const SIGNING_KEY = 'whsec-0123456789abcdef0123456789abcdef-KEY';
const OWNER = 'owner@ops.example';
const NOW = new Date('2026-11-27T11:00:00Z');
/** Fast retries: the policy's shape is what is tested, not its default minute. */
const POLICY: PostPolicy = { timeoutMs: 400, retries: 3, baseDelayMs: 5, maxDelayMs: 40, totalMs: 5_000 };

let moto: Moto;
let stack: StackClients;
let sm: SecretsManagerClient;
let doc: DynamoDBDocumentClient;
let slack: Receiver;
let teams: Receiver;
let hook: Receiver;
const logs: unknown[] = [];

const logger = Object.fromEntries(
  ['debug', 'info', 'warn', 'error', 'critical'].map((level) => [
    level,
    (...args: unknown[]) => {
      logs.push({ level, args });
    },
  ]),
) as unknown as Logger;

function deps(d: DynamoDBDocumentClient = doc): RunDeps {
  let run = 0;
  const base = createRunDeps('scheduled-report', {
    config: loadConfig('scheduled-report', {
      REPORTS_BUCKET: 'reports-bucket',
      STATE_TABLE: TABLE,
      VERIFIK_BASE_URL: 'https://verifik.example',
      VERIFIK_TOKEN_SECRET_ID: 'tok',
      LINK_SIGNING_SECRET_ID: 'lnk',
      MAIL_FROM: 'reports@reports.example',
      ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
      REPORT_DEFINITIONS: JSON.stringify([
        { name: 'chat-ops', schedule: { timeZone: 'America/Bogota' }, owners: [OWNER] },
      ]),
      PUBLIC_API_URL: 'https://api.example',
    }),
    s3: stack.s3,
    ses: stack.ses,
    doc: d,
    secrets: createSecretSource({ client: sm, verifikTokenSecretId: 'tok', linkSigningSecretId: 'lnk' }),
    logger,
    now: () => NOW,
  });
  return { ...base, newRunId: () => `run-${++run}-${Math.random().toString(36).slice(2, 8)}` };
}

const MESSAGE: DestinationMessage = {
  definition: 'chat-ops',
  periodKey: '2026-11-26',
  window: { from: '2026-11-26', to: '2026-11-26', timeZone: 'America/Bogota' },
  reportId: 'chat-ops-20261126-r1',
  empty: false,
  headline: {
    validations: 10,
    failed: 2,
    failureRate: 0.2,
    highRisk: 1,
    byStatus: [{ key: 'completed', count: 10 }],
  },
  links: [
    {
      name: 'validations.csv',
      url: 'https://api.example/reports/r1/files/validations.csv?exp=1&sig=x',
      bytes: 1000,
      expiresAt: '2026-12-04T11:00:00.000Z',
    },
  ],
};

const SLACK: Destination = { kind: 'slack', name: 'ops-slack', secret: 'dest/slack' };
const TEAMS: Destination = { kind: 'teams', name: 'ops-teams', secret: 'dest/teams' };
const HOOK: Destination = { kind: 'webhook', name: 'siem', secret: 'dest/hook' };

let day = 0;
/** A fresh period per test, so claims never carry over. */
function input(destinations: Destination[], over: Partial<DestinationsInput> = {}): DestinationsInput {
  return {
    definition: 'chat-ops',
    day: `2026-10-${String(++day).padStart(2, '0')}`,
    reportId: MESSAGE.reportId,
    owners: [OWNER],
    destinations,
    message: MESSAGE,
    policy: POLICY,
    ...over,
  };
}

const mailsToOwner = async () =>
  (await moto.sentEmails()).filter((m) => m.kind === 'raw' && m.destinations.includes(OWNER));

beforeAll(async () => {
  moto = await startMoto();
  stack = await provisionStack(moto, {
    bucket: 'reports-bucket',
    table: TABLE,
    tokenSecret: 'tok',
    linkSecret: 'lnk',
    token: 't',
  });
  ({ secrets: sm, doc } = stack);
  [slack, teams, hook] = await Promise.all([
    startReceiver(),
    startReceiver(),
    startReceiver({ signingKey: SIGNING_KEY, nowSeconds: () => Math.floor(NOW.getTime() / 1000) }),
  ]);
  await Promise.all([
    sm.send(new CreateSecretCommand({ Name: SLACK.secret, SecretString: slack.url })),
    sm.send(new CreateSecretCommand({ Name: TEAMS.secret, SecretString: teams.url })),
    sm.send(
      new CreateSecretCommand({
        Name: HOOK.secret,
        SecretString: JSON.stringify({ url: hook.url, signingKey: SIGNING_KEY }),
      }),
    ),
  ]);
});

beforeEach(() => {
  for (const r of [slack, teams, hook]) r.reset();
});

afterAll(async () => {
  await Promise.all([slack?.close(), teams?.close(), hook?.close()]);
  await moto?.stop();
  // Whatever happened above: no log line ever held a destination URL or the signing key.
  expect(logs.length).toBeGreaterThan(10);
  const text = JSON.stringify(logs);
  for (const secret of ['s3cr3t-path', '127.0.0.1', SIGNING_KEY]) expect(text).not.toContain(secret);
});

describe('chat and webhook destinations', () => {
  it('posts each destination once; the webhook receiver verifies the signature; a repeated call posts nothing', async () => {
    const i = input([SLACK, TEAMS, HOOK]);
    const first = await deliverToDestinations(deps(), i);
    expect(first.map((o) => [o.destination, o.status])).toEqual([
      ['ops-slack', 'sent'],
      ['ops-teams', 'sent'],
      ['siem', 'sent'],
    ]);
    expect(slack.requests).toHaveLength(1);
    expect(JSON.parse(slack.requests[0]!.body).blocks[0].type).toBe('header');
    expect(JSON.parse(teams.requests[0]!.body).attachments[0].content.type).toBe('AdaptiveCard');
    const signed = hook.requests[0]!;
    expect(signed.signatureValid).toBe(true);
    expect(signed.headers['idempotency-key']).toMatch(/^vr-[0-9a-f]{40}$/);
    expect(signed.headers['x-signature-timestamp']).toBe(String(NOW.getTime() / 1000));
    expect(JSON.parse(signed.body)).toMatchObject({ definition: 'chat-ops', period: '2026-11-26' });

    const again = await deliverToDestinations(deps(), i);
    expect(again.map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect([slack, teams, hook].map((r) => r.requests.length)).toEqual([1, 1, 1]);

    const record = await getDestinationSend(doc, TABLE, {
      definition: 'chat-ops',
      day: i.day,
      destination: 'siem',
    });
    expect(record).toMatchObject({ status: 'sent', attempts: 1 });
    const log = await readLog(doc, TABLE, { definition: 'chat-ops', day: i.day });
    expect(
      log
        .filter((e) => e.type === 'destination-sent')
        .map((e) => e.destination)
        .sort(),
    ).toEqual(['ops-slack', 'ops-teams', 'siem']);
  });

  it('twice concurrently: each destination posted once', async () => {
    const i = input([SLACK, HOOK]);
    const [a, b] = await Promise.all([deliverToDestinations(deps(), i), deliverToDestinations(deps(), i)]);
    expect(slack.requests).toHaveLength(1);
    // The webhook may be re-claimed while `sending` (that is its crash path), but its receiver processes it once.
    expect(hook.processed).toHaveLength(1);
    expect([...a, ...b].filter((o) => o.status === 'sent' && o.destination === 'ops-slack')).toHaveLength(1);
  });

  it('retries 500 and 429 (Retry-After) and a connection reset, then succeeds', async () => {
    slack.plan(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
    );
    teams.plan({ kind: 'reset' }, { kind: 'slow', ms: 2_000 });
    const [s, t] = await deliverToDestinations(deps(), input([SLACK, TEAMS]));
    expect(s).toMatchObject({ status: 'sent', attempts: 3 });
    expect(slack.requests.map((r) => r.answered)).toEqual(['status', 'status', 'ok']);
    expect(t).toMatchObject({ status: 'sent', attempts: 3 });
    expect(teams.requests.map((r) => r.answered)).toEqual(['reset', 'slow', 'ok']);
  });

  it('no retry on 400: failed, the owners told once (no URL in the mail), the other destinations unaffected', async () => {
    const before = (await mailsToOwner()).length;
    slack.plan({ kind: 'status', status: 400, body: 'invalid_payload' });
    const i = input([SLACK, HOOK]);
    const [s, h] = await deliverToDestinations(deps(), i);
    expect(slack.requests).toHaveLength(1);
    expect(s).toMatchObject({ status: 'failed' });
    expect(s?.status === 'failed' && s.reason).toMatch(/HTTP 400 invalid_payload/);
    expect(h).toMatchObject({ status: 'sent' });
    const mails = (await mailsToOwner()).slice(before);
    expect(mails).toHaveLength(1);
    const raw = mails[0]?.kind === 'raw' ? mails[0].raw : '';
    expect(raw).toContain('ops-slack');
    expect(raw).not.toContain('s3cr3t-path');
    expect(raw).not.toContain('127.0.0.1');

    // A later call may try a failed destination again; it fails again; the owners are not told twice.
    slack.plan({ kind: 'status', status: 404, body: 'no_service' });
    const [again] = await deliverToDestinations(deps(), { ...i, destinations: [SLACK] });
    expect(again).toMatchObject({ status: 'failed' });
    expect(slack.requests).toHaveLength(2);
    expect((await mailsToOwner()).slice(before)).toHaveLength(1);
    const log = await readLog(doc, TABLE, { definition: 'chat-ops', day: i.day });
    expect(log.filter((e) => e.type === 'destination-failed')).toHaveLength(2);
    expect(log.filter((e) => e.type === 'alert' && e.destination === 'ops-slack')).toHaveLength(1);
    expect(JSON.stringify(log)).not.toContain('s3cr3t-path');
  });

  it('5xx on every attempt: failed after 1 + retries attempts, within the total cap', async () => {
    hook.plan(...Array.from({ length: 10 }, () => ({ kind: 'status', status: 503 }) as const));
    const [h] = await deliverToDestinations(deps(), input([HOOK]));
    expect(h).toMatchObject({ status: 'failed' });
    expect(hook.requests).toHaveLength(POLICY.retries + 1);
    expect(h?.status === 'failed' && h.reason).toMatch(/after 4 attempts \(last answer HTTP 503\)/);
  });

  it('a crash after the post: the webhook is re-posted with the same Idempotency-Key (the receiver drops it), Slack and Teams become unknown and are not re-posted', async () => {
    // The run "dies" between the post and recording it: the record stays `sending`.
    const crashing = Object.create(doc) as DynamoDBDocumentClient;
    crashing.send = ((cmd: unknown, ...rest: unknown[]) => {
      if (cmd instanceof UpdateCommand && cmd.input.ExpressionAttributeValues?.[':to'] === 'sent')
        return Promise.reject(new Error('process died'));
      return (doc.send as (...a: unknown[]) => Promise<unknown>)(cmd, ...rest);
    }) as typeof doc.send;
    const i = input([SLACK, TEAMS, HOOK]);
    await deliverToDestinations(deps(crashing), i);
    expect([slack, teams, hook].map((r) => r.requests.length)).toEqual([1, 1, 1]);

    const retry = await deliverToDestinations(deps(), i);
    expect(retry.map((o) => [o.destination, o.status])).toEqual([
      ['ops-slack', 'unknown'],
      ['ops-teams', 'unknown'],
      ['siem', 'sent'],
    ]);
    expect(retry[2]).toMatchObject({ repost: true });
    expect([slack, teams, hook].map((r) => r.requests.length)).toEqual([1, 1, 2]);
    expect(hook.requests[1]?.headers['idempotency-key']).toBe(hook.requests[0]?.headers['idempotency-key']);
    expect(hook.requests[1]?.duplicate).toBe(true);
    expect(hook.processed).toHaveLength(1);

    const third = await deliverToDestinations(deps(), i);
    expect(third.map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect([slack, teams, hook].map((r) => r.requests.length)).toEqual([1, 1, 2]);
    const log = await readLog(doc, TABLE, { definition: 'chat-ops', day: i.day });
    expect(
      log
        .filter((e) => e.type === 'destination-unknown')
        .map((e) => e.destination)
        .sort(),
    ).toEqual(['ops-slack', 'ops-teams']);
  });

  it("a scope's destinations are claimed and logged under its own report name", async () => {
    const i = input([HOOK], { scope: 'acme' });
    const plain = { ...i, scope: undefined };
    await deliverToDestinations(deps(), i);
    await deliverToDestinations(deps(), plain);
    expect(hook.processed).toHaveLength(2);
    expect(hook.processed[0]?.headers['idempotency-key']).not.toBe(
      hook.processed[1]?.headers['idempotency-key'],
    );
    const log = await readLog(doc, TABLE, { definition: 'chat-ops--acme', day: i.day });
    expect(log.some((e) => e.type === 'destination-sent')).toBe(true);
  });

  it('a missing or malformed secret fails that destination only, naming the secret, never a value', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 'dest/bad-hook', SecretString: JSON.stringify({ url: hook.url }) }),
    );
    const bad: Destination = { kind: 'webhook', name: 'bad', secret: 'dest/bad-hook' };
    const gone: Destination = { kind: 'slack', name: 'gone', secret: 'dest/missing' };
    const out = await deliverToDestinations(deps(), input([bad, gone, SLACK]));
    expect(out.map((o) => o.status)).toEqual(['failed', 'failed', 'sent']);
    expect(out[0]?.status === 'failed' && out[0].reason).toMatch(/dest\/bad-hook.*signingKey/);
    expect(out[1]?.status === 'failed' && out[1].reason).toMatch(/dest\/missing/);
    expect(hook.requests).toHaveLength(0);
  });
});
