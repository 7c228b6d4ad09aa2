/** `GET /reports?date=YYYY-MM-DD` → that day's reports, without their recipients. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { listReportsByDate } from '../../delivery/state/index.js';
import type { ApiDeps } from '../deps.js';
import { baseUrlOf, type HttpResult, json, validationError } from '../http.js';
import { parseListQuery } from '../input.js';
import { publicRequest } from '../report-views.js';

export async function listReports(deps: ApiDeps, event: APIGatewayProxyEventV2): Promise<HttpResult> {
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
