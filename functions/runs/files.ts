/**
 * Where a stored report's files live in S3, how to read them back, and the signed links people
 * reach them by. Shared by the mails (scheduled, on-demand, CLI), the API's status answer and
 * its download route, so every link and key has the same shape.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_NAME } from '../contract.js';
import { type LinkKeys, linkExpiry, signFileLink } from '../delivery/links.js';
import type { MailLink } from '../delivery/mail/index.js';

export interface LinkedFile {
  name: string;
  bytes: number;
}

export function signLinks(opts: {
  baseUrl: string;
  reportId: string;
  files: readonly LinkedFile[];
  key: LinkKeys;
  now: Date;
  ttlSeconds: number;
}): { links: MailLink[]; expiresAt: Date } {
  const expiresAt = linkExpiry(opts.now, opts.ttlSeconds);
  const links = opts.files.map((f) => ({
    name: f.name,
    bytes: f.bytes,
    url: signFileLink({
      baseUrl: opts.baseUrl,
      reportId: opts.reportId,
      file: f.name,
      expiresAt,
      key: opts.key,
    }),
  }));
  return { links, expiresAt: new Date(expiresAt * 1000) };
}

/** The S3 key of a file, from the manifest key recorded for its report. */
export function fileKey(manifestKey: string, name: string): string {
  if (!manifestKey.endsWith(`/${MANIFEST_NAME}`)) throw new Error(`${manifestKey} is not a manifest key`);
  return `${manifestKey.slice(0, -MANIFEST_NAME.length)}${name}`;
}

/** The stored bytes of one object (a report file, a previous summary). */
export async function readStoredFile(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return Buffer.from(await res.Body.transformToByteArray());
}
