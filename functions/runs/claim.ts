/** What a run holds while it works: its claim on (definition, day) and the report it makes. */

/** Longer than Lambda's 15-minute maximum, so a live run's claim is never taken over. */
export const RUN_LEASE_SECONDS = 16 * 60;

/** The claim a run holds on (definition, day), and the report it makes under it. */
export interface HeldRun {
  definition: string;
  day: string;
  runId: string;
  reportId: string;
}
