/**
 * How many requests a report read may keep open at Verifik: one rule for the functions'
 * `VERIFIK_CONCURRENCY`, the deployment's `verifikConcurrency` and the CLI's `--concurrency`, so
 * an operator meets the same range and default wherever they set it.
 */
import { z } from 'zod';
import { MAX_CONCURRENCY } from '../contract.js';

export const CONCURRENCY_RULE = `a whole number from 1 to ${MAX_CONCURRENCY}`;

/** A concurrency given as a number (deployment configuration, a parsed flag). */
export const ReadConcurrency = z
  .number({ error: `must be ${CONCURRENCY_RULE}` })
  .int(`must be ${CONCURRENCY_RULE}`)
  .min(1, `must be ${CONCURRENCY_RULE}`)
  .max(MAX_CONCURRENCY, `must be ${CONCURRENCY_RULE}`);

/**
 * A concurrency given as text (an environment variable, a flag); undefined when out of range or
 * not written in decimal digits (Number() alone would also take "0x10", "1e1" or "+8").
 */
export function parseConcurrency(text: string): number | undefined {
  const digits = text.trim();
  if (!/^\d{1,3}$/.test(digits)) return undefined;
  const result = ReadConcurrency.safeParse(Number(digits));
  return result.success ? result.data : undefined;
}
