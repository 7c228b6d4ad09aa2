/**
 * Lambda entry of the sweeper (runs/sweep.ts), run by EventBridge Scheduler every few minutes.
 * It redoes a day by invoking the scheduled-report function asynchronously, like its schedule.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ScheduledInput } from '../runs/schedule-input.js';
import { type SweepAction, type SweepDeps, sweep } from '../runs/sweep.js';
import { lazyDeps } from './common-deps.js';
import { createRunDeps } from './run-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

function scheduledInvoker(functionName: string): (input: ScheduledInput) => Promise<void> {
  let client: LambdaClient | undefined;
  return async (input) => {
    client ??= new LambdaClient({});
    const res = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(input)),
      }),
    );
    if (res.StatusCode !== 202) throw new Error(`Lambda did not queue the run (HTTP ${res.StatusCode}).`);
  };
}

export function createSweepHandler(getDeps: () => SweepDeps) {
  return async (_event: unknown): Promise<{ actions: SweepAction[] }> => ({
    actions: await sweep(getDeps()),
  });
}

const logger = moduleLogger('sweeper');

export const handler = lambdaEntry({
  serviceName: 'sweeper',
  metricPrefix: 'Sweep',
  logger,
  run: createSweepHandler(
    lazyDeps(() => {
      const deps = createRunDeps('sweeper', { logger });
      const fn = deps.config.SCHEDULED_FUNCTION_NAME;
      if (!fn) throw new Error('SCHEDULED_FUNCTION_NAME is not set: the sweeper cannot redo a day.');
      return { ...deps, redo: scheduledInvoker(fn) };
    }),
  ),
  outcome: (r) => (r.actions.length > 0 ? 'acted' : 'idle'),
});
