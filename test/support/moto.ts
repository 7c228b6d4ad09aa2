/**
 * A private moto server per test file: S3, SES v2, Secrets Manager and DynamoDB on 127.0.0.1.
 *
 * Each test file starts its own process on a free port, so files can run in parallel without
 * sharing state; `reset()` clears everything between tests when a file wants isolation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { STATE_TABLE } from '../../functions/contract.js';

const DEFAULT_MOTO_SERVER = '/root/.pyenv/versions/3.11.7/bin/moto_server';
const START_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 4;

export interface MotoCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A mail SES accepted, as moto recorded it. */
export type MotoSentEmail =
  | {
      kind: 'raw';
      id: string;
      source: string;
      /** Envelope destinations plus the To/Cc/Bcc headers moto found in the MIME. */
      destinations: string[];
      /** The whole MIME message, ready for mailparser. */
      raw: string;
    }
  | {
      kind: 'simple';
      id: string;
      source: string;
      destinations: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
      subject: string;
      /** The HTML part when one was given, else the text part (moto keeps only one). */
      body: string;
    };

export interface Moto {
  endpoint: string;
  region: 'us-east-1';
  credentials: MotoCredentials;
  /** Spread into any SDK v3 client config: `new S3Client({ ...moto.clientConfig, forcePathStyle: true })`. */
  clientConfig: { endpoint: string; region: 'us-east-1'; credentials: MotoCredentials };
  /** Environment for code that configures its clients from the standard SDK variables. */
  env: Record<string, string>;
  /** Clears every service's state (buckets, tables, secrets, identities, sent mail). */
  reset(): Promise<void>;
  stop(): Promise<void>;
  sentEmails(): Promise<MotoSentEmail[]>;
  /** SES refuses to send from unverified identities; pass an address or a whole domain. */
  verifyIdentity(identity: string): Promise<void>;
  /** Creates the state table with the key schema and index the CDK stack declares (no TTL: moto never expires items). */
  createStateTable(tableName: string): Promise<void>;
}

export class MotoStartError extends Error {
  override name = 'MotoStartError';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new MotoStartError('could not obtain a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once moto answers HTTP; rejects early if the process dies (e.g. the port was taken). */
async function waitUntilReady(child: ChildProcess, endpoint: string, output: () => string): Promise<void> {
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new MotoStartError(
        `moto_server exited with code ${exited} before answering: ${output().slice(-500)}`,
      );
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new MotoStartError(
    `moto_server did not answer within ${START_TIMEOUT_MS} ms: ${output().slice(-500)}`,
  );
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave moto processes behind.
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

async function spawnMoto(): Promise<{ child: ChildProcess; endpoint: string }> {
  const binary = process.env.MOTO_SERVER ?? DEFAULT_MOTO_SERVER;
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      // Only the tail matters for diagnostics; moto logs every request.
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const spawnFailed = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(new MotoStartError(`cannot run moto_server at ${binary} (set MOTO_SERVER): ${err.message}`)),
      );
    });
    try {
      await Promise.race([waitUntilReady(child, endpoint, () => output), spawnFailed]);
      return { child, endpoint };
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      // A missing binary will not appear on retry.
      if (err instanceof MotoStartError && err.message.startsWith('cannot run')) throw err;
    }
  }
  throw lastError;
}

interface MotoDataJson {
  ses?: {
    RawMessage?: Array<{ id: string; source: string; destinations: string[]; raw_data: string }>;
    Message?: Array<{
      id: string;
      source: string;
      destinations: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
      subject: string;
      body: string;
    }>;
  };
}

export async function startMoto(): Promise<Moto> {
  const { child, endpoint } = await spawnMoto();
  const region = 'us-east-1' as const;
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const clientConfig = { endpoint, region, credentials };
  const ses = new SESv2Client(clientConfig);

  const stop = async () => {
    ses.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    endpoint,
    region,
    credentials,
    clientConfig,
    env: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL: endpoint,
    },
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    stop,
    async sentEmails() {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (!res.ok) throw new Error(`moto data.json failed: HTTP ${res.status}`);
      const data = (await res.json()) as MotoDataJson;
      const raw: MotoSentEmail[] = (data.ses?.RawMessage ?? []).map((m) => ({
        kind: 'raw',
        id: m.id,
        source: m.source,
        destinations: m.destinations,
        raw: m.raw_data,
      }));
      const simple: MotoSentEmail[] = (data.ses?.Message ?? []).map((m) => ({
        kind: 'simple',
        id: m.id,
        source: m.source,
        destinations: m.destinations,
        subject: m.subject,
        body: m.body,
      }));
      return [...raw, ...simple];
    },
    async verifyIdentity(identity: string) {
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: identity }));
    },
    async createStateTable(tableName: string) {
      const dynamo = new DynamoDBClient(clientConfig);
      try {
        await dynamo.send(
          new CreateTableCommand({
            TableName: tableName,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
              { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
              { AttributeName: STATE_TABLE.indexPartitionKey, AttributeType: 'S' },
              { AttributeName: STATE_TABLE.indexSortKey, AttributeType: 'S' },
              { AttributeName: STATE_TABLE.openIndexPartitionKey, AttributeType: 'S' },
              { AttributeName: STATE_TABLE.openIndexSortKey, AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
              { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
            ],
            GlobalSecondaryIndexes: [
              {
                IndexName: STATE_TABLE.byDateIndex,
                KeySchema: [
                  { AttributeName: STATE_TABLE.indexPartitionKey, KeyType: 'HASH' },
                  { AttributeName: STATE_TABLE.indexSortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
              {
                IndexName: STATE_TABLE.openIndex,
                KeySchema: [
                  { AttributeName: STATE_TABLE.openIndexPartitionKey, KeyType: 'HASH' },
                  { AttributeName: STATE_TABLE.openIndexSortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }),
        );
      } finally {
        dynamo.destroy();
      }
    },
  };
}
