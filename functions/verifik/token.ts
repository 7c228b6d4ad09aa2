/**
 * The Verifik token itself: when it expires (read from the JWT's `exp`, never verified: we do
 * not hold Verifik's key, and Verifik verifies it on every request anyway), and its renewal,
 * `GET /v2/auth/session?origin=refresh&expiresIn=N`.
 *
 * What Verifik documents for the renewal (docs.verifik.co, "Renew your token (JWT)"): only a
 * token that is still valid can be renewed; `expiresIn` counts months (1 = one month, the
 * usual ~30 days); the answer is `{ "accessToken": "<JWT>", "tokenType": "bearer" }`. Renewing
 * does not revoke the old token (that is a different endpoint, `renew-and-revoke`), so the old
 * one keeps working until its own `exp`.
 *
 * Like the list client (client.ts): ky with a per-attempt timeout, a few retries of transient
 * failures, and errors with a kind whose messages never hold a token, neither the one sent
 * nor the one received (the answer body is never quoted).
 */
import { setTimeout as delay } from 'node:timers/promises';
import ky, { isHTTPError, isNetworkError, isTimeoutError } from 'ky';
import { type ErrorKind, ReportsError } from '../errors/kinds.js';
import { DEFAULT_TIMEOUT_MS, networkDetail } from './client.js';
import {
  readErrorBody,
  redact,
  VerifikError,
  VerifikMalformedResponseError,
  VerifikTimeoutError,
  VerifikUnavailableError,
} from './errors.js';
import { isRetryableStatus } from './retry-policy.js';

/** The session endpoint; `origin=refresh` renews the bearer token. */
export const SESSION_PATH = '/v2/auth/session';

/** What Verifik's `expiresIn` counts: months. One month is what a login gives (~30 days). */
export const DEFAULT_RENEWAL_MONTHS = 1;

const DAY_MS = 86_400_000;

/** The JWT's claims we read, if the token is a JWT at all. */
export interface TokenClaims {
  /** `exp` as a Date; null when the token has no numeric `exp`. */
  expiresAt: Date | null;
  /** `iat` as a Date, when present. */
  issuedAt: Date | null;
}

function base64UrlJson(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function secondsToDate(value: unknown): Date | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return null;
  const d = new Date(value * 1000);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The claims of a JWT (`header.payload.signature`, base64url JSON), without verifying the
 * signature. null when the value is not a JWT (an opaque token, a placeholder, garbage): its
 * expiry is then unknown, which callers must treat as such, not as "expired".
 */
export function readTokenClaims(token: string): TokenClaims | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return null;
  const [headerPart, payloadPart] = parts as [string, string, string];
  const header = base64UrlJson(headerPart);
  const payload = base64UrlJson(payloadPart);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const claims = payload as { exp?: unknown; iat?: unknown };
  return { expiresAt: secondsToDate(claims.exp), issuedAt: secondsToDate(claims.iat) };
}

/** When the token expires, from its `exp`; null when unknown (not a JWT, or no `exp`). */
export function readTokenExpiry(token: string): Date | null {
  return readTokenClaims(token)?.expiresAt ?? null;
}

/** Days (fractional) from `now` until `expiresAt`; negative once expired. */
export function daysUntil(expiresAt: Date, now: Date): number {
  return (expiresAt.getTime() - now.getTime()) / DAY_MS;
}

/**
 * Verifik refused the renewal. 401/403 (kind `auth`): the token has expired or was revoked, and
 * only a new login helps. Another 4xx (kind `upstream-refused`): the request itself was refused.
 */
export class VerifikRenewalRefusedError extends VerifikError {
  override name = 'VerifikRenewalRefusedError';
  override readonly kind: ErrorKind;
  /** The server's message could be anything: not quoted to owners. */
  override readonly quotable = false;
  readonly code: string | null;
  constructor(opts: { url: string; status: number; code: string | null; serverMessage: string }) {
    const auth = opts.status === 401 || opts.status === 403;
    super(
      `Verifik refused to renew the token (HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''}: ${opts.serverMessage}) for GET ${opts.url}. ` +
        (auth
          ? 'Only a token that is still valid can be renewed: log in to Verifik again for a new token and put it in the secret ' +
            '(aws secretsmanager put-secret-value --secret-id <VerifikTokenSecretName> --secret-string "$VERIFIK_TOKEN").'
          : 'The renewal request itself was refused; retrying will not help. Check the VERIFIK_BASE_URL and the renewal months.'),
      { url: opts.url, status: opts.status },
    );
    this.kind = auth ? 'auth' : 'upstream-refused';
    this.code = opts.code;
  }
}

/** The renewal asked for something this client will not send. */
export class InvalidRenewalError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidRenewalError';
}

export interface RefreshedToken {
  token: string;
  tokenType: string;
  /** From the new token's `exp`; null when it is not a JWT. */
  expiresAt: Date | null;
}

export interface RefreshTokenOptions {
  /** Origin (and optional path prefix) of the API, e.g. `https://api.verifik.co`. */
  baseUrl: string;
  /** The token to renew; it must still be valid. */
  token: string;
  /** Lifetime of the new token, in Verifik's unit: months (default 1, the usual ~30 days). */
  expiresInMonths?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts in all for transient failures (5xx, 408, 429, network, timeout); default 3. */
  attempts?: number;
  fetch?: typeof globalThis.fetch;
  /** Waits between attempts (tests inject one that does not sleep). */
  sleep?: (ms: number) => Promise<void>;
}

/** The renewal URL (no credentials in it). */
export function refreshUrl(baseUrl: string, expiresInMonths: number): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}${SESSION_PATH}?origin=refresh&expiresIn=${expiresInMonths}`;
}

/** Where the new token is: `{accessToken}` as documented, or `{data:{accessToken}}` like the login answers. */
function accessTokenOf(body: unknown): { token: string; tokenType: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { accessToken?: unknown; tokenType?: unknown; data?: unknown };
  const inner =
    typeof b.accessToken === 'string'
      ? b
      : typeof b.data === 'object' && b.data !== null
        ? (b.data as { accessToken?: unknown; tokenType?: unknown })
        : null;
  if (!inner || typeof inner.accessToken !== 'string' || inner.accessToken.trim() === '') return null;
  const tokenType = typeof inner.tokenType === 'string' ? inner.tokenType : 'bearer';
  return { token: inner.accessToken.trim(), tokenType };
}

/**
 * Renews a still-valid token. Throws VerifikRenewalRefusedError (kind `auth`) when Verifik
 * refuses it (expired, revoked; `upstream-refused` for another 4xx), VerifikUnavailableError / VerifikTimeoutError after the
 * retries, VerifikMalformedResponseError when the answer holds no token.
 */
export async function refreshToken(options: RefreshTokenOptions): Promise<RefreshedToken> {
  const months = options.expiresInMonths ?? DEFAULT_RENEWAL_MONTHS;
  if (!Number.isSafeInteger(months) || months < 1) {
    throw new InvalidRenewalError(
      `expiresIn counts months for Verifik and must be a whole number ≥ 1, got ${months}.`,
    );
  }
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const url = refreshUrl(options.baseUrl, months);
  const secrets = [options.token];
  const started = Date.now();
  let attempt = 1;
  let body: unknown;
  try {
    body = await ky
      .get(url, {
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
        timeout: timeoutMs,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        retry: {
          limit: attempts - 1,
          methods: ['get'],
          shouldRetry: ({ error }) => {
            const retry = isHTTPError(error)
              ? isRetryableStatus(error.response.status)
              : isTimeoutError(error) || isNetworkError(error);
            if (retry) attempt++;
            return retry;
          },
          // Short and fixed: a renewal has days of slack, and the next rotation tries again.
          delay: () => 0,
          retryOnTimeout: true,
        },
        hooks: { beforeRetry: [() => sleep(1_000 * (attempt - 1))] },
      })
      .json<unknown>();
  } catch (error) {
    const elapsedMs = Date.now() - started;
    if (isHTTPError(error)) {
      const status = error.response.status;
      const { code, message } = readErrorBody(error.data, secrets);
      if (!isRetryableStatus(status))
        throw new VerifikRenewalRefusedError({ url, status, code, serverMessage: message });
      throw new VerifikUnavailableError({
        url,
        attempts: attempt,
        elapsedMs,
        lastFailure: `HTTP ${status}`,
        status,
        stoppedBy: 'attempts',
        budgetMs: elapsedMs,
      });
    }
    if (isTimeoutError(error))
      throw new VerifikTimeoutError({ url, attempts: attempt, timeoutMs, elapsedMs });
    if (isNetworkError(error)) {
      throw new VerifikUnavailableError({
        url,
        attempts: attempt,
        elapsedMs,
        lastFailure: `network error: ${redact(networkDetail(error.cause), secrets)}`,
        stoppedBy: 'attempts',
        budgetMs: elapsedMs,
      });
    }
    if (error instanceof SyntaxError) {
      throw new VerifikMalformedResponseError({
        url,
        status: 200,
        problem: 'the renewal answer is not JSON',
        // Never quoted: the body may hold a token.
        body: '',
      });
    }
    throw error;
  }
  const found = accessTokenOf(body);
  if (!found) {
    const keys =
      typeof body === 'object' && body !== null ? Object.keys(body).slice(0, 10).join(', ') : typeof body;
    throw new VerifikMalformedResponseError({
      url,
      status: 200,
      problem: `expected {"accessToken": "<JWT>", "tokenType": "bearer"}, got a body with ${keys || 'no keys'}`,
      body: '',
    });
  }
  return { ...found, expiresAt: readTokenExpiry(found.token) };
}
