/**
 * The sweeper: every few minutes it reads the runs that still need someone (the sparse `open`
 * index) and each definition's last scheduled day, and makes sure every path ends in a mail or
 * an alert:
 *
 *   running, lease expired (crashed or timed out)  → failed, and redone while attempts remain,
 *                                                    else the owners are alerted
 *   sending, lease expired (died handing to SES)   → unknown (never resent: SES may have it)
 *   unknown for UNKNOWN_BOUND without an SES event → the owners are alerted (once)
 *   failed, last attempt used                      → the owners are alerted (once; the run itself
 *                                                    usually did, and markAlerted keeps it to one)
 *   failed, attempts left, Lambda's retries gone   → redone
 *   on-demand run, lease expired                   → the report ends `failed` with the reason
 *   a definition's last scheduled day has no run   → run it (a missed schedule)
 *   backfill days waiting in the queue             → started while fewer than 2 of their
 *                                                    definition's runs are live
 *
 * Why a sweeper and not only Lambda's retries: those come at +1 and +3 minutes and then stop,
 * and a crash inside a live lease, a lost async event or a schedule that never fired would leave
 * the day silently missing. The sweeper reads state, so it also catches what nobody invoked.
 *
 * Timing (owners hear within 20 minutes of the last automatic attempt): a dead run's lease ends
 * ≤ RUN_LEASE_SECONDS (2 min) after its last heartbeat, and the sweeper runs every
 * SWEEP_INTERVAL_MINUTES (5), so a crash is acted on within 7 minutes; an unknown send is
 * alerted UNKNOWN_BOUND (10 min) after it happened, at most 15 minutes.
 */
import { ON_DEMAND_DEFINITION } from '../contract.js';
import type { FailureReason } from '../delivery/mail/index.js';
import {
  failStoppedRun,
  getDefinitionState,
  getReport,
  getRun,
  listOpenRuns,
  markAlerted,
  markRun,
  markSendUnknown,
  type RunRecord,
  recordRedo,
  StaleRunError,
  updateReportStatus,
} from '../delivery/state/index.js';
import type { ReportDefinition } from '../settings/definitions.js';
import { scopeReportName } from '../settings/scopes.js';
import { periodContaining } from '../time/period.js';
import { lastDailyFire } from '../time/schedule.js';
import { dayWindow, reportWindow } from '../time/window.js';
import { startQueuedBackfills } from './backfill.js';
import { MAX_RUN_ATTEMPTS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure } from './failure.js';
import { logEntry } from './log.js';
import { RESEND } from './resend.js';
import type { ScheduledInput } from './schedule-input.js';

export const SWEEP_INTERVAL_MINUTES = 5;
/**
 * How long a send may stay unknown before the owners are told. SES publishes a Send event within
 * seconds of accepting a mail; 10 minutes leaves room for a slow event path and still tells
 * people within the 20 minutes promised.
 */
export const UNKNOWN_BOUND_MINUTES = 10;
/** A failed run with attempts left is redone only after Lambda's own retries (+1, +3 min) had their chance. */
export const RETRY_GRACE_MINUTES = 10;
/** A scheduled day with no run this long after its schedule fired was missed. */
export const MISSED_AFTER_MINUTES = 30;

export interface SweepDeps extends RunDeps {
  /** Starts a scheduled run (asynchronously in AWS: the scheduled function's own invocation). */
  redo(input: ScheduledInput): Promise<void>;
}

export interface SweepAction {
  definition: string;
  day: string;
  action: 'redo' | 'alert' | 'unknown' | 'failed' | 'missed';
  detail: string;
}

const minutes = (n: number) => n * 60_000;

function isPaused(run: RunRecord, paused: ReadonlySet<string>): boolean {
  return paused.has(run.definition);
}

export async function sweep(deps: SweepDeps): Promise<SweepAction[]> {
  const now = deps.now();
  const nowS = Math.floor(now.getTime() / 1000);
  const actions: SweepAction[] = [];
  const table = deps.config.STATE_TABLE;
  const paused = new Set<string>();
  for (const def of deps.config.REPORT_DEFINITIONS) {
    if ((await getDefinitionState(deps.doc, table, def.name)).paused) paused.add(def.name);
  }

  for (const run of await listOpenRuns(deps.doc, table)) {
    const target = { definition: run.definition, day: run.day };
    const leaseOver = run.leaseExpiresAt < nowS;
    const age = now.getTime() - Date.parse(run.updatedAt);
    try {
      if (run.definition === ON_DEMAND_DEFINITION) {
        if (run.status === 'running' && leaseOver) {
          await abandonOnDemand(deps, run);
          actions.push({ ...target, action: 'failed', detail: 'the worker stopped without finishing' });
        } else if (run.status === 'unknown' && age >= minutes(UNKNOWN_BOUND_MINUTES)) {
          await alertUnknown(deps, run, null);
          actions.push({ ...target, action: 'alert', detail: 'send outcome unknown' });
        } else if (run.status === 'sending' && leaseOver) {
          await toUnknown(deps, run);
          actions.push({ ...target, action: 'unknown', detail: 'died while sending' });
        } else if (run.status === 'failed') {
          // The worker recorded the failure and told the requester; a new request is the retry.
          await markAlerted(deps.doc, table, { ...target, reason: run.reason ?? 'failed', now });
        }
        continue;
      }
      if (run.definition === RESEND) {
        // The caller of a re-send got its outcome in the answer; a stopped or unanswered one only
        // leaves the reading list here (with its reason), it is never sent again.
        // A re-send that stopped while `sending` may have reached SES: `unknown`, so its key keeps
        // answering "duplicate" (never sent twice); one that stopped before it becomes `failed`,
        // so the same key may try again.
        if (run.status === 'sending' && leaseOver) await toUnknown(deps, run);
        if (run.status === 'running' && leaseOver) {
          await failStoppedRun(deps.doc, table, {
            ...target,
            runId: run.runId,
            reason: 'the re-send stopped',
            now,
          });
        }
        if (run.status === 'unknown' || run.status === 'failed' || leaseOver) {
          await markAlerted(deps.doc, table, { ...target, reason: run.reason ?? 'the re-send stopped', now });
        }
        continue;
      }
      const owner = scopeOwner(deps.config.REPORT_DEFINITIONS, run.definition);
      if (owner) {
        const action = await sweepScopeClaim(deps, owner, run, { leaseOver, age });
        if (action) actions.push({ ...target, ...action });
        continue;
      }
      const def = deps.config.REPORT_DEFINITIONS.find((d) => d.name === run.definition);
      if (!def) {
        // A definition no longer deployed: nothing will redo it; it only leaves the reading list.
        await markAlerted(deps.doc, table, { ...target, reason: 'definition no longer configured', now });
        continue;
      }
      switch (run.status) {
        case 'running':
          if (!leaseOver) break;
          // Only if it is still running with its lease over: a run that reached `sending` meanwhile
          // is left to its send (StaleRunError), or its redo would send a second mail.
          await failStoppedRun(deps.doc, table, {
            ...target,
            runId: run.runId,
            reason: 'the run stopped without finishing (crash or timeout)',
            now,
          });
          await logEntry(deps, target, {
            type: 'failed',
            runId: run.runId,
            detail: 'lease expired: crash or timeout',
          });
          // Paused: failed and left (the `failed` case redoes it after the resume), never alerted as lost.
          if (isPaused(run, paused)) break;
          if (run.attempts < MAX_RUN_ATTEMPTS) {
            await redoOrAlert(deps, def, run, 'the previous attempt stopped without finishing', actions);
          } else {
            await alertLost(
              deps,
              def,
              run,
              'Every automatic attempt stopped without finishing (crash or timeout).',
            );
            actions.push({ ...target, action: 'alert', detail: 'attempts exhausted' });
          }
          break;
        case 'sending':
          if (!leaseOver) break;
          await toUnknown(deps, run);
          actions.push({ ...target, action: 'unknown', detail: 'died while sending' });
          break;
        case 'unknown':
          if (age < minutes(UNKNOWN_BOUND_MINUTES)) break;
          await alertUnknown(deps, run, def);
          actions.push({ ...target, action: 'alert', detail: 'send outcome unknown' });
          break;
        case 'failed':
          if (run.attempts >= MAX_RUN_ATTEMPTS) {
            if (await alertLost(deps, def, run, run.reason ?? 'The last automatic attempt failed.')) {
              actions.push({ ...target, action: 'alert', detail: 'attempts exhausted' });
            }
          } else if (age >= minutes(RETRY_GRACE_MINUTES) && !isPaused(run, paused)) {
            await redoOrAlert(deps, def, run, 'Lambda’s own retries did not finish it', actions);
          }
          break;
      }
    } catch (err) {
      // Another actor moved the run meanwhile (a retry claimed it, an event settled it): fine.
      if (err instanceof StaleRunError) continue;
      deps.logger.error('sweep of a run failed', { ...target, error: (err as Error).name });
    }
  }

  for (const def of deps.config.REPORT_DEFINITIONS) {
    // Only daily schedules are checked for a missed fire; other cadences rely on their schedule
    // (EventBridge Scheduler's retries and dead-letter queue) and a backfill.
    if (paused.has(def.name) || def.cadence.kind !== 'daily') continue;
    const fire = lastDailyFire(def.schedule, now);
    if (now.getTime() - fire.at.getTime() < minutes(MISSED_AFTER_MINUTES)) continue;
    if (await getRun(deps.doc, table, def.name, fire.reportDay)) continue;
    await logEntry(
      deps,
      { definition: def.name, day: fire.reportDay },
      {
        type: 'redo',
        detail: `no run for ${fire.reportDay} ${MISSED_AFTER_MINUTES} minutes after the schedule fired: started by the sweeper`,
      },
    );
    // The day gets a record now, so if this start dies too the `failed` case counts the redos
    // and tells the owners, instead of the day being started silently until the next schedule.
    await recordRedo(deps.doc, table, { definition: def.name, day: fire.reportDay, now });
    await deps.redo({ definition: def.name, day: fire.reportDay });
    actions.push({
      definition: def.name,
      day: fire.reportDay,
      action: 'missed',
      detail: 'schedule did not run',
    });
  }
  for (const q of await startQueuedBackfills(deps)) {
    actions.push({
      definition: q.definition,
      day: q.day,
      action: 'redo',
      detail: 'queued backfill day started',
    });
  }
  return actions;
}

/**
 * Redoes a day, counting the sweeper's redos on its record: past MAX_RUN_ATTEMPTS of them (runs
 * that die before they even claim the day never add attempts) the owners are told instead.
 */
async function redoOrAlert(
  deps: SweepDeps,
  def: ReportDefinition,
  run: RunRecord,
  why: string,
  actions: SweepAction[],
): Promise<void> {
  const target = { definition: run.definition, day: run.day };
  const redos = await recordRedo(deps.doc, deps.config.STATE_TABLE, { ...target, now: deps.now() });
  if (redos > MAX_RUN_ATTEMPTS) {
    if (
      await alertLost(
        deps,
        def,
        run,
        `The sweeper started the day ${redos - 1} times and it never finished (${why}).`,
      )
    ) {
      actions.push({ ...target, action: 'alert', detail: 'redos exhausted' });
    }
    return;
  }
  await redo(deps, def, run, why);
  actions.push({ ...target, action: 'redo', detail: why });
}

async function redo(deps: SweepDeps, def: ReportDefinition, run: RunRecord, why: string): Promise<void> {
  const [day, force] = run.day.split('~') as [string, string | undefined];
  await logEntry(deps, { definition: run.definition, day: run.day }, { type: 'redo', detail: why });
  await deps.redo({ definition: def.name, day, ...(force ? { force } : {}) });
}

/** The definition a scope's claim (`<definition>--<scope>`) belongs to, if any. */
function scopeOwner(defs: readonly ReportDefinition[], name: string): ReportDefinition | undefined {
  return defs.find((d) => d.splitBy?.scopes.some((s) => scopeReportName(d.name, s.name) === name));
}

/**
 * A scope's claim covers its mail only: it is taken just before the send, so its report is made,
 * and redone, by the run of its definition. `running` past its lease means that run died between
 * the claim and the send: `failed`, so the definition's redo can claim it again. `sending` and
 * `unknown` are treated as any mail's (never resent; the owners are told). A `failed` one waits
 * for the definition's retry, and leaves the reading list once the definition's run has ended.
 */
async function sweepScopeClaim(
  deps: SweepDeps,
  def: ReportDefinition,
  run: RunRecord,
  { leaseOver, age }: { leaseOver: boolean; age: number },
): Promise<Pick<SweepAction, 'action' | 'detail'> | null> {
  const table = deps.config.STATE_TABLE;
  const target = { definition: run.definition, day: run.day };
  switch (run.status) {
    case 'running':
      if (!leaseOver) return null;
      await failStoppedRun(deps.doc, table, {
        ...target,
        runId: run.runId,
        reason: 'the run stopped between claiming the scope and sending its mail',
        now: deps.now(),
      });
      return { action: 'failed', detail: 'scope claim released for the definition’s redo' };
    case 'sending':
      if (!leaseOver) return null;
      await toUnknown(deps, run);
      return { action: 'unknown', detail: 'died while sending' };
    case 'unknown':
      if (age < minutes(UNKNOWN_BOUND_MINUTES)) return null;
      await alertUnknown(deps, run, def);
      return { action: 'alert', detail: 'send outcome unknown' };
    case 'failed': {
      const parent = await getRun(deps.doc, table, def.name, run.day);
      // Still to be retried by the definition's run: leave it claimable and listed.
      if (parent && !parent.alertedAt && (parent.status === 'running' || parent.status === 'failed'))
        return null;
      await markAlerted(deps.doc, table, { ...target, reason: run.reason ?? 'failed', now: deps.now() });
      return null;
    }
    default:
      return null;
  }
}

async function toUnknown(deps: SweepDeps, run: RunRecord): Promise<void> {
  const reason = 'the run stopped while handing the mail to SES; SES may or may not have it';
  await markSendUnknown(deps.doc, deps.config.STATE_TABLE, {
    definition: run.definition,
    day: run.day,
    runId: run.runId,
    reason,
    now: deps.now(),
  });
  await logEntry(
    deps,
    { definition: run.definition, day: run.day },
    { type: 'send-unknown', sendId: run.sendId, detail: reason },
  );
}

/** Tells the owners once that a day is lost; false when someone already did. */
async function alertLost(
  deps: SweepDeps,
  def: ReportDefinition,
  run: RunRecord,
  why: string,
): Promise<boolean> {
  const reason: FailureReason = {
    title: 'The report could not be produced',
    detail: why,
    action:
      'Look at the delivery log (GET /reports?date=… or `verifik-reports log`), fix the cause, then backfill the day.',
  };
  return alertOnce(deps, def.owners, def.name, run, reason);
}

async function alertUnknown(deps: SweepDeps, run: RunRecord, def: ReportDefinition | null): Promise<void> {
  const reason: FailureReason = {
    title: 'SES never confirmed the report mail',
    detail: `${run.reason ?? 'SES did not answer the send'}; no SES event arrived within ${UNKNOWN_BOUND_MINUTES} minutes.`,
    action:
      'The mail may or may not have reached the recipients; it is not resent automatically, so nobody gets it twice. Ask a recipient, or check the delivery log, and re-send the stored report if it did not arrive.',
  };
  const to = def ? def.owners : await onDemandRecipients(deps, run);
  await alertOnce(deps, to, def?.name ?? ON_DEMAND_DEFINITION, run, reason);
}

async function alertOnce(
  deps: SweepDeps,
  to: readonly string[],
  label: string,
  run: RunRecord,
  reason: FailureReason,
): Promise<boolean> {
  const target = { definition: run.definition, day: run.day };
  if (
    !(await markAlerted(deps.doc, deps.config.STATE_TABLE, {
      ...target,
      reason: reason.detail,
      now: deps.now(),
    }))
  ) {
    return false;
  }
  const day = run.day.split('~')[0] ?? run.day;
  const def = deps.config.REPORT_DEFINITIONS.find((d) => d.name === run.definition);
  const period = def ? periodContaining(def.cadence, day) : undefined;
  const window =
    def && period
      ? reportWindow(period.from, period.to, def.schedule.timeZone)
      : await onDemandWindow(deps, run);
  await mailFailure(deps, {
    to,
    label,
    window,
    reason,
    reportId: run.reportId ?? run.runId,
    willRetry: false,
  });
  await logEntry(deps, target, {
    type: 'alert',
    reportId: run.reportId,
    recipients: [...to],
    detail: reason.detail,
  });
  return true;
}

async function abandonOnDemand(deps: SweepDeps, run: RunRecord): Promise<void> {
  const reason = 'the report worker stopped without finishing (crash or timeout); ask for the report again';
  const table = deps.config.STATE_TABLE;
  await markRun(deps.doc, table, {
    definition: run.definition,
    day: run.day,
    runId: run.runId,
    status: 'failed',
    reason,
    now: deps.now(),
  });
  await updateReportStatus(deps.doc, table, run.day, {
    status: 'failed',
    error: reason,
    now: deps.now(),
  }).catch((e) =>
    deps.logger.warn('could not mark the abandoned report failed', {
      reportId: run.day,
      error: (e as Error).name,
    }),
  );
  await logEntry(
    deps,
    { definition: run.definition, day: run.day },
    { type: 'failed', runId: run.runId, detail: reason },
  );
  // The requester asked to be told; on-demand runs are not redone (a new request is the retry).
  const to = await onDemandRecipients(deps, run);
  if (to.length > 0) {
    await alertOnce(deps, to, ON_DEMAND_DEFINITION, run, {
      title: 'The report worker stopped without finishing',
      detail: reason,
      action: 'Ask for the report again; if it keeps stopping, the range may be too large for one run.',
    });
  } else {
    await markAlerted(deps.doc, table, { definition: run.definition, day: run.day, reason, now: deps.now() });
  }
}

async function onDemandRecipients(deps: SweepDeps, run: RunRecord): Promise<string[]> {
  const record = await getReport(deps.doc, deps.config.STATE_TABLE, run.day);
  const notify = record?.request.notify;
  return Array.isArray(notify) ? notify.filter((n): n is string => typeof n === 'string') : [];
}

async function onDemandWindow(deps: SweepDeps, run: RunRecord) {
  const record = await getReport(deps.doc, deps.config.STATE_TABLE, run.day);
  const r = (record?.request ?? {}) as { from?: unknown; to?: unknown; timeZone?: unknown };
  try {
    return reportWindow(String(r.from), String(r.to), String(r.timeZone));
  } catch {
    return dayWindow(record?.date ?? '1970-01-01', 'UTC');
  }
}
