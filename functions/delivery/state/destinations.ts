/**
 * Chat and webhook posts: exactly once per (report, period, destination), like the day's mail.
 * A run claims the destination's send with a conditional write before it posts, and records
 * what happened; a second call (a Lambda retry, a twin, a sweeper redo) finds the record.
 *
 *   (none) ──claimDestination──▶ sending ──markDestination──▶ sent
 *                                  │  ▲                  └──▶ failed ──claimDestination──▶ sending
 *                                  │  └─ claimDestination (webhook only: re-post, same Idempotency-Key)
 *                                  └──settleUnknown (Slack/Teams: a run died mid-post) ──▶ unknown
 *
 * `sending` found by a later call means a run died (or could not record) after it may have
 * posted. The signed webhook carries a stable Idempotency-Key, so posting again is safe: the
 * receiver drops the duplicate. Slack and Teams have no such key: the post is recorded `unknown`
 * and never repeated (a duplicate in a channel is worse than asking the owner to check).
 * `failed` (a refusal, or every retry failed) may be claimed again by a later call: nothing
 * reached the channel. `alertedAt` lets the owners be told once per destination and period.
 *
 * One item per send under `DEST#<report name>#<day>` / `DEST#<destination>`; expires like the runs.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { applied, expiresAfter, isConditionFailure, StateConflictError, statusMove } from './shared.js';

const DESTINATION_TTL_DAYS = 90;

export const DestinationSendStatus = z.enum(['sending', 'sent', 'failed', 'unknown']);
export type DestinationSendStatus = z.infer<typeof DestinationSendStatus>;

export const DestinationSendRecord = z.object({
  /** The report's name: the definition, or `<definition>--<scope>` for a scope's report. */
  definition: z.string(),
  /** The claim day: the period's first day. */
  day: z.string(),
  destination: z.string(),
  status: DestinationSendStatus,
  runId: z.string(),
  reportId: z.string(),
  idempotencyKey: z.string(),
  attempts: z.number(),
  claimedAt: z.string(),
  updatedAt: z.string(),
  reason: z.string().optional(),
  postedAt: z.string().optional(),
  alertedAt: z.string().optional(),
});
export type DestinationSendRecord = z.infer<typeof DestinationSendRecord>;

export interface DestinationKey {
  definition: string;
  day: string;
  destination: string;
}

const destinationKey = (k: DestinationKey) => ({
  pk: `DEST#${k.definition}#${k.day}`,
  sk: `DEST#${k.destination}`,
});

export type DestinationClaim =
  | { claimed: true; attempts: number; previous: DestinationSendStatus | null }
  | { claimed: false; record: DestinationSendRecord };

/**
 * Claims the send for this run. Wins on no record or `failed`, and on `sending` when
 * `retakeSending` (the signed webhook); otherwise answers the record as it is.
 */
export async function claimDestination(
  doc: DynamoDBDocumentClient,
  table: string,
  input: DestinationKey & {
    runId: string;
    reportId: string;
    idempotencyKey: string;
    retakeSending: boolean;
    now: Date;
  },
): Promise<DestinationClaim> {
  const iso = input.now.toISOString();
  try {
    const res = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: destinationKey(input),
        ConditionExpression: `attribute_not_exists(pk) OR #status = :failed${input.retakeSending ? ' OR #status = :sending' : ''}`,
        UpdateExpression:
          'SET #status = :sending, #runId = :runId, #reportId = :reportId, #key = :key, #claimedAt = :iso, ' +
          '#updatedAt = :iso, #definition = :definition, #day = :day, #destination = :destination, ' +
          '#attempts = if_not_exists(#attempts, :zero) + :one, #expiresAt = :ttl REMOVE #reason',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#runId': 'runId',
          '#reportId': 'reportId',
          '#key': 'idempotencyKey',
          '#claimedAt': 'claimedAt',
          '#updatedAt': 'updatedAt',
          '#definition': 'definition',
          '#day': 'day',
          '#destination': 'destination',
          '#attempts': 'attempts',
          '#expiresAt': 'expiresAt',
          '#reason': 'reason',
        },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':sending': 'sending',
          ':runId': input.runId,
          ':reportId': input.reportId,
          ':key': input.idempotencyKey,
          ':iso': iso,
          ':definition': input.definition,
          ':day': input.day,
          ':destination': input.destination,
          ':zero': 0,
          ':one': 1,
          ':ttl': expiresAfter(input.now, DESTINATION_TTL_DAYS),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = res.Attributes ? DestinationSendRecord.safeParse(res.Attributes) : undefined;
    return {
      claimed: true,
      attempts: (before?.success ? before.data.attempts : 0) + 1,
      previous: before?.success ? before.data.status : null,
    };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const record = await getDestinationSend(doc, table, input);
    if (!record)
      throw new StateConflictError(
        `claim of ${input.destination} for ${input.definition} ${input.day} raced with a delete; retry`,
      );
    return { claimed: false, record };
  }
}

export async function getDestinationSend(
  doc: DynamoDBDocumentClient,
  table: string,
  key: DestinationKey,
): Promise<DestinationSendRecord | undefined> {
  const res = await doc.send(
    new GetCommand({ TableName: table, Key: destinationKey(key), ConsistentRead: true }),
  );
  return res.Item ? DestinationSendRecord.parse(res.Item) : undefined;
}

/**
 * `sending` → `sent` or `failed` for the run that claimed it. false when the record moved
 * meanwhile (another run re-claimed it): that run records its own outcome.
 */
export function markDestination(
  doc: DynamoDBDocumentClient,
  table: string,
  update: DestinationKey & { runId: string; to: 'sent' | 'failed'; reason?: string; now: Date },
): Promise<boolean> {
  const move = statusMove(update.to, ['sending'], update.now, {
    reason: update.reason?.slice(0, 1000),
    postedAt: update.to === 'sent' ? update.now.toISOString() : undefined,
  });
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: destinationKey(update),
        ConditionExpression: `#runId = :runId AND ${move.statusIn}`,
        UpdateExpression: move.set,
        ExpressionAttributeNames: { ...move.names, '#runId': 'runId' },
        ExpressionAttributeValues: { ...move.values, ':runId': update.runId },
      }),
    ),
  );
}

/**
 * A Slack or Teams post left `sending` by a run that died: `unknown`, once (true for the call
 * that moved it, so only one logs and tells the owners).
 */
export function settleUnknown(
  doc: DynamoDBDocumentClient,
  table: string,
  update: DestinationKey & { reason: string; now: Date },
): Promise<boolean> {
  const move = statusMove('unknown', ['sending'], update.now, { reason: update.reason.slice(0, 1000) });
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: destinationKey(update),
        ConditionExpression: move.statusIn,
        UpdateExpression: move.set,
        ExpressionAttributeNames: move.names,
        ExpressionAttributeValues: move.values,
      }),
    ),
  );
}

/** true for the one call that may tell the owners about this destination's period. */
export function markDestinationAlerted(
  doc: DynamoDBDocumentClient,
  table: string,
  key: DestinationKey & { now: Date },
): Promise<boolean> {
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: destinationKey(key),
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#alertedAt)',
        UpdateExpression: 'SET #alertedAt = :iso',
        ExpressionAttributeNames: { '#alertedAt': 'alertedAt' },
        ExpressionAttributeValues: { ':iso': key.now.toISOString() },
      }),
    ),
  );
}
