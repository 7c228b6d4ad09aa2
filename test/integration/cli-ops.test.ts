/**
 * The CLI's operations commands in-process (runCli), against moto with the caller's AWS settings
 * (the standard SDK variables) and the stack's variables in the environment: `log`, `resend`,
 * `pause` / `resume`, and `backfill` against a stand-in for Lambda's Invoke API (moto cannot run
 * functions), plus the one-line refusals (a missing variable, a misplaced command).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import {
  createDynamoDocClient,
  createS3Client,
  createSecretsClient,
  createSesClient,
} from '../../functions/delivery/aws-clients.js';
import { appendLog, getDefinitionState, readLog } from '../../functions/delivery/state/index.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { ScheduledOutcome } from '../../functions/runs/scheduled.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { captureIo } from '../support/cli-io.js';
import { type Moto, type MotoSentEmail, startMoto } from '../support/moto.js';

const BUCKET = 'cli-ops-reports';
const TABLE = 'cli-ops-state';
const FROM = 'reports@reports.example';
const NOW = new Date('2024-12-02T11:00:00Z'); // 06:00 in Bogotá: "yesterday" is 2024-12-01
const TZ = 'America/Bogota';
let ticks = 0;
/** NOW, a millisecond later at every reading, so log entries have an order. */
const clock = () => new Date(NOW.getTime() + ticks++);

const definitions: ReportDefinitionInput[] = [
  {
    name: 'cli-ops',
    schedule: { timeZone: TZ },
    recipients: ['alice@ops.example'],
    owners: ['owner@ops.example'],
    formats: ['csv'],
  },
  {
    name: 'fill-cli',
    schedule: { timeZone: TZ },
    recipients: ['fill@ops.example'],
    owners: ['owner@ops.example'],
    formats: ['csv'],
  },
];

/** The stack's variables, as the functions get them; the CLI reads the same names. */
const stackEnv = {
  STATE_TABLE: TABLE,
  REPORTS_BUCKET: BUCKET,
  MAIL_FROM: FROM,
  ALLOWED_RECIPIENT_DOMAINS: 'ops.example',
  REPORT_DEFINITIONS: JSON.stringify(definitions),
  SCHEDULED_FUNCTION_NAME: 'stack-scheduled-report',
  USER: 'tester',
};

let moto: Moto;
let fake: FakeVerifik;
let s3: S3Client;
let ses: SESv2Client;
let doc: DynamoDBDocumentClient;
let lambda: Server;
/** What the Lambda stand-in was asked to invoke. */
const invocations: { functionName: string; invocationType: string; payload: unknown }[] = [];

function cli(env: Record<string, string | undefined> = stackEnv) {
  return captureIo(env, clock);
}

async function run(argv: string[], env?: Record<string, string | undefined>) {
  const c = cli(env);
  const code = await runCli(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

function scheduled(input: { definition: string; day?: string }): Promise<ScheduledOutcome> {
  const role = 'scheduled-report';
  const config = loadConfig(role, {
    ...stackEnv,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: 'verifik-token',
    LINK_SIGNING_SECRET_ID: 'link-signing-key',
    PUBLIC_API_URL: 'https://api.example.test',
  });
  const deps = createRunDeps(role, {
    config,
    s3,
    ses,
    doc,
    secrets: createSecretSource({
      client: createSecretsClient(moto.clientConfig),
      verifikTokenSecretId: 'verifik-token',
      linkSigningSecretId: 'link-signing-key',
    }),
    verifik: (token) => createVerifikClient({ baseUrl: fake.url, token, retry: { attempts: 2 } }),
    logger: new Logger({ serviceName: role, logLevel: 'SILENT' }),
    now: clock,
  });
  return createScheduledHandler(() => deps)(input);
}

async function mailsTo(address: string) {
  const sent = await moto.sentEmails();
  const raw = sent.filter(
    (m): m is Extract<MotoSentEmail, { kind: 'raw' }> => m.kind === 'raw' && m.destinations.includes(address),
  );
  return Promise.all(raw.map((m) => simpleParser(m.raw)));
}

/** Lambda's Invoke API as far as an asynchronous invoke goes: 202 and nothing else. */
function startLambdaStandIn(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m?.[1]) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"message":"not found"}');
        return;
      }
      invocations.push({
        functionName: decodeURIComponent(m[1]),
        invocationType: String(req.headers['x-amz-invocation-type']),
        payload: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(202, { 'x-amzn-requestid': 'stand-in' });
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let reportId: string;
let messageId: string;

beforeAll(async () => {
  moto = await startMoto();
  lambda = await startLambdaStandIn();
  // The CLI configures its AWS clients from the standard SDK variables, as it would against AWS.
  Object.assign(process.env, moto.env, {
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
  });
  const dataset = createDataset({
    seed: 5,
    start: new Date('2024-11-28T05:00:00Z'),
    end: new Date('2024-12-02T05:00:00Z'),
    count: 200,
  });
  fake = await startFakeVerifik({ dataset, token: 'right-token' });
  s3 = createS3Client(moto.clientConfig);
  ses = createSesClient(moto.clientConfig);
  doc = createDynamoDocClient(moto.clientConfig);
  const sm = createSecretsClient(moto.clientConfig);
  await Promise.all([
    s3.send(new CreateBucketCommand({ Bucket: BUCKET })),
    sm.send(new CreateSecretCommand({ Name: 'verifik-token', SecretString: 'right-token' })),
    sm.send(new CreateSecretCommand({ Name: 'link-signing-key', SecretString: 'k'.repeat(48) })),
    moto.verifyIdentity('reports.example'),
    moto.createStateTable(TABLE),
  ]);
  const outcome = await scheduled({ definition: 'cli-ops' });
  if (outcome.status !== 'sent')
    throw new Error(`the scheduled run did not send: ${JSON.stringify(outcome)}`);
  reportId = outcome.reportId;
  messageId = outcome.messageId;
});

afterAll(async () => {
  await fake?.close();
  await new Promise((resolve) => lambda?.close(resolve));
  await moto?.stop();
});

describe('verifik-reports log', () => {
  it('prints the run state and one terminal-safe line an entry; --json gives the same log', async () => {
    // A detail with control characters (an SES reason, say) must not reach the terminal as such.
    await appendLog(
      doc,
      TABLE,
      { definition: 'cli-ops', day: '2024-12-01' },
      {
        type: 'event',
        event: 'Bounce',
        messageId,
        recipients: ['alice@ops.example'],
        detail: 'Permanent\x1b[31m\r\nforged line',
        at: clock(),
      },
    );
    const human = await run(['log', reportId]);
    expect(human.err).toBe('');
    expect(human.code).toBe(EXIT.ok);
    const lines = human.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`Report ${reportId}: complete (cli-ops, 2024-12-01)`);
    expect(lines[1]).toMatch(
      new RegExp(`^Run: sent, attempt 1, updated \\S+, SES message ${messageId}, sent `),
    );
    expect(lines[2]).toBe('time  type  recipients  message id  detail');
    const entries = lines.slice(3).map((l) => l.split('  '));
    expect(entries.map((e) => e[1])).toEqual(['claimed', 'produced', 'send', 'sent', 'event Bounce']);
    expect(entries[0]?.[4]).toBe('attempt 1');
    expect(entries[2]?.slice(2, 4)).toEqual(['alice@ops.example', '-']);
    expect(entries[3]?.slice(2, 4)).toEqual(['alice@ops.example', messageId]);
    // ESC, CR and LF are gone (each run one space): no colour, no forged second line.
    expect(entries[4]?.[4]).toBe('Permanent [31m forged line');
    expect(human.out).not.toMatch(/[\x1b\r]/);

    const json = await run(['log', reportId, '--json']);
    const parsed = JSON.parse(json.out) as {
      report: { id: string; status: string };
      deliveryLog: { run: { status: string }; entries: { type: string }[] };
    };
    expect(parsed.report).toEqual({ id: reportId, status: 'complete' });
    expect(parsed.deliveryLog.run.status).toBe('sent');
    expect(parsed.deliveryLog.entries).toHaveLength(5);
  });

  it('an unknown report: exit 1, one line', async () => {
    const res = await run(['log', 'no-such-report']);
    expect(res.code).toBe(EXIT.failure);
    expect(res.err).toBe(
      'verifik-reports: No report no-such-report (reports and their logs are kept for a limited time).\n',
    );
  });
});

describe('verifik-reports resend', () => {
  it('with the same --key twice: one mail with presigned S3 links, the second says nothing was sent', async () => {
    const first = await run(['resend', reportId, '--to', 'carol@ops.example', '--key', 'cli-1']);
    expect(first.err).toBe('');
    expect(first.code).toBe(EXIT.ok);
    expect(first.out).toMatch(
      new RegExp(`^Re-sent report ${reportId} to carol@ops\\.example \\(SES message \\S+\\)\\.\\n$`),
    );
    const second = await run(['resend', reportId, '--to', 'carol@ops.example', '--key', 'cli-1']);
    expect(second.code).toBe(EXIT.ok);
    expect(second.out).toBe(
      `Request cli-1 was already made for report ${reportId} (its re-send is sent): nothing sent again.\n`,
    );
    const mails = await mailsTo('carol@ops.example');
    expect(mails).toHaveLength(1);
    const links = [
      ...(mails[0]?.text ?? '').matchAll(/(http:\/\/127\.0\.0\.1:\d+\/\S+X-Amz-Signature=\S+)/g),
    ].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      // SigV4's 7-day cap, and the download name in the disposition.
      expect(new URL(link).searchParams.get('X-Amz-Expires')).toBe('604800');
      const res = await fetch(link);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('verifik-cli-ops-2024-12-01-');
    }
  });

  it('without --key: a new key, printed so a retry can reuse it; --json carries it', async () => {
    const res = await run(['resend', reportId, '--json']);
    expect(res.code).toBe(EXIT.ok);
    const key =
      /^verifik-reports: request key ([A-Za-z0-9_-]+) \(to retry this same resend without doing it twice: --key \1\)\n$/.exec(
        res.err,
      )?.[1];
    expect(key).toBeDefined();
    expect(JSON.parse(res.out)).toMatchObject({ status: 'sent', key, to: ['alice@ops.example'] });
    // The retry with the printed key sends nothing.
    const retry = await run(['resend', reportId, '--key', key as string]);
    expect(retry.out, retry.err).toMatch(/nothing sent again/);
    expect(await mailsTo('alice@ops.example')).toHaveLength(2);
  });

  it('refuses a recipient outside the allowed domains by name (exit 2), before any claim', async () => {
    const res = await run(['resend', reportId, '--to', 'mallory@evil.example', '--key', 'cli-evil']);
    expect(res.code).toBe(EXIT.usage);
    expect(res.err).toBe(
      'verifik-reports: Refusing to mail mallory@evil.example: not in an allowed recipient domain. Add the domain to ALLOWED_RECIPIENT_DOMAINS or remove the address.\n',
    );
    // The same key still works once the address is fixed: nothing was claimed.
    const fixed = await run(['resend', reportId, '--to', 'dave@ops.example', '--key', 'cli-evil']);
    expect(fixed.out).toMatch(/^Re-sent report/);
  });
});

describe('verifik-reports pause / resume', () => {
  it('pause: the scheduled run is skipped and logged; resume: it runs', async () => {
    const paused = await run(['pause', 'fill-cli']);
    expect(paused.code).toBe(EXIT.ok);
    expect(paused.out).toBe(
      'fill-cli is paused: its schedule still fires, and each run is skipped (logged) until `verifik-reports resume fill-cli`.\n',
    );
    expect(await getDefinitionState(doc, TABLE, 'fill-cli')).toMatchObject({
      paused: true,
      by: 'cli tester',
    });
    expect(await scheduled({ definition: 'fill-cli' })).toMatchObject({
      status: 'skipped',
      reason: 'fill-cli is paused',
    });
    expect(await readLog(doc, TABLE, { definition: 'fill-cli', day: '2024-12-01' })).toEqual([
      expect.objectContaining({ type: 'skipped', detail: 'fill-cli is paused' }),
    ]);

    const resumed = await run(['resume', 'fill-cli', '--json']);
    expect(resumed.code).toBe(EXIT.ok);
    expect(JSON.parse(resumed.out)).toEqual({ definition: 'fill-cli', paused: false });
    expect((await scheduled({ definition: 'fill-cli' })).status).toBe('sent');
    expect(await mailsTo('fill@ops.example')).toHaveLength(1);
  });

  it('an unknown definition: exit 2 naming the known ones', async () => {
    const res = await run(['pause', 'nope']);
    expect(res.code).toBe(EXIT.usage);
    expect(res.err).toMatch(
      /^verifik-reports: No report definition named "nope"\. Known definitions: cli-ops, fill-cli\./,
    );
  });
});

describe('verifik-reports backfill', () => {
  it('invokes the scheduled function asynchronously for each day not yet delivered; --force for all, with the key', async () => {
    invocations.length = 0;
    const plain = await run([
      'backfill',
      '--definition',
      'fill-cli',
      '--from',
      '2024-11-29',
      '--to',
      '2024-12-01',
      '--key',
      'b-1',
    ]);
    expect(plain.err).toBe('');
    expect(plain.code).toBe(EXIT.ok);
    expect(plain.out).toBe(
      [
        'Backfill of fill-cli 2024-11-29..2024-12-01: 2 of 3 days started.',
        '  2024-11-29  started',
        '  2024-11-30  started',
        '  2024-12-01  skipped: already sent',
        '',
      ].join('\n'),
    );
    expect(invocations).toEqual([
      {
        functionName: 'stack-scheduled-report',
        invocationType: 'Event',
        payload: { definition: 'fill-cli', day: '2024-11-29' },
      },
      {
        functionName: 'stack-scheduled-report',
        invocationType: 'Event',
        payload: { definition: 'fill-cli', day: '2024-11-30' },
      },
    ]);

    invocations.length = 0;
    const forced = await run([
      'backfill',
      '--definition',
      'fill-cli',
      '--from',
      '2024-11-30',
      '--to',
      '2024-12-01',
      '--force',
      '--json',
    ]);
    expect(forced.code).toBe(EXIT.ok);
    const key = /request key ([A-Za-z0-9_-]+) /.exec(forced.err)?.[1] as string;
    expect(JSON.parse(forced.out)).toEqual({
      definition: 'fill-cli',
      force: true,
      key,
      days: [
        { day: '2024-11-30', action: 'started' },
        { day: '2024-12-01', action: 'started' },
      ],
    });
    expect(invocations.map((i) => i.payload)).toEqual([
      { definition: 'fill-cli', day: '2024-11-30', force: key },
      { definition: 'fill-cli', day: '2024-12-01', force: key },
    ]);
  });

  it('refuses a day not ended in the definition’s zone, a bad range and missing flags (exit 2, nothing invoked)', async () => {
    invocations.length = 0;
    const today = await run([
      'backfill',
      '--definition',
      'fill-cli',
      '--from',
      '2024-12-01',
      '--to',
      '2024-12-02',
    ]);
    expect(today.code).toBe(EXIT.usage);
    expect(today.err).toBe(
      'verifik-reports: backfill --to: 2024-12-02 has not ended yet in America/Bogota: reports cover whole days, the latest is 2024-12-01.\n',
    );
    const backwards = await run([
      'backfill',
      '--definition',
      'fill-cli',
      '--from',
      '2024-12-01',
      '--to',
      '2024-11-01',
    ]);
    expect(backwards.err).toBe('verifik-reports: backfill --to: 2024-11-01 is before --from (2024-12-01).\n');
    const missing = await run(['backfill', '--definition', 'fill-cli', '--from', '2024-12-01']);
    expect(missing.err).toBe('verifik-reports: backfill needs --to (verifik-reports backfill --help).\n');
    expect([today.code, backwards.code, missing.code]).toEqual([EXIT.usage, EXIT.usage, EXIT.usage]);
    expect(invocations).toEqual([]);
  });
});

describe('configuration and usage', () => {
  it('a missing STATE_TABLE: exit 2, one line naming it, for every command', async () => {
    const { STATE_TABLE: _, ...withoutTable } = stackEnv;
    for (const argv of [
      ['log', reportId],
      ['resend', reportId, '--key', 'k'],
      ['pause', 'cli-ops'],
      ['backfill', '--definition', 'cli-ops', '--from', '2024-11-30', '--to', '2024-11-30', '--key', 'k'],
    ]) {
      const res = await run(argv, withoutTable);
      expect(res.code, argv.join(' ')).toBe(EXIT.usage);
      expect(res.err).toMatch(
        new RegExp(
          `^verifik-reports: STATE_TABLE is not set: \`verifik-reports ${argv[0]}\` needs it, the deployed stack's value`,
        ),
      );
      expect(res.err.trimEnd().split('\n')).toHaveLength(1);
      expect(res.out).toBe('');
    }
    const none = await run(['resend', reportId, '--key', 'k'], {});
    expect(none.err).toMatch(
      /^verifik-reports: STATE_TABLE, REPORTS_BUCKET, MAIL_FROM, ALLOWED_RECIPIENT_DOMAINS, REPORT_DEFINITIONS are not set: /,
    );
    const bad = await run(['pause', 'cli-ops'], { ...stackEnv, REPORT_DEFINITIONS: '{not json' });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.err).toMatch(/^verifik-reports: `verifik-reports pause`: REPORT_DEFINITIONS: not JSON/);
  });

  it('usage: a command needs its argument, has its own --help, and goes first', async () => {
    const noId = await run(['log']);
    expect(noId).toEqual({
      code: EXIT.usage,
      out: '',
      err: 'verifik-reports: log needs the report-id: verifik-reports log <report-id>.\n',
    });
    const help = await run(['resend', '--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.out).toMatch(/^Usage: verifik-reports resend <report-id> \[--to ADDR\]\.\.\. \[--key K\]/);
    const late = await run(['--json', 'log', reportId]);
    expect(late.code).toBe(EXIT.usage);
    expect(late.err).toBe(
      'verifik-reports: "log" is a command: put it first, e.g. verifik-reports log --help.\n',
    );
    const badKey = await run(['resend', reportId, '--key', 'has space']);
    expect(badKey.err).toBe('verifik-reports: resend --key: use 1-64 letters, digits, "_" or "-".\n');
    const top = await run(['--help']);
    expect(top.out).toContain('Commands:\n  log <report-id>');
  });
});
