// @ts-check
/** Where the reports go; another directory lets two runs (say, before and after) go side by side. */
const out = process.env.MUTATE_REPORT_DIR ?? 'reports/mutation';

/**
 * `npm run mutate`: StrykerJS over the modules whose results people read (figures in a mail or a
 * workbook, the windows they cover, the read that proves every record was fetched) and the run
 * protocol's pure decisions. Not part of `npm test`: it takes minutes, like the bench.
 *
 * One module (or a few) while iterating: `npm run mutate -- --mutate functions/report/csv.ts`.
 *
 * Runner: @stryker-mutator/vitest-runner 10.x. 9.6 built each test's id with the suite chain
 * joined by a space, while vitest 5 matches `testNamePattern` against the chain joined with " > ":
 * every mutant ran 0 tests and "survived". 10.0 joins with " > " on vitest >= 5, so no patch.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: {
    // Only the unit tests of these modules (MUTATE_TESTS in test/mutation/vitest.config.ts), never
    // the integration tests that start moto or the fake Verifik; `related` narrows them further to
    // the files that import what is mutated.
    configFile: 'test/mutation/vitest.config.ts',
    related: true,
  },
  // perTest: each mutant runs only the tests that executed its code in the dry run.
  coverageAnalysis: 'perTest',
  // Static mutants (module-level values: the column table, zod schemas, regexes) are a third of
  // the mutants and, measured here, 96% of the run: no per-test coverage, so each reruns every
  // related test file in a fresh environment. They are reported as Ignored; `-- --ignoreStatic false`
  // runs them too (hours). The column table and the query schema have their own exact tests.
  ignoreStatic: true,
  mutate: [
    'functions/verifik/retry-policy.ts',
    'functions/verifik/query.ts',
    'functions/verifik/envelope.ts',
    // paginate's pure parts; reader.ts and stream.ts are the I/O around them.
    'functions/verifik/read/order.ts',
    'functions/verifik/read/partitions.ts',
    'functions/verifik/read/completeness.ts',
    // The slices' shared AIMD: its transitions and how a slice follows the board.
    'functions/verifik/read/shared-backoff.ts',
    'functions/time/*.ts',
    'functions/report/summary.ts',
    'functions/report/csv.ts',
    'functions/report/columns.ts',
    'functions/report/manifest.ts',
    'functions/delivery/links.ts',
    'functions/delivery/mail/report-figures.ts',
    'functions/util/clip.ts',
    // The run protocol's pure decisions: the day a run reports and the key it claims it under,
    // and the conditional status move and TTL shared by runs and reports.
    'functions/runs/schedule-input.ts',
    'functions/delivery/state/shared.ts',
  ],
  // The machine is shared (2 cores): at most two mutants at a time.
  concurrency: 2,
  // Added to a test's own time; a mutant that loops (i-- for i++) is stopped this long after.
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${out}/index.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  // Gitignored (reports/), and out of Biome's, tsc's and vitest's way while a run is going.
  tempDirName: `${out}-tmp`,
  ignorePatterns: ['cdk.out', 'reports', 'coverage', 'scratch', 'bench', 'infra'],
  thresholds: { high: 95, low: 90, break: null },
  // Incremental off: a fresh, comparable score every run.
  cleanTempDir: true,
};
