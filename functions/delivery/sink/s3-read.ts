/**
 * The read side of the S3 report store: a report counts only once its `manifest.json` exists
 * (the writer stores it last), so readers look for manifests, never for the files.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_NAME, PREVIOUS_REPORT_LOOKBACK_DAYS, REPORTS_PREFIX } from '../../contract.js';
import { ReportsError } from '../../errors/kinds.js';
import { previousDay } from '../../time/window.js';
import { awsErrorCode } from '../aws-errors.js';
import { dayKeyPrefix } from './s3-keys.js';

export class ManifestNotFoundError extends ReportsError {
  override readonly kind = 'not-found';
  override name = 'ManifestNotFoundError';
}

/** The parsed `manifest.json` at `key`; its shape is the manifest module's business. */
export async function readManifest(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  let text: string;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await res.Body?.transformToString('utf-8')) ?? '';
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'NoSuchKey' || code === 'NotFound') {
      throw new ManifestNotFoundError(
        `no manifest at s3://${bucket}/${key}: the report is missing or incomplete`,
      );
    }
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ManifestNotFoundError(`s3://${bucket}/${key} is not valid JSON`);
  }
}

export interface PreviousManifestQuery {
  s3: S3Client;
  bucket: string;
  prefix?: string;
  definition: string;
  /** The day being reported; the search starts the day before. */
  day: string;
  /** How many days back to look for a completed report (a failed day has none). Default 1. */
  maxDaysBack?: number;
  /** Ignore this report id (the report being built). */
  excludeReportId?: string;
}

/**
 * The newest completed report of the same definition on an earlier day, for day-over-day
 * deltas; null when there is none within `maxDaysBack`.
 */
export async function findPreviousManifest({
  s3,
  bucket,
  prefix = REPORTS_PREFIX,
  definition,
  day,
  maxDaysBack = PREVIOUS_REPORT_LOOKBACK_DAYS,
  excludeReportId,
}: PreviousManifestQuery): Promise<{
  key: string;
  day: string;
  reportId: string;
  lastModified: Date;
} | null> {
  let candidateDay = day;
  for (let back = 1; back <= maxDaysBack; back++) {
    candidateDay = previousDay(candidateDay);
    const dayPrefix = dayKeyPrefix({ prefix, definition, day: candidateDay });
    let best: { key: string; day: string; reportId: string; lastModified: Date } | null = null;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: dayPrefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key?.endsWith(`/${MANIFEST_NAME}`)) continue;
        const reportId = o.Key.slice(dayPrefix.length, -(MANIFEST_NAME.length + 1));
        if (reportId.includes('/') || reportId === excludeReportId) continue;
        const lastModified = o.LastModified ?? new Date(0);
        if (!best || lastModified > best.lastModified)
          best = { key: o.Key, day: candidateDay, reportId, lastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (best) return best;
  }
  return null;
}
