/**
 * Lambda entry for SES's events (configuration set → EventBridge default bus → rule → here):
 * records each in the delivery log and settles unknown sends (runs/ses-events.ts).
 */

import { dynamoDocClient } from '../delivery/aws-clients.js';
import { ReportsError } from '../errors/kinds.js';
import type { RunDeps } from '../runs/deps.js';
import { recordSesEvent, SesEventBridgeEvent, type SesEventOutcome } from '../runs/ses-events.js';
import { describeIssues } from '../util/zod-issues.js';
import { commonDeps, lazyDeps } from './common-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

export class InvalidSesEventError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'InvalidSesEventError';
}

export function createSesEventsHandler(getDeps: () => Pick<RunDeps, 'doc' | 'config' | 'logger' | 'now'>) {
  return async (event: unknown): Promise<SesEventOutcome> => {
    const parsed = SesEventBridgeEvent.safeParse(event);
    // Only the stack's rule (source aws.ses) invokes this: a shape we cannot read is a bug to see.
    if (!parsed.success)
      throw new InvalidSesEventError(`Invalid SES event: ${describeIssues(parsed.error, 'event')}.`);
    return recordSesEvent(getDeps(), parsed.data.detail);
  };
}

const logger = moduleLogger('ses-events');

export const handler = lambdaEntry({
  serviceName: 'ses-events',
  metricPrefix: 'SesEvent',
  logger,
  run: createSesEventsHandler(
    // Only the table: this function reads no Verifik, S3 or SES, so its bundle carries none of them.
    lazyDeps(() => ({
      ...commonDeps('ses-events', { logger }),
      doc: dynamoDocClient(),
      now: () => new Date(),
    })),
  ),
  outcome: (r) => r.status,
});
