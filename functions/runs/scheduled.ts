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
  markRun,
  putReport,
  StaleRunError,
} from '../delivery/state/index.js';
import { reportRecordTtlDays } from '../settings/config.js';
import { periodContaining, periodFor, previousPeriod } from '../time/period.js';
import { daysBetween, reportWindow, unfinishedDayProblem } from '../time/window.js';
import { type HeldRun, keepAlive, MAX_RUN_ATTEMPTS, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure, recordFailure, supersede } from './failure.js';
import { logEntry } from './log.js';
import { composeMail, sendUnderClaim } from './mail.js';
import { previousSummary, produce, recordComplete } from './produce.js';
import { requestRecord } from './request-record.js';
import { claimDay, findDefinition, runDayOf, type ScheduledInput } from './schedule-input.js';

export type ScheduledOutcome =
  | { status: 'skipped'; definition: string; day: string; reason: string }
  | { status: 'sent'; definition: string; day: string; reportId: string; messageId: string }
  | { status: 'unknown'; definition: string; day: string; reportId: string; reason: string }
  | { status: 'done'; definition: string; day: string; reportId: string; reason: string };

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
    await putReport(
      doc,
      table,
      {
        id: reportId,
        status: 'running',
        request: requestRecord(request, input.force ? { force: input.force } : {}),
        createdAt: deps.now().toISOString(),
        date: window.from,
      },
      { ttlDays: reportRecordTtlDays(deps.config) },
    );
    recorded = true;
    // Deltas compare with the previous period of the same cadence, found under its first day.
    const before = previousPeriod(def.cadence, period);
    const previous = await previousSummary(deps, def.name, day, reportId, {
      maxDaysBack: def.cadence.kind === 'daily' ? undefined : daysBetween(before.from, day) - 1,
    });
    const produced = await produce(deps, request, reportId, previous);
    await recordComplete(deps, reportId, produced);
    await logEntry(deps, claimKey, { type: 'produced', reportId, runId });
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
    const sent = await sendUnderClaim(deps, update, def.recipients, composed);
    if (sent.status === 'unknown') {
      log.warn('scheduled report: SES did not answer; settled by its events or the sweeper', {
        definition: def.name,
        day,
        reportId,
      });
      return { status: 'unknown', definition: def.name, day, reportId, reason: sent.reason };
    }
    log.info('scheduled report mailed', {
      definition: def.name,
      day,
      reportId,
      messageId: sent.messageId,
      empty,
    });
    return { status: 'sent', definition: def.name, day, reportId, messageId: sent.messageId };
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
