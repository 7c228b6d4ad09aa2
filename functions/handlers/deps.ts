/**
 * Everything a handler talks to, built once per cold start from the validated configuration.
 * Handlers receive a `Deps` (or a factory for one) so tests can hand them moto's endpoints, the
 * fake Verifik and an in-process worker instead of AWS.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocClient, s3Client, secretsClient, sesClient } from '../delivery/aws-clients.js';
import type { WorkerPayload } from '../runs/worker-payload.js';
import { type Config, type FunctionRole, loadConfig } from '../settings/config.js';
import { createVerifikClient, type VerifikClient } from '../verifik/client.js';
import { createSecretSource, type SecretSource } from './secret-source.js';

export interface Deps {
  config: Config;
  s3: S3Client;
  ses: SESv2Client;
  doc: DynamoDBDocumentClient;
  secrets: SecretSource;
  /** A Verifik client for one run (the token may change between runs). */
  verifik(token: string): VerifikClient;
  /**
   * Starts the report worker without waiting for it (Lambda `InvocationType: 'Event'`).
   * Tests inject an in-process call instead: moto cannot run Lambda functions without Docker.
   */
  invokeWorker(payload: WorkerPayload): Promise<void>;
  logger: Logger;
  now(): Date;
  /** Unique per invocation attempt: who holds a day's claim. */
  newRunId(): string;
}

/** Lambda's async invoke payload limit is 256 KB; ours is a few hundred bytes. */
function lambdaInvoker(functionName: string): (payload: WorkerPayload) => Promise<void> {
  let client: LambdaClient | undefined;
  return async (payload) => {
    client ??= new LambdaClient({});
    const res = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
    if (res.StatusCode !== 202) throw new Error(`Lambda did not queue the worker (HTTP ${res.StatusCode}).`);
  };
}

/** Builds the real dependencies from the environment; overrides replace any part (tests). */
export function createDeps(
  role: FunctionRole,
  overrides: Partial<Deps> & { env?: Record<string, string | undefined> } = {},
): Deps {
  const { env, ...rest } = overrides;
  const config = rest.config ?? loadConfig(role, env ?? process.env);
  const logger = rest.logger ?? new Logger({ serviceName: role });
  const secrets =
    rest.secrets ??
    createSecretSource({
      client: secretsClient(),
      verifikTokenSecretId: config.VERIFIK_TOKEN_SECRET_ID,
      linkSigningSecretId: config.LINK_SIGNING_SECRET_ID,
    });
  const worker = config.WORKER_FUNCTION_NAME;
  return {
    config,
    s3: rest.s3 ?? s3Client(),
    ses: rest.ses ?? sesClient(),
    doc: rest.doc ?? dynamoDocClient(),
    secrets,
    verifik: rest.verifik ?? ((token) => createVerifikClient({ baseUrl: config.VERIFIK_BASE_URL, token })),
    invokeWorker:
      rest.invokeWorker ??
      (worker
        ? lambdaInvoker(worker)
        : async () => {
            throw new Error('WORKER_FUNCTION_NAME is not set: this function cannot start report workers.');
          }),
    logger,
    now: rest.now ?? (() => new Date()),
    newRunId: rest.newRunId ?? (() => randomUUID()),
  };
}

/** Memoises a deps factory: built on first use (not at import, so a bad config fails the invocation, visibly). */
export function lazyDeps(factory: () => Deps): () => Deps {
  let deps: Deps | undefined;
  return () => {
    deps ??= factory();
    return deps;
  };
}
