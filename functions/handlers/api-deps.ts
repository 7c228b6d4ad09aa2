/**
 * The real ports of the reports API, built once per cold start. The API starts workers with the
 * Lambda client and never sends mail or reads Verifik, so those clients stay out of its bundle.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ApiDeps } from '../api/deps.js';
import { dynamoDocClient, s3Client } from '../delivery/aws-clients.js';
import type { WorkerPayload } from '../runs/worker-payload.js';
import { commonDeps } from './common-deps.js';

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

export function createApiDeps(
  overrides: Partial<ApiDeps> & { env?: Record<string, string | undefined> } = {},
): ApiDeps {
  const { config, logger, secrets } = commonDeps('reports-api', overrides);
  const worker = config.WORKER_FUNCTION_NAME;
  return {
    config,
    logger,
    secrets,
    s3: overrides.s3 ?? s3Client(),
    doc: overrides.doc ?? dynamoDocClient(),
    invokeWorker:
      overrides.invokeWorker ??
      (worker
        ? lambdaInvoker(worker)
        : async () => {
            throw new Error('WORKER_FUNCTION_NAME is not set: this function cannot start report workers.');
          }),
    now: overrides.now ?? (() => new Date()),
  };
}
