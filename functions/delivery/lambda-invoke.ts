/**
 * Starting another function without waiting for it (`InvocationType: 'Event'`): how the API
 * starts the worker and scheduled runs, the sweeper redoes a day, and the CLI backfills. Lambda's
 * async invoke payload limit is 256 KB; ours are a few hundred bytes.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

export interface AsyncInvoker<P> {
  start(payload: P): Promise<void>;
  /** Closes the client's sockets (a CLI that must exit); Lambdas keep it for the next invocation. */
  close(): void;
}

/** `what` names the work in the error, e.g. "Lambda did not queue the worker (HTTP 429)". */
export function asyncInvoker<P>(functionName: string, what: string): AsyncInvoker<P> {
  let client: LambdaClient | undefined;
  return {
    start: async (payload) => {
      client ??= new LambdaClient({});
      const res = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      if (res.StatusCode !== 202)
        throw new Error(`Lambda did not queue the ${what} (HTTP ${res.StatusCode}).`);
    },
    close: () => client?.destroy(),
  };
}
