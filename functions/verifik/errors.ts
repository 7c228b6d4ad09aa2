/**
 * Typed failures of the Verifik data layer. Each message says what went wrong and what to do.
 * None of them ever holds the bearer token: URLs carry no credentials (the token travels in a
 * header), body excerpts are redacted, and causes are plain summaries in the message, never a
 * ky/undici error as `cause` (those reference the Request, whose headers hold the token).
 */

import { VERIFIK_API_URL } from '../contract.js';
import { type ErrorKind, ReportsError } from '../errors/kinds.js';
import { clip } from '../util/clip.js';
import { ErrorBody } from './schema.js';

export const EXCERPT_LIMIT = 200;

/** At most `limit` characters of `text` on one line, with every secret replaced. */
export function excerpt(text: string, secrets: readonly string[] = [], limit = EXCERPT_LIMIT): string {
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return clip(flat, limit);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/** Server code and message from either documented error body, or an excerpt of whatever came. */
export function readErrorBody(
  data: unknown,
  secrets: readonly string[] = [],
): { code: string | null; message: string } {
  const parsed = ErrorBody.safeParse(data);
  if (parsed.success) {
    const body = parsed.data;
    if ('error' in body) return { code: body.code ?? null, message: redact(body.error, secrets) };
    return { code: body.code, message: redact(body.message, secrets) };
  }
  if (data === undefined || data === null || data === '') return { code: null, message: '(empty body)' };
  return { code: null, message: excerpt(typeof data === 'string' ? data : JSON.stringify(data), secrets) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class VerifikError extends ReportsError {
  override readonly kind: ErrorKind = 'upstream-data';
  override name = 'VerifikError';
  /** The request URL, without credentials. */
  readonly url: string | null;
  readonly status: number | null;
  constructor(message: string, opts: { url?: string | null; status?: number | null } = {}) {
    super(message);
    this.url = opts.url ?? null;
    this.status = opts.status ?? null;
  }
}

/** 401/403: the token is missing, expired or not allowed. Never retried. */
export class VerifikAuthError extends VerifikError {
  override name = 'VerifikAuthError';
  override readonly kind: ErrorKind = 'auth';
  /** The message quotes the server's answer, which could hold a record: never quoted to owners. */
  override readonly quotable = false;
  readonly code: string | null;
  constructor(opts: { url: string; status: number; code: string | null; serverMessage: string }) {
    const what = opts.status === 401 ? 'rejected the token' : 'refused access with this token';
    super(
      `Verifik ${what} (HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''}: ${opts.serverMessage}) for GET ${opts.url}. ` +
        'Renew the token (log in again, or call GET /v2/auth/session?origin=refresh while it is still valid), ' +
        'put it in VERIFIK_TOKEN (or the secret it is read from), and check that its account can list biometric validations.',
      { url: opts.url, status: opts.status },
    );
    this.code = opts.code;
  }
}

/**
 * 400 (incl. `INVALID_PARAMETERS`) and other non-retryable 4xx: the request itself is wrong. A 404
 * on the list path means the URL is wrong, not the filters: it says to check VERIFIK_BASE_URL and
 * is a configuration failure.
 */
export class VerifikBadRequestError extends VerifikError {
  override name = 'VerifikBadRequestError';
  override readonly kind: ErrorKind;
  /** The message quotes the server's answer, which could hold a record: never quoted to owners. */
  override readonly quotable = false;
  readonly code: string | null;
  readonly serverMessage: string;
  constructor(opts: {
    url: string;
    status: number;
    code: string | null;
    serverMessage: string;
    /** Where the path came from, for a 404 (default: the base URL's variable). */
    listPath?: string;
  }) {
    const answer = `HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''}: ${opts.serverMessage}`;
    super(
      opts.status === 404
        ? `Verifik answered ${answer} for GET ${opts.url}: the URL path looks wrong. Check VERIFIK_BASE_URL: it is the API's origin, such as ${VERIFIK_API_URL}, ` +
            `with a path only if the API is served under one (the client adds ${opts.listPath ?? '/v2/biometric-validations'}).`
        : `Verifik refused the request (${answer}) for GET ${opts.url}. ` +
            'Check the filters and dates given to the report (status, type, client, window); this is not transient, so retrying will not help.',
      { url: opts.url, status: opts.status },
    );
    this.kind = opts.status === 404 ? 'config' : 'upstream-refused';
    this.code = opts.code;
    this.serverMessage = opts.serverMessage;
  }
}

/**
 * VERIFIK_BASE_URL cannot be used: not a URL, not http(s), or holding a user name or password.
 * The message never quotes the value, which may hold a credential.
 */
export class VerifikBaseUrlError extends ReportsError {
  override readonly kind = 'config';
  override name = 'VerifikBaseUrlError';
}

/** 429 that outlasted the retries, or whose `Retry-After` exceeds the remaining time budget. */
export class VerifikRateLimitedError extends VerifikError {
  override name = 'VerifikRateLimitedError';
  override readonly kind: ErrorKind = 'upstream-unavailable';
  readonly attempts: number;
  readonly retryAfterMs: number | null;
  constructor(opts: {
    url: string;
    attempts: number;
    elapsedMs: number;
    retryAfterMs: number | null;
    budgetMs: number;
  }) {
    const asked = opts.retryAfterMs === null ? '' : ` and asked to wait ${seconds(opts.retryAfterMs)}`;
    super(
      `Verifik rate-limited GET ${opts.url} (HTTP 429)${asked}; gave up after ${opts.attempts} attempt(s) over ${seconds(opts.elapsedMs)} ` +
        `(time budget ${seconds(opts.budgetMs)}). Run the report later, or with a lower read concurrency (VERIFIK_CONCURRENCY for the functions, verifikConcurrency in the deployment config, --concurrency for the CLI).`,
      { url: opts.url, status: 429 },
    );
    this.attempts = opts.attempts;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** 5xx, 408, network failures and cut-off bodies that outlasted every retry. */
export class VerifikUnavailableError extends VerifikError {
  override name = 'VerifikUnavailableError';
  override readonly kind: ErrorKind = 'upstream-unavailable';
  readonly attempts: number;
  readonly elapsedMs: number;
  constructor(opts: {
    url: string;
    attempts: number;
    elapsedMs: number;
    lastFailure: string;
    status?: number | null;
    stoppedBy: 'attempts' | 'budget';
    budgetMs: number;
  }) {
    const stop =
      opts.stoppedBy === 'budget'
        ? `the next wait would exceed the ${seconds(opts.budgetMs)} time budget`
        : 'no attempts left';
    super(
      `Verifik is unavailable: GET ${opts.url} failed ${opts.attempts} time(s) over ${seconds(opts.elapsedMs)} (${stop}); ` +
        `last failure: ${opts.lastFailure}. Try again later; if it persists, check Verifik's status and the network path to it.`,
      { url: opts.url, status: opts.status ?? null },
    );
    this.attempts = opts.attempts;
    this.elapsedMs = opts.elapsedMs;
  }
}

/** A complete response that is not one of the documented envelopes. Not retried: it would come back the same. */
export class VerifikMalformedResponseError extends VerifikError {
  override name = 'VerifikMalformedResponseError';
  override readonly kind: ErrorKind = 'upstream-data';
  /** The message quotes the server's answer, which could hold a record: never quoted to owners. */
  override readonly quotable = false;
  readonly excerpt: string;
  constructor(opts: {
    url: string;
    status: number;
    problem: string;
    body: string;
    secrets?: readonly string[];
  }) {
    const shown = excerpt(opts.body, opts.secrets ?? []);
    super(
      `Verifik sent a response this client cannot read for GET ${opts.url} (HTTP ${opts.status}): ${opts.problem}. ` +
        `Body starts: ${JSON.stringify(shown)}. The API may have changed: compare it with the documented envelopes ` +
        '(functions/verifik/schema.ts) and report it; retrying will not help.',
      { url: opts.url, status: opts.status },
    );
    this.excerpt = shown;
  }
}

/** Every attempt timed out. */
export class VerifikTimeoutError extends VerifikError {
  override name = 'VerifikTimeoutError';
  override readonly kind: ErrorKind = 'upstream-unavailable';
  readonly attempts: number;
  constructor(opts: { url: string; attempts: number; timeoutMs: number; elapsedMs: number }) {
    super(
      `Verifik did not answer GET ${opts.url} within ${seconds(opts.timeoutMs)} on ${opts.attempts} attempt(s) ` +
        `(${seconds(opts.elapsedMs)} in all). Try again later, or raise the per-request timeout if pages are large.`,
      { url: opts.url },
    );
    this.attempts = opts.attempts;
  }
}

/** The paginator read fewer records than the server said exist, and cannot explain why. */
export class IncompleteReadError extends VerifikError {
  override name = 'IncompleteReadError';
  override readonly kind: ErrorKind = 'upstream-data';
  constructor(detail: string) {
    super(
      `The read of Verifik validations is incomplete: ${detail}. No report was produced from it, because it would be ` +
        'silently short. Run it again; if it keeps failing, the data is changing under the read or the API misbehaves.',
    );
  }
}
