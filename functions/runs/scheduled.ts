/**
 * A scheduled run of one report definition for one day, under the "exactly one mail per report
 * day, or the owners know" protocol of delivery/state/runs.ts: claim (definition, day) before
 * any work → run (lease renewed by a heartbeat) → send under the claim (runs/mail.ts) → `sent`.
 * A duplicate, a concurrent twin or a retry after success finds the claim taken and sends
 * nothing; a retry after a failure re-claims and completes the work; a crashed run is redone by
 * the sweeper. A failure is recorded in the delivery log, told to the owners (on the first and
 * the last attempt) and rethrown so Lambda retries it; a send whose outcome is unknown is not.
 */

import { newReportId } from '../core/naming.js';
import type { ReportRequest } from '../core/request.js';
import { checkRecipients, describeFailure } from '../delivery/mail/index.js';
import {
  claimRun,
  getDefinitionState,
  markAlerted,
  putReport,
  StaleRunError,
} from '../delivery/state/index.js';
import { reportRecordTtlDays } from '../settings/config.js';
import { effectiveSendIf } from '../settings/definitions.js';
import { periodContaining, periodFor, previousPeriod } from '../time/period.js';
import { daysBetween, reportWindow, unfinishedDayProblem } from '../time/window.js';
import { type HeldRun, keepAlive, MAX_RUN_ATTEMPTS, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure, recordFailure, supersede } from './failure.js';
import { logEntry } from './log.js';
import { type DeliveryContext, deliverReport, destinationSummaries } from './period-delivery.js';
import { previousSummary, produce, recordComplete } from './produce.js';
import { requestRecord } from './request-record.js';
import {
  claimDay,
  findDefinition,
  runDayOf,
  type ScheduledInput,
  type ScheduledOutcome,
} from './schedule-input.js';
import { deliverSplit } from './split-delivery.js';

export type { ScheduledOutcome } from './schedule-input.js';

export async function deliverScheduledReport(
  deps: RunDeps,
  input: ScheduledInput,
): Promise<ScheduledOutcome> {
  const def = findDefinition(deps, input.definition);
  const timeZone = def.schedule.timeZone;
  // The period this run reports: the last whole one before today in the zone, or (a backfill,
  // a sweeper redo) the one containing the given day. It is claimed under its first day.
  const period = input.day
    ? periodContaining(def.cadence, input.day)
    : periodFor(def.cadence, runDayOf(input, timeZone, deps.now()));
  const day = period.from;
  const window = reportWindow(period.from, period.to, timeZone);
  const runId = deps.newRunId();
  const { doc } = deps;
  const table = deps.config.STATE_TABLE;
  const log = deps.logger;
  const claimKey = { definition: def.name, day: claimDay(day, input.force) };

  // A backfill day in a period that has not ended yet (this week, this month) waits for it.
  const unfinished = unfinishedDayProblem(period.to, timeZone, deps.now());
  if (unfinished) {
    const reason = `${def.name} ${period.key} is not over: ${unfinished}`;
    log.info('scheduled run skipped: period not over', { definition: def.name, day });
    return { status: 'skipped', definition: def.name, day, reason };
  }

  if ((await getDefinitionState(doc, table, def.name)).paused) {
    const reason = `${def.name} is paused`;
    log.info('scheduled run skipped: definition paused', { definition: def.name, day });
    await logEntry(deps, claimKey, { type: 'skipped', runId, detail: reason });
    return { status: 'skipped', definition: def.name, day, reason };
  }

  const claim = await claimRun(doc, table, {
    ...claimKey,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!claim.claimed) {
    const reason = `${def.name} ${period.key} is already ${claim.status} (run ${claim.runId})`;
    log.info('scheduled run skipped', { definition: def.name, day, holder: claim.status });
    await logEntry(deps, claimKey, { type: 'skipped', runId, detail: reason });
    return { status: 'skipped', definition: def.name, day, reason };
  }
  log.info('scheduled run claimed', { definition: def.name, day, attempt: claim.attempts });
  await logEntry(deps, claimKey, { type: 'claimed', runId, attempt: claim.attempts });
  const heartbeat = keepAlive(deps, { ...claimKey, runId });

  const request: ReportRequest = {
    definition: def.name,
    window,
    statuses: def.statuses,
    types: def.types,
    clients: def.clients,
    formats: def.formats,
  };
  const reportId = newReportId(request, deps.now());
  const update: HeldRun = { ...claimKey, runId, reportId };
  let recorded = false;
  try {
    if (def.recipients.length > 0) checkRecipients(def.recipients, deps.config.ALLOWED_RECIPIENT_DOMAINS);
    // Deltas compare with the previous period of the same cadence, found under its first day.
    const before = previousPeriod(def.cadence, period);
    const maxDaysBack = def.cadence.kind === 'daily' ? undefined : daysBetween(before.from, day) - 1;
    const ctx: DeliveryContext = {
      sendIf: effectiveSendIf(def),
      cadence: def.cadence,
      period,
      periodKey: period.key,
      day: claimKey.day,
      runId,
    };
    const record = (id: string, req: ReportRequest) =>
      putReport(
        doc,
        table,
        {
          id,
          status: 'running',
          request: requestRecord(req, input.force ? { force: input.force } : {}),
          createdAt: deps.now().toISOString(),
          date: window.from,
        },
        { ttlDays: reportRecordTtlDays(deps.config) },
      );
    // A split run keeps its reports' records itself (one per scope, and the overall one).
    if (def.splitBy)
      return await deliverSplit(deps, {
        def,
        split: def.splitBy,
        request,
        reportId,
        ctx,
        maxDaysBack,
        update,
        record,
      });
    await record(reportId, request);
    recorded = true;
    const previous = await previousSummary(deps, def.name, day, reportId, { maxDaysBack });
    const produced = await produce(deps, request, reportId, previous);
    await recordComplete(deps, reportId, produced);
    await logEntry(deps, claimKey, { type: 'produced', reportId, runId });
    const empty = produced.result.summary.totals.validations === 0;
    const delivered = await deliverReport(
      deps,
      ctx,
      {
        name: def.name,
        definition: def.name,
        label: def.name,
        request,
        produced,
        recipients: def.recipients,
        destinations: def.destinations,
        owners: def.owners,
      },
      update,
    );
    const destinations = destinationSummaries(delivered.destinations);
    if (delivered.status === 'done') {
      log.info('scheduled run done without mail', {
        definition: def.name,
        day,
        reportId,
        reason: delivered.reason,
      });
      return {
        status: 'done',
        definition: def.name,
        day,
        reportId,
        reason: delivered.reason,
        ...destinations,
      };
    }
    if (delivered.status === 'unknown') {
      log.warn('scheduled report: SES did not answer; settled by its events or the sweeper', {
        definition: def.name,
        day,
        reportId,
      });
      return {
        status: 'unknown',
        definition: def.name,
        day,
        reportId,
        reason: delivered.reason,
        ...destinations,
      };
    }
    if (delivered.status === 'already') throw new StaleRunError(delivered.reason);
    log.info('scheduled report mailed', {
      definition: def.name,
      day,
      reportId,
      messageId: delivered.messageId,
      empty,
      decision: delivered.decision.decision,
    });
    return {
      status: 'sent',
      definition: def.name,
      day,
      reportId,
      messageId: delivered.messageId,
      ...destinations,
    };
  } catch (err) {
    if (err instanceof StaleRunError) {
      // Another run holds the day now (a twin that also won a claim, or a takeover after our
      // lease ran out): it sends the mail. Not a failure, so nothing to alert or retry.
      log.warn('scheduled run superseded by another run', { definition: def.name, day, reportId });
      if (recorded) await supersede(deps, reportId);
      return { status: 'skipped', definition: def.name, day, reason: `superseded: ${err.message}` };
    }
    const reason = describeFailure(err, reportId);
    log.error('scheduled run failed', { definition: def.name, day, reportId, reason: reason.detail });
    await recordFailure(deps, update, reason.detail, { reportRecorded: recorded });
    await logEntry(deps, claimKey, {
      type: 'failed',
      reportId,
      runId,
      attempt: claim.attempts,
      detail: reason.detail,
    });
    // Owners hear of a failing day twice at most: on its first failure (Lambda will retry) and
    // when the last automatic attempt failed; attempts in between only log and alarm.
    const lastAttempt = claim.attempts >= MAX_RUN_ATTEMPTS;
    const tell =
      claim.attempts === 1 ||
      (lastAttempt &&
        (await markAlerted(doc, table, { ...claimKey, reason: reason.detail, now: deps.now() }).catch(
          // Unsure whether it was recorded: stay quiet; the sweeper sees the exhausted day and alerts once.
          () => false,
        )));
    if (tell) {
      await mailFailure(deps, {
        to: def.owners,
        label: def.name,
        window,
        reason,
        reportId,
        willRetry: !lastAttempt,
      });
      if (lastAttempt)
        await logEntry(deps, claimKey, {
          type: 'alert',
          reportId,
          detail: reason.detail,
          recipients: def.owners,
        });
    }
    throw err;
  } finally {
    heartbeat.stop();
  }
}
