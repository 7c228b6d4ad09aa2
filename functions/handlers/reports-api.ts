/**
 * The reports API (API Gateway HTTP API, payload 2.0):
 *   POST /reports                        → 202 { id, status: 'queued', statusUrl } + Location
 *   GET  /reports?date=YYYY-MM-DD        → that day's reports
 *   GET  /reports/{id}                   → status, headline figures, signed links
 *   GET  /reports/{id}/files/{name}?expires=&signature=  → 302 to a fresh 5-minute S3 URL
 *
 * Thin: validate, call state/links/S3, shape the answer. Never logs query strings (the file
 * route's carries a signature) or bodies (they carry recipients).
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import {
  baseUrlOf,
  createRouter,
  type HttpResult,
  htmlPage,
  internalError,
  json,
  notFound,
  readJsonBody,
  redirect,
  validationError,
} from '../api/http.js';
import { parseListQuery, parseReportId, parseReportRequest } from '../api/input.js';
import { API_ROUTES } from '../contract.js';
import { downloadName, newReportId } from '../core/naming.js';
import { presignDownload, verifyFileLink } from '../delivery/links.js';
import { readManifest } from '../delivery/sink/s3.js';
import {
  getReport,
  listReportsByDate,
  putReport,
  type ReportRecord,
  updateReportStatus,
} from '../delivery/state.js';
import { Manifest } from '../report/manifest.js';
import { fileKey, signLinks } from '../runs/links.js';
import { onDemandReportRequest, queuedRecord } from '../runs/request-record.js';
import { reportWindow } from '../time/window.js';
import { createDeps, type Deps, lazyDeps } from './deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

/** How long the S3 URL a valid click is redirected to stays valid. */
export const DOWNLOAD_URL_SECONDS = 300;

function publicRequest(record: ReportRecord): Record<string, unknown> {
  // Recipients are the caller's business, not something to echo to every reader of the status.
  const { notify: _notify, ...rest } = record.request;
  return rest;
}

async function manifestOf(deps: Deps, record: ReportRecord): Promise<Manifest | null> {
  if (record.status !== 'complete' || !record.manifestKey) return null;
  return Manifest.parse(await readManifest(deps.s3, deps.config.REPORTS_BUCKET, record.manifestKey));
}

/** The name a browser saves the file as, e.g. `verifik-daily-ops-2024-12-01-validations.xlsx`. */
function saveAs(record: ReportRecord, file: string): string | undefined {
  const r = record.request as { definition?: unknown; from?: unknown; to?: unknown; timeZone?: unknown };
  try {
    const window = reportWindow(String(r.from), String(r.to), String(r.timeZone));
    return downloadName(
      { definition: typeof r.definition === 'string' ? r.definition : 'report', window },
      file,
    );
  } catch {
    return undefined;
  }
}

export function createReportsApi(getDeps: () => Deps) {
  async function postReport(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const deps = getDeps();
    const body = readJsonBody(event);
    if (!body.ok) return validationError([{ field: 'body', message: 'not valid JSON' }]);
    const now = deps.now();
    const parsed = parseReportRequest(body.value, {
      allowedDomains: deps.config.ALLOWED_RECIPIENT_DOMAINS,
      now,
    });
    if (!parsed.ok) return validationError(parsed.errors);
    const request = parsed.value;
    const reportId = newReportId(onDemandReportRequest(request), now);
    const baseUrl = baseUrlOf(event);
    await putReport(deps.doc, deps.config.STATE_TABLE, queuedRecord(reportId, request, now));
    const statusUrl = `${baseUrl}/reports/${reportId}`;
    try {
      await deps.invokeWorker({ reportId, request, baseUrl });
    } catch (err) {
      // Never leave a report "queued" that nothing will run.
      deps.logger.error('could not start the report worker', { reportId, error: (err as Error).name });
      await updateReportStatus(deps.doc, deps.config.STATE_TABLE, reportId, {
        status: 'failed',
        error: 'the report worker could not be started; try again',
        now: deps.now(),
      }).catch((e) =>
        deps.logger.error('could not mark the report failed', { reportId, error: (e as Error).name }),
      );
      return json(503, {
        error: 'ServiceUnavailable',
        message: 'The report could not be started. Try again in a minute.',
        id: reportId,
        statusUrl,
      });
    }
    deps.logger.info('report queued', {
      reportId,
      from: request.from,
      to: request.to,
      notify: request.notify.length,
    });
    return json(202, { id: reportId, status: 'queued', statusUrl }, { location: statusUrl });
  }

  async function listReports(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const deps = getDeps();
    const parsed = parseListQuery(event.queryStringParameters);
    if (!parsed.ok) return validationError(parsed.errors);
    const records = await listReportsByDate(deps.doc, deps.config.STATE_TABLE, parsed.value.date);
    const baseUrl = baseUrlOf(event);
    return json(200, {
      date: parsed.value.date,
      reports: records.map((r) => ({
        id: r.id,
        status: r.status,
        createdAt: r.createdAt,
        request: publicRequest(r),
        ...(r.summary ? { summary: r.summary } : {}),
        statusUrl: `${baseUrl}/reports/${r.id}`,
      })),
    });
  }

  async function getReportStatus(event: APIGatewayProxyEventV2, id: string | undefined): Promise<HttpResult> {
    const deps = getDeps();
    const parsed = parseReportId(id);
    if (!parsed.ok) return validationError(parsed.errors);
    const record = await getReport(deps.doc, deps.config.STATE_TABLE, parsed.value);
    if (!record) return notFound(`No report ${parsed.value}.`);
    const answer: Record<string, unknown> = {
      id: record.id,
      status: record.status,
      createdAt: record.createdAt,
      ...(record.updatedAt ? { updatedAt: record.updatedAt } : {}),
      request: publicRequest(record),
      ...(record.summary ? { summary: record.summary } : {}),
      ...(record.error ? { error: record.error } : {}),
    };
    const manifest = await manifestOf(deps, record);
    if (manifest) {
      const { links, expiresAt } = signLinks({
        baseUrl: baseUrlOf(event),
        reportId: record.id,
        files: manifest.files,
        key: await deps.secrets.linkKeys(),
        now: deps.now(),
        ttlSeconds: deps.config.LINK_TTL_SECONDS,
      });
      answer.generatedAt = manifest.generatedAt;
      answer.files = manifest.files.map((f, i) => ({ ...f, url: links[i]?.url }));
      answer.linksExpireAt = expiresAt.toISOString();
    }
    return json(200, answer);
  }

  async function download(
    event: APIGatewayProxyEventV2,
    id: string | undefined,
    name: string | undefined,
  ): Promise<HttpResult> {
    const deps = getDeps();
    const q = event.queryStringParameters ?? {};
    const check = verifyFileLink({
      reportId: id,
      file: name,
      expires: q.expires,
      signature: q.signature,
      key: await deps.secrets.linkKeys(),
      now: deps.now(),
    });
    if (!check.ok) {
      deps.logger.info('download link refused', { reason: check.reason });
      return check.reason === 'expired'
        ? htmlPage(
            410,
            'This link has expired',
            'Download links in report mails work for a limited time. Ask for the report again, or open it from the reports API to get fresh links.',
          )
        : htmlPage(
            403,
            'This link is not valid',
            'The link was changed or cut short. Copy the whole link from the report mail and try again.',
          );
    }
    const record = await getReport(deps.doc, deps.config.STATE_TABLE, id as string);
    const manifest = record ? await manifestOf(deps, record) : null;
    const file = manifest?.files.find((f) => f.name === name);
    if (!record?.manifestKey || !file) {
      return htmlPage(
        404,
        'File not found',
        'This report or file no longer exists (reports are kept for a limited time).',
      );
    }
    const saveName = saveAs(record, file.name);
    const url = await presignDownload(
      deps.s3,
      deps.config.REPORTS_BUCKET,
      fileKey(record.manifestKey, file.name),
      { expiresInSeconds: DOWNLOAD_URL_SECONDS, ...(saveName ? { downloadName: saveName } : {}) },
    );
    return redirect(url);
  }

  const route = createRouter([
    { ...API_ROUTES.createReport, handler: (e) => postReport(e) },
    { ...API_ROUTES.listReports, handler: (e) => listReports(e) },
    { ...API_ROUTES.reportStatus, handler: (e, m) => getReportStatus(e, m.params.id) },
    { ...API_ROUTES.download, handler: (e, m) => download(e, m.params.id, m.params.name) },
  ]);

  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
    try {
      return await route(event);
    } catch (err) {
      getDeps().logger.error('request failed', {
        method: event.requestContext.http.method,
        path: event.rawPath,
        error: err as Error,
      });
      return internalError(context?.awsRequestId ?? event.requestContext.requestId);
    }
  };
}

const logger = moduleLogger('reports-api');

export const handler = lambdaEntry({
  serviceName: 'reports-api',
  metricPrefix: 'ApiResponse',
  logger,
  run: createReportsApi(lazyDeps(() => createDeps('reports-api', { logger }))),
  outcome: (r) => String(r.statusCode ?? 200),
});
