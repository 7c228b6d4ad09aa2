/**
 * The steps every report run shares: find the previous summary, produce the report into S3,
 * compose and send its mail, tell people about a failure. scheduled-run.ts and on-demand-run.ts
 * put them in order around their claims.
 *
 * The previous report's summary (for "what changed" deltas) is the `summary.json` the pipeline
 * stores beside each manifest, because the manifest carries only totals.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SUMMARY_FILE } from '../contract.js';
import { downloadName } from '../core/naming.js';
import { type ReportRequest, type ReportResult, runReport } from '../core/pipeline.js';
import { composeReportMail } from '../delivery/mail/compose.js';
import { type FailureReason, type RenderedMail, renderFailureMail } from '../delivery/mail/render.js';
import { type MailAttachment, sendMail } from '../delivery/mail/send.js';
import { createS3Sink, findPreviousManifest } from '../delivery/sink/s3.js';
import { markMailSent, markRun, updateReportStatus } from '../delivery/state.js';
import type { Deps } from '../handlers/deps.js';
import { CHECK_KEYS } from '../report/columns.js';
import type { Summary } from '../report/summary.js';
import type { ReportWindow } from '../time/window.js';
import { VerifikAuthError } from '../verifik/errors.js';
import { fileKey, signLinks } from './links.js';

/** Longer than Lambda's 15-minute maximum, so a live run's claim is never taken over. */
export const RUN_LEASE_SECONDS = 16 * 60;

/** Headline figures kept in the report record (what `GET /reports/{id}` answers without S3). */
function headlineFigures(summary: Summary): Record<string, unknown> {
  return {
    validations: summary.totals.validations,
    failed: summary.totals.failed,
    highRisk: summary.totals.highRisk,
    byStatus: Object.fromEntries(summary.byStatus.map((s) => [s.key, s.count])),
    passRates: Object.fromEntries(CHECK_KEYS.map((k) => [k, summary.checks[k].passRate])),
  };
}

async function readObject(deps: Pick<Deps, 's3' | 'config'>, key: string): Promise<Buffer> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.REPORTS_BUCKET, Key: key }));
  if (!res.Body) throw new Error(`s3://${deps.config.REPORTS_BUCKET}/${key} has no body`);
  return Buffer.from(await res.Body.transformToByteArray());
}

/** The newest earlier summary of this definition, or null (first run, gap, or unreadable: deltas are optional). */
export async function previousSummary(
  deps: Deps,
  definition: string,
  day: string,
  reportId: string,
): Promise<Summary | null> {
  try {
    const previous = await findPreviousManifest({
      s3: deps.s3,
      bucket: deps.config.REPORTS_BUCKET,
      prefix: deps.config.REPORTS_PREFIX,
      definition,
      day,
      excludeReportId: reportId,
    });
    if (!previous) return null;
    return JSON.parse(
      (await readObject(deps, fileKey(previous.key, SUMMARY_FILE))).toString('utf8'),
    ) as Summary;
  } catch (err) {
    deps.logger.warn('previous summary unavailable; the mail goes without deltas', {
      error: (err as Error).name,
    });
    return null;
  }
}

export interface Produced {
  result: ReportResult;
  manifestKey: string;
}

/** Runs the pipeline into S3. */
export async function produce(
  deps: Deps,
  request: ReportRequest,
  reportId: string,
  previous: Summary | null,
): Promise<Produced> {
  const token = await deps.secrets.verifikToken();
  const sink = createS3Sink({
    s3: deps.s3,
    bucket: deps.config.REPORTS_BUCKET,
    prefix: deps.config.REPORTS_PREFIX,
    definition: request.definition,
    window: request.window,
    reportId,
  });
  let result: ReportResult;
  try {
    result = await runReport({
      request,
      reportId,
      verifik: deps.verifik(token),
      sink,
      previous,
      now: deps.now,
      read: { concurrency: deps.config.VERIFIK_CONCURRENCY },
    });
  } catch (err) {
    // A rejected token may have been replaced already: read it afresh on the next attempt.
    if (err instanceof VerifikAuthError) deps.secrets.invalidate();
    throw err;
  }
  return { result, manifestKey: sink.manifestKey };
}

/** The report record says `complete`, with where its files are and its headline figures. */
export async function recordComplete(deps: Deps, reportId: string, produced: Produced): Promise<void> {
  await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
    status: 'complete',
    manifestKey: produced.manifestKey,
    summary: headlineFigures(produced.result.summary),
    now: deps.now(),
  });
}

/** The claim a run holds on (definition, day), and the report it makes under it. */
export interface HeldRun {
  definition: string;
  day: string;
  runId: string;
  reportId: string;
}

interface ComposedMail {
  mail: RenderedMail;
  attachments: MailAttachment[];
}

/** The report mail (or the "no validations" mail) with signed links and, when they fit, the files. */
export async function composeMail(
  deps: Deps,
  opts: { label: string; request: ReportRequest; produced: Produced; reportId: string; baseUrl: string },
): Promise<ComposedMail> {
  const { result, manifestKey } = opts.produced;
  const now = deps.now();
  const empty = result.summary.totals.validations === 0;
  const { links, expiresAt } = empty
    ? { links: [], expiresAt: now }
    : signLinks({
        baseUrl: opts.baseUrl,
        reportId: opts.reportId,
        files: result.files,
        key: await deps.secrets.linkKeys(),
        now,
        ttlSeconds: deps.config.LINK_TTL_SECONDS,
      });
  return composeReportMail({
    label: opts.label,
    request: opts.request,
    result,
    reportId: opts.reportId,
    links,
    linksExpireAt: expiresAt,
    budgetBytes: deps.config.ATTACHMENT_BUDGET_BYTES,
    readFile: (name) => readObject(deps, fileKey(manifestKey, name)),
    attachmentName: (name) => downloadName(opts.request, name),
    now,
  });
}

export async function sendReportMail(
  deps: Deps,
  to: readonly string[],
  composed: ComposedMail,
  reportId: string,
): Promise<string> {
  return sendMail({
    ses: deps.ses,
    from: deps.config.MAIL_FROM,
    to,
    allowedDomains: deps.config.ALLOWED_RECIPIENT_DOMAINS,
    mail: composed.mail,
    attachments: composed.attachments,
    configurationSet: deps.config.SES_CONFIGURATION_SET,
    headers: { 'X-Report-Id': reportId },
  });
}

/**
 * Sends the report mail of a run already marked `sending`, then records it `sent`. Once SES has
 * accepted the mail nothing here throws: a retry must not send it again, and a claim left
 * `sending` is never taken over.
 */
export async function sendAndMarkSent(
  deps: Deps,
  run: HeldRun,
  to: readonly string[],
  composed: ComposedMail,
): Promise<string> {
  const messageId = await sendReportMail(deps, to, composed, run.reportId);
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

/**
 * Best effort: the claim becomes `failed` (so a retry may take it over) and, when the report
 * record exists, the report too. `sending` → failed happens only because SES answered with an
 * error: the mail was not accepted.
 */
export async function recordFailure(
  deps: Deps,
  run: HeldRun,
  detail: string,
  opts: { reportRecorded: boolean },
): Promise<void> {
  const table = deps.config.STATE_TABLE;
  await markRun(deps.doc, table, { ...run, status: 'failed', reason: detail, now: deps.now() }).catch((e) =>
    deps.logger.error('could not mark the run failed', { error: (e as Error).name }),
  );
  if (!opts.reportRecorded) return;
  await updateReportStatus(deps.doc, table, run.reportId, {
    status: 'failed',
    error: detail,
    now: deps.now(),
  }).catch((e) => deps.logger.warn('could not mark the report failed', { error: (e as Error).name }));
}

/** Best effort: a failure notice that cannot be sent is logged, never thrown over the real error. */
export async function mailFailure(
  deps: Deps,
  opts: {
    to: readonly string[];
    label: string;
    window: ReportWindow;
    reason: FailureReason;
    reportId: string;
    willRetry: boolean;
  },
): Promise<void> {
  if (opts.to.length === 0) return;
  try {
    const mail = renderFailureMail({
      definition: opts.label,
      window: opts.window,
      reason: opts.reason,
      reportId: opts.reportId,
      occurredAt: deps.now(),
      willRetry: opts.willRetry,
    });
    await sendReportMail(deps, opts.to, { mail, attachments: [] }, opts.reportId);
  } catch (err) {
    deps.logger.error('could not mail the failure notice', {
      reportId: opts.reportId,
      error: (err as Error).name,
    });
  }
}

/** A duplicate report made by a run that lost its claim: recorded as such, never left "running". */
export async function supersede(deps: Deps, reportId: string): Promise<void> {
  await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
    status: 'failed',
    error: 'superseded: another run of the same day delivered the report',
    now: deps.now(),
  }).catch((e) => deps.logger.warn('could not mark the superseded report', { error: (e as Error).name }));
}
