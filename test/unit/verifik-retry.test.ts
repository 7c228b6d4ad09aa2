import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isRetryableStatus,
  parseRetryAfter,
  planRetry,
  type RetryOptions,
} from '../../functions/verifik/retry-policy.js';

const opts: RetryOptions = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 10_000 };
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('retryable statuses', () => {
  it.each([408, 429, 500, 502, 503, 504])('%i is retried', (s) => expect(isRetryableStatus(s)).toBe(true));
  it.each([400, 401, 403, 404, 409, 413, 200])('%i is not', (s) => expect(isRetryableStatus(s)).toBe(false));
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
  });
  it('reads an HTTP-date relative to now, past dates as 0', () => {
    expect(parseRetryAfter(new Date(NOW + 7000).toUTCString(), NOW)).toBe(7000);
    expect(parseRetryAfter(new Date(NOW - 7000).toUTCString(), NOW)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('', NOW)).toBeNull();
    expect(parseRetryAfter('-5', NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
  });
});

describe('backoffDelay: exponential with equal jitter, capped', () => {
  it('doubles per retry between half and the full step', () => {
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 0)).toBe(200);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
  });
  it('never exceeds maxDelayMs', () => {
    expect(backoffDelay(20, opts, () => 1)).toBe(1000);
    expect(backoffDelay(20, opts, () => 0)).toBe(500);
  });
});

describe('planRetry', () => {
  const at = (attemptsMade: number, elapsedMs = 0) => ({ attemptsMade, elapsedMs });
  it('does not retry non-retryable statuses', () => {
    expect(planRetry({ kind: 'status', status: 400, retryAfterMs: null }, at(1), opts)).toEqual({
      retry: false,
      why: 'not-retryable',
    });
  });
  it('retries network errors, timeouts and truncated bodies with backoff', () => {
    for (const f of [
      { kind: 'network', detail: 'reset' },
      { kind: 'timeout' },
      { kind: 'truncated', detail: 'cut' },
    ] as const) {
      expect(planRetry(f, at(2), opts, () => 0)).toEqual({
        retry: true,
        delayMs: 100,
        fromRetryAfter: false,
      });
    }
  });
  it('stops when the attempts are used up', () => {
    expect(planRetry({ kind: 'timeout' }, at(4), opts)).toEqual({ retry: false, why: 'attempts' });
  });
  it('stops when the next wait would pass the budget', () => {
    expect(planRetry({ kind: 'timeout' }, at(1, 9_990), opts, () => 1)).toEqual({
      retry: false,
      why: 'budget',
    });
  });
  it('honours Retry-After exactly, beyond maxDelayMs, without jitter', () => {
    expect(planRetry({ kind: 'status', status: 429, retryAfterMs: 5000 }, at(1), opts, () => 0.3)).toEqual({
      retry: true,
      delayMs: 5000,
      fromRetryAfter: true,
    });
  });
  it('gives up at once when Retry-After exceeds the remaining budget', () => {
    expect(planRetry({ kind: 'status', status: 503, retryAfterMs: 5000 }, at(1, 6000), opts)).toEqual({
      retry: false,
      why: 'retry-after-exceeds-budget',
    });
  });
});

describe('retry policy: the edges', () => {
  it('reads multi-digit delay-seconds and fractions of them', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('10.25', NOW)).toBe(10_250);
  });
  it('reads only a whole number or an HTTP-date: no trailing junk, no numeric dates', () => {
    for (const v of ['5-', '1.', '1.5.5', 'x3', '3x', '2026-01-01 00:00:10', '01/01/2026'])
      expect(parseRetryAfter(v, NOW), v).toBeNull();
    // Header values are case-insensitive: an upper-case HTTP-date is still a date.
    expect(parseRetryAfter(new Date(NOW + 2000).toUTCString().toUpperCase(), NOW)).toBe(2000);
  });
  it.each([
    [499, false],
    [500, true],
    [599, true],
    [600, false],
    [407, false],
    [409, false],
  ])('status %i retryable: %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
    const plan = planRetry(
      { kind: 'status', status, retryAfterMs: null },
      { attemptsMade: 1, elapsedMs: 0 },
      opts,
    );
    expect(plan.retry).toBe(retryable);
  });
  it('a wait exactly equal to the remaining budget is still taken', () => {
    expect(
      planRetry(
        { kind: 'status', status: 429, retryAfterMs: 4000 },
        { attemptsMade: 1, elapsedMs: 6000 },
        opts,
      ),
    ).toEqual({ retry: true, delayMs: 4000, fromRetryAfter: true });
    // Backoff of the first retry with random() = 1 is the full step, 100 ms.
    expect(planRetry({ kind: 'timeout' }, { attemptsMade: 1, elapsedMs: 9_900 }, opts, () => 1)).toEqual({
      retry: true,
      delayMs: 100,
      fromRetryAfter: false,
    });
  });
  it('the last allowed attempt may still be retried; the jitter is half fixed, half random', () => {
    expect(planRetry({ kind: 'timeout' }, { attemptsMade: 3, elapsedMs: 0 }, opts, () => 0.5).retry).toBe(
      true,
    );
    expect(backoffDelay(2, opts, () => 0.5)).toBe(150);
    expect(backoffDelay(2, opts, () => 0.333)).toBe(133);
  });
  it('defaults: 6 attempts, 300 ms first step, 10 s largest step, 2 minutes a request', () => {
    expect(DEFAULT_RETRY).toEqual({ attempts: 6, baseDelayMs: 300, maxDelayMs: 10_000, budgetMs: 120_000 });
  });
});
