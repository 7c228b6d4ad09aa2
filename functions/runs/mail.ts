/**
 * Report mails, one path for every sender: the scheduled and on-demand runs and the CLI's
 * `--mail-to` compose with `composeReportMessage` and send with `sendReportMessage`, so they
 * attach, name and tag a report the same way. Only the links differ: runs sign links to the API,
 * the CLI presigns S3 URLs (it has no API).
 */

import { randomUUID } from 'node:crypto';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { REPORT_ID_HEADER, REPORT_ID_TAG, SEND_ID_HEADER, SEND_ID_TAG } from '../contract.js';
import { downloadName } from '../core/naming.js';
import type { ReportRequest, ReportResult } from '../core/request.js';
import type { MailLink } from '../delivery/mail/index.js';
import {
  type ComposedReportMail,
  composeReportMail,
  MailOutcomeUnknownError,
  sendMail,
} from '../delivery/mail/index.js';
import {
  type LogTarget,
  markMailSending,
  markMailSent,
  markSendUnknown,
  putSend,
} from '../delivery/state/index.js';
import type { HeldRun } from './claim.js';
import type { RunDeps } from './deps.js';
import { fileKey, readStoredFile, signLinks } from './files.js';
import { logEntry } from './log.js';
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
  /** The conditions that held, when the definition sends this report as an alert. */
  alert?: readonly string[] | undefined;
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
  sendId?: string,
): Promise<string> {
  return sendMail({
    ses: sender.ses,
    from: sender.from,
    to,
    allowedDomains: sender.allowedDomains,
    mail: composed.mail,
    attachments: composed.attachments,
    configurationSet: sender.configurationSet,
    headers: { [REPORT_ID_HEADER]: reportId, ...(sendId ? { [SEND_ID_HEADER]: sendId } : {}) },
    // SES copies tags into every event it publishes for the message: how an event finds its run.
    tags: { [REPORT_ID_TAG]: reportId, ...(sendId ? { [SEND_ID_TAG]: sendId } : {}) },
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
  opts: {
    label: string;
    request: ReportRequest;
    produced: Produced;
    baseUrl: string;
    alert?: readonly string[] | undefined;
  },
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
    alert: opts.alert,
  });
}

/** How a send ended: SES took it (message id), or nobody can say yet (settled later, never resent blindly). */
export type SendOutcome = { status: 'sent'; messageId: string } | { status: 'unknown'; reason: string };

/**
 * Sends a run's report mail under its claim: record the send id, mark `sending`, hand the mail
 * to SES once, record what happened.
 *
 * - SES accepted: `sent` with its message id. Recording that is best effort: if it fails, the
 *   claim stays `sending`, no retry resends, and SES's Send event settles it.
 * - SES refused (`MailRefusedError`) or the mail never left: throws; the caller records the run
 *   `failed` and a retry may send, because nothing was sent.
 * - No answer (`MailOutcomeUnknownError`): `unknown`, not thrown, so nothing retries it; SES's
 *   events resolve it to `sent`, or the sweeper alerts the owners.
 */
export async function sendUnderClaim(
  deps: RunDeps,
  run: HeldRun,
  to: readonly string[],
  composed: ComposedMail,
  opts: { logTo?: LogTarget; resend?: boolean } = {},
): Promise<SendOutcome> {
  const table = deps.config.STATE_TABLE;
  const target = opts.logTo ?? { definition: run.definition, day: run.day };
  const sendId = randomUUID();
  await putSend(deps.doc, table, {
    sendId,
    definition: run.definition,
    day: run.day,
    ...(opts.logTo ? { log: opts.logTo } : {}),
    ...(opts.resend ? { resend: true } : {}),
    reportId: run.reportId,
    recipients: [...to],
    createdAt: deps.now().toISOString(),
  });
  await markMailSending(deps.doc, table, { ...run, sendId, now: deps.now() });
  await logEntry(deps, target, {
    type: 'send',
    reportId: run.reportId,
    runId: run.runId,
    sendId,
    recipients: [...to],
  });
  let messageId: string;
  try {
    messageId = await sendReportMessage(senderOf(deps), to, composed, run.reportId, sendId);
  } catch (err) {
    if (err instanceof MailOutcomeUnknownError) {
      const reason = err.message;
      await markSendUnknown(deps.doc, table, { ...run, reason, now: deps.now() }).catch((e: unknown) =>
        deps.logger.error('could not mark the send unknown; the sweeper will', {
          ...target,
          error: (e as Error).name,
        }),
      );
      await logEntry(deps, target, { type: 'send-unknown', reportId: run.reportId, sendId, detail: reason });
      return { status: 'unknown', reason };
    }
    await logEntry(deps, target, {
      type: 'send-refused',
      reportId: run.reportId,
      sendId,
      detail: err instanceof Error ? err.message : String(err),
    });
    throw err;
  }
  try {
    await markMailSent(deps.doc, table, { ...run, messageId, now: deps.now() });
  } catch (err) {
    deps.logger.error(
      'mail sent but not recorded as sent; the claim stays "sending" and SES\'s event settles it',
      { ...target, reportId: run.reportId, error: (err as Error).name },
    );
  }
  await logEntry(deps, target, {
    type: 'sent',
    reportId: run.reportId,
    sendId,
    messageId,
    recipients: [...to],
  });
  return { status: 'sent', messageId };
}
