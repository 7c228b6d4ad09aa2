/**
 * A run's chat and webhook destinations: each posted exactly once per report and period, under
 * its own claim (delivery/state/destinations.ts), after or beside the report mail. One
 * destination failing never stops the others or the mail: every outcome is returned, none thrown.
 *
 * Per destination: claim → resolve its secret → build the payload → POST (retries inside) →
 * record `sent` or `failed` → delivery log. A refusal or exhausted retries is recorded `failed`
 * and the owners are told once (a mail with the destination's name and the reason, never its
 * URL and no data from the report). A later call finds `sent`/`unknown` and posts nothing; finds
 * `sending` (a run died after it may have posted) and re-posts the signed webhook under the same
 * Idempotency-Key, or records Slack/Teams `unknown` without posting again.
 */
import {
  DEFAULT_POST_POLICY,
  type DestinationMessage,
  destinationLabel,
  IDEMPOTENCY_HEADER,
  idempotencyKey,
  type PostPolicy,
  parseDestinationSecret,
  postMessage,
  signedHeaders,
  slackPayload,
  teamsPayload,
  webhookPayload,
} from '../delivery/chat/index.js';
import { describeFailure } from '../delivery/mail/index.js';
import {
  claimDestination,
  type DestinationKey,
  type LogTarget,
  markDestination,
  markDestinationAlerted,
  settleUnknown,
} from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import type { Destination } from '../settings/destinations.js';
import { scopeReportName } from '../settings/scopes.js';
import type { RunDeps } from './deps.js';
import { mailFailure } from './failure.js';
import { logEntry } from './log.js';

export interface DestinationsInput {
  /** The definition's name (not a scope's report name). */
  definition: string;
  /** The claim day: the period's first day (with a forced backfill's `~key`, as the run claims it). */
  day: string;
  /** The scope's name (splitBy), for a scope's report: claims and log go under `<definition>--<scope>`. */
  scope?: string | undefined;
  reportId: string;
  /** Told once per destination and period when it fails. */
  owners: readonly string[];
  destinations: readonly Destination[];
  message: DestinationMessage;
  /** Who claims (the run's id); default: a fresh id per call. */
  runId?: string;
  /** Retry policy of each post (tests shorten it). */
  policy?: PostPolicy;
}

export type DestinationOutcome = {
  destination: string;
  kind: Destination['kind'];
} & (
  | { status: 'sent'; attempts: number; repost: boolean }
  /** Nothing posted: sent (or left unknown) by an earlier call. */
  | { status: 'skipped'; reason: 'already-sent' | 'already-unknown' }
  /** A Slack/Teams post a crashed run may have made: not repeated. */
  | { status: 'unknown'; reason: string }
  | { status: 'failed'; reason: string }
);

class NoDestinationSecretsError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'NoDestinationSecretsError';
}

export async function deliverToDestinations(
  deps: RunDeps,
  input: DestinationsInput,
): Promise<DestinationOutcome[]> {
  const report = input.scope ? scopeReportName(input.definition, input.scope) : input.definition;
  const target: LogTarget = { definition: report, day: input.day };
  const runId = input.runId ?? deps.newRunId();
  return Promise.all(
    input.destinations.map((d) =>
      deliverOne(deps, input, d, { report, target, runId }).catch(async (err: unknown) => {
        // Only state or log failures get here (the post's own are handled inside): never thrown.
        const reason = describeFailure(err, input.reportId).detail;
        deps.logger.error('destination delivery failed', { ...target, destination: d.name, reason });
        return { destination: d.name, kind: d.kind, status: 'failed', reason } as const;
      }),
    ),
  );
}

async function deliverOne(
  deps: RunDeps,
  input: DestinationsInput,
  d: Destination,
  ctx: { report: string; target: LogTarget; runId: string },
): Promise<DestinationOutcome> {
  const table = deps.config.STATE_TABLE;
  const key: DestinationKey = { definition: ctx.report, day: input.day, destination: d.name };
  const idem = idempotencyKey({
    definition: input.definition,
    day: input.day,
    scope: input.scope,
    destination: d.name,
  });
  const who = { destination: d.name, kind: d.kind };
  const log = (
    type: 'destination-send' | 'destination-sent' | 'destination-failed' | 'destination-unknown',
    detail: string,
  ) =>
    logEntry(deps, ctx.target, {
      type,
      reportId: input.reportId,
      runId: ctx.runId,
      destination: d.name,
      // The CLI's log table shows the detail, not the destination field: name it there too.
      detail: detail.includes(`"${d.name}"`) ? detail : `${destinationLabel(d.kind, d.name)}: ${detail}`,
    });

  const claim = await claimDestination(deps.doc, table, {
    ...key,
    runId: ctx.runId,
    reportId: input.reportId,
    idempotencyKey: idem,
    retakeSending: d.kind === 'webhook',
    now: deps.now(),
  });
  if (!claim.claimed) {
    const { status } = claim.record;
    if (status === 'sent' || status === 'unknown') {
      deps.logger.info('destination already settled; nothing posted', { ...ctx.target, ...who, status });
      return { ...who, status: 'skipped', reason: status === 'sent' ? 'already-sent' : 'already-unknown' };
    }
    // `sending` (Slack/Teams): a run died after it may have posted; posting again could duplicate.
    const reason = `a run stopped while posting to ${destinationLabel(d.kind, d.name)}; it may or may not have arrived, and is not posted again`;
    if (await settleUnknown(deps.doc, table, { ...key, reason, now: deps.now() })) {
      deps.logger.warn('destination outcome unknown; not re-posted', { ...ctx.target, ...who });
      await log('destination-unknown', reason);
      return { ...who, status: 'unknown', reason };
    }
    return { ...who, status: 'skipped', reason: 'already-unknown' };
  }

  const repost = claim.previous === 'sending';
  await log(
    'destination-send',
    `attempt ${claim.attempts}${repost ? `; re-post with the same ${IDEMPOTENCY_HEADER} after a run stopped mid-post` : ''}`,
  );
  let result: { status: number; attempts: number };
  try {
    result = await post(deps, d, input.message, idem, input.policy);
  } catch (err) {
    const failure = describeFailure(err, input.reportId);
    deps.logger.warn('destination failed', { ...ctx.target, ...who, reason: failure.detail });
    const marked = await markDestination(deps.doc, table, {
      ...key,
      runId: ctx.runId,
      to: 'failed',
      reason: failure.detail,
      now: deps.now(),
    }).catch(() => false);
    await log('destination-failed', failure.detail);
    if (
      marked &&
      (await markDestinationAlerted(deps.doc, table, { ...key, now: deps.now() }).catch(() => false))
    ) {
      await mailFailure(deps, {
        to: input.owners,
        label: ctx.report,
        window: input.message.window,
        reason: failure,
        reportId: input.reportId,
        willRetry: false,
      });
      await logEntry(deps, ctx.target, {
        type: 'alert',
        reportId: input.reportId,
        destination: d.name,
        detail: failure.detail,
        recipients: [...input.owners],
      });
    }
    return { ...who, status: 'failed', reason: failure.detail };
  }
  const detail = `HTTP ${result.status} after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`;
  const recorded = await markDestination(deps.doc, table, {
    ...key,
    runId: ctx.runId,
    to: 'sent',
    now: deps.now(),
  }).catch((err: unknown) => {
    deps.logger.error('destination posted but not recorded as sent; it stays "sending"', {
      ...ctx.target,
      ...who,
      error: (err as Error).name,
    });
    return false;
  });
  if (recorded) deps.logger.info('destination posted', { ...ctx.target, ...who, attempts: result.attempts });
  await log('destination-sent', detail);
  return { ...who, status: 'sent', attempts: result.attempts, repost };
}

/** Resolves the destination's secret, builds its payload and posts it. */
async function post(
  deps: RunDeps,
  d: Destination,
  message: DestinationMessage,
  idem: string,
  policy: PostPolicy = DEFAULT_POST_POLICY,
): Promise<{ status: number; attempts: number }> {
  if (!deps.secrets.destinationSecret)
    throw new NoDestinationSecretsError('this function has no secret source for destinations');
  const target = parseDestinationSecret(d.kind, await deps.secrets.destinationSecret(d.secret), d.secret);
  const request = { url: target.url, destination: d.name, kind: d.kind };
  switch (d.kind) {
    case 'slack':
      return postMessage({ ...request, body: JSON.stringify(slackPayload(message)) }, policy);
    case 'teams':
      return postMessage({ ...request, body: JSON.stringify(teamsPayload(message)) }, policy);
    case 'webhook': {
      const body = webhookPayload(message);
      const headers = signedHeaders({
        body,
        // parseDestinationSecret guarantees a key for a webhook.
        signingKey: target.signingKey ?? '',
        timestamp: Math.floor(deps.now().getTime() / 1000),
        idempotencyKey: idem,
      });
      return postMessage({ ...request, body, headers }, policy);
    }
  }
}
