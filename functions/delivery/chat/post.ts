/**
 * POSTs one message to a destination with ky, which runs the retry loop: up to `retries` more
 * attempts on 5xx, 429, 408, timeouts and network failures, exponential backoff with jitter,
 * a server's `Retry-After` honoured on 429/503 (capped), and a cap on the whole (`totalMs`).
 * Any other 4xx is final. Whatever fails becomes one of our errors (post.ts never lets a ky error
 * out: its message and `request` hold the URL, which is the credential).
 */
import ky, { HTTPError, TimeoutError } from 'ky';
import { type DestinationKindName, DestinationRefusedError, DestinationUnavailableError } from './errors.js';

export interface PostPolicy {
  /** One attempt's time to answer. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** First backoff step; doubles each retry, with "equal jitter" (half fixed, half random). */
  baseDelayMs: number;
  /** Largest backoff step, and the most a `Retry-After` is honoured for. */
  maxDelayMs: number;
  /**
   * Every attempt and wait together. Below the 5 minutes a receiver of the signed webhook
   * allows the timestamp (README), since retries resend the same signed request.
   */
  totalMs: number;
}

/** 1 + 4 attempts over at most 60 s: a chat message is worth a minute, not a run's whole budget. */
export const DEFAULT_POST_POLICY: PostPolicy = {
  timeoutMs: 10_000,
  retries: 4,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  totalMs: 60_000,
};

/** 5xx, 429 and 408 are worth another try; every other 4xx would be refused again. */
const RETRY_STATUSES = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export interface PostRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  destination: string;
  kind: DestinationKindName;
}

export interface PostResult {
  status: number;
  attempts: number;
}

/** A short error token from a refusal's body (Slack answers `no_service`, `invalid_payload`…), else null. */
function errorCode(data: unknown): string | null {
  const text = typeof data === 'string' ? data.trim() : '';
  return /^[a-z_]{1,40}$/i.test(text) ? text : null;
}

export async function postMessage(
  req: PostRequest,
  policy: PostPolicy = DEFAULT_POST_POLICY,
  random: () => number = Math.random,
): Promise<PostResult> {
  let attempts = 1;
  try {
    const res = await ky.post(req.url, {
      body: req.body,
      headers: { 'content-type': 'application/json; charset=utf-8', ...req.headers },
      timeout: policy.timeoutMs,
      totalTimeout: policy.totalMs,
      redirect: 'error',
      retry: {
        limit: policy.retries,
        methods: ['post'],
        statusCodes: RETRY_STATUSES,
        afterStatusCodes: [429, 503],
        maxRetryAfter: policy.maxDelayMs,
        backoffLimit: policy.maxDelayMs,
        delay: (n) => policy.baseDelayMs * 2 ** (n - 1),
        jitter: (d) => d / 2 + random() * (d / 2),
        retryOnTimeout: true,
      },
      hooks: {
        beforeRetry: [
          ({ retryCount }) => {
            attempts = retryCount + 1;
          },
        ],
      },
    });
    // The body is not read: a receiver's answer is not ours to keep (and Slack's is just "ok").
    await res.body?.cancel();
    return { status: res.status, attempts };
  } catch (err) {
    throw classify(err, req, attempts);
  }
}

function classify(err: unknown, req: PostRequest, attempts: number): Error {
  const who = { destination: req.destination, kind: req.kind };
  if (err instanceof HTTPError) {
    const status = err.response.status;
    if (!RETRY_STATUSES.includes(status))
      return new DestinationRefusedError({ ...who, status, code: errorCode(err.data) });
    return new DestinationUnavailableError({ ...who, attempts, status, what: `last answer HTTP ${status}` });
  }
  if (err instanceof TimeoutError)
    return new DestinationUnavailableError({
      ...who,
      attempts,
      status: null,
      what: 'no answer in time',
    });
  // NetworkError and anything else: named only (their messages and causes may quote the URL).
  const name = err instanceof Error ? err.name : typeof err;
  return new DestinationUnavailableError({ ...who, attempts, status: null, what: `${name}: no answer` });
}
