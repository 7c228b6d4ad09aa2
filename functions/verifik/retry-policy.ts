/**
 * When to retry a failed page request and how long to wait: pure, so it is tested without a server.
 * ky runs the retry loop (attempt limit, network-error detection, per-attempt timeout); this decides.
 * ky cannot do two things this needs: cap a server's `Retry-After` by the time budget that is *left*
 * (its `maxRetryAfter` is a constant), and report the wait it chose (needed for progress lines and tests).
 */

export interface RetryOptions {
  /** Total attempts including the first (≥ 1). */
  attempts: number;
  /** First backoff step before jitter. */
  baseDelayMs: number;
  /** Largest backoff step (a server's `Retry-After` may exceed it, within the budget). */
  maxDelayMs: number;
  /** Wall time for one request including every wait: no retry is scheduled past it. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 6,
  baseDelayMs: 300,
  maxDelayMs: 10_000,
  budgetMs: 120_000,
};

export type Failure =
  | { kind: 'status'; status: number; retryAfterMs: number | null }
  | { kind: 'network'; detail: string }
  | { kind: 'timeout' }
  | { kind: 'truncated'; detail: string };

export type RetryPlan =
  | { retry: true; delayMs: number; fromRetryAfter: boolean }
  | { retry: false; why: 'not-retryable' | 'attempts' | 'budget' | 'retry-after-exceeds-budget' };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export function isRetryable(failure: Failure): boolean {
  return failure.kind !== 'status' || isRetryableStatus(failure.status);
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delay-seconds or an HTTP-date. Past dates give 0;
 * anything unparseable gives null (then the normal backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread but never collapse to 0. */
export function backoffDelay(
  retryNumber: number,
  opts: RetryOptions,
  random: () => number = Math.random,
): number {
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Decide after attempt number `attemptsMade` failed, `elapsedMs` after the first attempt started.
 */
export function planRetry(
  failure: Failure,
  state: { attemptsMade: number; elapsedMs: number },
  opts: RetryOptions,
  random: () => number = Math.random,
): RetryPlan {
  if (!isRetryable(failure)) return { retry: false, why: 'not-retryable' };
  if (state.attemptsMade >= opts.attempts) return { retry: false, why: 'attempts' };
  const remaining = opts.budgetMs - state.elapsedMs;
  const retryAfter = failure.kind === 'status' ? failure.retryAfterMs : null;
  if (retryAfter !== null) {
    // The server said when; waiting less would only earn another 429, waiting past the budget is pointless.
    if (retryAfter > remaining) return { retry: false, why: 'retry-after-exceeds-budget' };
    return { retry: true, delayMs: retryAfter, fromRetryAfter: true };
  }
  const delayMs = backoffDelay(state.attemptsMade, opts, random);
  if (delayMs > remaining) return { retry: false, why: 'budget' };
  return { retry: true, delayMs, fromRetryAfter: false };
}
