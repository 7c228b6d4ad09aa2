/**
 * What a run holds while it works: its claim on (definition, day), kept alive by a heartbeat,
 * and the report it makes under it.
 *
 * Why a short lease with a heartbeat rather than a lease longer than Lambda's 15 minutes: a run
 * that crashes or times out stops renewing, so its day is visibly abandoned within a lease and
 * the sweeper (runs/sweep.ts) redoes it within minutes, instead of every retry being refused as
 * a duplicate for 16 minutes and the day going silently missing.
 */
import { ASYNC_RETRY_ATTEMPTS } from '../contract.js';
import { renewLease } from '../delivery/state/index.js';
import type { RunDeps } from './deps.js';

/** A live run renews its lease every HEARTBEAT_MS; a lease outlives a few missed beats. */
export const RUN_LEASE_SECONDS = 120;
export const HEARTBEAT_MS = 30_000;

/**
 * Attempts a day gets before the owners are told it is lost: Lambda's own attempts (1 + its
 * retries). The sweeper's redo of a crashed run is one of them, not one more.
 */
export const MAX_RUN_ATTEMPTS = 1 + ASYNC_RETRY_ATTEMPTS;

/** The claim a run holds on (definition, day), and the report it makes under it. */
export interface HeldRun {
  definition: string;
  day: string;
  runId: string;
  reportId: string;
}

/**
 * Renews the run's lease every HEARTBEAT_MS until stopped. A renewal that fails (the claim was
 * taken over) is logged; the run finds out for sure at its next conditional step.
 */
export function keepAlive(deps: RunDeps, run: Omit<HeldRun, 'reportId'>): { stop(): void } {
  const timer = setInterval(() => {
    renewLease(deps.doc, deps.config.STATE_TABLE, {
      ...run,
      leaseSeconds: RUN_LEASE_SECONDS,
      now: deps.now(),
    })
      .then((held) => {
        if (!held) deps.logger.warn('lease not renewed: the claim is no longer ours', { ...run });
      })
      .catch((err) => deps.logger.warn('lease renewal failed', { ...run, error: (err as Error).name }));
  }, HEARTBEAT_MS);
  // Never keep a process (the CLI, a test) alive just to renew a lease.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
