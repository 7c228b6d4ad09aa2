/**
 * A scheduled run of one report definition for one day, under the "exactly one mail per report
 * day" protocol of delivery/state/runs.ts: claim (definition, day) before any work → run → mark
 * `sending` → SES → mark `sent`. A duplicate, a concurrent twin or a retry after success finds
 * the claim taken and sends nothing; a retry after a failure before sending re-claims and
 * completes the work. A failure is recorded, told to the owners and rethrown.
 */

import { ASYNC_RETRY_ATTEMPTS } from '../contract.js';
import { newReportId } from '../core/naming.js';
import type { ReportRequest } from '../core/request.js';
import { checkRecipients, describeFailure } from '../delivery/mail/index.js';
import { claimRun, markMailSending, markRun, putReport, StaleRunError } from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import type { ReportDefinition } from '../settings/definitions.js';
import { dayWindow, yesterday } from '../time/window.js';
import { type HeldRun, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure, recordFailure, supersede } from './failure.js';
import { composeMail, sendAndMarkSent } from './mail.js';
import { previousSummary, produce, recordComplete } from './produce.js';
import { requestRecord } from './request-record.js';

export class UnknownDefinitionError extends ReportsError {
  override readonly kind = 'config';
  override name = 'UnknownDefinitionError';
  constructor(name: string, known: readonly string[]) {
    super(
      `No report definition named "${name}". Known definitions: ${known.join(', ') || '(none)'}. ` +
        'Check the schedule input and REPORT_DEFINITIONS.',
    );
  }
}

export function findDefinition(deps: Pick<RunDeps, 'config'>, name: string): ReportDefinition {
  const defs = deps.config.REPORT_DEFINITIONS;
  const def = defs.find((d) => d.name === name);
  if (!def) {
    throw new UnknownDefinitionError(
      name,
      defs.map((d) => d.name),
    );
  }
  return def;
}

export interface ScheduledInput {
  definition: string;
  day?: string | undefined;
}

export type ScheduledOutcome =
  | { status: 'skipped'; definition: string; day: string; reason: string }
  | { status: 'sent'; definition: string; day: string; reportId: string; messageId: string }
  | { status: 'done'; definition: string; day: string; reportId: string; reason: string };

export async function deliverScheduledReport(
  deps: RunDeps,
  input: ScheduledInput,
): Promise<ScheduledOutcome> {
  const def = findDefinition(deps, input.definition);
  const timeZone = def.schedule.timeZone;
  const day = input.day ?? yesterday(timeZone, deps.now());
  const window = dayWindow(day, timeZone);
  const runId = deps.newRunId();
  const { doc } = deps;
  const table = deps.config.STATE_TABLE;
  const log = deps.logger;

  const claim = await claimRun(doc, table, {
    definition: def.name,
    day,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!claim.claimed) {
    const reason = `${def.name} ${day} is already ${claim.status} (run ${claim.runId})`;
    log.info('scheduled run skipped', { definition: def.name, day, holder: claim.status });
    return { status: 'skipped', definition: def.name, day, reason };
  }
  log.info('scheduled run claimed', { definition: def.name, day, attempt: claim.attempts });

  const request: ReportRequest = {
    definition: def.name,
    window,
    statuses: def.statuses,
    types: def.types,
    clients: def.clients,
    formats: def.formats,
  };
  const reportId = newReportId(request, deps.now());
  const update: HeldRun = { definition: def.name, day, runId, reportId };
  let recorded = false;
  let stage: 'report' | 'sending' = 'report';
  try {
    if (def.recipients.length > 0) checkRecipients(def.recipients, deps.config.ALLOWED_RECIPIENT_DOMAINS);
    await putReport(doc, table, {
      id: reportId,
      status: 'running',
      request: requestRecord(request),
      createdAt: deps.now().toISOString(),
      date: window.from,
    });
    recorded = true;
    const previous = await previousSummary(deps, def.name, day, reportId);
    const produced = await produce(deps, request, reportId, previous);
    await recordComplete(deps, reportId, produced);
    const empty = produced.result.summary.totals.validations === 0;
    if (def.recipients.length === 0 || (empty && def.skipIfEmpty)) {
      const reason = def.recipients.length === 0 ? 'no recipients configured' : 'no validations; skipIfEmpty';
      await markRun(doc, table, { ...update, status: 'done', now: deps.now() });
      log.info('scheduled run done without mail', { definition: def.name, day, reportId, reason });
      return { status: 'done', definition: def.name, day, reportId, reason };
    }
    const baseUrl = deps.config.PUBLIC_API_URL;
    if (!baseUrl) throw new Error('PUBLIC_API_URL is not configured: mailed links need the API base URL.');
    const composed = await composeMail(deps, { label: def.name, request, produced, baseUrl });
    await markMailSending(doc, table, { ...update, now: deps.now() });
    stage = 'sending';
    const messageId = await sendAndMarkSent(deps, update, def.recipients, composed);
    log.info('scheduled report mailed', { definition: def.name, day, reportId, messageId, empty });
    return { status: 'sent', definition: def.name, day, reportId, messageId };
  } catch (err) {
    if (err instanceof StaleRunError) {
      // Another run holds the day now (a twin that also won a claim, or a takeover after our
      // lease ran out): it sends the mail. Not a failure, so nothing to alert or retry.
      log.warn('scheduled run superseded by another run', { definition: def.name, day, reportId });
      if (recorded) await supersede(deps, reportId);
      return { status: 'skipped', definition: def.name, day, reason: `superseded: ${err.message}` };
    }
    const reason = describeFailure(err, reportId);
    log.error('scheduled run failed', { definition: def.name, day, reportId, stage, reason: reason.detail });
    await recordFailure(deps, update, reason.detail, { reportRecorded: recorded });
    // Owners hear of a failing day twice at most: on its first failure (Lambda will retry) and
    // when the last automatic attempt failed; attempts in between only log and alarm.
    const lastAttempt = claim.attempts >= 1 + ASYNC_RETRY_ATTEMPTS;
    if (claim.attempts === 1 || lastAttempt) {
      await mailFailure(deps, {
        to: def.owners,
        label: def.name,
        window,
        reason,
        reportId,
        willRetry: !lastAttempt,
      });
    }
    throw err;
  }
}
