/**
 * A fanned-out report's shared AIMD (verifik/read/shared-backoff.ts) as one item beside the
 * report's record: `{ pk: REPORT#<id>, sk: BACKOFF, epoch, level, pauseUntil, ceiling, caution, held }`.
 * A write is a PutItem conditional on the epoch the writer saw (compare-and-set); a read is an
 * eventually consistent GetItem (half the cost of a strong one; its lag of well under a second is
 * inside the poll period, and a stale read is never adopted over a newer state).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BackoffBoard, BoardState } from '../../verifik/read/shared-backoff.js';
import { expiresAfter, isConditionFailure } from './shared.js';

const key = (reportId: string) => ({ pk: `REPORT#${reportId}`, sk: 'BACKOFF' });

export class DynamoBackoffBoard implements BackoffBoard {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reportId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<BoardState | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: key(this.reportId) }));
    const i = out.Item;
    if (!i) return null;
    return {
      epoch: Number(i.epoch),
      level: Number(i.level),
      pauseUntil: Number(i.pauseUntil),
      ceiling: i.ceiling === undefined || i.ceiling === null ? null : Number(i.ceiling),
      caution: Number(i.caution),
      held: Number(i.held ?? 0),
    };
  }

  async swap(epoch: number, next: BoardState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...key(this.reportId),
            ...next,
            // Gone a day after the last change: a report's slices all finish well inside it.
            expiresAt: expiresAfter(this.now(), 1),
          },
          // Epoch 0 is the board nobody has written yet.
          ConditionExpression: epoch === 0 ? 'attribute_not_exists(pk)' : '#epoch = :epoch',
          ...(epoch === 0
            ? {}
            : {
                ExpressionAttributeNames: { '#epoch': 'epoch' },
                ExpressionAttributeValues: { ':epoch': epoch },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
