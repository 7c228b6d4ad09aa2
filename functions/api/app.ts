/**
 * The reports API (API Gateway HTTP API, payload 2.0), one route a file under routes/:
 *   POST /reports                        → 202 { id, status: 'queued', statusUrl } + Location
 *   GET  /reports?date=YYYY-MM-DD        → that day's reports
 *   GET  /reports/{id}                   → status, headline figures, signed links
 *   GET  /reports/{id}/files/{name}?expires=&signature=  → 302 to a fresh 5-minute S3 URL
 *   POST /reports/{id}/resend            → 200 { status: 'sent' | 'unknown' | 'duplicate', … }
 *   GET  /definitions                    → schedules, paused or not, next runs
 *   POST /definitions/{name}/backfill    → 202 { definition, days: [{ day, action, reason? }] }
 *   POST /definitions/{name}/pause       → 200 { definition, paused: true }
 *   POST /definitions/{name}/resume      → 200 { definition, paused: false }
 *
 * Re-send and backfill are idempotent per `Idempotency-Key` header (required); pause and resume
 * by nature. All but the file route are IAM-authorized in API Gateway (infra/constructs/report-api.ts).
 *
 * The same routes under `/console/...` serve the reports console: Cognito JWT-authorized, each
 * checked against the caller's group first (console.ts, console-access.ts).
 *
 * An error that escapes a route is answered by its kind (http.ts) and logged with the method and
 * path only: never the query string (the file route's carries a signature) or the body (recipients).
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { API_ROUTES } from '../contract.js';
import { createConsoleApi, isConsolePath } from './console.js';
import type { ApiDeps } from './deps.js';
import { errorResponse, type HttpResult } from './http.js';
import { createRouter } from './router.js';
import { postBackfill } from './routes/backfill.js';
import { postReport } from './routes/create-report.js';
import { listDefinitions, setPausedRoute } from './routes/definitions.js';
import { download } from './routes/download.js';
import { listReports } from './routes/list-reports.js';
import { getReportStatus } from './routes/report-status.js';
import { resend } from './routes/resend.js';

export function createReportsApi(getDeps: () => ApiDeps) {
  const route = createRouter([
    { ...API_ROUTES.createReport, handler: (e) => postReport(getDeps(), e) },
    { ...API_ROUTES.listReports, handler: (e) => listReports(getDeps(), e) },
    { ...API_ROUTES.reportStatus, handler: (e, m) => getReportStatus(getDeps(), e, m.params.id) },
    { ...API_ROUTES.download, handler: (e, m) => download(getDeps(), e, m.params.id, m.params.name) },
    { ...API_ROUTES.resendReport, handler: (e, m) => resend(getDeps(), e, m.params.id) },
    { ...API_ROUTES.listDefinitions, handler: () => listDefinitions(getDeps()) },
    { ...API_ROUTES.backfill, handler: (e, m) => postBackfill(getDeps(), e, m.params.name) },
    {
      ...API_ROUTES.pauseDefinition,
      handler: (e, m) => setPausedRoute(getDeps(), e, m.params.name, true),
    },
    {
      ...API_ROUTES.resumeDefinition,
      handler: (e, m) => setPausedRoute(getDeps(), e, m.params.name, false),
    },
  ]);

  const consoleRoute = createConsoleApi(getDeps, route);

  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
    try {
      return await (isConsolePath(event.rawPath) ? consoleRoute(event) : route(event));
    } catch (err) {
      getDeps().logger.error('request failed', {
        method: event.requestContext.http.method,
        path: event.rawPath,
        error: err as Error,
      });
      return errorResponse(err, context?.awsRequestId ?? event.requestContext.requestId);
    }
  };
}
