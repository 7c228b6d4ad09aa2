/**
 * The fan-out state machine's steps (infra/constructs/report-fanout.ts): each task state invokes
 * the worker function with `{ step, ... }`, and the worker's handler passes it here to run that
 * step of runs/fanout.ts. The worker, because the steps need exactly its code, settings and
 * permissions (read Verifik, write the report's prefix, record state, send the one mail); the
 * state machine, not the function, decides the order, the concurrency and the retries.
 */
import { z } from 'zod';
import { ReportsError } from '../errors/kinds.js';
import type { RunDeps } from '../runs/deps.js';
import {
  FanOutExecution,
  FanOutSliceTask,
  fanOutAssemble,
  fanOutDeliver,
  fanOutFail,
  fanOutSlice,
} from '../runs/fanout.js';
import { describeIssues } from '../util/zod-issues.js';

export class InvalidFanOutEventError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'InvalidFanOutEventError';
}

const FanOutEvent = z.discriminatedUnion('step', [
  FanOutSliceTask.extend({ step: z.literal('slice') }),
  FanOutExecution.extend({ step: z.literal('assemble') }),
  FanOutExecution.extend({ step: z.literal('deliver') }),
  FanOutExecution.extend({
    step: z.literal('fail'),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
  }),
]);

export function createFanOutHandler(getDeps: () => RunDeps) {
  return async (event: unknown): Promise<Record<string, unknown>> => {
    const parsed = FanOutEvent.safeParse(event);
    if (!parsed.success) {
      // Only the state machine invokes this function: a bad event is a bug in its definition.
      throw new InvalidFanOutEventError(`Invalid fan-out event: ${describeIssues(parsed.error, 'event')}.`);
    }
    const e = parsed.data;
    const deps = getDeps();
    switch (e.step) {
      case 'slice':
        return fanOutSlice(deps, e);
      case 'assemble':
        return fanOutAssemble(deps, e);
      case 'deliver':
        return fanOutDeliver(deps, e);
      case 'fail':
        return fanOutFail(deps, e, e.error);
    }
  };
}
