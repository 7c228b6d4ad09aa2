/**
 * `npm run bench`: every benchmark, each against a naive baseline measured in the same run.
 *
 *   npm run bench                       # data layer, Excel writer, whole pipeline (≈ 6 minutes: 350 s measured), scoped (≈ 5 more)
 *   npm run bench -- --quick            # 100k only, the data layer's naive baseline capped (≈ 3 minutes)
 *   npm run bench -- --only pipeline    # one of: data-layer, writer, pipeline, scoped, bundles, scale, backoff
 *   npm run bench -- --cpus 0           # scenario processes pinned to these CPUs (taskset -c): 1 core ≈ a 1,769 MB Lambda
 *
 * `bundles` (the handler bundles' size and cold import time) runs only when asked for by --only.
 *
 * Figures print as tables with ratios; nothing here asserts timings (that belongs to people
 * reading the numbers, not to tests).
 */
import { parseArgs } from 'node:util';
import { benchBackoff } from './backoff.js';
import { benchBundles, formatBundles } from './bundles.js';
import { benchDataLayer, formatDataLayer } from './data-layer.js';
import { benchPipeline } from './pipeline.js';
import { benchScale } from './scale.js';
import { benchScoped } from './scoped.js';
import { benchWriter, formatWriterResults } from './writer.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    cpus: { type: 'string' },
  },
});
if (values.cpus) process.env.BENCH_CPUS = values.cpus; // read by support.ts for every scenario child
const want = (name: string) => !values.only || values.only.includes(name);
const sizes = values.quick ? [100_000] : [100_000, 1_000_000];
const started = Date.now();

console.log(
  `verifik-reports benchmarks (${values.quick ? 'quick' : 'full'}) on ${process.version}, ${new Date().toISOString()}` +
    (values.cpus ? `, scenarios pinned to CPUs ${values.cpus}` : ''),
);

if (want('data-layer')) {
  console.log('\n## Data layer: reading a day of validations (fake Verifik, 20 ms a request)');
  const results = await benchDataLayer({ sizes, ...(values.quick ? { naiveMaxPages: 1000 } : {}) });
  console.log(formatDataLayer(results)); // with its goals, PASS or MISS each
}

if (want('writer')) {
  console.log('\n## Excel writer alone');
  const results = await benchWriter({ rows: values.quick ? 100_000 : 1_000_000 });
  console.log(formatWriterResults(results));
}

if (want('pipeline')) {
  console.log('\n## Whole report: fetch → summary + xlsx + csv → files');
  await benchPipeline({ sizes, naiveSize: 100_000 });
}

if (want('scoped')) {
  console.log('\n## Scoped reports: one read for 20 projects against 20 reads');
  await benchScoped({ count: values.quick ? 100_000 : 1_000_000 });
}

if (values.only?.includes('scale')) {
  // Long reports fanned out (issue 13); heavy (10M records by default), so only when asked for.
  console.log(
    '\n## Long report fanned out: slices, then assembly in S3 (fake Verifik at 100 ms a page, moto)',
  );
  await benchScale({
    count: Number(process.env.BENCH_SCALE_COUNT ?? 10_000_000),
    days: Number(process.env.BENCH_SCALE_DAYS ?? 30),
    latencyMs: 100,
    budget: 32,
    // One slice at a time by default: a Lambda has its own vCPU, a slice here shares 2 cores with moto.
    local: Number(process.env.BENCH_SCALE_LOCAL ?? 1),
    lambdaSeconds: Number(process.env.BENCH_SCALE_LAMBDA_SECONDS ?? 900),
  });
}

if (values.only?.includes('backoff')) {
  // Slices backing off together (issue 13): about a minute, with moto; only when asked for.
  console.log('\n## Slices of one report backing off together: alone vs the shared DynamoDB board');
  await benchBackoff({ slices: 8, perSlice: 4, records: 10_000, perPage: 100, latencyMs: 200, limit: 16 });
}

if (values.only?.includes('bundles')) {
  console.log("\n## Handler bundles: size and cold import (the stack's BUNDLING)");
  console.log(formatBundles(await benchBundles()));
}

console.log(`\nAll benchmarks done in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
