/**
 * On-demand reports: one status record per report id, listed by the day they cover (GSI
 * `byDate` on gsi1pk/gsi1sk).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DAY_PATTERN, STATE_TABLE } from '../../contract.js';
import { ReportsError } from '../../errors/kinds.js';
import { expiresAfter, isConditionFailure, StateConflictError, statusMove } from './shared.js';

const DEFAULT_REPORT_TTL_DAYS = 90;

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
  /** A long report fanned out (functions/fanout/): its slices done so far and in all. */
  slices: z.object({ done: z.number().int().nonnegative(), total: z.number().int().positive() }).optional(),
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
          expiresAt: expiresAfter(created, ttlDays),
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

/**
 * A fanned-out report's progress: `total` once when it is planned (done reset to 0), then one
 * more done per finished slice (an atomic ADD, so slices finishing together all count). A retried
 * slice counts once: only its successful attempt records. The record must exist.
 */
export async function recordSliceProgress(
  doc: DynamoDBDocumentClient,
  table: string,
  id: string,
  progress: { total: number } | { done: 1 },
): Promise<void> {
  const set = 'total' in progress;
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: reportKey(id),
      ConditionExpression: 'attribute_exists(pk)',
      UpdateExpression: set ? 'SET #s = :s' : 'ADD #s.#d :one',
      ExpressionAttributeNames: set ? { '#s': 'slices' } : { '#s': 'slices', '#d': 'done' },
      ExpressionAttributeValues: set ? { ':s': { done: 0, total: progress.total } } : { ':one': 1 },
    }),
  );
}
