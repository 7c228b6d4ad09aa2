/**
 * What a run does when it fails or loses its claim: record it (so a retry may take the claim
 * over and the report record says why) and tell people, best effort, never hiding the real error.
 */
import type { FailureReason } from '../delivery/mail/index.js';
import { renderFailureMail } from '../delivery/mail/index.js';
import { markRun, updateReportStatus } from '../delivery/state/index.js';
import type { ReportWindow } from '../time/window.js';
import type { HeldRun } from './claim.js';
import type { RunDeps } from './deps.js';
import { senderOf, sendReportMessage } from './mail.js';

/**
 * Best effort: the claim becomes `failed` (so a retry may take it over) and, when the report
 * record exists, the report too. `sending` → failed happens only because SES answered with an
 * error: the mail was not accepted.
 */
export async function recordFailure(
  deps: RunDeps,
  run: HeldRun,
  detail: string,
  opts: { reportRecorded: boolean },
): Promise<void> {
  const table = deps.config.STATE_TABLE;
  await markRun(deps.doc, table, { ...run, status: 'failed', reason: detail, now: deps.now() }).catch((e) =>
    deps.logger.error('could not mark the run failed', { error: (e as Error).name }),
  );
  if (!opts.reportRecorded) return;
  await updateReportStatus(deps.doc, table, run.reportId, {
    status: 'failed',
    error: detail,
    now: deps.now(),
  }).catch((e) => deps.logger.warn('could not mark the report failed', { error: (e as Error).name }));
}

/** Best effort: a failure notice that cannot be sent is logged, never thrown over the real error. */
export async function mailFailure(
  deps: RunDeps,
  opts: {
    to: readonly string[];
    label: string;
    window: Pick<ReportWindow, 'from' | 'to' | 'timeZone'>;
    reason: FailureReason;
    reportId: string;
    willRetry: boolean;
  },
): Promise<void> {
  if (opts.to.length === 0) return;
  try {
    const mail = renderFailureMail({
      definition: opts.label,
      window: opts.window,
      reason: opts.reason,
      reportId: opts.reportId,
      occurredAt: deps.now(),
      willRetry: opts.willRetry,
    });
    await sendReportMessage(senderOf(deps), opts.to, { mail, attachments: [] }, opts.reportId);
  } catch (err) {
    deps.logger.error('could not mail the failure notice', {
      reportId: opts.reportId,
      error: (err as Error).name,
    });
  }
}

/** A duplicate report made by a run that lost its claim: recorded as such, never left "running". */
export async function supersede(deps: RunDeps, reportId: string): Promise<void> {
  await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
    status: 'failed',
    error: 'superseded: another run of the same day delivered the report',
    now: deps.now(),
  }).catch((e) => deps.logger.warn('could not mark the superseded report', { error: (e as Error).name }));
}
