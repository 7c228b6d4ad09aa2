/**
 * `POST /reports/{id}/resend` + `Idempotency-Key` → 200 `{ status: 'sent' | 'unknown' | 'duplicate', … }`.
 * Mails a complete report again (the stored files, fresh signed links) to its own recipients or
 * to `to` (allowed domains only), without reading Verifik. The key claims the request
 * (runs/resend.ts): the same key again answers `duplicate` and sends nothing. 404 unknown
 * report; 409 a report that is not complete or whose files are gone. Bodies are never logged.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MailRefusedError, NoRecipientsError } from '../../delivery/mail/index.js';
import { ReportNotFoundError } from '../../delivery/state/index.js';
import { signLinks } from '../../runs/files.js';
import { NotResendableError, resendReport } from '../../runs/resend.js';
import type { ApiDeps } from '../deps.js';
import { baseUrlOf, type HttpResult, json, notFound, readJsonBody, validationError } from '../http.js';
import { parseIdempotencyKey, parseReportId, parseResendRequest } from '../input.js';
import { runDepsOf } from '../run-deps.js';

export async function resend(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  id: string | undefined,
): Promise<HttpResult> {
  const reportId = parseReportId(id);
  const key = parseIdempotencyKey(event.headers);
  const body = readJsonBody(event);
  const parsed = body.ok
    ? parseResendRequest(body.value, { allowedDomains: deps.config.ALLOWED_RECIPIENT_DOMAINS })
    : ({ ok: false, errors: [{ field: 'body', message: 'not valid JSON' }] } as const);
  const errors = [
    ...(reportId.ok ? [] : reportId.errors),
    ...(key.ok ? [] : key.errors),
    ...(parsed.ok ? [] : parsed.errors),
  ];
  if (!reportId.ok || !key.ok || !parsed.ok) return validationError(errors);
  if (!deps.ses) {
    return json(503, {
      error: 'ServiceUnavailable',
      message: 'This API cannot send mail (no SES client configured), so it cannot re-send reports.',
    });
  }
  const baseUrl = baseUrlOf(event);
  const linkKeys = await deps.secrets.linkKeys();
  try {
    const outcome = await resendReport(runDepsOf(deps), {
      reportId: reportId.value,
      ...(parsed.value.to.length > 0 ? { to: parsed.value.to } : {}),
      requestKey: key.value,
      links: async (files) =>
        signLinks({
          baseUrl,
          reportId: reportId.value,
          files,
          key: linkKeys,
          now: deps.now(),
          ttlSeconds: deps.config.LINK_TTL_SECONDS,
        }),
    });
    deps.logger.info('report re-send', { reportId: reportId.value, status: outcome.status });
    return json(200, { ...outcome, idempotencyKey: key.value });
  } catch (err) {
    if (err instanceof ReportNotFoundError) return notFound(`No report ${reportId.value}.`);
    if (err instanceof NotResendableError) return json(409, { error: 'Conflict', message: err.message });
    if (err instanceof NoRecipientsError) {
      return validationError([
        { field: 'to', message: 'required: this report has no recipients of its own to re-send to' },
      ]);
    }
    if (err instanceof MailRefusedError) {
      deps.logger.warn('report re-send refused by SES', { reportId: reportId.value });
      return json(502, { error: 'MailRefused', message: err.message });
    }
    throw err;
  }
}
