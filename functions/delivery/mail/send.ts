/**
 * Sends a rendered mail through SES v2 as a raw MIME message (multipart/alternative text + HTML,
 * plus attachments), after the two checks that keep the reports from going anywhere they
 * should not: every recipient in an allowed domain, and at most SES's 50 per message.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import MailComposer from 'nodemailer/lib/mail-composer';
import { disallowedRecipients, MAX_RECIPIENTS } from '../../contract.js';
import { ReportsError } from '../../errors/kinds.js';
import type { RenderedMail } from './html.js';
import type { AttachmentDecision } from './report-mail.js';

export class DisallowedRecipientsError extends ReportsError {
  override readonly kind = 'config';
  override name = 'DisallowedRecipientsError';
  constructor(readonly addresses: string[]) {
    super(
      `Refusing to mail ${addresses.join(', ')}: not in an allowed recipient domain. ` +
        'Add the domain to ALLOWED_RECIPIENT_DOMAINS or remove the address.',
    );
  }
}

/** SES answered and refused the mail (a 4xx): it was not sent, so sending again is safe. */
export class MailRefusedError extends ReportsError {
  override readonly kind = 'mail';
  override name = 'MailRefusedError';
}

/**
 * SES gave no answer that says whether it took the mail (a timeout, a reset, a 5xx after the
 * request left). The mail may have been sent: never send it again on this basis alone.
 */
export class MailOutcomeUnknownError extends ReportsError {
  override readonly kind = 'mail';
  override name = 'MailOutcomeUnknownError';
}

/** True when SES answered with a client-side refusal: the request was read and declined. */
export function isDefiniteRefusal(err: unknown): boolean {
  const e = err as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'client' && typeof status === 'number' && status >= 400 && status < 500;
}

export class TooManyRecipientsError extends ReportsError {
  override readonly kind = 'config';
  override name = 'TooManyRecipientsError';
  constructor(readonly count: number) {
    super(`${count} recipients for one mail; SES allows at most ${MAX_RECIPIENTS} per message.`);
  }
}

export class NoRecipientsError extends ReportsError {
  override readonly kind = 'config';
  override name = 'NoRecipientsError';
  constructor() {
    super('A mail needs at least one recipient.');
  }
}

/**
 * Returns the de-duplicated recipients, or throws naming every address outside the allowlist.
 * Refusing the whole mail (rather than dropping the bad ones) makes a typo or an attempted relay
 * visible instead of silently mailing a subset.
 */
export function checkRecipients(addresses: readonly string[], allowedDomains: readonly string[]): string[] {
  const unique = [...new Map(addresses.map((a) => [a.trim().toLowerCase(), a.trim()])).values()];
  if (unique.length === 0) throw new NoRecipientsError();
  const bad = disallowedRecipients(unique, allowedDomains);
  if (bad.length > 0) throw new DisallowedRecipientsError(bad);
  if (unique.length > MAX_RECIPIENTS) throw new TooManyRecipientsError(unique.length);
  return unique;
}

/**
 * Size of `bytes` once base64-encoded in a MIME part: 4 characters per 3 bytes, plus CRLF after
 * every 76 characters. Part headers add a few hundred bytes per file; the budget is kept well
 * under the SES limit so that does not matter.
 */
export function base64MimeSize(bytes: number): number {
  const chars = Math.ceil(bytes / 3) * 4;
  return chars + 2 * Math.ceil(chars / 76);
}

/** Attach every file, or none: a mail with some of the files attached is harder to explain. */
export function decideAttachments(fileBytes: readonly number[], budgetBytes: number): AttachmentDecision {
  const encodedBytes = fileBytes.reduce((sum, b) => sum + base64MimeSize(b), 0);
  return {
    mode: fileBytes.length > 0 && encodedBytes <= budgetBytes ? 'attached' : 'links-only',
    encodedBytes,
    budgetBytes,
  };
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface SendMailInput {
  ses: SESv2Client;
  from: string;
  to: readonly string[];
  allowedDomains: readonly string[];
  mail: RenderedMail;
  attachments?: readonly MailAttachment[];
  configurationSet?: string | undefined;
  /** Extra headers, e.g. an id tying the mail to a report run. */
  headers?: Record<string, string>;
  /** SES message tags (`EmailTags`): SES copies them into every event it publishes for the mail. */
  tags?: Record<string, string>;
}

/** The raw MIME message: text and HTML alternatives, then the attachments, base64-encoded. */
async function buildMime(input: Omit<SendMailInput, 'ses' | 'allowedDomains'>): Promise<Buffer> {
  const composer = new MailComposer({
    from: input.from,
    to: [...input.to],
    subject: input.mail.subject,
    text: input.mail.text,
    html: input.mail.html,
    headers: input.headers ?? {},
    attachments: (input.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      contentTransferEncoding: 'base64',
    })),
    // Content is always given in memory; never let a value be read as a file path or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

/**
 * Checks the recipients, sends once, and returns the SES MessageId. A failure says which side
 * of the request it happened on: before it left (recipients, MIME: nothing sent), refused by
 * SES (`MailRefusedError`: nothing sent), or unanswered (`MailOutcomeUnknownError`: maybe sent).
 */
export async function sendMail(input: SendMailInput): Promise<string> {
  const to = checkRecipients(input.to, input.allowedDomains);
  const raw = await buildMime({ ...input, to });
  const tags = Object.entries(input.tags ?? {}).map(([Name, Value]) => ({ Name, Value }));
  let messageId: string | undefined;
  try {
    const result = await input.ses.send(
      new SendEmailCommand({
        FromEmailAddress: input.from,
        Destination: { ToAddresses: to },
        Content: { Raw: { Data: raw } },
        ...(input.configurationSet ? { ConfigurationSetName: input.configurationSet } : {}),
        ...(tags.length > 0 ? { EmailTags: tags } : {}),
      }),
    );
    messageId = result.MessageId;
  } catch (err) {
    const name = (err as Error).name ?? 'Error';
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const what = `${name}${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message ?? String(err)}`;
    if (isDefiniteRefusal(err)) throw new MailRefusedError(`SES refused the mail: ${what}`);
    throw new MailOutcomeUnknownError(`SES did not say whether it took the mail: ${what}`);
  }
  // Accepted (2xx) without an id: it was sent; the id is only for the log.
  return messageId ?? 'unknown-message-id';
}
