/**
 * AWS SDK clients, created once per Lambda cold start and shared by every invocation.
 *
 * Configuration is the SDK's own: `AWS_REGION`, the credential chain, and the endpoint
 * variables the SDK v3 reads by itself (`AWS_ENDPOINT_URL`, then the per-service
 * `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SESV2`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
 * `AWS_ENDPOINT_URL_DYNAMODB`), so the same code talks to AWS or to a local stand-in.
 * The one thing the SDK cannot guess is that a stand-in has no per-bucket DNS names, so a
 * custom S3 endpoint switches to path-style addressing.
 */

import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What tests (or the CLI) may pin instead of the environment. */
export interface ClientOverrides {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

type Env = Readonly<Record<string, string | undefined>>;

/** True when S3 requests go to something other than AWS (moto, MinIO…), which needs path-style URLs. */
export function usesCustomS3Endpoint(env: Env = process.env, overrides: ClientOverrides = {}): boolean {
  if (overrides.endpoint) return true;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return false;
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

function baseConfig(overrides: ClientOverrides) {
  const config: { region?: string; endpoint?: string; credentials?: ClientOverrides['credentials'] } = {};
  if (overrides.region) config.region = overrides.region;
  if (overrides.endpoint) config.endpoint = overrides.endpoint;
  if (overrides.credentials) config.credentials = overrides.credentials;
  return config;
}

export function s3ClientConfig(overrides: ClientOverrides = {}, env: Env = process.env): S3ClientConfig {
  return {
    ...baseConfig(overrides),
    forcePathStyle: usesCustomS3Endpoint(env, overrides),
  };
}

export function createS3Client(overrides: ClientOverrides = {}): S3Client {
  return new S3Client(s3ClientConfig(overrides));
}

/**
 * The SES client sends report mails, and a send is never repeated blindly: with the SDK's
 * default retries, a SendEmail whose answer was lost (SES accepted, the connection dropped) was
 * sent again, up to 3 times an attempt. One attempt, and a bounded wait, so an unanswered send
 * ends as "outcome unknown" (delivery/mail/send.ts) and SES's events settle it.
 */
export const SES_REQUEST_TIMEOUT_MS = 30_000;

export function createSesClient(overrides: ClientOverrides = {}): SESv2Client {
  const config: SESv2ClientConfig = {
    ...baseConfig(overrides),
    maxAttempts: 1,
    requestHandler: { requestTimeout: SES_REQUEST_TIMEOUT_MS, connectionTimeout: 5_000 },
  };
  return new SESv2Client(config);
}

export function createSecretsClient(overrides: ClientOverrides = {}): SecretsManagerClient {
  const config: SecretsManagerClientConfig = baseConfig(overrides);
  return new SecretsManagerClient(config);
}

export function createDynamoDocClient(overrides: ClientOverrides = {}): DynamoDBDocumentClient {
  const config: DynamoDBClientConfig = baseConfig(overrides);
  // Records carry optional fields; undefined means "absent", not an error.
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

let s3: S3Client | undefined;
let ses: SESv2Client | undefined;
let secrets: SecretsManagerClient | undefined;
let dynamo: DynamoDBDocumentClient | undefined;

/** The cold start's shared S3 client. */
export function s3Client(): S3Client {
  s3 ??= createS3Client();
  return s3;
}

export function sesClient(): SESv2Client {
  ses ??= createSesClient();
  return ses;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= createSecretsClient();
  return secrets;
}

export function dynamoDocClient(): DynamoDBDocumentClient {
  dynamo ??= createDynamoDocClient();
  return dynamo;
}

/**
 * Replaces the shared clients (tests that drive handlers in-process against a stand-in).
 * Pass nothing to drop them all; the next call creates fresh ones from the environment.
 */
export function setClients(
  clients: {
    s3?: S3Client;
    ses?: SESv2Client;
    secrets?: SecretsManagerClient;
    dynamo?: DynamoDBDocumentClient;
  } = {},
): void {
  s3 = clients.s3;
  ses = clients.ses;
  secrets = clients.secrets;
  dynamo = clients.dynamo;
}
