/**
 * Re-sending a stored report: the same files, fresh links, to its recipients or to others in
 * the allowed domains, without reading Verifik again. Idempotent per request: the request's key
 * claims `(resend, <report id>~<key>)`, so the same request twice (a retried API call, a double
 * click) sends one mail; the send itself follows the same rules as a run's (runs/mail.ts). The
 * claim is taken only once the mail is composed, and freed when nothing was sent, so a request
 * that failed (files gone, SES refused) can be retried with the same key.
 */
import { FILE_CATALOGUE, ON_DEMAND_DEFINITION, SUMMARY_FILE } from '../contract.js';
import type { ReportRequest } from '../core/request.js';
import type { MailLink } from '../delivery/mail/index.js';
import { checkRecipients } from '../delivery/mail/index.js';
import { ManifestNotFoundError, readManifest } from '../delivery/sink/index.js';
import { claimRun, getReport, markRun, ReportNotFoundError } from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import { Manifest } from '../report/manifest.js';
import { recipientsFor } from '../settings/definitions.js';
import { reportWindow } from '../time/window.js';
import { RUN_LEASE_SECONDS } from './claim.js';
import { logTargetOf } from './delivery-log.js';
import type { RunDeps } from './deps.js';
import { fileKey, readStoredFile } from './files.js';
import { logEntry } from './log.js';
import { composeReportMessage, sendUnderClaim } from './mail.js';

export const RESEND = 'resend';

/** The report cannot be re-sent as it is (not complete, files gone): the caller's request cannot succeed. */
export class NotResendableError extends ReportsError {
  override readonly kind = 'conflict';
  override name = 'NotResendableError';
}

export interface ResendInput {
  reportId: string;
  /** Default: the report's own recipients (the definition's, or the on-demand request's notify list). */
  to?: readonly string[];
  /** Makes the request idempotent: the same key never sends twice. */
  requestKey: string;
  /** How the mail links to the files: signed links through the API, or presigned S3 URLs (CLI). */
  links: (
    files: readonly { name: string; bytes: number }[],
    manifestKey: string,
  ) => Promise<{ links: MailLink[]; expiresAt: Date }>;
}

export type ResendOutcome =
  | { status: 'sent'; reportId: string; to: string[]; messageId: string }
  | { status: 'unknown'; reportId: string; to: string[]; reason: string }
  | { status: 'duplicate'; reportId: string; state: string };

export async function resendReport(deps: RunDeps, input: ResendInput): Promise<ResendOutcome> {
  const table = deps.config.STATE_TABLE;
  const record = await getReport(deps.doc, table, input.reportId);
  if (!record) throw new ReportNotFoundError(`No report ${input.reportId}.`);
  if (record.status !== 'complete' || !record.manifestKey) {
    throw new NotResendableError(
      `Report ${record.id} is ${record.status}; only a complete report can be re-sent.`,
    );
  }
  const r = record.request as Record<string, unknown>;
  const definition = typeof r.definition === 'string' ? r.definition : ON_DEMAND_DEFINITION;
  const own =
    definition === ON_DEMAND_DEFINITION
      ? Array.isArray(r.notify)
        ? r.notify.filter((a): a is string => typeof a === 'string')
        : []
      : (recipientsFor(deps.config.REPORT_DEFINITIONS, definition) ?? []);
  const to = checkRecipients(
    input.to && input.to.length > 0 ? input.to : own,
    deps.config.ALLOWED_RECIPIENT_DOMAINS,
  );

  const manifestText = await readManifest(deps.s3, deps.config.REPORTS_BUCKET, record.manifestKey).catch(
    (err: unknown) => {
      // Only a missing manifest means the files are gone; throttling or a denied read stays what it is.
      if (err instanceof ManifestNotFoundError) {
        throw new NotResendableError(`Report ${record.id}'s files are no longer stored.`);
      }
      throw err;
    },
  );
  const manifest = Manifest.parse(manifestText);
  const request: ReportRequest = {
    definition,
    window: reportWindow(manifest.window.from, manifest.window.to, manifest.window.timeZone),
    statuses: manifest.filters.statuses ?? [],
    types: manifest.filters.types ?? [],
    clients: manifest.filters.clients ?? [],
    ...(manifest.filters.projects ? { projects: manifest.filters.projects } : {}),
    formats: [],
  };
  const files = manifest.files.map((f) => ({ ...f, contentType: FILE_CATALOGUE[f.kind].contentType }));
  const summaryFile = await readStoredFile(
    deps.s3,
    deps.config.REPORTS_BUCKET,
    fileKey(record.manifestKey, SUMMARY_FILE),
  );
  const { links, expiresAt } = await input.links(files, record.manifestKey);
  const composed = await composeReportMessage({
    label: definition,
    request,
    result: {
      id: record.id,
      manifest,
      summary: JSON.parse(summaryFile.toString('utf8')),
      delta: null,
      files,
      location: '',
    },
    links,
    linksExpireAt: expiresAt,
    budgetBytes: deps.config.ATTACHMENT_BUDGET_BYTES,
    readFile: (name) =>
      readStoredFile(deps.s3, deps.config.REPORTS_BUCKET, fileKey(record.manifestKey as string, name)),
    now: deps.now(),
  });
  const runId = deps.newRunId();
  const claimKey = { definition: RESEND, day: `${record.id}~${input.requestKey}` };
  const claim = await claimRun(deps.doc, table, {
    ...claimKey,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!claim.claimed) return { status: 'duplicate', reportId: record.id, state: claim.status };

  const logTo = logTargetOf(record);
  await logEntry(deps, logTo, {
    type: 'resend',
    reportId: record.id,
    recipients: to,
    detail: `request ${input.requestKey}`,
  });
  const held = { ...claimKey, runId, reportId: record.id };
  let sent: Awaited<ReturnType<typeof sendUnderClaim>>;
  try {
    sent = await sendUnderClaim(deps, held, to, composed, { logTo, resend: true });
  } catch (err) {
    // Nothing was sent (SES refused, or the mail never left): free the key, so the same request may try again.
    await markRun(deps.doc, table, {
      ...held,
      status: 'failed',
      reason: (err instanceof Error ? err.message : String(err)).slice(0, 1000),
      now: deps.now(),
    }).catch(() => undefined);
    throw err;
  }
  return sent.status === 'sent'
    ? { status: 'sent', reportId: record.id, to, messageId: sent.messageId }
    : { status: 'unknown', reportId: record.id, to, reason: sent.reason };
}
