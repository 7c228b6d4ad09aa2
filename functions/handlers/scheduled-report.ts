/**
 * EventBridge Scheduler → one report definition's daily run: `{ definition, day? }`.
 * Without `day` it reports on yesterday in the definition's time zone; with it, it backfills.
 * A failed run is rethrown after the owners were told, so Lambda's asynchronous retries, the
 * FailedRuns queue and the error alarms all see it.
 */
import { z } from 'zod';
import { ReportsError } from '../errors/kinds.js';
import type { RunDeps } from '../runs/deps.js';
import { deliverScheduledReport, type ScheduledOutcome } from '../runs/scheduled.js';
import { parseDay } from '../time/window.js';
import { describeIssues } from '../util/zod-issues.js';
import { lazyDeps } from './common-deps.js';
import { createRunDeps } from './run-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

export const ScheduledEvent = z.object({
  definition: z.string().min(1, 'names the report definition to run'),
  day: z
    .string()
    .refine(
      (d) => {
        try {
          parseDay(d);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a calendar day YYYY-MM-DD' },
    )
    .optional(),
  /** When the schedule fired (the Scheduler's context attribute): the run reports that fire's period. */
  scheduledTime: z
    .string()
    .refine((t) => !Number.isNaN(Date.parse(t)), { message: 'must be an ISO 8601 instant' })
    .optional(),
  /** A forced backfill's request key (runs/backfill.ts): the day is reported again under it. */
  force: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a request key: 1–64 letters, digits, "_" or "-"')
    .optional(),
});
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;

export class InvalidScheduledEventError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidScheduledEventError';
}

export function parseScheduledEvent(event: unknown): ScheduledEvent {
  const parsed = ScheduledEvent.safeParse(event);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, 'event');
    throw new InvalidScheduledEventError(
      `Invalid scheduled-report event (${problems}). Expected { "definition": "<name>", "day"?: "YYYY-MM-DD" }.`,
    );
  }
  return parsed.data;
}

export function createScheduledHandler(getDeps: () => RunDeps) {
  return async (event: unknown): Promise<ScheduledOutcome> => {
    const input = parseScheduledEvent(event);
    return deliverScheduledReport(getDeps(), input);
  };
}

const logger = moduleLogger('scheduled-report');

export const handler = lambdaEntry({
  serviceName: 'scheduled-report',
  metricPrefix: 'ScheduledRun',
  logger,
  run: createScheduledHandler(lazyDeps(() => createRunDeps('scheduled-report', { logger }))),
  outcome: (r) => r.status,
});
