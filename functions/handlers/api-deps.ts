/**
 * The real ports of the reports API, built once per cold start. The API starts workers and
 * scheduled runs (backfills) with the Lambda client, and sends mail only to re-send a stored
 * report; it never reads Verifik, so the Verifik client stays out of its bundle.
 */
import { randomUUID } from 'node:crypto';
import type { ApiDeps } from '../api/deps.js';
import { dynamoDocClient, s3Client, secretsClient, sesClient } from '../delivery/aws-clients.js';
import { cognitoMfaCheck, secretRotationState } from '../delivery/console-users.js';
import { asyncInvoker } from '../delivery/lambda-invoke.js';
import type { ScheduledInput } from '../runs/schedule-input.js';
import type { WorkerPayload } from '../runs/worker-payload.js';
import { commonDeps } from './common-deps.js';

export function createApiDeps(
  overrides: Partial<ApiDeps> & { env?: Record<string, string | undefined> } = {},
): ApiDeps {
  const { config, logger, secrets } = commonDeps('reports-api', overrides);
  const worker = config.WORKER_FUNCTION_NAME;
  const scheduled = config.SCHEDULED_FUNCTION_NAME;
  const startScheduledRun =
    overrides.startScheduledRun ??
    (scheduled ? asyncInvoker<ScheduledInput>(scheduled, 'scheduled run').start : undefined);
  return {
    config,
    logger,
    secrets,
    s3: overrides.s3 ?? s3Client(),
    doc: overrides.doc ?? dynamoDocClient(),
    ses: overrides.ses ?? sesClient(),
    invokeWorker:
      overrides.invokeWorker ??
      (worker
        ? asyncInvoker<WorkerPayload>(worker, 'worker').start
        : async () => {
            throw new Error('WORKER_FUNCTION_NAME is not set: this function cannot start report workers.');
          }),
    // Absent without SCHEDULED_FUNCTION_NAME: POST /definitions/{name}/backfill then answers 503 saying so.
    ...(startScheduledRun ? { startScheduledRun } : {}),
    // The console's admin routes ask Cognito about MFA; without a pool they refuse every admin.
    ...(overrides.mfaEnabled || config.CONSOLE_USER_POOL_ID
      ? { mfaEnabled: overrides.mfaEnabled ?? cognitoMfaCheck(config.CONSOLE_USER_POOL_ID ?? '') }
      : {}),
    verifikTokenState:
      overrides.verifikTokenState ?? secretRotationState(secretsClient(), config.VERIFIK_TOKEN_SECRET_ID),
    now: overrides.now ?? (() => new Date()),
    newRunId: overrides.newRunId ?? (() => randomUUID()),
  };
}
