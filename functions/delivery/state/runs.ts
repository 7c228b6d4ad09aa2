/**
 * Scheduled runs: "exactly one mail per report day, or the owners know". A run claims
 * (definition, day) with a conditional write before any work; duplicates, concurrent twins and
 * retries after success are refused, a retry after a failure (or after a crashed run's lease ran
 * out) takes over. A live run renews its lease (heartbeat), so a crashed or timed-out one is
 * visible within a lease, not after Lambda's 15-minute maximum.
 *
 *   (none) ──claim──▶ running ──markMailSending──▶ sending ──markMailSent / resolveSend──▶ sent
 *                       │  ▲                          │
 *                       │  │                          ├──markRun failed (SES refused: not sent)
 *                       │  └──claim (lease expired)   └──markSendUnknown (no answer) ─▶ unknown
 *                       ├──markRun done (no mail due) ─▶ done                            │
 *                       └──markRun failed ───────────▶ failed ──claim──▶ running          │
 *                                                                  resolveSend (SES event) ┘
 *
 * A send whose outcome is unknown (a timeout, a reset, a 5xx after the request left, a run that
 * died while `sending`) is never repeated blindly: SES's own events resolve it to `sent` (via the
 * send id the mail is tagged with), and the sweeper alerts the owners when none arrives in time.
 * Records that still need someone's attention carry the sparse `open` index keys, so the sweeper
 * reads only those; `markAlerted` lets exactly one alert go out per run day.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { STATE_TABLE } from '../../contract.js';
import {
  applied,
  epochSeconds,
  expiresAfter,
  isConditionFailure,
  StateConflictError,
  statusMove,
} from './shared.js';

/** Claims outlive every retry path (Lambda async: 6 h; scheduler: up to 24 h) by far. */
const DEFAULT_RUN_TTL_DAYS = 90;

/** A run tried to record progress on a claim it no longer holds (a stale twin, or a takeover). */
export class StaleRunError extends StateConflictError {
  override name = 'StaleRunError';
}

export const RunStatus = z.enum(['running', 'sending', 'sent', 'done', 'failed', 'unknown']);
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
  /** Tags the mail this run handed to SES, so SES's events find their run. */
  sendId: z.string().optional(),
  /** When the owners were told this day needs them (at most once). */
  alertedAt: z.string().optional(),
  /** Redos the sweeper started for this day (recordRedo). */
  sweeperRedos: z.number().optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

function runKey(definition: string, day: string) {
  return { pk: `RUN#${definition}`, sk: `DAY#${day}` };
}

/** Statuses after which nothing is left to do: the record leaves the `open` index. */
const SETTLED: readonly RunStatus[] = ['sent', 'done'];
const OPEN = 'OPEN';
const openSortKey = (definition: string, day: string) => `${definition}#${day}`;
const openIndexValues = (definition: string, day: string) => ({
  ':open': OPEN,
  ':openSk': openSortKey(definition, day),
});

/** The attributes a claim (or the sweeper's record of a day nobody claimed) writes. */
const RECORD_NAMES = {
  '#status': 'status',
  '#runId': 'runId',
  '#lease': 'leaseExpiresAt',
  '#claimedAt': 'claimedAt',
  '#updatedAt': 'updatedAt',
  '#definition': 'definition',
  '#day': 'day',
  '#attempts': 'attempts',
  '#expiresAt': 'expiresAt',
  '#openPk': STATE_TABLE.openIndexPartitionKey,
  '#openSk': STATE_TABLE.openIndexSortKey,
};

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
          '#expiresAt = :ttl, #openPk = :open, #openSk = :openSk REMOVE #reason, #alertedAt',
        ExpressionAttributeNames: { ...RECORD_NAMES, '#reason': 'reason', '#alertedAt': 'alertedAt' },
        ExpressionAttributeValues: {
          ...openIndexValues(input.definition, input.day),
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
  step: {
    to: RunStatus;
    from: readonly RunStatus[];
    set?: Record<string, string | number | undefined>;
    /** Only while this run's lease has not run out (a run the sweeper may be failing must not go on). */
    leaseLive?: boolean;
    /** Only once this run's lease has run out (the sweeper failing a run that stopped renewing). */
    leaseOver?: boolean;
  },
): Promise<void> {
  const now = update.now ?? new Date();
  const move = statusMove(step.to, step.from, now, step.set ?? {});
  const lease = step.leaseLive ? ' AND #lease >= :nowS' : step.leaseOver ? ' AND #lease < :nowS' : '';
  if (lease) {
    move.names['#lease'] = 'leaseExpiresAt';
    move.values[':nowS'] = epochSeconds(now);
  }
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(update.definition, update.day),
        ConditionExpression: `#runId = :runId AND ${move.statusIn}${lease}`,
        UpdateExpression: SETTLED.includes(step.to) ? `${move.set} ${LEAVE_OPEN_INDEX}` : move.set,
        ExpressionAttributeNames: {
          ...move.names,
          '#runId': 'runId',
          ...(SETTLED.includes(step.to) ? OPEN_INDEX_NAMES : {}),
        },
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

const LEAVE_OPEN_INDEX = 'REMOVE #openPk, #openSk';
const OPEN_INDEX_NAMES = {
  '#openPk': STATE_TABLE.openIndexPartitionKey,
  '#openSk': STATE_TABLE.openIndexSortKey,
};

/**
 * Records, before the SES call, that this run is about to send. From here on no other run
 * will send this day's mail (see the module comment for the one unclosable window).
 */
export function markMailSending(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { reportId?: string; sendId?: string },
): Promise<void> {
  return advanceRun(doc, table, update, {
    to: 'sending',
    from: ['running'],
    set: { reportId: update.reportId, sendId: update.sendId },
    // A run whose lease ran out may be failed and redone by the sweeper at any moment: it must not
    // hand a mail to SES (the redo would send a second one). It stops, superseded.
    leaseLive: true,
  });
}

/**
 * The sweeper's verdict on a run that stopped renewing its lease: `failed`, only if it is still
 * `running` under the same run id and its lease has run out. A run that moved on meanwhile (to
 * `sending`, or renewed) is left alone: StaleRunError.
 */
export function failStoppedRun(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { reason: string },
): Promise<void> {
  return advanceRun(doc, table, update, {
    to: 'failed',
    from: ['running'],
    set: { reason: update.reason.slice(0, 1000) },
    leaseOver: true,
  });
}

/**
 * Counts a redo the sweeper started for a day, creating the day's record (as `failed`, no
 * attempt yet) when no run ever claimed it: a day whose every attempt dies before its claim still
 * counts towards the owners' alert instead of being redone silently forever. Returns the count.
 */
export async function recordRedo(
  doc: DynamoDBDocumentClient,
  table: string,
  input: { definition: string; day: string; now: Date },
): Promise<number> {
  const iso = input.now.toISOString();
  const res = await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: runKey(input.definition, input.day),
      UpdateExpression:
        'SET #status = if_not_exists(#status, :failed), #runId = if_not_exists(#runId, :none), ' +
        '#lease = if_not_exists(#lease, :zero), #claimedAt = if_not_exists(#claimedAt, :iso), #updatedAt = :iso, ' +
        '#definition = :definition, #day = :day, #attempts = if_not_exists(#attempts, :zero), ' +
        '#openPk = :open, #openSk = :openSk, #expiresAt = if_not_exists(#expiresAt, :ttl) ADD #redos :one',
      ExpressionAttributeNames: { ...RECORD_NAMES, '#redos': 'sweeperRedos' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':none': 'none',
        ':zero': 0,
        ':one': 1,
        ':iso': iso,
        ':definition': input.definition,
        ':day': input.day,
        ...openIndexValues(input.definition, input.day),
        ':ttl': expiresAfter(input.now, DEFAULT_RUN_TTL_DAYS),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Number(res.Attributes?.sweeperRedos ?? 1);
}

/**
 * SES gave no answer (timeout, reset, 5xx): the mail may or may not have been accepted. Not
 * retried by anyone; SES's events or the sweeper settle it.
 */
export function markSendUnknown(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { reason: string },
): Promise<void> {
  return advanceRun(doc, table, update, {
    to: 'unknown',
    from: ['sending'],
    set: { reason: update.reason.slice(0, 1000) },
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

/** Keeps a live run's claim: the lease moves to `now + leaseSeconds` while it runs or sends. */
export async function renewLease(
  doc: DynamoDBDocumentClient,
  table: string,
  update: RunUpdate & { leaseSeconds: number },
): Promise<boolean> {
  const now = update.now ?? new Date();
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(update.definition, update.day),
        ConditionExpression: '#runId = :runId AND #status IN (:running, :sending)',
        UpdateExpression: 'SET #lease = :lease',
        ExpressionAttributeNames: { '#runId': 'runId', '#status': 'status', '#lease': 'leaseExpiresAt' },
        ExpressionAttributeValues: {
          ':runId': update.runId,
          ':running': 'running',
          ':sending': 'sending',
          ':lease': epochSeconds(now) + update.leaseSeconds,
        },
      }),
    ),
  );
}

/**
 * SES's event for the mail tagged `sendId` arrived: the send happened. Settles a run that was
 * `sending` (it died before recording) or `unknown` (no answer); a run already `sent` is left
 * alone. Returns false when no run of that day carries this send id in one of those states.
 */
export async function resolveSend(
  doc: DynamoDBDocumentClient,
  table: string,
  input: { definition: string; day: string; sendId: string; messageId: string; now?: Date },
): Promise<boolean> {
  const now = input.now ?? new Date();
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(input.definition, input.day),
        ConditionExpression: '#sendId = :sendId AND #status IN (:sending, :unknown)',
        UpdateExpression: `SET #status = :sent, #updatedAt = :iso, #messageId = :messageId, #sentAt = :iso ${LEAVE_OPEN_INDEX}`,
        ExpressionAttributeNames: {
          '#sendId': 'sendId',
          '#status': 'status',
          '#updatedAt': 'updatedAt',
          '#messageId': 'mailMessageId',
          '#sentAt': 'mailSentAt',
          ...OPEN_INDEX_NAMES,
        },
        ExpressionAttributeValues: {
          ':sendId': input.sendId,
          ':sending': 'sending',
          ':unknown': 'unknown',
          ':sent': 'sent',
          ':iso': now.toISOString(),
          ':messageId': input.messageId,
        },
      }),
    ),
  );
}

/**
 * Marks that the owners were told about this day. Only the first caller wins (true), so a day
 * gets one alert however many sweeps or attempts see it; it then leaves the `open` index.
 */
export async function markAlerted(
  doc: DynamoDBDocumentClient,
  table: string,
  input: { definition: string; day: string; reason: string; now?: Date },
): Promise<boolean> {
  const now = input.now ?? new Date();
  return applied(
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: runKey(input.definition, input.day),
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#alertedAt)',
        UpdateExpression: `SET #alertedAt = :iso, #updatedAt = :iso, #reason = :reason ${LEAVE_OPEN_INDEX}`,
        ExpressionAttributeNames: {
          '#alertedAt': 'alertedAt',
          '#updatedAt': 'updatedAt',
          '#reason': 'reason',
          ...OPEN_INDEX_NAMES,
        },
        ExpressionAttributeValues: { ':iso': now.toISOString(), ':reason': input.reason.slice(0, 1000) },
      }),
    ),
  );
}

/**
 * The runs that still need someone: running (is it alive?), sending or unknown (did SES take
 * it?), failed (will it be retried?). Settled and alerted runs are not in the index.
 */
export async function listOpenRuns(doc: DynamoDBDocumentClient, table: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({
        TableName: table,
        IndexName: STATE_TABLE.openIndex,
        KeyConditionExpression: '#pk = :open',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.openIndexPartitionKey },
        ExpressionAttributeValues: { ':open': OPEN },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of res.Items ?? []) {
      const parsed = RunRecord.safeParse(item);
      if (parsed.success) out.push(parsed.data);
    }
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return out;
}

/** How many of `open` a live run of `definition` holds now: running or sending, lease not run out. */
export function countLiveRuns(open: readonly RunRecord[], definition: string, now: Date): number {
  const nowS = epochSeconds(now);
  return open.filter(
    (r) =>
      r.definition === definition &&
      (r.status === 'running' || r.status === 'sending') &&
      r.leaseExpiresAt >= nowS,
  ).length;
}
