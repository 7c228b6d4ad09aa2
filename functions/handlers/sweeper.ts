/**
 * Lambda entry of the sweeper (runs/sweep.ts), run by EventBridge Scheduler every few minutes.
 * It redoes a day by invoking the scheduled-report function asynchronously, like its schedule.
 */
import { asyncInvoker } from '../delivery/lambda-invoke.js';
import type { ScheduledInput } from '../runs/schedule-input.js';
import { type SweepAction, type SweepDeps, sweep } from '../runs/sweep.js';
import { lazyDeps } from './common-deps.js';
import { createRunDeps } from './run-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

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
      return { ...deps, redo: asyncInvoker<ScheduledInput>(fn, 'run').start };
    }),
  ),
  outcome: (r) => (r.actions.length > 0 ? 'acted' : 'idle'),
});
