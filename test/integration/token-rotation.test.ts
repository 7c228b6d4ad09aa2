/**
 * The token-rotation function against moto's Secrets Manager and SES and the fake Verifik with
 * a simulated clock: the four rotation steps move the version stages and the renewed token
 * works (the old one too, until its exp); failures leave AWSCURRENT alone and throw; the daily
 * watch publishes the days left and mails the owners when 7 or fewer remain.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { createSecretsClient, createSesClient } from '../../functions/delivery/aws-clients.js';
import { kindOf } from '../../functions/errors/kinds.js';
import { createTokenDeps, createTokenHandler, WATCH_EVENT } from '../../functions/handlers/token-rotation.js';
import { loadTokenSettings } from '../../functions/runs/token-settings.js';
import { LIST_PATH } from '../../functions/verifik/client.js';
import { readTokenExpiry, SESSION_PATH } from '../../functions/verifik/token.js';
import { type Moto, startMoto } from '../support/moto.js';
import { readAwsCurrentByDefault, rotateLikeSecretsManager } from '../support/rotation.js';

/** For promises that must reject: a resolution fails the test. */
const fail = (value: unknown): never => {
  throw new Error(`expected a rejection, got ${JSON.stringify(value).slice(0, 80)}`);
};

const DAY = 86_400_000;
const DAY0 = new Date('2026-11-01T06:00:00Z');
const OWNER = 'owner@ops.example';

let moto: Moto;
let fake: FakeVerifik;
let sm: SecretsManagerClient;
let ses: SESv2Client;
let clock: Date;
let daysLeft: number[];
let secretCount = 0;

// Secrets Manager wants version ids (ClientRequestToken) of 32 to 64 characters.
const V2 = '00000000-0000-4000-8000-000000000002';
const BAD = '00000000-0000-4000-8000-0000000000ba';
const CONFIG_TEST = '00000000-0000-4000-8000-0000000000c0';
const NEVER = '00000000-0000-4000-8000-0000000000ee';

const at = (days: number) => new Date(DAY0.getTime() + days * DAY);

beforeAll(async () => {
  moto = await startMoto();
  fake = await startFakeVerifik({
    dataset: createDataset({ seed: 5, count: 100, start: at(-1), end: DAY0 }),
    now: () => clock,
  });
  sm = readAwsCurrentByDefault(createSecretsClient(moto.clientConfig));
  ses = createSesClient(moto.clientConfig);
  await moto.verifyIdentity('reports.example');
});
afterAll(async () => {
  await fake?.close();
  await moto?.stop();
});
beforeEach(() => {
  clock = DAY0;
  daysLeft = [];
  fake.faults.clear();
});

/** A fresh secret holding `value`, and the function's handler over it. */
async function setup(value: string) {
  const secretId = `verifik-token-${++secretCount}`;
  await sm.send(new CreateSecretCommand({ Name: secretId, SecretString: value }));
  const settings = loadTokenSettings({
    VERIFIK_TOKEN_SECRET_ID: secretId,
    VERIFIK_BASE_URL: fake.url,
    MAIL_FROM: 'reports@reports.example',
    ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
    TOKEN_ALERT_RECIPIENTS: OWNER,
  });
  const deps = createTokenDeps({
    settings,
    sm,
    ses,
    logger: new Logger({ serviceName: 'token-rotation', logLevel: 'SILENT' }),
    now: () => clock,
    recordDaysLeft: (d) => daysLeft.push(d),
  });
  const handler = createTokenHandler(() => deps);
  return { secretId, handler, invoke: (e: object) => handler(e) };
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  const meta = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  return meta.VersionIdsToStages ?? {};
}

async function current(secretId: string): Promise<string> {
  const res = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
  return res.SecretString ?? '';
}

const listStatus = async (token: string) =>
  (await fetch(`${fake.url}${LIST_PATH}?page=1&perPage=1`, { headers: { authorization: `Bearer ${token}` } }))
    .status;

async function mailsTo(address: string) {
  const sent = await moto.sentEmails();
  return Promise.all(
    sent
      .filter((m) => m.kind === 'raw' && m.destinations.includes(address))
      .map((m) => simpleParser(m.kind === 'raw' ? m.raw : '')),
  );
}

describe('rotation: the four steps', () => {
  it('renew the token: AWSPENDING, then AWSCURRENT; the new token works and the old one until its exp', async () => {
    const old = fake.issueToken(30 * 86_400);
    const { secretId, invoke } = await setup(old);
    const [oldVersion] = Object.keys(await stages(secretId));
    clock = at(7);

    const { version, outcomes } = await rotateLikeSecretsManager(invoke, secretId);
    expect(outcomes.map((o) => (o as { status: string }).status)).toEqual([
      'created',
      'noop',
      'tested',
      'finished',
    ]);
    const after = await stages(secretId);
    expect(after[version]).toEqual(['AWSCURRENT']);
    expect(after[oldVersion as string]).toEqual(['AWSPREVIOUS']);

    const renewed = await current(secretId);
    expect(renewed).not.toBe(old);
    expect(readTokenExpiry(renewed)).toEqual(at(37));
    expect(await listStatus(renewed)).toBe(200);
    // Renewing does not revoke: the old token works until its own exp (day 30).
    clock = at(29.9);
    expect(await listStatus(old)).toBe(200);
    clock = at(30);
    expect(await listStatus(old)).toBe(401);
    expect(await listStatus(renewed)).toBe(200);
  });

  it('createSecret called twice renews once; steps repeated after the finish do nothing', async () => {
    const { secretId, invoke } = await setup(fake.issueToken(30 * 86_400));
    const step = (Step: string) => invoke({ SecretId: secretId, ClientRequestToken: V2, Step });
    const renewals = () => fake.issued.filter((t) => t.via === 'refresh').length;
    const before = renewals();
    expect(await step('createSecret')).toMatchObject({ status: 'created' });
    expect(await step('createSecret')).toMatchObject({ status: 'exists' });
    expect(renewals()).toBe(before + 1);
    expect(await stages(secretId)).toMatchObject({ [V2]: ['AWSPENDING'] });
    await step('setSecret');
    await step('testSecret');
    expect(await step('finishSecret')).toMatchObject({ status: 'finished' });
    expect(await step('finishSecret')).toMatchObject({ status: 'already-current' });
    expect(await step('createSecret')).toMatchObject({ status: 'already-current' });
    expect(renewals()).toBe(before + 1);
  });

  it('a step for a version that is not pending is refused (kind conflict)', async () => {
    const { secretId, invoke } = await setup(fake.issueToken());
    const err = await invoke({
      SecretId: secretId,
      ClientRequestToken: NEVER,
      Step: 'testSecret',
    }).then(fail, (e: unknown) => e);
    expect(kindOf(err)).toBe('conflict');
    expect((err as Error).message).toContain('rotate-secret --secret-id');
  });

  it('a renewed token Verifik refuses fails testSecret and never becomes AWSCURRENT', async () => {
    const good = fake.issueToken();
    const { secretId, invoke } = await setup(good);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: BAD,
        SecretString: 'not-a-token-verifik-knows',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const err = await invoke({ SecretId: secretId, ClientRequestToken: BAD, Step: 'testSecret' }).then(
      fail,
      (e: unknown) => e,
    );
    expect(kindOf(err)).toBe('auth');
    expect((err as Error).message).not.toContain('not-a-token-verifik-knows');
    expect(await current(secretId)).toBe(good);
  });

  it('the placeholder: createSecret says to put the token; Secrets Manager’s configuration test passes', async () => {
    const { secretId, invoke } = await setup('REPLACE_ME');
    const err = await rotateLikeSecretsManager(invoke, secretId).then(fail, (e: unknown) => e);
    expect(kindOf(err)).toBe('access');
    expect((err as Error).message).toContain(`put-secret-value --secret-id ${secretId}`);
    // RotateImmediately=false: Secrets Manager copies AWSCURRENT as AWSPENDING and runs testSecret only.
    await sm.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: CONFIG_TEST,
        SecretString: 'REPLACE_ME',
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(await invoke({ SecretId: secretId, ClientRequestToken: CONFIG_TEST, Step: 'testSecret' })).toEqual(
      {
        step: 'testSecret',
        status: 'skipped',
      },
    );
  });
});

describe('renewal failing, and the watch', () => {
  it('Verifik down: rotation fails, AWSCURRENT unchanged; with 6 days left the watch mails the owners', async () => {
    const token = fake.issueToken(30 * 86_400);
    const { secretId, invoke, handler } = await setup(token);

    clock = at(10);
    expect(await handler(WATCH_EVENT)).toMatchObject({ status: 'ok', daysLeft: 20 });
    expect(daysLeft).toEqual([20]);

    clock = at(24);
    fake.faults.push({ kind: 'status', status: 503 }, { times: 3, when: (r) => r.path === SESSION_PATH });
    const err = await rotateLikeSecretsManager(invoke, secretId).then(fail, (e: unknown) => e);
    expect(kindOf(err)).toBe('upstream-unavailable');
    expect(await current(secretId)).toBe(token);
    expect(Object.values(await stages(secretId))).toEqual([['AWSCURRENT']]);

    const outcome = await handler(WATCH_EVENT);
    expect(outcome).toMatchObject({ step: 'watch', status: 'alerted', daysLeft: 6 });
    expect(daysLeft).toEqual([20, 6]);
    const [mail, ...more] = await mailsTo(OWNER);
    expect(more).toHaveLength(0);
    expect(mail?.subject).toBe(
      '[verifik-token] The Verifik token expires in 6 days (2026-12-01 06:00 UTC): automatic renewal failed',
    );
    expect(mail?.text).toContain(`aws secretsmanager rotate-secret --secret-id ${secretId}`);
    expect(mail?.text).not.toContain(token);
    expect(mail?.headers.get('x-report-id')).toBe('verifik-token-2026-11-25');
  });

  it('once expired: renewal is refused (kind auth) and the watch says the reports are failing', async () => {
    const token = fake.issueToken(30 * 86_400);
    const { secretId, invoke, handler } = await setup(token);
    clock = at(31);
    const err = await rotateLikeSecretsManager(invoke, secretId).then(fail, (e: unknown) => e as Error);
    expect(err.name).toBe('VerifikRenewalRefusedError');
    expect(kindOf(err)).toBe('auth');
    expect(err.message).not.toContain(token);
    expect(await current(secretId)).toBe(token);

    const before = (await mailsTo(OWNER)).length;
    expect(await handler(WATCH_EVENT)).toMatchObject({ status: 'expired', daysLeft: -1 });
    const mails = await mailsTo(OWNER);
    expect(mails).toHaveLength(before + 1);
    expect(mails.at(-1)?.subject).toMatch(/EXPIRED on 2026-12-01 06:00 UTC: reports are failing/);
  });

  it('no token yet, or a token that is not a JWT: nothing to watch, no metric, no mail', async () => {
    const before = (await mailsTo(OWNER)).length;
    const placeholder = await setup('REPLACE_ME');
    expect(await placeholder.handler(WATCH_EVENT)).toEqual({ step: 'watch', status: 'not-set' });
    const opaque = await setup(fake.token);
    expect(await opaque.handler(WATCH_EVENT)).toEqual({ step: 'watch', status: 'unknown-expiry' });
    expect(daysLeft).toEqual([]);
    expect(await mailsTo(OWNER)).toHaveLength(before);
  });

  it('refuses events that are neither a rotation step nor the watch', async () => {
    const { handler } = await setup(fake.issueToken());
    for (const event of [
      {},
      { action: 'rotate' },
      { Step: 'dropSecret', SecretId: 'x', ClientRequestToken: 'y' },
    ]) {
      await expect(handler(event)).rejects.toMatchObject({ kind: 'usage' });
    }
  });
});
