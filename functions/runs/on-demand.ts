/**
 * On-demand reports: the worker's run (the record the API writes is in request-record.ts).
 * Lambda may deliver an async invocation twice, so the worker claims the report id like a
 * scheduled day: only one delivery does the work and sends the mail.
 */

import { ON_DEMAND_DEFINITION } from '../contract.js';
import { describeFailure } from '../delivery/mail/index.js';
import { claimRun, markRun, StaleRunError, updateReportStatus } from '../delivery/state/index.js';
import { type HeldRun, keepAlive, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure, recordFailure } from './failure.js';
import { type FanOutStarter, planFanOut, recordFanOutStart } from './fanout.js';
import { logEntry } from './log.js';
import { composeMail, sendUnderClaim } from './mail.js';
import { produce, recordComplete } from './produce.js';
import { onDemandReportRequest } from './request-record.js';
import type { WorkerPayload } from './worker-payload.js';

export type WorkerOutcome =
  | { status: 'skipped'; reportId: string; reason: string }
  /** Too long for one Lambda: handed to the fan-out state machine, which finishes the run. */
  | { status: 'fanned-out'; reportId: string; slices: number }
  | { status: 'complete'; reportId: string; messageId?: string }
  | { status: 'failed'; reportId: string; reason: string };

/** Runs one on-demand report and records its outcome; failures are recorded, not rethrown. */
export async function runOnDemandReport(
  deps: RunDeps,
  payload: WorkerPayload,
  /** Where a report too long for one Lambda goes (the stack's state machine); absent: never fans out. */
  fanOut?: FanOutStarter,
): Promise<WorkerOutcome> {
  const { reportId, baseUrl } = payload;
  const { doc } = deps;
  const table = deps.config.STATE_TABLE;
  const log = deps.logger;
  const runId = deps.newRunId();
  const claim = await claimRun(doc, table, {
    definition: ON_DEMAND_DEFINITION,
    day: reportId,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  const target = { definition: ON_DEMAND_DEFINITION, day: reportId };
  if (!claim.claimed) {
    log.info('worker skipped a duplicate delivery', { reportId, holder: claim.status });
    await logEntry(deps, target, { type: 'skipped', runId, detail: `already ${claim.status}` });
    return { status: 'skipped', reportId, reason: `report ${reportId} is already ${claim.status}` };
  }
  await logEntry(deps, target, { type: 'claimed', runId, attempt: claim.attempts, reportId });
  const heartbeat = keepAlive(deps, { ...target, runId });
  const update: HeldRun = { ...target, runId, reportId };
  const request = onDemandReportRequest(payload.request);
  const notify = payload.request.notify;
  try {
    await updateReportStatus(doc, table, reportId, { status: 'running', now: deps.now() });
    if (fanOut) {
      // A plan that cannot be made (Verifik gave no totals) leaves the report on the single path.
      const plan = await planFanOut(deps, payload.request, fanOut.model).catch((err: unknown) => {
        log.warn('no fan-out plan; the report runs in one Lambda', {
          reportId,
          error: (err as Error).message,
        });
        return null;
      });
      if (plan?.fanOut) {
        await recordFanOutStart(deps, reportId, plan.slices.length);
        // Started under the report id: a duplicate delivery of this invocation starts nothing new.
        await fanOut.start({
          reportId,
          runId,
          baseUrl,
          request: payload.request,
          slices: plan.slices,
          concurrencyPerSlice: plan.concurrencyPerSlice,
          parallelSlices: plan.parallelSlices,
        });
        log.info('long report handed to the fan-out', { reportId, slices: plan.slices.length });
        return { status: 'fanned-out', reportId, slices: plan.slices.length };
      }
    }
    const produced = await produce(deps, request, reportId, null);
    await recordComplete(deps, reportId, produced);
    await logEntry(deps, target, { type: 'produced', reportId, runId });
    if (notify.length === 0) {
      await markRun(doc, table, { ...update, status: 'done', now: deps.now() });
      return { status: 'complete', reportId };
    }
    const composed = await composeMail(deps, {
      label: ON_DEMAND_DEFINITION,
      request,
      produced,
      baseUrl,
    });
    const sent = await sendUnderClaim(deps, update, notify, composed);
    // The report is complete either way; an unanswered send is settled by SES's events or the sweeper.
    log.info('on-demand report complete', { reportId, mail: sent.status });
    return { status: 'complete', reportId, ...(sent.status === 'sent' ? { messageId: sent.messageId } : {}) };
  } catch (err) {
    if (err instanceof StaleRunError) {
      log.warn('on-demand run superseded by a duplicate delivery', { reportId });
      return { status: 'skipped', reportId, reason: `superseded: ${err.message}` };
    }
    const reason = describeFailure(err, reportId);
    log.error('on-demand report failed', { reportId, reason: reason.detail });
    // The API wrote the report record before queueing this run.
    await recordFailure(deps, update, reason.detail, { reportRecorded: true });
    await logEntry(deps, target, { type: 'failed', reportId, runId, detail: reason.detail });
    await mailFailure(deps, {
      to: notify,
      label: ON_DEMAND_DEFINITION,
      window: request.window,
      reason,
      reportId,
      willRetry: false,
    });
    // Recorded and told: the caller polls the status. Not rethrown, so Lambda does not retry a
    // report whose failure is already visible (a new POST is the retry).
    return { status: 'failed', reportId, reason: reason.detail };
  } finally {
    heartbeat.stop();
  }
}
