/**
 * Producing a report into S3 for a run: find the previous summary (for "what changed"), run the
 * pipeline into an S3 sink, and record the report complete with its headline figures.
 *
 * The previous report's summary is the `summary.json` the pipeline stores beside each manifest,
 * because the manifest carries only totals.
 */
import { SUMMARY_FILE } from '../contract.js';
import { runReport, runScopedReports } from '../core/pipeline.js';
import type { ReportRequest, ReportResult } from '../core/request.js';
import { createS3Sink, findPreviousManifest, type S3ReportSink } from '../delivery/sink/index.js';
import { updateReportStatus } from '../delivery/state/index.js';
import { CHECK_KEYS } from '../report/columns.js';
import { readPreviousSummary, type Summary } from '../report/summary.js';
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

/**
 * The newest earlier summary of this definition, or null (first run, gap, or unreadable: deltas are
 * optional). A `summary.json` that is not JSON or not of the shape the comparison reads (an older
 * version, a write cut short) counts as "no previous report", with a warning: never a failed run.
 */
export async function previousSummary(
  deps: RunDeps,
  definition: string,
  day: string,
  reportId: string,
  /** How many days before `day` to look (a weekly or monthly period's predecessor is further back). */
  options: { maxDaysBack?: number | undefined } = {},
): Promise<Summary | null> {
  const bucket = deps.config.REPORTS_BUCKET;
  let key: string | undefined;
  try {
    const previous = await findPreviousManifest({
      s3: deps.s3,
      bucket,
      prefix: deps.config.REPORTS_PREFIX,
      definition,
      day,
      excludeReportId: reportId,
      ...(options.maxDaysBack ? { maxDaysBack: options.maxDaysBack } : {}),
    });
    if (!previous) return null;
    key = fileKey(previous.key, SUMMARY_FILE);
    const text = (await readStoredFile(deps.s3, bucket, key)).toString('utf8');
    const read = readPreviousSummary(text);
    if (!read.ok) {
      deps.logger.warn('previous summary unusable; the mail goes without deltas', {
        key,
        reason: read.problem,
      });
      return null;
    }
    return read.summary;
  } catch (err) {
    deps.logger.warn('previous summary unavailable; the mail goes without deltas', {
      ...(key ? { key } : {}),
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

/** One scope of a split run: the report it makes, under its own name. */
export interface ScopeToProduce {
  /** The project or client id. */
  id: string;
  request: ReportRequest;
  reportId: string;
  previous: Summary | null;
}

export interface ProducedScoped {
  overall: Produced | null;
  /** By scope id. */
  scopes: Map<string, Produced>;
  unscoped: number;
}

/** Runs the split pipeline into S3: one read, one report per scope (and the overall one). */
export async function produceScoped(
  deps: RunDeps,
  input: {
    request: ReportRequest;
    by: 'project' | 'client';
    scopes: ScopeToProduce[];
    overall: { reportId: string; previous: Summary | null } | null;
  },
): Promise<ProducedScoped> {
  const token = await deps.secrets.verifikToken();
  const sinkFor = (request: ReportRequest, reportId: string) =>
    createS3Sink({
      s3: deps.s3,
      bucket: deps.config.REPORTS_BUCKET,
      prefix: deps.config.REPORTS_PREFIX,
      definition: request.definition,
      window: request.window,
      reportId,
    });
  const sinks = new Map(input.scopes.map((s) => [s.id, sinkFor(s.request, s.reportId)]));
  const overallSink = input.overall ? sinkFor(input.request, input.overall.reportId) : null;
  try {
    const result = await runScopedReports({
      request: input.request,
      by: input.by,
      scopes: input.scopes.map((s) => ({ ...s, sink: sinks.get(s.id) as S3ReportSink })),
      overall:
        input.overall && overallSink
          ? { reportId: input.overall.reportId, sink: overallSink, previous: input.overall.previous }
          : undefined,
      verifik: deps.verifik(token),
      now: deps.now,
      read: { concurrency: deps.config.VERIFIK_CONCURRENCY },
    });
    const scopes = new Map<string, Produced>();
    for (const [id, r] of result.scopes)
      scopes.set(id, { result: r, manifestKey: (sinks.get(id) as S3ReportSink).manifestKey });
    return {
      overall:
        result.overall && overallSink
          ? { result: result.overall, manifestKey: overallSink.manifestKey }
          : null,
      scopes,
      unscoped: result.unscoped,
    };
  } catch (err) {
    if (err instanceof VerifikAuthError) deps.secrets.invalidate();
    throw err;
  }
}
