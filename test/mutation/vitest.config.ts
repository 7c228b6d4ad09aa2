/**
 * The vitest config `npm run mutate` runs under (stryker.config.mjs): the unit tests of the mutated
 * modules only. The integration tests start moto and the fake Verifik, take minutes, and would run
 * once per mutant they cover.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export const MUTATE_TESTS = [
  'verifik-retry',
  'verifik-query',
  'verifik-envelope',
  'verifik-paginate',
  'verifik-read-plan',
  'verifik-read-proof',
  'verifik-read-order',
  'verifik-shared-backoff',
  'time',
  'time-instant',
  'time-period',
  'time-schedule',
  'run-day',
  'run-decisions',
  'report-summary',
  'report-summary-property',
  'report-csv',
  'report-columns',
  'report-manifest',
  'links',
  'mail-render',
  'mail-report',
  'mail-figures',
  'util-clip',
];

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: MUTATE_TESTS.map((name) => `test/unit/${name}.test.ts`),
    testTimeout: 30_000,
  },
});
