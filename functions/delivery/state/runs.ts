/**
 * Scheduled runs: "exactly one mail per report day". A run claims (definition, day) with a
 * conditional write before any work; duplicates, concurrent twins and retries after success
 * are refused, a retry after a failure (or after a crashed run's lease ran out) takes over.
 *
 *   (none) ──claim──▶ running ──markMailSending──▶ sending ──markMailSent──▶ sent
 *                       │  ▲                          │
 *                       │  └──claim (lease expired)   └──markRun failed (SES said no)
 *                       ├──markRun done (no mail due) ─▶ done
 *                       └──markRun failed ───────────▶ failed ──claim──▶ running
 *
 * The one window that cannot be closed: SES accepted a mail and the process died before
 * `markMailSent` was written. The record then stays `sending`, which no claim takes over: we
 * prefer a possibly missing mail (visible: the handler alerts the owners) to a possibly
 * duplicated one. Everything before `markMailSending` is safely retried.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { epochSeconds, expiresAfter, isConditionFailure, StateConflictError, statusMove } from './shared.js';

/** Claims outlive every retry path (Lambda async: 6 h; scheduler: up to 24 h) by far. */
const DEFAULT_RUN_TTL_DAYS = 90;

/** A run tried to record progress on a claim it no longer holds (a stale twin, or a takeover). */
export class StaleRunError extends StateConflictError {
  override name = 'StaleRunError';
}

export const RunStatus = z.enum(['running', 'sending', 'sent', 'done', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunRecord = z.object({
  definition: z.string(),
  day: z.string(),
  status: RunStatus,
  runId: z.string(),
  /** Unix seconds after which a `running` claim may be taken over. */
  leaseExpiresAt: z.number(),
  claimedAt: z.string(),
  updatedAt: z.string(),
  attempts: z.number(),
  reportId: z.string().optional(),
  reason: z.string().optional(),
  mailMessageId: z.string().optional(),
  mailSentAt: z.string().optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

function runKey(definition: string, day: string) {
  return { pk: `RUN#${definition}`, sk: `DAY#${day}` };
}

export interface ClaimInput {
  definition: string;
  day: string;
  /** Unique per invocation attempt (e.g. the Lambda request id). */
  runId: string;
  /** Must exceed the function's timeout, or a slow live run could be taken over. */
  leaseSeconds: number;
  now?: Date;
  ttlDays?: number;
}

export type ClaimResult =
  | { claimed: true; attempts: number }
  | { claimed: false; status: RunStatus; runId: string; reason?: string };

/**
 * Claims (definition, day) for this run. Wins when there is no record, the last run failed,
 * or a `running` claim's lease expired; refuses when a live run holds it or it is finished
 * (`sent`, `done`) or possibly finished (`sending`).
 */
export async function claimRun(
  doc: DynamoDBDocumentClient,
  table: string,
  input: ClaimInput,
): Promise<ClaimResult> {
  const now = input.now ?? new Date();
  const nowS = epochSeconds(now);
  try {
    const res = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(input.definition, input.day),
        ConditionExpression:
          'attribute_not_exists(pk) OR #status = :failed OR (#status = :running AND #lease < :now)',
        UpdateExpression:
          'SET #status = :running, #runId = :runId, #lease = :lease, #claimedAt = :iso, #updatedAt = :iso, ' +
          '#definition = :definition, #day = :day, #attempts = if_not_exists(#attempts, :zero) + :one, ' +
          '#expiresAt = :ttl REMOVE #reason',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#runId': 'runId',
          '#lease': 'leaseExpiresAt',
          '#claimedAt': 'claimedAt',
          '#updatedAt': 'updatedAt',
          '#definition': 'definition',
          '#day': 'day',
          '#attempts': 'attempts',
          '#expiresAt': 'expiresAt',
          '#reason': 'reason',
        },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':running': 'running',
          ':now': nowS,
          ':runId': input.runId,
          ':lease': nowS + input.leaseSeconds,
          ':iso': now.toISOString(),
          ':definition': input.definition,
          ':day': input.day,
          ':zero': 0,
          ':one': 1,
          ':ttl': expiresAfter(now, input.ttlDays ?? DEFAULT_RUN_TTL_DAYS),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { claimed: true, attempts: Number(res.Attributes?.attempts ?? 1) };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const holder = await getRun(doc, table, input.definition, input.day);
    // The record vanished between the write and the read (TTL): the caller may simply retry.
    if (!holder)
      throw new StateConflictError(`claim of ${input.definition} ${input.day} raced with a delete; retry`);
    return {
      claimed: false,
      status: holder.status,
      runId: holder.runId,
      ...(holder.reason ? { reason: holder.reason } : {}),
    };
  }
}

export async function getRun(
  doc: DynamoDBDocumentClient,
  table: string,
  definition: string,
  day: string,
): Promise<RunRecord | undefined> {
  const res = await doc.send(
    new GetCommand({ TableName: table, Key: runKey(definition, day), ConsistentRead: true }),
  );
  return res.Item ? RunRecord.parse(res.Item) : undefined;
}

interface RunUpdate {
  definition: string;
  day: string;
  runId: string;
  now?: Date;
}

/** One conditional step of a run this invocation holds; throws StaleRunError if it does not. */
async function advanceRun(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate,
  step: { to: RunStatus; from: readonly RunStatus[]; set?: Record<string, string | undefined> },
): Promise<void> {
  const move = statusMove(step.to, step.from, update.now ?? new Date(), step.set ?? {});
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(update.definition, update.day),
        ConditionExpression: `#runId = :runId AND ${move.statusIn}`,
        UpdateExpression: move.set,
        ExpressionAttributeNames: { ...move.names, '#runId': 'runId' },
        ExpressionAttributeValues: { ...move.values, ':runId': update.runId },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const current = await getRun(doc, table, update.definition, update.day);
    const holder = current
      ? `it is ${current.status}${current.runId === update.runId ? '' : ` and held by run ${current.runId}`}`
      : 'it does not exist';
    throw new StaleRunError(
      `run ${update.runId} cannot mark ${update.definition} ${update.day} ${step.to}: ${holder}`,
      { cause: err },
    );
  }
}

/**
 * Records, before the SES call, that this run is about to send. From here on no other run
 * will send this day's mail (see the module comment for the one unclosable window).
 */
export function markMailSending(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { reportId?: string },
): Promise<void> {
  return advanceRun(doc, table, update, {
    to: 'sending',
    from: ['running'],
    set: { reportId: update.reportId },
  });
}

/** Records SES's acceptance; call it as soon as SendEmail returns, before anything else. */
export function markMailSent(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { messageId: string; reportId?: string },
): Promise<void> {
  const now = update.now ?? new Date();
  return advanceRun(
    doc,
    table,
    { ...update, now },
    {
      to: 'sent',
      from: ['running', 'sending'],
      set: { mailMessageId: update.messageId, mailSentAt: now.toISOString(), reportId: update.reportId },
    },
  );
}

export interface MarkRunInput extends RunUpdate {
  /**
   * `done`: finished with no mail due (e.g. an empty day that sends nothing); `failed`: the
   * day may be retried. Use `failed` after `sending` only when SES definitely refused the mail.
   */
  status: 'sent' | 'done' | 'failed';
  reportId?: string;
  /** Why it failed, for owners and operators: no personal data. */
  reason?: string;
}

export function markRun(doc: DynamoDBDocumentClient, table: string, input: MarkRunInput): Promise<void> {
  return advanceRun(doc, table, input, {
    to: input.status,
    from: ['running', 'sending'],
    set: { reportId: input.reportId, reason: input.reason?.slice(0, 1000) },
  });
}
