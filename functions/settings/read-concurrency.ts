/**
 * How many requests a report read may keep open at Verifik: one rule for the functions'
 * `VERIFIK_CONCURRENCY`, the deployment's `verifikConcurrency` and the CLI's `--concurrency`, so
 * an operator meets the same range and default wherever they set it.
 */
import { z } from 'zod';
import { DEFAULT_CONCURRENCY } from '../verifik/paginate.js';

export { DEFAULT_CONCURRENCY };

/**
 * The setting exists to be gentler with Verifik, not to push it harder: at the default a large
 * report no longer waits on the network (paginate.ts), and each request in flight keeps pages
 * queued in memory. 32 leaves room to experiment and refuses a typo such as 80 or 800.
 */
export const MAX_CONCURRENCY = 32;

export const CONCURRENCY_RULE = `a whole number from 1 to ${MAX_CONCURRENCY}`;

/** A concurrency given as a number (deployment configuration, a parsed flag). */
export const ReadConcurrency = z
  .number({ error: `must be ${CONCURRENCY_RULE}` })
  .int(`must be ${CONCURRENCY_RULE}`)
  .min(1, `must be ${CONCURRENCY_RULE}`)
  .max(MAX_CONCURRENCY, `must be ${CONCURRENCY_RULE}`);

/** A concurrency given as text (an environment variable, a flag); undefined when out of range or not a number. */
export function parseConcurrency(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const result = ReadConcurrency.safeParse(Number(text));
  return result.success ? result.data : undefined;
}
