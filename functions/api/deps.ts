/**
 * The ports the reports API is handed. Narrower than a run's: the API never reads Verifik, so
 * its function bundles no Verifik client. It sends mail only to re-send a stored report
 * (`POST /reports/{id}/resend`), and starts runs only by invoking other functions.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RunDeps } from '../runs/deps.js';
import type { ScheduledInput } from '../runs/schedule-input.js';
import type { WorkerPayload } from '../runs/worker-payload.js';

export interface ApiDeps extends Pick<RunDeps, 'config' | 'secrets' | 'now'> {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
  logger: Logger;
  /**
   * Starts the report worker without waiting for it (Lambda `InvocationType: 'Event'`).
   * Tests inject an in-process call instead: moto cannot run Lambda functions without Docker.
   */
  invokeWorker(payload: WorkerPayload): Promise<void>;
  /** Sends re-sent reports (`POST /reports/{id}/resend`); without it that route answers 503. */
  ses?: RunDeps['ses'];
  /**
   * Starts the scheduled-report function for one day without waiting for it (a backfill), as
   * its schedule and the sweeper do; without it `POST /definitions/{name}/backfill` answers 503.
   */
  startScheduledRun?(input: ScheduledInput): Promise<void>;
  /** Who holds a re-send's claim; a random UUID when absent. */
  newRunId?(): string;
  /**
   * Whether a console user has TOTP MFA enabled (Cognito AdminGetUser); the console's admin
   * routes refuse everyone when absent.
   */
  mfaEnabled?(username: string): Promise<boolean>;
  /** The Verifik token secret's metadata (never its value), for the console's health strip. */
  verifikTokenState?(): Promise<VerifikTokenState>;
}

export interface VerifikTokenState {
  lastChangedAt?: Date;
  lastRotatedAt?: Date;
  nextRotationAt?: Date;
  rotationEnabled: boolean;
}
