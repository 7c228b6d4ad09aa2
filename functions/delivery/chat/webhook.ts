/**
 * The generic webhook: a JSON body with the summary and signed links, signed so the receiver can
 * tell it came from us and was not replayed, and keyed so a re-post of the same report is
 * recognised as one.
 *
 *   X-Signature:           sha256=<hex HMAC-SHA256(signingKey, "<timestamp>.<body>")>
 *   X-Signature-Timestamp: <unix seconds when the body was signed>
 *   Idempotency-Key:       <stable per definition, period, scope and destination>
 *
 * The timestamp is inside the signed text (Stripe's and Slack's scheme): a receiver refuses a
 * timestamp older than a few minutes, so a captured request cannot be replayed later. The body
 * is signed as the exact bytes sent; receivers must verify the raw body, not a re-serialised one.
 */
import { createHash, createHmac } from 'node:crypto';
import type { DestinationMessage } from './message.js';

export const SIGNATURE_HEADER = 'X-Signature';
export const TIMESTAMP_HEADER = 'X-Signature-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Bumped on any incompatible change to the body's shape. */
export const WEBHOOK_SCHEMA_VERSION = 1;

/**
 * JSON with `<`, `>`, `&` and the two JavaScript line terminators escaped as \u sequences: still
 * the same JSON value, but safe to paste into HTML or a script by a receiver that does.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function webhookPayload(m: DestinationMessage): string {
  return safeJson({
    version: WEBHOOK_SCHEMA_VERSION,
    type: m.alert ? 'report.alert' : 'report.delivered',
    definition: m.definition,
    period: m.periodKey,
    window: m.window,
    reportId: m.reportId,
    scope: m.scope ?? null,
    empty: m.empty,
    headline: m.headline,
    links: m.links,
    alert: m.alert ?? null,
  });
}

/** `sha256=<hex>` over `<timestamp>.<body>`. */
export function signature(signingKey: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', signingKey).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function signedHeaders(opts: {
  body: string;
  signingKey: string;
  /** Unix seconds. */
  timestamp: number;
  idempotencyKey: string;
}): Record<string, string> {
  return {
    [SIGNATURE_HEADER]: signature(opts.signingKey, opts.timestamp, opts.body),
    [TIMESTAMP_HEADER]: String(opts.timestamp),
    [IDEMPOTENCY_HEADER]: opts.idempotencyKey,
  };
}

/**
 * The same for every post of one report to one destination (a retry, a re-post after a crash),
 * different for any other: a hash, so its length is fixed whatever the names.
 */
export function idempotencyKey(p: {
  definition: string;
  day: string;
  scope?: string | undefined;
  destination: string;
}): string {
  const text = [p.definition, p.day, p.scope ?? '', p.destination].join('\n');
  return `vr-${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}
