/**
 * `POST /reports` → 202 `{ id, status: 'queued', statusUrl }` + Location. The report runs in the
 * worker (HTTP APIs time out after 30 s); a worker that cannot be started is recorded failed,
 * never left `queued`; past MAX_PARALLEL_REPORTS running reports the answer is 429. Bodies are
 * never logged: they carry recipients.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ON_DEMAND_DEFINITION } from '../../contract.js';
import { newReportId } from '../../core/naming.js';
import { countLiveRuns, listOpenRuns, putReport, updateReportStatus } from '../../delivery/state/index.js';
import { onDemandReportRequest, queuedRecord } from '../../runs/request-record.js';
import { reportRecordTtlDays } from '../../settings/config.js';
import type { ApiDeps } from '../deps.js';
import { baseUrlOf, type HttpResult, json, readJsonBody, validationError } from '../http.js';
import { parseReportRequest } from '../input.js';

export async function postReport(deps: ApiDeps, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const body = readJsonBody(event);
  if (!body.ok) return validationError([{ field: 'body', message: 'not valid JSON' }]);
  const now = deps.now();
  const parsed = parseReportRequest(body.value, {
    allowedDomains: deps.config.ALLOWED_RECIPIENT_DOMAINS,
    now,
  });
  if (!parsed.ok) return validationError(parsed.errors);
  const request = parsed.value;
  const running = countLiveRuns(
    await listOpenRuns(deps.doc, deps.config.STATE_TABLE),
    ON_DEMAND_DEFINITION,
    now,
  );
  if (running >= deps.config.MAX_PARALLEL_REPORTS) {
    return json(
      429,
      {
        error: 'TooManyReports',
        message: `${running} reports are running already (at most ${deps.config.MAX_PARALLEL_REPORTS} at once). Try again when one has finished.`,
      },
      { 'retry-after': '60' },
    );
  }
  const reportId = newReportId(onDemandReportRequest(request), now);
  const baseUrl = baseUrlOf(event);
  await putReport(deps.doc, deps.config.STATE_TABLE, queuedRecord(reportId, request, now), {
    ttlDays: reportRecordTtlDays(deps.config),
  });
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
