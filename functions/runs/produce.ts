/**
 * Producing a report into S3 for a run: find the previous summary (for "what changed"), run the
 * pipeline into an S3 sink, and record the report complete with its headline figures.
 *
 * The previous report's summary is the `summary.json` the pipeline stores beside each manifest,
 * because the manifest carries only totals.
 */
import { SUMMARY_FILE } from '../contract.js';
import { runReport } from '../core/pipeline.js';
import type { ReportRequest, ReportResult } from '../core/request.js';
import { createS3Sink, findPreviousManifest } from '../delivery/sink/index.js';
import { updateReportStatus } from '../delivery/state/index.js';
import { CHECK_KEYS } from '../report/columns.js';
import type { Summary } from '../report/summary.js';
import { VerifikAuthError } from '../verifik/errors.js';
import type { RunDeps } from './deps.js';
import { fileKey, readStoredFile } from './files.js';

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

/** The newest earlier summary of this definition, or null (first run, gap, or unreadable: deltas are optional). */
export async function previousSummary(
  deps: RunDeps,
  definition: string,
  day: string,
  reportId: string,
): Promise<Summary | null> {
  const bucket = deps.config.REPORTS_BUCKET;
  try {
    const previous = await findPreviousManifest({
      s3: deps.s3,
      bucket,
      prefix: deps.config.REPORTS_PREFIX,
      definition,
      day,
      excludeReportId: reportId,
    });
    if (!previous) return null;
    const text = (await readStoredFile(deps.s3, bucket, fileKey(previous.key, SUMMARY_FILE))).toString(
      'utf8',
    );
    return JSON.parse(text) as Summary;
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
  deps: RunDeps,
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
export async function recordComplete(deps: RunDeps, reportId: string, produced: Produced): Promise<void> {
  await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
    status: 'complete',
    manifestKey: produced.manifestKey,
    summary: headlineFigures(produced.result.summary),
    now: deps.now(),
  });
}
