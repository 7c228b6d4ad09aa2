/**
 * How the report processes run: V8 flags and process environment, applied the same way by the
 * CDK stack (Lambda), the CLI and `npm run bench`, so the figures describe what is deployed.
 *
 * Measured at 1M validations (bench/pipeline.ts, 2 cores, 8 requests in flight). A report's
 * garbage is mostly page JSON: each page's text (a large-object string) and its parsed records
 * live until the consumer reaches them, so they reach the old generation, which V8 then lets grow
 * to ~4× what survives. With a 4 MB semi-space: 349–353 MB peak RSS. A fixed
 * old-generation growing factor of 3 (`--heap-growing-percent=200`): 309–314 MB, same wall time
 * (13.2–13.6 s). glibc limited to two malloc arenas (the render thread and libuv's pool otherwise
 * each get their own): 278–282 MB. A smaller growing factor saves more but costs time (175 %:
 * 281 MB, +1.5 s; 100 %: 273 MB, +3 s), as does a hard `--max-old-space-size` (128 MB: 228 MB
 * but +5 s, because V8 then also lowers its growing factor to 1.3).
 *
 * The flags NODE_OPTIONS accepts and the process environment are in contract.ts, which the stack
 * reads (`LAMBDA_V8_FLAGS`, `LAMBDA_PROCESS_ENV`).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags NODE_OPTIONS refuses ("not allowed in NODE_OPTIONS"), so a process sets them on itself
 * when a report starts (`applyInProcessV8Flags`, called by `runReport`). The growing factor is
 * read at every old-generation limit computation, so setting it after start takes effect for the
 * whole run (measured: the same RSS as on the command line) and reaches the render thread too
 * (V8 flags are per process, and the thread starts after).
 */
export const IN_PROCESS_V8_FLAGS = ['--heap-growing-percent=200'] as const;

let applied = false;

/** Sets `IN_PROCESS_V8_FLAGS` once per process (`runReport` calls it first). */
export function applyInProcessV8Flags(): void {
  if (applied) return;
  applied = true;
  for (const flag of IN_PROCESS_V8_FLAGS) setFlagsFromString(flag);
}
