/**
 * The real ports of the reports API, built once per cold start. The API starts workers and
 * scheduled runs (backfills) with the Lambda client, and sends mail only to re-send a stored
 * report; it never reads Verifik, so the Verifik client stays out of its bundle.
 */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ApiDeps } from '../api/deps.js';
import { dynamoDocClient, s3Client, sesClient } from '../delivery/aws-clients.js';
import { commonDeps } from './common-deps.js';

/**
 * Invokes a function without waiting for it (`InvocationType: 'Event'`). Lambda's async invoke
 * payload limit is 256 KB; ours are a few hundred bytes.
 */
function lambdaInvoker<P>(functionName: string, what: string): (payload: P) => Promise<void> {
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
    if (res.StatusCode !== 202) throw new Error(`Lambda did not queue the ${what} (HTTP ${res.StatusCode}).`);
  };
}

export function createApiDeps(
  overrides: Partial<ApiDeps> & { env?: Record<string, string | undefined> } = {},
): ApiDeps {
  const { config, logger, secrets } = commonDeps('reports-api', overrides);
  const worker = config.WORKER_FUNCTION_NAME;
  const scheduled = config.SCHEDULED_FUNCTION_NAME;
  const startScheduledRun =
    overrides.startScheduledRun ?? (scheduled ? lambdaInvoker(scheduled, 'scheduled run') : undefined);
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
        ? lambdaInvoker(worker, 'worker')
        : async () => {
            throw new Error('WORKER_FUNCTION_NAME is not set: this function cannot start report workers.');
          }),
    // Absent without SCHEDULED_FUNCTION_NAME: POST /definitions/{name}/backfill then answers 503 saying so.
    ...(startScheduledRun ? { startScheduledRun } : {}),
    now: overrides.now ?? (() => new Date()),
    newRunId: overrides.newRunId ?? (() => randomUUID()),
  };
}
