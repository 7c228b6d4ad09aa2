/**
 * What every end-to-end test of the functions needs in moto before its first run: the reports
 * bucket, the two secrets, a verified sender domain and the state table, with the SDK clients the
 * functions build (the same factories, pointed at moto). One place, so the tests cannot drift.
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDocClient,
  createS3Client,
  createSecretsClient,
  createSesClient,
} from '../../functions/delivery/aws-clients.js';
import type { Moto } from './moto.js';

export interface StackNames {
  bucket: string;
  table: string;
  tokenSecret: string;
  linkSecret: string;
  /** The Verifik token stored in its secret. */
  token: string;
  /** The link-signing key (at least 16 bytes). */
  linkKey?: string;
  /** The sender's domain, verified in SES. */
  senderDomain?: string;
}

export interface StackClients {
  s3: S3Client;
  secrets: SecretsManagerClient;
  ses: SESv2Client;
  doc: DynamoDBDocumentClient;
}

export async function provisionStack(moto: Moto, names: StackNames): Promise<StackClients> {
  const clients: StackClients = {
    s3: createS3Client(moto.clientConfig),
    secrets: createSecretsClient(moto.clientConfig),
    ses: createSesClient(moto.clientConfig),
    doc: createDynamoDocClient(moto.clientConfig),
  };
  await Promise.all([
    clients.s3.send(new CreateBucketCommand({ Bucket: names.bucket })),
    clients.secrets.send(new CreateSecretCommand({ Name: names.tokenSecret, SecretString: names.token })),
    clients.secrets.send(
      new CreateSecretCommand({ Name: names.linkSecret, SecretString: names.linkKey ?? 'k'.repeat(48) }),
    ),
    moto.verifyIdentity(names.senderDomain ?? 'reports.example'),
    moto.createStateTable(names.table),
  ]);
  return clients;
}
