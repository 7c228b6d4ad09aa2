/**
 * Report mails, one path for every sender: the scheduled and on-demand runs and the CLI's
 * `--mail-to` compose with `composeReportMessage` and send with `sendReportMessage`, so they
 * attach, name and tag a report the same way. Only the links differ: runs sign links to the API,
 * the CLI presigns S3 URLs (it has no API).
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { REPORT_ID_HEADER } from '../contract.js';
import { downloadName } from '../core/naming.js';
import type { ReportRequest, ReportResult } from '../core/request.js';
import type { MailLink } from '../delivery/mail/index.js';
import { type ComposedReportMail, composeReportMail, sendMail } from '../delivery/mail/index.js';
import { markMailSent } from '../delivery/state/index.js';
import type { HeldRun } from './claim.js';
import type { RunDeps } from './deps.js';
import { fileKey, readStoredFile, signLinks } from './files.js';
import type { Produced } from './produce.js';

export type ComposedMail = Pick<ComposedReportMail, 'mail' | 'attachments'>;

/** Who sends, and the rules every report mail is sent under. */
export interface MailSender {
  ses: SESv2Client;
  from: string;
  allowedDomains: readonly string[];
  configurationSet?: string | undefined;
}

export interface ReportMessageInput {
  /** What the subject calls the report: the definition name, or "on-demand". */
  label: string;
  request: ReportRequest;
  result: ReportResult;
  links: MailLink[];
  linksExpireAt: Date;
  /** Base64-encoded size all attachments together may take. */
  budgetBytes: number;
  /** The stored bytes of a report file (checked against the manifest before attaching). */
  readFile(name: string): Promise<Buffer>;
  now: Date;
}

/** The report mail (or the "no validations" mail), attachments named as downloads are. */
export function composeReportMessage(input: ReportMessageInput): Promise<ComposedMail> {
  return composeReportMail({
    ...input,
    reportId: input.result.id,
    attachmentName: (name) => downloadName(input.request, name),
  });
}

/** Sends a composed mail tagged with its report id; resolves with the SES message id. */
export function sendReportMessage(
  sender: MailSender,
  to: readonly string[],
  composed: ComposedMail,
  reportId: string,
): Promise<string> {
  return sendMail({
    ses: sender.ses,
    from: sender.from,
    to,
    allowedDomains: sender.allowedDomains,
    mail: composed.mail,
    attachments: composed.attachments,
    configurationSet: sender.configurationSet,
    headers: { [REPORT_ID_HEADER]: reportId },
  });
}

/** The functions' sender, from their configuration. */
export function senderOf(deps: Pick<RunDeps, 'ses' | 'config'>): MailSender {
  return {
    ses: deps.ses,
    from: deps.config.MAIL_FROM,
    allowedDomains: deps.config.ALLOWED_RECIPIENT_DOMAINS,
    configurationSet: deps.config.SES_CONFIGURATION_SET,
  };
}

/** A run's report mail: links signed to the API at `baseUrl`, files read back from S3. */
export async function composeMail(
  deps: RunDeps,
  opts: { label: string; request: ReportRequest; produced: Produced; baseUrl: string },
): Promise<ComposedMail> {
  const { result, manifestKey } = opts.produced;
  const now = deps.now();
  const empty = result.summary.totals.validations === 0;
  const { links, expiresAt } = empty
    ? { links: [], expiresAt: now }
    : signLinks({
        baseUrl: opts.baseUrl,
        reportId: result.id,
        files: result.files,
        key: await deps.secrets.linkKeys(),
        now,
        ttlSeconds: deps.config.LINK_TTL_SECONDS,
      });
  return composeReportMessage({
    label: opts.label,
    request: opts.request,
    result,
    links,
    linksExpireAt: expiresAt,
    budgetBytes: deps.config.ATTACHMENT_BUDGET_BYTES,
    readFile: (name) => readStoredFile(deps.s3, deps.config.REPORTS_BUCKET, fileKey(manifestKey, name)),
    now,
  });
}

/**
 * Sends the report mail of a run already marked `sending`, then records it `sent`. Once SES has
 * accepted the mail nothing here throws: a retry must not send it again, and a claim left
 * `sending` is never taken over.
 */
export async function sendAndMarkSent(
  deps: RunDeps,
  run: HeldRun,
  to: readonly string[],
  composed: ComposedMail,
): Promise<string> {
  const messageId = await sendReportMessage(senderOf(deps), to, composed, run.reportId);
  try {
    await markMailSent(deps.doc, deps.config.STATE_TABLE, { ...run, messageId, now: deps.now() });
  } catch (err) {
    deps.logger.error(
      'mail sent but not recorded as sent; the claim stays "sending", so no retry resends it',
      {
        definition: run.definition,
        day: run.day,
        reportId: run.reportId,
        error: (err as Error).name,
      },
    );
  }
  return messageId;
}
