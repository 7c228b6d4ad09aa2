/**
 * The on-demand report worker, invoked asynchronously by the reports API with
 * `{ reportId, request, baseUrl }`: marks the report running, produces it, records it complete
 * (figures, manifest) or failed (reason), and mails the `notify` recipients when asked. A report
 * too long for one Lambda is handed to the fan-out state machine, whose steps invoke this same
 * function with `{ step, … }` events (handlers/fanout-steps.ts).
 */

import { SFNClient } from '@aws-sdk/client-sfn';
import { startExecutionOnce } from '../delivery/state-machine.js';
import { ReportsError } from '../errors/kinds.js';
import type { RunDeps } from '../runs/deps.js';
import type { FanOutStarter } from '../runs/fanout.js';
import { runOnDemandReport, type WorkerOutcome } from '../runs/on-demand.js';
import { WorkerPayload } from '../runs/worker-payload.js';
import { describeIssues } from '../util/zod-issues.js';
import { lazyDeps } from './common-deps.js';
import { createFanOutHandler } from './fanout-steps.js';
import { createRunDeps } from './run-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

export class InvalidWorkerPayloadError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'InvalidWorkerPayloadError';
}

/** The stack's fan-out state machine as the worker's hand-over for long reports, when configured. */
function fanOutStarter(deps: RunDeps): FanOutStarter | undefined {
  const arn = deps.config.FANOUT_STATE_MACHINE_ARN;
  if (!arn) return undefined;
  sfn ??= new SFNClient({});
  const client = sfn;
  return { start: (input) => startExecutionOnce(client, arn, input.reportId, input) };
}
let sfn: SFNClient | undefined;

export function createWorkerHandler(
  getDeps: () => RunDeps,
  starter: (deps: RunDeps) => FanOutStarter | undefined = fanOutStarter,
) {
  const fanOutStep = createFanOutHandler(getDeps);
  return async (
    event: unknown,
  ): Promise<WorkerOutcome | { status: 'step'; result: Record<string, unknown> }> => {
    if (typeof event === 'object' && event !== null && 'step' in event) {
      return { status: 'step', result: await fanOutStep(event) };
    }
    const parsed = WorkerPayload.safeParse(event);
    if (!parsed.success) {
      // Only the reports API invokes the worker: a bad payload is a bug, not user input.
      const problems = describeIssues(parsed.error, 'event');
      throw new InvalidWorkerPayloadError(`Invalid report-worker payload: ${problems}.`);
    }
    const deps = getDeps();
    return runOnDemandReport(deps, parsed.data, starter(deps));
  };
}

const logger = moduleLogger('report-worker');

export const handler = lambdaEntry({
  serviceName: 'report-worker',
  metricPrefix: 'WorkerRun',
  logger,
  run: createWorkerHandler(lazyDeps(() => createRunDeps('report-worker', { logger }))),
  outcome: (r) => r.status,
});
