/**
 * `GET /reports/{id}` → status, headline figures, fresh signed links once complete, and the
 * report's delivery log (`deliveryLog: { run, entries }`, null when nothing was logged). A complete
 * report whose files have expired (the bucket's retention ran out before the record's lifetime)
 * answers 200 with `expired: true`, `files: []` and a message: the record is still news, the files are not.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getReport } from '../../delivery/state/index.js';
import { deliveryLogOf } from '../../runs/delivery-log.js';
import { signLinks } from '../../runs/files.js';
import type { ApiDeps } from '../deps.js';
import { baseUrlOf, type HttpResult, json, notFound, validationError } from '../http.js';
import { parseReportId } from '../input.js';
import { EXPIRED_MESSAGE, publicRequest, storedReport } from '../report-views.js';

export async function getReportStatus(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  id: string | undefined,
): Promise<HttpResult> {
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
    // A long report running in slices (issue 13): how far it is.
    ...(record.slices ? { slices: record.slices } : {}),
  };
  const stored = await storedReport(deps, record);
  if (stored.state === 'expired') {
    answer.expired = true;
    answer.files = [];
    answer.message = EXPIRED_MESSAGE;
  }
  if (stored.state === 'stored') {
    const { manifest } = stored;
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
  // The day's claim and every attempt, send and SES event, for "it showed as sent, where is it?".
  // Recipients are in it: the route is IAM-only, like the re-send that may change them.
  answer.deliveryLog = await deliveryLogOf(deps, record);
  return json(200, answer);
}
