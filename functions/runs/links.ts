/**
 * Signed links to a report's files, and where those files live in S3. Shared by the mails
 * (scheduled and on-demand) and the API's status answer, so every link has the same shape.
 */

import { MANIFEST_NAME } from '../contract.js';
import { type LinkKeys, linkExpiry, signFileLink } from '../delivery/links.js';
import type { MailLink } from '../delivery/mail/render.js';

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
