/**
 * The reports console on one machine: moto (S3, SES v2, Secrets Manager, DynamoDB, Cognito), the
 * fake Verifik, the real API handler behind a local HTTP server that does what API Gateway's
 * JWT authorizer does (jwt.ts), the built console, and its `config.json`. Reports asked for in
 * the console run in-process in the real worker (moto cannot run Lambda functions), as the
 * integration tests run them. Used by `npm run console` (main.ts) and the browser tests.
 *
 * moto is started with the tests' own starter and stack provisioning (test/support/), so the
 * console and the tests cannot drift apart in how the stand-ins are set up.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildConsole, CONSOLE_DIST } from '../../console/build.js';
import type { ApiDeps } from '../../functions/api/deps.js';
import { cognitoMfaCheck, secretRotationState } from '../../functions/delivery/console-users.js';
import { createApiDeps } from '../../functions/handlers/api-deps.js';
import { createWorkerHandler } from '../../functions/handlers/report-worker.js';
import { createReportsApi } from '../../functions/handlers/reports-api.js';
import { createRunDeps } from '../../functions/handlers/run-deps.js';
import { createScheduledHandler } from '../../functions/handlers/scheduled-report.js';
import { createSecretSource } from '../../functions/handlers/secret-source.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import type { WorkerPayload } from '../../functions/runs/worker-payload.js';
import { loadConfig } from '../../functions/settings/config.js';
import type { ReportDefinitionInput } from '../../functions/settings/definitions.js';
import { yesterday } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type Moto, startMoto } from '../../test/support/moto.js';
import { provisionStack, type StackClients } from '../../test/support/stack.js';
import { createDataset } from '../fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../fake-verifik/server.js';
import { type ConsolePool, createConsolePool } from './cognito.js';
import { createJwtVerifier } from './jwt.js';

export const DOMAIN = 'ops.example';
const TIME_ZONE = 'America/Bogota';
const NAMES = {
  bucket: 'console-reports',
  table: 'console-state',
  tokenSecret: 'console/verifik-token',
  linkSecret: 'console/link-signing-key',
};
const FROM = 'reports@reports.example';
const DAY_MS = 86_400_000;

export const DEFINITIONS: ReportDefinitionInput[] = [
  {
    name: 'daily-ops',
    schedule: { timeZone: TIME_ZONE },
    recipients: [`ops@${DOMAIN}`],
    owners: [`owner@${DOMAIN}`],
    formats: ['xlsx', 'csv'],
  },
  {
    name: 'daily-risk',
    schedule: { timeZone: TIME_ZONE, hour: 7 },
    recipients: [`risk@${DOMAIN}`],
    owners: [`owner@${DOMAIN}`],
    formats: ['xlsx'],
  },
];

export interface ConsoleServer {
  url: string;
  /** The day the seeded scheduled reports cover: yesterday in their zone (America/Bogota). */
  seedDay: string;
  pool: ConsolePool;
  moto: Moto;
  fake: FakeVerifik;
  clients: StackClients;
  /** Moves the JWT check's clock (e.g. past the access tokens' expiry). */
  shiftClock(ms: number): void;
  /** Waits for the report workers started so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  port?: number;
  /** Validations in the fake Verifik over the last 8 days (default 4,000). */
  validations?: number;
  /** Run yesterday's scheduled reports at start (default true), so the pages have something. */
  seed?: boolean;
  /** Build the console first (default true). */
  build?: boolean;
  log?: (line: string) => void;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The CloudFront response headers policy's CSP (infra/constructs/console-hosting.ts), locally. */
export function consoleCsp(connect: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${connect.join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function startConsoleServer(opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  const log = opts.log ?? (() => undefined);
  const building = opts.build === false ? Promise.resolve() : buildConsole();
  const [moto] = await Promise.all([startMoto(), building]);
  const now = () => new Date();
  let skew = 0;
  const verifikToken = randomBytes(18).toString('base64url');
  const end = new Date();
  const fake = await startFakeVerifik({
    dataset: createDataset({
      seed: 20261127,
      start: new Date(end.getTime() - 8 * DAY_MS),
      end,
      count: opts.validations ?? 4_000,
      timeZone: TIME_ZONE,
    }),
    token: verifikToken,
  });
  const clients = await provisionStack(moto, {
    ...NAMES,
    token: verifikToken,
    senderDomain: 'reports.example',
  });
  const cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  const pool = await createConsolePool(cognito, { region: moto.region, domain: DOMAIN });

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const env = {
    REPORTS_BUCKET: NAMES.bucket,
    STATE_TABLE: NAMES.table,
    VERIFIK_BASE_URL: fake.url,
    VERIFIK_TOKEN_SECRET_ID: NAMES.tokenSecret,
    LINK_SIGNING_SECRET_ID: NAMES.linkSecret,
    MAIL_FROM: FROM,
    ALLOWED_RECIPIENT_DOMAINS: DOMAIN,
    REPORT_DEFINITIONS: JSON.stringify(DEFINITIONS),
    WORKER_FUNCTION_NAME: 'report-worker',
    SCHEDULED_FUNCTION_NAME: 'scheduled-report',
    PUBLIC_API_URL: url,
    CONSOLE_USER_POOL_ID: pool.userPoolId,
  };
  const secrets = createSecretSource({
    client: clients.secrets,
    verifikTokenSecretId: NAMES.tokenSecret,
    linkSigningSecretId: NAMES.linkSecret,
  });
  const quiet = (serviceName: string) => new Logger({ serviceName, logLevel: 'ERROR' });
  const runDeps = (role: 'scheduled-report' | 'report-worker'): RunDeps =>
    createRunDeps(role, {
      config: loadConfig(role, env),
      ...clients,
      secrets,
      verifik: (token) => createVerifikClient({ baseUrl: fake.url, token }),
      logger: quiet(role),
      now,
    });
  const workers: Promise<unknown>[] = [];
  const background = (work: () => Promise<unknown>) => {
    // Like an asynchronous Lambda invoke: queued now, run later; the caller does not wait.
    workers.push(new Promise((r) => setImmediate(r)).then(work).catch((err) => log(`run failed: ${err}`)));
  };
  const worker = createWorkerHandler(() => runDeps('report-worker'));
  const scheduled = createScheduledHandler(() => runDeps('scheduled-report'));
  const apiDeps: ApiDeps = createApiDeps({
    config: loadConfig('reports-api', env),
    ...clients,
    secrets,
    logger: quiet('reports-api'),
    now,
    invokeWorker: async (payload: WorkerPayload) => background(() => worker(payload)),
    startScheduledRun: async (input) => background(() => scheduled(input)),
    mfaEnabled: cognitoMfaCheck(pool.userPoolId, cognito),
    verifikTokenState: secretRotationState(clients.secrets, NAMES.tokenSecret),
  });
  const api = createReportsApi(() => apiDeps);
  const verify = createJwtVerifier({
    issuer: pool.issuer,
    audience: [pool.clientId],
    jwksUrl: `${moto.endpoint}/${pool.userPoolId}/.well-known/jwks.json`,
    now: () => new Date(Date.now() + skew),
  });
  const config = JSON.stringify({
    apiUrl: url,
    region: moto.region,
    userPoolId: pool.userPoolId,
    clientId: pool.clientId,
    cognitoEndpoint: moto.endpoint,
  });
  const csp = consoleCsp([moto.endpoint]);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks), res).catch((err) => {
        log(`request failed: ${(err as Error).stack}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"Internal Server Error"}');
      });
    });
  });

  async function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    if (path.startsWith('/console/') || path.startsWith('/reports/')) {
      let claims: Record<string, string> | undefined;
      if (path.startsWith('/console/')) {
        // API Gateway's JWT authorizer: a missing or bad token never reaches the function.
        const outcome = await verify(req.headers.authorization);
        if (!outcome.ok) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
          res.end(JSON.stringify({ message: 'Unauthorized' }));
          return;
        }
        claims = outcome.claims;
      } else if (!/^\/reports\/[^/]+\/files\/[^/]+$/.test(path)) {
        // The IAM routes are not served locally: the console uses /console/… only.
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"message":"Forbidden"}');
        return;
      }
      const result = await api(toEvent(req, body, url, claims));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' });
      res.end();
      return;
    }
    const security = {
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
    if (path === '/config.json') {
      res.writeHead(200, { ...security, 'content-type': TYPES['.json']!, 'cache-control': 'no-store' });
      res.end(config);
      return;
    }
    // Every other path is the single page (its own router reads location.hash).
    const file = path === '/' || !extname(path) ? 'index.html' : normalize(path).replace(/^[/\\]+/, '');
    if (file.split(/[/\\]/).includes('..')) {
      res.writeHead(404);
      res.end();
      return;
    }
    try {
      const bytes = await readFile(join(CONSOLE_DIST, file));
      res.writeHead(200, { ...security, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(bytes);
    } catch {
      res.writeHead(404, { ...security, 'content-type': 'text/plain' });
      res.end('Not found');
    }
  }

  const seedDay = yesterday(TIME_ZONE);
  if (opts.seed !== false)
    await Promise.all(DEFINITIONS.map((d) => scheduled({ definition: d.name, day: seedDay })));

  return {
    url,
    seedDay,
    pool,
    moto,
    fake,
    clients,
    shiftClock: (ms) => {
      skew += ms;
    },
    settle: async () => {
      await Promise.allSettled(workers);
    },
    close: async () => {
      await Promise.allSettled(workers);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cognito.destroy();
      await fake.close();
      await moto.stop();
    },
  };
}

/** An HTTP API payload 2.0 event, with the JWT authorizer's claims when there are any. */
function toEvent(
  req: IncomingMessage,
  body: Buffer,
  base: string,
  claims: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', base);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  headers['x-forwarded-proto'] = 'http';
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    } as APIGatewayProxyEventV2['requestContext'],
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
}
