/**
 * Backfill days waiting for their turn: a backfill starts a few days at once and queues the rest
 * here; the sweeper starts them as earlier ones finish, so a 93-day backfill never has more than
 * a few runs reading Verifik at the same time.
 */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { applied, expiresAfter } from './shared.js';

const QUEUE_TTL_DAYS = 14;

export interface QueuedDay {
  definition: string;
  day: string;
  /** A forced backfill's request key. */
  force?: string;
}

const queuePk = (definition: string) => `BACKFILL#${definition}`;
const queueSk = (q: QueuedDay) => `${q.day}~${q.force ?? ''}`;

export async function enqueueDay(
  doc: DynamoDBDocumentClient,
  table: string,
  q: QueuedDay,
  now: Date,
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: queuePk(q.definition),
        sk: queueSk(q),
        definition: q.definition,
        day: q.day,
        ...(q.force ? { force: q.force } : {}),
        expiresAt: expiresAfter(now, QUEUE_TTL_DAYS),
      },
    }),
  );
}

/** The oldest queued days of a definition (by day), at most `limit`. */
export async function queuedDays(
  doc: DynamoDBDocumentClient,
  table: string,
  definition: string,
  limit: number,
): Promise<QueuedDay[]> {
  const res = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': queuePk(definition) },
      Limit: limit,
    }),
  );
  return (res.Items ?? []).map((i) => ({
    definition: String(i.definition),
    day: String(i.day),
    ...(typeof i.force === 'string' ? { force: i.force } : {}),
  }));
}

/** Takes a day off the queue; false when another sweep took it first. */
export function dequeueDay(doc: DynamoDBDocumentClient, table: string, q: QueuedDay): Promise<boolean> {
  return applied(
    doc.send(
      new DeleteCommand({
        TableName: table,
        Key: { pk: queuePk(q.definition), sk: queueSk(q) },
        ConditionExpression: 'attribute_exists(pk)',
      }),
    ),
  );
}
