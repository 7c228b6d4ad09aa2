/**
 * The delivery log: every run attempt and every message of a report day, as it happened, kept
 * beside the claim (same table) and read back by `GET /reports/{id}` and the CLI. People ask
 * report tools for exactly this when a report "showed as sent" and never arrived.
 *
 * One item per entry under `LOG#<definition>#<day>`, sorted by time; entries expire with the
 * run records. Appending is best effort for the caller's flow (a log write that fails must not
 * turn a delivered mail into a failed run), so callers log and go on.
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { expiresAfter } from './shared.js';

const LOG_TTL_DAYS = 90;

export const LogEntryType = z.enum([
  /** A run claimed the day (attempt n), or found it taken. */
  'claimed',
  'skipped',
  /** The report's files were stored. */
  'produced',
  /** A mail was handed to SES: recipients, send id; then its outcome. */
  'send',
  'sent',
  'send-refused',
  'send-unknown',
  /** An SES event for one of the day's mails: delivery, bounce, complaint, reject… */
  'event',
  /** The run failed (reason), the sweeper redid it, or the owners were alerted. */
  'failed',
  'redo',
  'alert',
  /** A stored report mailed again on request. */
  'resend',
  'skipped-condition',
  /** A chat or webhook destination (named in `destination`): posting, posted, refused or failed, unknown. */
  'destination-send',
  'destination-sent',
  'destination-failed',
  'destination-unknown',
]);
export type LogEntryType = z.infer<typeof LogEntryType>;

export const LogEntry = z.object({
  at: z.string(),
  type: LogEntryType,
  reportId: z.string().optional(),
  runId: z.string().optional(),
  attempt: z.number().optional(),
  recipients: z.array(z.string()).optional(),
  sendId: z.string().optional(),
  messageId: z.string().optional(),
  /** For events: SES's event type (Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay…). */
  event: z.string().optional(),
  detail: z.string().optional(),
  /** For destination entries: the destination's name (never its URL). */
  destination: z.string().optional(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export interface LogTarget {
  definition: string;
  day: string;
}

const logPk = (t: LogTarget) => `LOG#${t.definition}#${t.day}`;

export async function appendLog(
  doc: DynamoDBDocumentClient,
  table: string,
  target: LogTarget,
  entry: Omit<LogEntry, 'at'> & { at: Date },
): Promise<void> {
  const item = LogEntry.parse({ ...entry, at: entry.at.toISOString() });
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: logPk(target),
        // Time first so a query reads in order; a random tail keeps same-millisecond entries apart.
        sk: `${item.at}#${randomBytes(4).toString('hex')}`,
        expiresAt: expiresAfter(entry.at, LOG_TTL_DAYS),
        ...item,
      },
    }),
  );
}

/** The day's entries, oldest first. */
export async function readLog(
  doc: DynamoDBDocumentClient,
  table: string,
  target: LogTarget,
): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': logPk(target) },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of res.Items ?? []) {
      const parsed = LogEntry.safeParse(item);
      if (parsed.success) out.push(parsed.data);
    }
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return out;
}
