/**
 * Which run day a send id belongs to. SES's events carry the id the mail was tagged with, not
 * the day; this small item, written before the mail goes to SES, lets an event find its run.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { expiresAfter } from './shared.js';

const SEND_TTL_DAYS = 90;

export const SendRecord = z.object({
  sendId: z.string(),
  definition: z.string(),
  day: z.string(),
  reportId: z.string(),
  recipients: z.array(z.string()),
  createdAt: z.string(),
  /** A re-send on request: its outcome is recorded in the log only, never on the day's claim. */
  resend: z.boolean().optional(),
  /** Whose delivery log the send's events go to, when not its own claim's (a re-send logs to its report's day). */
  log: z.object({ definition: z.string(), day: z.string() }).optional(),
});
export type SendRecord = z.infer<typeof SendRecord>;

const sendKey = (sendId: string) => ({ pk: `SEND#${sendId}`, sk: 'SEND' });

export async function putSend(doc: DynamoDBDocumentClient, table: string, record: SendRecord): Promise<void> {
  const valid = SendRecord.parse(record);
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        ...sendKey(valid.sendId),
        expiresAt: expiresAfter(new Date(valid.createdAt), SEND_TTL_DAYS),
        ...valid,
      },
    }),
  );
}

export async function getSend(
  doc: DynamoDBDocumentClient,
  table: string,
  sendId: string,
): Promise<SendRecord | undefined> {
  const res = await doc.send(
    new GetCommand({ TableName: table, Key: sendKey(sendId), ConsistentRead: true }),
  );
  const parsed = res.Item ? SendRecord.safeParse(res.Item) : undefined;
  return parsed?.success ? parsed.data : undefined;
}
