/**
 * Links that keep working: mails carry `GET /reports/{id}/files/{name}?expires=…&signature=…`
 * to our own endpoint, signed with HMAC-SHA256 under keys we hold. Each click is checked here and
 * then redirected to a short-lived S3 presigned URL, so a link's life does not depend on the
 * temporary credentials of whoever signed it (the trap with mailing S3 presigned URLs directly).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DEFAULT_LINK_TTL_SECONDS, downloadPath, FILE_NAME, REPORT_ID } from '../contract.js';
import { ReportsError } from '../errors/kinds.js';
import { attachmentDisposition } from './content-disposition.js';

/** Keys shorter than this are refused: an HMAC key is only as strong as its entropy. */
export const MIN_KEY_BYTES = 16;

const EXPIRES = /^[0-9]{1,12}$/;
/** base64url of a 32-byte HMAC-SHA256, unpadded. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export class LinkKeyError extends ReportsError {
  override readonly kind = 'access';
  override name = 'LinkKeyError';
}

export class InvalidLinkTargetError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'InvalidLinkTargetError';
}

/** One key, or several during a rotation: the first signs, any of them verifies. */
export type LinkKeys = Buffer | readonly Buffer[];

function keyList(keys: LinkKeys): readonly Buffer[] {
  const list = Buffer.isBuffer(keys) ? [keys] : keys;
  if (list.length === 0) throw new LinkKeyError('no link signing key configured');
  for (const key of list) {
    if (key.length < MIN_KEY_BYTES) {
      throw new LinkKeyError(
        `link signing key too short: ${key.length} bytes, need at least ${MIN_KEY_BYTES}`,
      );
    }
  }
  return list;
}

/**
 * What is signed: method, path and expiry. The versioned prefix lets a future scheme coexist;
 * ids and names are restricted to characters that cannot contain the separators.
 */
function canonical(reportId: string, file: string, expires: string): string {
  return `v1\nGET\n${downloadPath(reportId, file)}\n${expires}`;
}

function hmac(key: Buffer, message: string): Buffer {
  // Stryker disable next-line StringLiteral: the message is ASCII and Node reads a string as UTF-8 by default
  return createHmac('sha256', key).update(message, 'utf8').digest();
}

export interface SignFileLinkInput {
  /** Public base URL of the reports API, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  baseUrl: string;
  reportId: string;
  file: string;
  /** Unix time in seconds after which the link is refused with "expired". */
  expiresAt: number;
  key: LinkKeys;
}

export function signFileLink({ baseUrl, reportId, file, expiresAt, key }: SignFileLinkInput): string {
  if (!REPORT_ID.test(reportId))
    throw new InvalidLinkTargetError(`report id ${JSON.stringify(reportId)} is not linkable`);
  if (!FILE_NAME.test(file))
    throw new InvalidLinkTargetError(`file name ${JSON.stringify(file)} is not linkable`);
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: EXPIRES alone refuses negatives, fractions and unsafe integers; the first two checks say what is refused
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0 || !EXPIRES.test(String(expiresAt))) {
    throw new InvalidLinkTargetError(`expiresAt must be whole Unix seconds, got ${expiresAt}`);
  }
  const [signingKey] = keyList(key);
  const expires = String(expiresAt);
  const signature = hmac(signingKey as Buffer, canonical(reportId, file, expires)).toString('base64url');
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}${downloadPath(reportId, file)}?expires=${expires}&signature=${signature}`;
}

/** Expiry for a link created at `now`, in whole Unix seconds. */
export function linkExpiry(now: Date, ttlSeconds: number = DEFAULT_LINK_TTL_SECONDS): number {
  return Math.floor(now.getTime() / 1000) + ttlSeconds;
}

export type LinkCheck =
  | { ok: true }
  /** malformed: 400-ish input garbage; bad-signature: 403; expired: 410. */
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

export interface VerifyFileLinkInput {
  reportId: string | undefined;
  file: string | undefined;
  /** Raw query values, as received. */
  expires: string | undefined;
  signature: string | undefined;
  key: LinkKeys;
  now?: Date;
}

export function verifyFileLink({
  reportId,
  file,
  expires,
  signature,
  key,
  now = new Date(),
}: VerifyFileLinkInput): LinkCheck {
  if (
    reportId === undefined ||
    file === undefined ||
    // Stryker disable next-line ConditionalExpression: "undefined" fails EXPIRES too; the check is for the type
    expires === undefined ||
    // Stryker disable next-line ConditionalExpression: "undefined" fails SIGNATURE too; the check is for the type
    signature === undefined ||
    !REPORT_ID.test(reportId) ||
    !FILE_NAME.test(file) ||
    !EXPIRES.test(expires) ||
    !SIGNATURE.test(signature)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const given = Buffer.from(signature, 'base64url');
  // The last base64 character carries two spare bits; refuse the non-canonical spellings.
  if (given.toString('base64url') !== signature) return { ok: false, reason: 'bad-signature' };
  const message = canonical(reportId, file, expires);
  // Check every key even after a match, so timing does not reveal which key signed.
  let valid = false;
  for (const candidate of keyList(key)) {
    const expected = hmac(candidate, message);
    // Stryker disable next-line ConditionalExpression: SIGNATURE makes `given` 32 bytes, as every HMAC-SHA256; the length check keeps timingSafeEqual from throwing if that changes
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  if (!valid) return { ok: false, reason: 'bad-signature' };
  // Checked after the signature so only genuine links are told they expired.
  if (Number(expires) * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true };
}

export interface PresignDownloadOptions {
  expiresInSeconds?: number;
  /** File name the browser saves as. */
  downloadName?: string;
}

/** A short-lived S3 URL for one object: what a valid link click redirects to. */
export async function presignDownload(
  s3: S3Client,
  bucket: string,
  key: string,
  { expiresInSeconds = 300, downloadName }: PresignDownloadOptions = {},
): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ...(downloadName ? { ResponseContentDisposition: attachmentDisposition(downloadName) } : {}),
  });
  return getSignedUrl(s3, command, { expiresIn: expiresInSeconds });
}
