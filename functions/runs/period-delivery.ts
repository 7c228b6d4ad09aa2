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
import type { Destination } from '../settings/destinations.js';
import type { Cadence, Period } from '../time/period.js';
import { type HeldRun, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { buildDestinationMessage } from './destination-message.js';
import { type DestinationOutcome, deliverToDestinations } from './destinations.js';
import { periodHistory } from './history.js';
import { logEntry } from './log.js';
import { composeMail, type SendOutcome, sendUnderClaim } from './mail.js';
import type { Produced } from './produce.js';

/** A stored report of the period, and who gets it. */
export interface PeriodReport {
  /** What it is stored, claimed and logged under: the definition, or `<definition>--<scope>`. */
  name: string;
  /** The definition it belongs to. */
  definition: string;
  /** The scope, for a scope's report of a split run. */
  scope?: { by: 'project' | 'client'; name: string; id: string } | undefined;
  /** What the subject calls it. */
  label: string;
  request: ReportRequest;
  produced: Produced;
  recipients: readonly string[];
  /** Chat and webhook destinations it is posted to (before its mail). */
  destinations: readonly Destination[];
  /** Told when a destination fails. */
  owners: readonly string[];
}

interface Delivered {
  decision: ConditionOutcome;
  /** One per destination, when the report has any. */
  destinations: DestinationOutcome[];
}

export type PeriodDelivery = Delivered &
  (
    | { status: 'sent'; messageId: string }
    | { status: 'unknown'; reason: string }
    | { status: 'done'; reason: string }
    /** Another run already mailed (or is mailing) this scope's report for the period. */
    | { status: 'already'; reason: string }
  );

export interface DeliveryContext {
  sendIf: SendIf;
  cadence: Cadence;
  period: Pick<Period, 'from'>;
  /** The period's readable name (a day, `2024-W43`, `2024-10`), for chat messages. */
  periodKey: string;
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
  if (decision.decision === 'skip') {
    await logEntry(deps, target, {
      type: 'skipped-condition',
      reportId,
      runId: ctx.runId,
      detail: describeOutcome(decision),
    });
    if (held) await markRun(deps.doc, table, { ...held, status: 'done', now: deps.now() });
    return {
      status: 'done',
      reason: `skipped by condition: ${decision.reasons.join('; ')}`,
      decision,
      destinations: [],
    };
  }
  // Links are only needed by someone who gets the report: a run without an audience needs no URL.
  const baseUrl = deps.config.PUBLIC_API_URL ?? '';
  if (!baseUrl && (report.destinations.length > 0 || report.recipients.length > 0))
    throw new Error('PUBLIC_API_URL is not configured: mailed and posted links need the API base URL.');
  const alert = decision.decision === 'alert' ? decision.reasons : undefined;
  // Destinations first: each is exactly once on its own record, so a run that dies after them
  // and is redone posts nothing twice, while one that dies after its mail could never post them
  // (the redo finds the day sent).
  const destinations = report.destinations.length
    ? await deliverToDestinations(deps, {
        definition: report.definition,
        day: ctx.day,
        scope: report.scope?.name,
        reportId,
        owners: report.owners,
        destinations: report.destinations,
        runId: ctx.runId,
        message: await buildDestinationMessage(deps, {
          definition: report.definition,
          periodKey: ctx.periodKey,
          produced: report.produced,
          baseUrl,
          scope: report.scope ? { by: report.scope.by, key: report.scope.id } : undefined,
          alert: alert ? { title: "this report's conditions held", conditions: [...alert] } : undefined,
        }),
      })
    : [];
  const base = { decision, destinations };
  if (report.recipients.length === 0) {
    if (held) await markRun(deps.doc, table, { ...held, status: 'done', now: deps.now() });
    return { ...base, status: 'done', reason: 'no recipients configured' };
  }

  checkRecipients(report.recipients, deps.config.ALLOWED_RECIPIENT_DOMAINS);
  const composed = await composeMail(deps, {
    label: report.label,
    request: report.request,
    produced: report.produced,
    baseUrl,
    alert,
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
      return { ...base, status: 'already', reason };
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
    ? { ...base, status: 'sent', messageId: sent.messageId }
    : { ...base, status: 'unknown', reason: sent.reason };
}

/** The outcomes as a run's answer shows them (`{}` when the report has no destinations). */
export function destinationSummaries(outcomes: readonly DestinationOutcome[]): {
  destinations?: { destination: string; status: DestinationOutcome['status'] }[];
} {
  return outcomes.length
    ? { destinations: outcomes.map((d) => ({ destination: d.destination, status: d.status })) }
    : {};
}
