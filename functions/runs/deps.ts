/**
 * The ports a report run is handed: clients, secrets, clock, logger. runs/ owns this shape;
 * handlers/ builds it from the real adapters and tests build it from moto and the fake Verifik,
 * so the run protocol never wires an adapter itself.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LinkKeys } from '../delivery/links.js';
import type { Config } from '../settings/config.js';
import type { VerifikClient } from '../verifik/client.js';

/** The two secrets a run needs, behind one small interface so tests can swap it. */
export interface SecretSource {
  verifikToken(): Promise<string>;
  /** The signing key first, then any older keys still accepted (rotation). */
  linkKeys(): Promise<LinkKeys>;
  /** Drops cached values, e.g. after Verifik rejected the token, so the next read is fresh. */
  invalidate(): void;
  /**
   * A chat or webhook destination's secret value, by the secret's name (cached like the others).
   * Optional so sources that never deliver to destinations (the CLI's) need not offer it.
   */
  destinationSecret?(secretName: string): Promise<string>;
}

export interface RunDeps {
  config: Config;
  s3: S3Client;
  ses: SESv2Client;
  doc: DynamoDBDocumentClient;
  secrets: SecretSource;
  /** A Verifik client for one run (the token may change between runs). */
  verifik(token: string): VerifikClient;
  logger: Logger;
  now(): Date;
  /** Unique per invocation attempt: who holds a day's claim. */
  newRunId(): string;
}
