/**
 * The ports the reports API is handed. Narrower than a run's: the API never sends mail or reads
 * Verifik, so its function bundles neither the SES client nor the Verifik client.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RunDeps } from '../runs/deps.js';
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
}
