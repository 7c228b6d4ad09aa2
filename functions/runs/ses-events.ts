/**
 * SES's events for our mails (published by the configuration set to EventBridge): each goes in
 * the delivery log of its run day, and a Send or Delivery event settles a send whose outcome was
 * unknown (the run marked it `unknown`, or died while `sending`) as `sent`. This is how a mail
 * SES accepted, but whose answer was lost, is counted once and never sent again.
 *
 * An event finds its run by the send id the mail was tagged with (SES copies message tags into
 * every event); the X-Report-Send-Id header is the fallback when tags are missing.
 */
import { z } from 'zod';
import { SEND_ID_HEADER, SEND_ID_TAG } from '../contract.js';
import { getSend, resolveSend } from '../delivery/state/index.js';
import type { RunDeps } from './deps.js';
import { logEntry } from './log.js';

const SesMail = z.object({
  messageId: z.string(),
  timestamp: z.string().optional(),
  destination: z.array(z.string()).default([]),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

/** The event record SES publishes (EventBridge puts it in `detail`). */
export const SesEventRecord = z.object({
  eventType: z.string(),
  mail: SesMail,
  bounce: z
    .object({
      bounceType: z.string().optional(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(z.object({ emailAddress: z.string() })).default([]),
    })
    .optional(),
  complaint: z
    .object({ complainedRecipients: z.array(z.object({ emailAddress: z.string() })).default([]) })
    .optional(),
  delivery: z.object({ recipients: z.array(z.string()).default([]) }).optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
  deliveryDelay: z.object({ delayType: z.string().optional() }).optional(),
});
export type SesEventRecord = z.infer<typeof SesEventRecord>;

export const SesEventBridgeEvent = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.string(),
  detail: SesEventRecord,
});
export type SesEventBridgeEvent = z.infer<typeof SesEventBridgeEvent>;

export type SesEventOutcome =
  | { status: 'ignored'; reason: string }
  | { status: 'logged'; sendId: string; event: string; settled: boolean };

/** Event types that prove SES took the mail. */
const PROOF_OF_SEND = new Set(['Send', 'Delivery', 'DeliveryDelay', 'Bounce', 'Complaint', 'Open', 'Click']);

function sendIdOf(mail: z.infer<typeof SesMail>): string | undefined {
  const tagged = mail.tags?.[SEND_ID_TAG]?.[0];
  if (tagged) return tagged;
  const header = mail.headers?.find((h) => h.name.toLowerCase() === SEND_ID_HEADER.toLowerCase());
  return header?.value.trim() || undefined;
}

function whoAndWhy(record: SesEventRecord): { recipients: string[]; detail?: string } {
  if (record.bounce) {
    return {
      recipients: record.bounce.bouncedRecipients.map((r) => r.emailAddress),
      detail: [record.bounce.bounceType, record.bounce.bounceSubType].filter(Boolean).join(' / '),
    };
  }
  if (record.complaint)
    return { recipients: record.complaint.complainedRecipients.map((r) => r.emailAddress) };
  if (record.delivery) return { recipients: record.delivery.recipients };
  if (record.reject?.reason) return { recipients: record.mail.destination, detail: record.reject.reason };
  if (record.deliveryDelay?.delayType)
    return { recipients: record.mail.destination, detail: record.deliveryDelay.delayType };
  return { recipients: record.mail.destination };
}

export async function recordSesEvent(
  deps: Pick<RunDeps, 'doc' | 'config' | 'logger' | 'now'>,
  record: SesEventRecord,
): Promise<SesEventOutcome> {
  const sendId = sendIdOf(record.mail);
  if (!sendId) return { status: 'ignored', reason: 'not one of our report mails (no send id)' };
  const send = await getSend(deps.doc, deps.config.STATE_TABLE, sendId);
  if (!send)
    return { status: 'ignored', reason: `send ${sendId} is unknown here (expired, or another stack's)` };
  const target = { definition: send.definition, day: send.day };
  const logTarget = send.log ?? target;
  const { recipients, detail } = whoAndWhy(record);
  await logEntry(deps, logTarget, {
    type: 'event',
    event: record.eventType,
    reportId: send.reportId,
    sendId,
    messageId: record.mail.messageId,
    recipients,
    ...(detail ? { detail } : {}),
  });
  let settled = false;
  if (PROOF_OF_SEND.has(record.eventType)) {
    settled = await resolveSend(deps.doc, deps.config.STATE_TABLE, {
      ...target,
      sendId,
      messageId: record.mail.messageId,
      now: deps.now(),
    });
    if (settled) {
      deps.logger.info('an SES event settled a send whose outcome was unknown', { ...target, sendId });
      await logEntry(deps, logTarget, {
        type: 'sent',
        reportId: send.reportId,
        sendId,
        messageId: record.mail.messageId,
        recipients: send.recipients,
        detail: `settled by SES's ${record.eventType} event`,
      });
    }
  }
  return { status: 'logged', sendId, event: record.eventType, settled };
}
