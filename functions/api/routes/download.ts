/**
 * `GET /reports/{id}/files/{name}?expires=&signature=` → 302 to a fresh 5-minute S3 URL. The one
 * route without IAM: the HMAC signature is the access check. People reach it from a mail, so
 * refusals are small HTML pages that say what to do (403 tampered, 410 an expired link or a report
 * whose files have expired, 404 no such report or file); query strings are never logged.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { presignDownload, verifyFileLink } from '../../delivery/links.js';
import { getReport } from '../../delivery/state/index.js';
import { fileKey } from '../../runs/files.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResult, htmlPage, redirect } from '../http.js';
import { EXPIRED_MESSAGE, saveAs, storedReport } from '../report-views.js';

/** How long the S3 URL a valid click is redirected to stays valid. */
export const DOWNLOAD_URL_SECONDS = 300;

export async function download(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  id: string | undefined,
  name: string | undefined,
): Promise<HttpResult> {
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
  const stored = record ? await storedReport(deps, record) : null;
  if (stored?.state === 'expired') return htmlPage(410, 'This report has expired', EXPIRED_MESSAGE);
  const file = stored?.state === 'stored' ? stored.manifest.files.find((f) => f.name === name) : undefined;
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
