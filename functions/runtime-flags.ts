/**
 * V8 flags the report functions run with (set through NODE_OPTIONS by the CDK stack, and used by
 * `npm run bench` so the figures describe what is deployed).
 *
 * V8 sizes the young generation from the host's memory, not from what the process needs. The
 * report's garbage is short-lived page JSON and row objects, so a small semi-space keeps peak RSS
 * down: measured at 1M validations (bench/pipeline.ts, 2 cores), default → 436 MB, 4 MB → 309–326 MB,
 * at about the same wall time (17–18 s).
 *
 * Not set: `--max-old-space-size`. A 192 MB cap measured 226 MB peak RSS but 21.4 s instead of
 * 17.3 s, and the de-duplication id set grows with the window (≈19 bytes a record), so a hard
 * heap cap would turn a large range report into an out-of-memory failure.
 */
export const LAMBDA_V8_FLAGS = ['--max-semi-space-size=4'] as const;

/**
 * Lambda retries a failed asynchronous run (scheduled or on-demand) this many times; the CDK
 * stack configures it and the scheduled run uses it to tell owners once when a day first fails
 * and once when the last automatic attempt failed, not on every attempt.
 */
export const ASYNC_RETRY_ATTEMPTS = 2;
