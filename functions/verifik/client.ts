/**
 * The Verifik list client: one method, `listPage(query)`, over ky.
 *
 * ky runs each request's retry loop (attempt limit, network-error detection, per-attempt timeout,
 * abort signals). `retry-policy.ts` decides whether and how long to wait (backoff with jitter,
 * `Retry-After` capped by the remaining time budget), and the wait itself happens in a
 * `beforeRetry` hook so that it can be observed (`onRetry`) and injected (`sleep`) in tests.
 *
 * A 2xx body is read, parsed and validated inside the `fetch` that ky calls, so ky's per-attempt
 * timeout covers the whole transfer and its retry loop sees body failures: a body cut off
 * mid-transfer (connection reset, JSON that stops inside a value) is transient and retried; a
 * complete body that is not a documented envelope is malformed and not retried, as it would come
 * back the same. (Reading in an `afterResponse` hook would also work, but ky hands hooks a clone,
 * which copies every body once more.)
 */
import { setTimeout as delay } from 'node:timers/promises';
import ky, { isHTTPError, isNetworkError, isTimeoutError } from 'ky';
import { VERIFIK_API_URL } from '../contract.js';
import { readListBody } from './envelope.js';
import {
  readErrorBody,
  redact,
  VerifikAuthError,
  VerifikBadRequestError,
  VerifikBaseUrlError,
  VerifikError,
  VerifikMalformedResponseError,
  VerifikRateLimitedError,
  VerifikTimeoutError,
  VerifikUnavailableError,
} from './errors.js';
import { type ListQuery, toQueryString } from './query.js';
import {
  DEFAULT_RETRY,
  type Failure,
  isRetryableStatus,
  parseRetryAfter,
  planRetry,
  type RetryOptions,
} from './retry-policy.js';
import type { Page } from './schema.js';

export const LIST_PATH = '/v2/biometric-validations';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RetryInfo {
  url: string;
  /** The attempt that failed (1 = the first request). */
  attempt: number;
  delayMs: number;
  /** True when the wait is the server's `Retry-After`. */
  fromRetryAfter: boolean;
  reason: string;
  status: number | null;
}

export interface VerifikClientOptions {
  /** Origin (and optional path prefix) of the API, e.g. `https://api.verifik.co`. */
  baseUrl: string;
  token: string;
  /** Per attempt, covering the response head and the body. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  fetch?: typeof globalThis.fetch;
  onRetry?: (info: RetryInfo) => void;
  /** Injected in tests so that waits are recorded instead of slept. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export interface ListPageOptions {
  signal?: AbortSignal;
  /** Called for this request's retries, in addition to the client's `onRetry`. */
  onRetry?: (info: RetryInfo) => void;
}

export interface VerifikClient {
  listPage(query: ListQuery, options?: ListPageOptions): Promise<Page>;
  /** The URL a query is sent to (no credentials in it). */
  urlFor(query: ListQuery): string;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, signal ? { signal } : undefined);

/** What undici says about a network failure, without the Request (whose headers hold the token). */
export function networkDetail(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${e.message} (${code})` : e.message);
    e = e.cause;
  }
  return parts.join(': ') || String(error);
}

/**
 * The base URL without its trailing slashes, or a VerifikBaseUrlError that names the variable and
 * never the value: a `user:password@` in it would otherwise be printed with every request URL
 * (and fetch refuses such URLs anyway).
 */
function checkedBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VerifikBaseUrlError(
      `VERIFIK_BASE_URL is not a URL: give the API's origin, such as ${VERIFIK_API_URL} (the value is not shown: it could hold a credential).`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new VerifikBaseUrlError(
      'VERIFIK_BASE_URL holds a user name or password ("user:password@"): remove it; the token goes in VERIFIK_TOKEN (the value is not shown).',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VerifikBaseUrlError(
      `VERIFIK_BASE_URL must be an https:// (or http://) URL, such as ${VERIFIK_API_URL}; it starts with "${url.protocol}".`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new VerifikBaseUrlError(
      'VERIFIK_BASE_URL must not hold a query ("?…") or fragment ("#…"): give the API\'s origin and, if any, its path.',
    );
  }
  return raw.replace(/\/+$/, '');
}

/** A 2xx body that ended early; internal: it becomes a retry or a VerifikUnavailableError. */
class BodyCutOff extends Error {
  override name = 'BodyCutOff';
}

export function createVerifikClient(options: VerifikClientOptions): VerifikClient {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) {
    throw new RangeError(`retry.attempts must be a whole number ≥ 1, got ${retry.attempts}.`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const secrets = [options.token];
  const base = checkedBaseUrl(options.baseUrl);
  const baseFetch = options.fetch ?? globalThis.fetch;
  const urlFor = (query: ListQuery) => `${base}${LIST_PATH}?${toQueryString(query)}`;

  async function listPage(query: ListQuery, callOptions: ListPageOptions = {}): Promise<Page> {
    const url = urlFor(query);
    const requestedPage = query.page ?? 1;
    const started = now();
    let attemptsMade = 1;
    let pendingDelayMs = 0;
    let lastFailure: Failure | null = null;
    let stop: 'attempts' | 'budget' | 'retry-after-exceeds-budget' = 'attempts';
    let page: Page | null = null;

    const describe = (f: Failure): string => {
      switch (f.kind) {
        case 'status':
          return `HTTP ${f.status}`;
        case 'network':
          return `network error: ${redact(f.detail, secrets)}`;
        case 'timeout':
          return `no answer within ${timeoutMs} ms`;
        case 'truncated':
          return `response body cut off: ${redact(f.detail, secrets)}`;
      }
    };

    /** Records the failure and, if the policy allows, schedules the wait that `beforeRetry` performs. */
    const decide = (failure: Failure): boolean => {
      lastFailure = failure;
      const plan = planRetry(failure, { attemptsMade, elapsedMs: now() - started }, retry, random);
      if (!plan.retry) {
        if (plan.why !== 'not-retryable') stop = plan.why;
        return false;
      }
      const info: RetryInfo = {
        url,
        attempt: attemptsMade,
        delayMs: plan.delayMs,
        fromRetryAfter: plan.fromRetryAfter,
        reason: describe(failure),
        status: failure.kind === 'status' ? failure.status : null,
      };
      pendingDelayMs = plan.delayMs;
      attemptsMade++;
      options.onRetry?.(info);
      callOptions.onRetry?.(info);
      return true;
    };

    const classify = (error: unknown): Failure | null => {
      if (isHTTPError(error)) {
        const retryAfterMs = parseRetryAfter(error.response.headers.get('retry-after'), now());
        return { kind: 'status', status: error.response.status, retryAfterMs };
      }
      if (isTimeoutError(error)) return { kind: 'timeout' };
      if (error instanceof BodyCutOff) return { kind: 'truncated', detail: error.message };
      if (isNetworkError(error)) return { kind: 'network', detail: networkDetail(error.cause) };
      return null;
    };

    /** ky's `fetch`: for 2xx, the whole body is read and validated here, inside ky's timeout and retry loop. */
    const fetchAndRead = async (input: Request | URL | string, init?: RequestInit): Promise<Response> => {
      const response = await baseFetch(input, init);
      if (!response.ok) return response;
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (init?.signal?.aborted || callOptions.signal?.aborted) throw error; // ky's timeout or the caller
        throw new BodyCutOff(networkDetail(error));
      }
      const verdict = readListBody(response.status, text, requestedPage);
      if (verdict.ok) {
        page = verdict.page;
        // ky only needs the status from here on; the records are already out.
        return new Response(null, { status: 200 });
      }
      if (verdict.kind === 'truncated') throw new BodyCutOff(verdict.detail);
      throw new VerifikMalformedResponseError({
        url,
        status: response.status,
        problem: verdict.problem,
        body: text,
        secrets,
      });
    };

    const exhausted = (): VerifikError => {
      const elapsedMs = now() - started;
      const f = lastFailure;
      if (f?.kind === 'status' && f.status === 429) {
        return new VerifikRateLimitedError({
          url,
          attempts: attemptsMade,
          elapsedMs,
          retryAfterMs: f.retryAfterMs,
          budgetMs: retry.budgetMs,
        });
      }
      if (f?.kind === 'timeout')
        return new VerifikTimeoutError({ url, attempts: attemptsMade, timeoutMs, elapsedMs });
      return new VerifikUnavailableError({
        url,
        attempts: attemptsMade,
        elapsedMs,
        lastFailure: f ? describe(f) : 'unknown',
        status: f?.kind === 'status' ? f.status : null,
        stoppedBy: stop === 'attempts' ? 'attempts' : 'budget',
        budgetMs: retry.budgetMs,
      });
    };

    const toVerifikError = (error: unknown): unknown => {
      if (error instanceof VerifikError) return error;
      if (callOptions.signal?.aborted) return callOptions.signal.reason ?? error;
      if (isHTTPError(error)) {
        const status = error.response.status;
        if (status === 401 || status === 403) {
          const body = readErrorBody(error.data, secrets);
          return new VerifikAuthError({ url, status, code: body.code, serverMessage: body.message });
        }
        if (status >= 400 && status < 500 && !isRetryableStatus(status)) {
          const body = readErrorBody(error.data, secrets);
          return new VerifikBadRequestError({
            url,
            status,
            code: body.code,
            serverMessage: body.message,
            listPath: LIST_PATH,
          });
        }
      }
      // A retryable failure that survived ky's retry loop: the attempts or the time budget ran out.
      const failure = classify(error);
      if (!failure) return error;
      lastFailure = failure;
      return exhausted();
    };

    try {
      await ky.get(url, {
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
        timeout: timeoutMs,
        throwHttpErrors: true,
        fetch: fetchAndRead,
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
        retry: {
          limit: retry.attempts - 1,
          methods: ['get'],
          // The policy decides; ky's own delay is zero because the wait happens in beforeRetry.
          shouldRetry: ({ error }) => {
            const failure = classify(error);
            return failure ? decide(failure) : false;
          },
          delay: () => 0,
          retryOnTimeout: true,
        },
        hooks: { beforeRetry: [() => sleep(pendingDelayMs, callOptions.signal)] },
      });
    } catch (error) {
      throw toVerifikError(error);
    }
    if (!page)
      throw new VerifikMalformedResponseError({
        url,
        status: 200,
        problem: 'no body was read',
        body: '',
        secrets,
      });
    return page;
  }

  return { listPage, urlFor };
}
