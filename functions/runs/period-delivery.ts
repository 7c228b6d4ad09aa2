/**
 * Delivering one stored period report of a scheduled run: decide by the definition's `sendIf`
 * (send, send as an alert, or skip with the figures in the delivery log), then mail it under a
 * claim. The plain path sends under the run's own claim on (definition, period); a scope's report
 * sends under a claim of its own on (`<definition>--<scope>`, period), taken just before its mail,
 * so a retry of a split run mails only the scopes that did not get theirs.
 */
import type { ReportRequest } from '../core/request.js';
import { checkRecipients } from '../delivery/mail/index.js';
import { claimRun, markRun } from '../delivery/state/index.js';
import { type ConditionOutcome, decide, describeOutcome } from '../report/conditions.js';
import { baselinePeriods, type SendIf } from '../settings/conditions.js';
import type { Cadence, Period } from '../time/period.js';
import { type HeldRun, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { periodHistory } from './history.js';
import { logEntry } from './log.js';
import { composeMail, type SendOutcome, sendUnderClaim } from './mail.js';
import type { Produced } from './produce.js';

/** A stored report of the period, and who gets it. */
export interface PeriodReport {
  /** What it is stored, claimed and logged under: the definition, or `<definition>--<scope>`. */
  name: string;
  /** What the subject calls it. */
  label: string;
  request: ReportRequest;
  produced: Produced;
  recipients: readonly string[];
}

export type PeriodDelivery =
  | { status: 'sent'; messageId: string; decision: ConditionOutcome }
  | { status: 'unknown'; reason: string; decision: ConditionOutcome }
  | { status: 'done'; reason: string; decision: ConditionOutcome }
  /** Another run already mailed (or is mailing) this scope's report for the period. */
  | { status: 'already'; reason: string; decision: ConditionOutcome };

export interface DeliveryContext {
  sendIf: SendIf;
  cadence: Cadence;
  period: Pick<Period, 'from'>;
  /** The claim day (the period's first day, or a forced one). */
  day: string;
  runId: string;
}

/** The `sendIf` decision for a report, reading the previous periods only when a baseline needs them. */
export async function decideReport(
  deps: RunDeps,
  ctx: DeliveryContext,
  report: Pick<PeriodReport, 'name' | 'produced'>,
): Promise<ConditionOutcome> {
  const periods = baselinePeriods(ctx.sendIf);
  const history = periods
    ? await periodHistory(deps, {
        name: report.name,
        cadence: ctx.cadence,
        period: ctx.period,
        periods,
        excludeReportId: report.produced.result.id,
      })
    : [];
  return decide(ctx.sendIf, report.produced.result.summary, history);
}

/**
 * Delivers a report under `held` (the run's own claim) or, when `held` is null, under a claim of
 * the report's own name taken now. Throws when SES refuses the mail (nothing was sent; the claim
 * is `failed`, so a retry may send).
 */
export async function deliverReport(
  deps: RunDeps,
  ctx: DeliveryContext,
  report: PeriodReport,
  held: HeldRun | null,
): Promise<PeriodDelivery> {
  const table = deps.config.STATE_TABLE;
  const target = { definition: report.name, day: ctx.day };
  const reportId = report.produced.result.id;
  const decision = await decideReport(deps, ctx, report);
  const finish = async (reason: string): Promise<PeriodDelivery> => {
    if (held) await markRun(deps.doc, table, { ...held, status: 'done', now: deps.now() });
    return { status: 'done', reason, decision };
  };
  if (decision.decision === 'skip') {
    await logEntry(deps, target, {
      type: 'skipped-condition',
      reportId,
      runId: ctx.runId,
      detail: describeOutcome(decision),
    });
    return finish(`skipped by condition: ${decision.reasons.join('; ')}`);
  }
  if (report.recipients.length === 0) return finish('no recipients configured');

  checkRecipients(report.recipients, deps.config.ALLOWED_RECIPIENT_DOMAINS);
  const baseUrl = deps.config.PUBLIC_API_URL;
  if (!baseUrl) throw new Error('PUBLIC_API_URL is not configured: mailed links need the API base URL.');
  const composed = await composeMail(deps, {
    label: report.label,
    request: report.request,
    produced: report.produced,
    baseUrl,
    alert: decision.decision === 'alert' ? decision.reasons : undefined,
  });

  let run = held;
  if (!run) {
    const claim = await claimRun(deps.doc, table, {
      ...target,
      runId: ctx.runId,
      leaseSeconds: RUN_LEASE_SECONDS,
      now: deps.now(),
    });
    if (!claim.claimed) {
      const reason = `${report.name} ${ctx.day} is already ${claim.status}`;
      await logEntry(deps, target, { type: 'skipped', runId: ctx.runId, detail: reason });
      return { status: 'already', reason, decision };
    }
    await logEntry(deps, target, { type: 'claimed', runId: ctx.runId, attempt: claim.attempts });
    run = { ...target, runId: ctx.runId, reportId };
  }
  let sent: SendOutcome;
  try {
    sent = await sendUnderClaim(deps, run, report.recipients, composed);
  } catch (err) {
    // SES refused: nothing went out, so the scope's claim must be free for the retry.
    if (!held)
      await markRun(deps.doc, table, {
        ...run,
        status: 'failed',
        reason: err instanceof Error ? err.message : String(err),
        now: deps.now(),
      }).catch(() => undefined);
    throw err;
  }
  return sent.status === 'sent'
    ? { status: 'sent', messageId: sent.messageId, decision }
    : { status: 'unknown', reason: sent.reason, decision };
}
