/**
 * The work behind the handlers: produce a report into S3, record it, and mail it.
 *
 * Scheduled runs follow the "exactly one mail per report day" protocol of delivery/state.ts:
 * claim (definition, day) before any work → run → mark `sending` → SES → mark `sent`. A
 * duplicate, a concurrent twin or a retry after success finds the claim taken and sends
 * nothing; a retry after a failure before sending re-claims and completes the work.
 *
 * The previous report's summary (for "what changed" deltas) is stored as `summary.json` next to
 * each manifest, because the manifest carries only totals. It is written after the manifest: if
 * that write fails the report is still complete, only the next day's deltas are lost.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ReportDefinition } from '../definitions.js';
import { describeFailure } from '../delivery/mail-failure.js';
import { type FailureReason, type RenderedMail, renderFailureMail } from '../delivery/mail-render.js';
import { composeReportMail } from '../delivery/mail-report.js';
import { checkRecipients, type MailAttachment, sendMail } from '../delivery/mail-send.js';
import { createS3Sink, findPreviousManifest, MANIFEST_NAME } from '../delivery/s3-sink.js';
import {
  claimRun,
  markMailSending,
  markMailSent,
  markRun,
  putReport,
  type ReportRecord,
  StaleRunError,
  updateReportStatus,
} from '../delivery/state.js';
import { downloadName, newReportId, type ReportRequest, type ReportResult, runReport } from '../pipeline.js';
import { CHECK_KEYS } from '../report/columns.js';
import type { Summary } from '../report/summary.js';
import { dayWindow, type ReportWindow, reportWindow, yesterday } from '../time/window.js';
import type { Deps } from './deps.js';
import { fileKey, signLinks } from './report-links.js';
import type { OnDemandRequest, WorkerPayload } from './worker-payload.js';

export const SUMMARY_NAME = 'summary.json';
/** Longer than Lambda's 15-minute maximum, so a live run's claim is never taken over. */
export const RUN_LEASE_SECONDS = 16 * 60;
/** Deltas compare with the newest report of the same definition within this many days back. */
const PREVIOUS_DAYS_BACK = 7;

export class UnknownDefinitionError extends Error {
  override name = 'UnknownDefinitionError';
  constructor(name: string, known: readonly string[]) {
    super(
      `No report definition named "${name}". Known definitions: ${known.join(', ') || '(none)'}. ` +
        'Check the schedule input and REPORT_DEFINITIONS.',
    );
  }
}

export function findDefinition(deps: Pick<Deps, 'config'>, name: string): ReportDefinition {
  const defs = deps.config.REPORT_DEFINITIONS;
  const def = defs.find((d) => d.name === name);
  if (!def) {
    throw new UnknownDefinitionError(
      name,
      defs.map((d) => d.name),
    );
  }
  return def;
}

/** Headline figures kept in the report record (what `GET /reports/{id}` answers without S3). */
export function headlineFigures(summary: Summary): Record<string, unknown> {
  return {
    validations: summary.totals.validations,
    failed: summary.totals.failed,
    highRisk: summary.totals.highRisk,
    byStatus: Object.fromEntries(summary.byStatus.map((s) => [s.key, s.count])),
    passRates: Object.fromEntries(CHECK_KEYS.map((k) => [k, summary.checks[k].passRate])),
  };
}

function summaryKey(manifestKey: string): string {
  return `${manifestKey.slice(0, -MANIFEST_NAME.length)}${SUMMARY_NAME}`;
}

async function readObject(deps: Pick<Deps, 's3' | 'config'>, key: string): Promise<Buffer> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.REPORTS_BUCKET, Key: key }));
  if (!res.Body) throw new Error(`s3://${deps.config.REPORTS_BUCKET}/${key} has no body`);
  return Buffer.from(await res.Body.transformToByteArray());
}

/** The newest earlier summary of this definition, or null (first run, gap, or unreadable: deltas are optional). */
async function previousSummary(
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
      maxDaysBack: PREVIOUS_DAYS_BACK,
      excludeReportId: reportId,
    });
    if (!previous) return null;
    return JSON.parse((await readObject(deps, summaryKey(previous.key))).toString('utf8')) as Summary;
  } catch (err) {
    deps.logger.warn('previous summary unavailable; the mail goes without deltas', {
      error: (err as Error).name,
    });
    return null;
  }
}

interface Produced {
  result: ReportResult;
  manifestKey: string;
}

/** Runs the pipeline into S3 and stores the summary beside the manifest. */
async function produce(
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
    });
  } catch (err) {
    // A rejected token may have been replaced already: read it afresh on the next attempt.
    if ((err as Error).name === 'VerifikAuthError') deps.secrets.invalidate();
    throw err;
  }
  try {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.config.REPORTS_BUCKET,
        Key: summaryKey(sink.manifestKey),
        Body: JSON.stringify(result.summary),
        ContentType: 'application/json',
        ServerSideEncryption: 'AES256',
      }),
    );
  } catch (err) {
    deps.logger.warn('could not store summary.json; the next report will have no deltas', {
      error: (err as Error).name,
    });
  }
  return { result, manifestKey: sink.manifestKey };
}

interface ComposedMail {
  mail: RenderedMail;
  attachments: MailAttachment[];
}

/** The report mail (or the "no validations" mail) with signed links and, when they fit, the files. */
async function composeMail(
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

async function send(
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

/** Best effort: a failure notice that cannot be sent is logged, never thrown over the real error. */
async function mailFailure(
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
    await send(deps, opts.to, { mail, attachments: [] }, opts.reportId);
  } catch (err) {
    deps.logger.error('could not mail the failure notice', {
      reportId: opts.reportId,
      error: (err as Error).name,
    });
  }
}

function requestRecord(request: ReportRequest, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    definition: request.definition,
    from: request.window.from,
    to: request.window.to,
    timeZone: request.window.timeZone,
    statuses: request.statuses,
    types: request.types,
    clients: request.clients,
    formats: request.formats,
    ...extra,
  };
}

/** A duplicate report made by a run that lost its claim: recorded as such, never left "running". */
async function supersede(deps: Deps, reportId: string): Promise<void> {
  await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
    status: 'failed',
    error: 'superseded: another run of the same day delivered the report',
    now: deps.now(),
  }).catch((e) => deps.logger.warn('could not mark the superseded report', { error: (e as Error).name }));
}

// ---------------------------------------------------------------------------------------------
// Scheduled reports

export interface ScheduledInput {
  definition: string;
  day?: string | undefined;
}

export type ScheduledOutcome =
  | { status: 'skipped'; definition: string; day: string; reason: string }
  | { status: 'sent'; definition: string; day: string; reportId: string; messageId: string }
  | { status: 'done'; definition: string; day: string; reportId: string; reason: string };

export async function deliverScheduledReport(deps: Deps, input: ScheduledInput): Promise<ScheduledOutcome> {
  const def = findDefinition(deps, input.definition);
  const timeZone = def.schedule.timeZone;
  const day = input.day ?? yesterday(timeZone, deps.now());
  const window = dayWindow(day, timeZone);
  const runId = deps.newRunId();
  const { doc } = deps;
  const table = deps.config.STATE_TABLE;
  const log = deps.logger;

  const claim = await claimRun(doc, table, {
    definition: def.name,
    day,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!claim.claimed) {
    const reason = `${def.name} ${day} is already ${claim.status} (run ${claim.runId})`;
    log.info('scheduled run skipped', { definition: def.name, day, holder: claim.status });
    return { status: 'skipped', definition: def.name, day, reason };
  }
  log.info('scheduled run claimed', { definition: def.name, day, attempt: claim.attempts });

  const request: ReportRequest = {
    definition: def.name,
    window,
    statuses: def.statuses,
    types: def.types,
    clients: def.clients,
    formats: def.formats,
  };
  const reportId = newReportId(request, deps.now());
  const update = { definition: def.name, day, runId, reportId };
  let recorded = false;
  let stage: 'report' | 'sending' = 'report';
  try {
    if (def.recipients.length > 0) checkRecipients(def.recipients, deps.config.ALLOWED_RECIPIENT_DOMAINS);
    await putReport(doc, table, {
      id: reportId,
      status: 'running',
      request: requestRecord(request),
      createdAt: deps.now().toISOString(),
      date: window.from,
    });
    recorded = true;
    const previous = await previousSummary(deps, def.name, day, reportId);
    const produced = await produce(deps, request, reportId, previous);
    await updateReportStatus(doc, table, reportId, {
      status: 'complete',
      manifestKey: produced.manifestKey,
      summary: headlineFigures(produced.result.summary),
      now: deps.now(),
    });
    const empty = produced.result.summary.totals.validations === 0;
    if (def.recipients.length === 0 || (empty && def.skipIfEmpty)) {
      const reason = def.recipients.length === 0 ? 'no recipients configured' : 'no validations; skipIfEmpty';
      await markRun(doc, table, { ...update, status: 'done', now: deps.now() });
      log.info('scheduled run done without mail', { definition: def.name, day, reportId, reason });
      return { status: 'done', definition: def.name, day, reportId, reason };
    }
    const baseUrl = deps.config.PUBLIC_API_URL;
    if (!baseUrl) throw new Error('PUBLIC_API_URL is not configured: mailed links need the API base URL.');
    const composed = await composeMail(deps, { label: def.name, request, produced, reportId, baseUrl });
    await markMailSending(doc, table, { ...update, now: deps.now() });
    stage = 'sending';
    const messageId = await send(deps, def.recipients, composed, reportId);
    // From here the mail exists: nothing below may fail the run (a retry must not send it again).
    try {
      await markMailSent(doc, table, { ...update, messageId, now: deps.now() });
    } catch (err) {
      log.error('mail sent but not recorded as sent; the claim stays "sending", so no retry resends it', {
        definition: def.name,
        day,
        reportId,
        error: (err as Error).name,
      });
    }
    log.info('scheduled report mailed', { definition: def.name, day, reportId, messageId, empty });
    return { status: 'sent', definition: def.name, day, reportId, messageId };
  } catch (err) {
    if (err instanceof StaleRunError) {
      // Another run holds the day now (a twin that also won a claim, or a takeover after our
      // lease ran out): it sends the mail. Not a failure, so nothing to alert or retry.
      log.warn('scheduled run superseded by another run', { definition: def.name, day, reportId });
      if (recorded) await supersede(deps, reportId);
      return { status: 'skipped', definition: def.name, day, reason: `superseded: ${err.message}` };
    }
    const reason = describeFailure(err, reportId);
    log.error('scheduled run failed', { definition: def.name, day, reportId, stage, reason: reason.detail });
    // `sending` → failed only because SES answered with an error: the mail was not accepted.
    await markRun(doc, table, { ...update, status: 'failed', reason: reason.detail, now: deps.now() }).catch(
      (e) => log.error('could not mark the run failed', { error: (e as Error).name }),
    );
    if (recorded) {
      await updateReportStatus(doc, table, reportId, {
        status: 'failed',
        error: reason.detail,
        now: deps.now(),
      }).catch((e) => log.warn('could not mark the report failed', { error: (e as Error).name }));
    }
    await mailFailure(deps, { to: def.owners, label: def.name, window, reason, reportId, willRetry: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// On-demand reports (the worker)

export const ON_DEMAND = 'on-demand';

export function onDemandReportRequest(request: OnDemandRequest): ReportRequest {
  return {
    definition: ON_DEMAND,
    window: reportWindow(request.from, request.to, request.timeZone),
    statuses: request.statuses,
    types: request.types,
    clients: request.clients,
    formats: request.formats,
  };
}

/** The record the API writes when it accepts a report. */
export function queuedRecord(reportId: string, request: OnDemandRequest, now: Date): ReportRecord {
  return {
    id: reportId,
    status: 'queued',
    request: requestRecord(onDemandReportRequest(request), { notify: request.notify }),
    createdAt: now.toISOString(),
    date: request.from,
  };
}

export type WorkerOutcome =
  | { status: 'skipped'; reportId: string; reason: string }
  | { status: 'complete'; reportId: string; messageId?: string }
  | { status: 'failed'; reportId: string; reason: string };

/**
 * Runs one on-demand report. Lambda may deliver an async invocation twice, so the report id is
 * claimed like a scheduled day: only one delivery does the work and sends the mail.
 */
export async function runOnDemandReport(deps: Deps, payload: WorkerPayload): Promise<WorkerOutcome> {
  const { reportId, baseUrl } = payload;
  const { doc } = deps;
  const table = deps.config.STATE_TABLE;
  const log = deps.logger;
  const runId = deps.newRunId();
  const claim = await claimRun(doc, table, {
    definition: ON_DEMAND,
    day: reportId,
    runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!claim.claimed) {
    log.info('worker skipped a duplicate delivery', { reportId, holder: claim.status });
    return { status: 'skipped', reportId, reason: `report ${reportId} is already ${claim.status}` };
  }
  const update = { definition: ON_DEMAND, day: reportId, runId, reportId };
  const request = onDemandReportRequest(payload.request);
  const notify = payload.request.notify;
  try {
    await updateReportStatus(doc, table, reportId, { status: 'running', now: deps.now() });
    const produced = await produce(deps, request, reportId, null);
    await updateReportStatus(doc, table, reportId, {
      status: 'complete',
      manifestKey: produced.manifestKey,
      summary: headlineFigures(produced.result.summary),
      now: deps.now(),
    });
    if (notify.length === 0) {
      await markRun(doc, table, { ...update, status: 'done', now: deps.now() });
      return { status: 'complete', reportId };
    }
    const composed = await composeMail(deps, {
      label: ON_DEMAND,
      request,
      produced,
      reportId,
      baseUrl,
    });
    await markMailSending(doc, table, { ...update, now: deps.now() });
    const messageId = await send(deps, notify, composed, reportId);
    await markMailSent(doc, table, { ...update, messageId, now: deps.now() }).catch((err) =>
      log.error('mail sent but not recorded as sent', { reportId, error: (err as Error).name }),
    );
    log.info('on-demand report complete', { reportId, messageId });
    return { status: 'complete', reportId, messageId };
  } catch (err) {
    if (err instanceof StaleRunError) {
      log.warn('on-demand run superseded by a duplicate delivery', { reportId });
      return { status: 'skipped', reportId, reason: `superseded: ${err.message}` };
    }
    const reason = describeFailure(err, reportId);
    log.error('on-demand report failed', { reportId, reason: reason.detail });
    await markRun(doc, table, { ...update, status: 'failed', reason: reason.detail, now: deps.now() }).catch(
      (e) => log.error('could not mark the run failed', { error: (e as Error).name }),
    );
    await updateReportStatus(doc, table, reportId, {
      status: 'failed',
      error: reason.detail,
      now: deps.now(),
    }).catch((e) => log.warn('could not mark the report failed', { error: (e as Error).name }));
    await mailFailure(deps, {
      to: notify,
      label: ON_DEMAND,
      window: request.window,
      reason,
      reportId,
      willRetry: false,
    });
    // Recorded and told: the caller polls the status. Not rethrown, so Lambda does not retry a
    // report whose failure is already visible (a new POST is the retry).
    return { status: 'failed', reportId, reason: reason.detail };
  }
}
