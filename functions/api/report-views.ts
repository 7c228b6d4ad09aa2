/** What the API shows of a stored report: its public request, its manifest, its files' save-as names. */
import { downloadName } from '../core/naming.js';
import { awsErrorCode } from '../delivery/aws-errors.js';
import { readManifest } from '../delivery/sink/index.js';
import type { ReportRecord } from '../delivery/state/index.js';
import { kindOf } from '../errors/kinds.js';
import { Manifest } from '../report/manifest.js';
import { reportWindow } from '../time/window.js';
import type { ApiDeps } from './deps.js';

export function publicRequest(record: ReportRecord): Record<string, unknown> {
  // Recipients are the caller's business, not something to echo to every reader of the status.
  const { notify: _notify, ...rest } = record.request;
  return rest;
}

/**
 * What S3 holds of a report: nothing yet (not complete), its manifest, or nothing any more. The
 * files expire after the bucket's retention (1–3,650 days) while the record has its own lifetime,
 * so a complete record whose manifest is gone is an expired report, answered as such, never a 500.
 */
export type StoredReport =
  | { state: 'pending' }
  | { state: 'stored'; manifest: Manifest }
  | { state: 'expired' };

/**
 * S3's answers for a key that is not there: `NoSuchKey`, or `AccessDenied` when the caller may
 * read objects but not list the bucket (the API's role: S3 then hides whether the key exists).
 */
const GONE_CODES = new Set(['NoSuchKey', 'NotFound', 'AccessDenied']);

export async function storedReport(deps: ApiDeps, record: ReportRecord): Promise<StoredReport> {
  if (record.status !== 'complete' || !record.manifestKey) return { state: 'pending' };
  let raw: unknown;
  try {
    raw = await readManifest(deps.s3, deps.config.REPORTS_BUCKET, record.manifestKey);
  } catch (err) {
    const code = kindOf(err) === 'not-found' ? 'NoSuchKey' : awsErrorCode(err);
    if (!code || !GONE_CODES.has(code)) throw err;
    deps.logger.info('report files no longer stored', { reportId: record.id, code });
    return { state: 'expired' };
  }
  return { state: 'stored', manifest: Manifest.parse(raw) };
}

/** What a person is told about a report whose files have expired. */
export const EXPIRED_MESSAGE =
  'The files of this report have expired: reports are kept for a limited time. Ask for the report again to get new files.';

/** The name a browser saves the file as, e.g. `verifik-daily-ops-2024-12-01-validations.xlsx`. */
export function saveAs(record: ReportRecord, file: string): string | undefined {
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
