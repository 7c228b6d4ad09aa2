/**
 * Run and report state in one DynamoDB table (pk/sk strings, GSI `byDate` on gsi1pk/gsi1sk,
 * TTL attribute `expiresAt`).
 *
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
 *
 * On-demand reports: one status record per report id, listed by the day they cover.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DAY_PATTERN, STATE_TABLE } from '../contract.js';
import { ReportsError } from '../errors/kinds.js';
import { awsErrorCode } from './aws-errors.js';

const DAY_SECONDS = 24 * 60 * 60;
/** Claims outlive every retry path (Lambda async: 6 h; scheduler: up to 24 h) by far. */
const DEFAULT_RUN_TTL_DAYS = 90;
const DEFAULT_REPORT_TTL_DAYS = 90;

export class StateConflictError extends ReportsError {
  override readonly kind = 'conflict';
  override name = 'StateConflictError';
}

/** A run tried to record progress on a claim it no longer holds (a stale twin, or a takeover). */
export class StaleRunError extends StateConflictError {
  override name = 'StaleRunError';
}

export class ReportExistsError extends StateConflictError {
  override name = 'ReportExistsError';
}

export class ReportNotFoundError extends ReportsError {
  override readonly kind = 'not-found';
  override name = 'ReportNotFoundError';
}

export class InvalidTransitionError extends StateConflictError {
  override name = 'InvalidTransitionError';
}

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

function isConditionFailure(err: unknown): err is ConditionalCheckFailedException {
  return (
    err instanceof ConditionalCheckFailedException || awsErrorCode(err) === 'ConditionalCheckFailedException'
  );
}

/**
 * The expression parts of a conditional status move shared by runs and reports:
 * `SET #status = :to, #updatedAt = :iso, <each defined field>` and `#status IN (<from>)`.
 */
function statusMove(
  to: string,
  from: readonly string[],
  now: Date,
  fields: Record<string, unknown>,
): { set: string; statusIn: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':to': to, ':iso': now.toISOString() };
  const sets = ['#status = :to', '#updatedAt = :iso'];
  for (const [i, [attr, value]] of Object.entries(fields).entries()) {
    if (value === undefined) continue;
    names[`#a${i}`] = attr;
    values[`:a${i}`] = value;
    sets.push(`#a${i} = :a${i}`);
  }
  from.forEach((s, i) => {
    values[`:from${i}`] = s;
  });
  const statusIn = `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`;
  return { set: `SET ${sets.join(', ')}`, statusIn, names, values };
}

// ---------------------------------------------------------------- scheduled runs

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
          ':ttl': nowS + (input.ttlDays ?? DEFAULT_RUN_TTL_DAYS) * DAY_SECONDS,
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

// ---------------------------------------------------------------- on-demand reports

export const ReportStatus = z.enum(['queued', 'running', 'complete', 'failed']);
export type ReportStatus = z.infer<typeof ReportStatus>;

export const ReportRecord = z.object({
  id: z.string().min(1),
  status: ReportStatus,
  /** The validated request as the API received it. */
  request: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  /** The first day the report covers (YYYY-MM-DD): what `GET /reports?date=` lists by. */
  date: z.string().regex(DAY_PATTERN),
  manifestKey: z.string().optional(),
  summary: z.record(z.string(), z.unknown()).optional(),
  error: z.string().optional(),
});
export type ReportRecord = z.infer<typeof ReportRecord>;

/** Which statuses may move to which: a finished report never changes again. */
export const REPORT_TRANSITIONS: Readonly<Record<ReportStatus, readonly ReportStatus[]>> = {
  queued: ['running', 'failed'],
  // running → running: a retried worker picks up a report its crashed predecessor started.
  running: ['running', 'complete', 'failed'],
  // failed → running: a retried worker after a failure recorded by the previous attempt.
  failed: ['running'],
  complete: [],
};

function reportKey(id: string) {
  return { pk: `REPORT#${id}`, sk: 'REPORT' };
}

function toRecord(item: Record<string, unknown>): ReportRecord {
  // Strip the table's own attributes (keys, index keys, TTL) before validating.
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _ttl, ...rest } = item;
  return ReportRecord.parse(rest);
}

export async function putReport(
  doc: DynamoDBDocumentClient,
  table: string,
  record: ReportRecord,
  { ttlDays = DEFAULT_REPORT_TTL_DAYS }: { ttlDays?: number } = {},
): Promise<void> {
  const valid = ReportRecord.parse(record);
  const created = new Date(valid.createdAt);
  if (Number.isNaN(created.getTime()))
    throw new TypeError(`createdAt ${valid.createdAt} is not an ISO instant`);
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...reportKey(valid.id),
          gsi1pk: `DATE#${valid.date}`,
          gsi1sk: `${valid.createdAt}#${valid.id}`,
          expiresAt: epochSeconds(created) + ttlDays * DAY_SECONDS,
          ...valid,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (isConditionFailure(err))
      throw new ReportExistsError(`report ${valid.id} already exists`, { cause: err });
    throw err;
  }
}

export async function getReport(
  doc: DynamoDBDocumentClient,
  table: string,
  id: string,
): Promise<ReportRecord | undefined> {
  const res = await doc.send(new GetCommand({ TableName: table, Key: reportKey(id), ConsistentRead: true }));
  return res.Item ? toRecord(res.Item) : undefined;
}

/** The reports whose window starts on `date`, oldest first. */
export async function listReportsByDate(
  doc: DynamoDBDocumentClient,
  table: string,
  date: string,
  { limit = 1000 }: { limit?: number } = {},
): Promise<ReportRecord[]> {
  const out: ReportRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({
        TableName: table,
        IndexName: STATE_TABLE.byDateIndex,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `DATE#${date}` },
        ExclusiveStartKey: startKey,
        Limit: Math.min(limit - out.length, 1000),
      }),
    );
    for (const item of res.Items ?? []) out.push(toRecord(item));
    startKey = res.LastEvaluatedKey;
  } while (startKey && out.length < limit);
  return out;
}

export interface ReportStatusUpdate {
  status: ReportStatus;
  manifestKey?: string;
  summary?: Record<string, unknown>;
  error?: string;
  now?: Date;
}

/** Moves a report to `status` if its current status allows it; returns the updated record. */
export async function updateReportStatus(
  doc: DynamoDBDocumentClient,
  table: string,
  id: string,
  update: ReportStatusUpdate,
): Promise<ReportRecord> {
  const allowedFrom = (Object.keys(REPORT_TRANSITIONS) as ReportStatus[]).filter((from) =>
    REPORT_TRANSITIONS[from].includes(update.status),
  );
  const move = statusMove(update.status, allowedFrom, update.now ?? new Date(), {
    manifestKey: update.manifestKey,
    summary: update.summary,
    error: update.error?.slice(0, 2000),
  });
  // A report picked up again must not show the previous attempt's error.
  const removes = update.status === 'running' && update.error === undefined ? ' REMOVE #error' : '';
  if (removes) move.names['#error'] = 'error';
  const refuse = async (cause?: unknown): Promise<never> => {
    const current = await getReport(doc, table, id);
    if (!current) throw new ReportNotFoundError(`report ${id} does not exist`, { cause });
    throw new InvalidTransitionError(`report ${id} is ${current.status}; it cannot become ${update.status}`, {
      cause,
    });
  };
  // Nothing moves back to `queued`.
  if (allowedFrom.length === 0) return refuse();
  try {
    const res = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: reportKey(id),
        ConditionExpression: `attribute_exists(pk) AND ${move.statusIn}`,
        UpdateExpression: `${move.set}${removes}`,
        ExpressionAttributeNames: move.names,
        ExpressionAttributeValues: move.values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord(res.Attributes ?? {});
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    return refuse(err);
  }
}
