/**
 * A destination's secret value → where to post (and, for the signed webhook, the key). Slack and
 * Teams secrets hold the URL itself (or `{"url": …}`); the webhook's `{"url", "signingKey"}`.
 * Errors name the secret, never its value.
 */
import { type DestinationKindName, DestinationSecretError } from './errors.js';

export interface DestinationTarget {
  url: string;
  /** Only for `webhook`. */
  signingKey?: string;
}

/** 256 bits: all that HMAC-SHA256 can use, and what a generated secret of 32+ characters gives. */
export const MIN_SIGNING_KEY_BYTES = 32;

/** Plain http only to this machine (the tests' receivers); anything else must be https. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checkedUrl(raw: unknown, secretName: string): string {
  if (typeof raw !== 'string')
    throw new DestinationSecretError(`secret ${secretName} holds no URL (expected a string "url")`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new DestinationSecretError(`secret ${secretName} does not hold a valid URL`);
  }
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!ok) throw new DestinationSecretError(`secret ${secretName}: the webhook URL must use https`);
  return url.href;
}

export function parseDestinationSecret(
  kind: DestinationKindName,
  value: string,
  secretName: string,
): DestinationTarget {
  const text = value.trim();
  let parsed: unknown = text;
  if (text.startsWith('{')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DestinationSecretError(`secret ${secretName} starts with "{" but is not valid JSON`);
    }
  }
  if (kind !== 'webhook') {
    const raw = typeof parsed === 'string' ? parsed : (parsed as { url?: unknown }).url;
    return { url: checkedUrl(raw, secretName) };
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new DestinationSecretError(
      `secret ${secretName} must hold {"url": "https://…", "signingKey": "…"} for a webhook destination`,
    );
  const { url, signingKey } = parsed as { url?: unknown; signingKey?: unknown };
  if (typeof signingKey !== 'string' || Buffer.byteLength(signingKey) < MIN_SIGNING_KEY_BYTES)
    throw new DestinationSecretError(
      `secret ${secretName}: "signingKey" must be a string of at least ${MIN_SIGNING_KEY_BYTES} bytes`,
    );
  return { url: checkedUrl(url, secretName), signingKey };
}
