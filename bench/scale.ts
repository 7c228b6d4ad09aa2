/**
 * Long reports fanned out (issue 13): `npm run bench -- --only scale`.
 *
 * 10M validations over 30 days (BENCH_SCALE_COUNT / BENCH_SCALE_DAYS to change) from the fake
 * Verifik at 100 ms a page, a shared budget of 32 requests in flight. The plan splits the month
 * into slices that each get a fixed share of the 32; every slice runs in its own child process
 * (so its peak RSS is its own) through the same runSlice a Lambda runs, writing to moto's S3; the
 * assembler then builds the files in S3 by server-side copies. On this 2-core machine at most
 * BENCH_SCALE_LOCAL (default 2) slices run at once; each still reads at its own share, so a
 * slice's time is what one Lambda would take, and the modelled wall time on AWS is
 * plan + the slowest slice + assembly (all slices run at once there).
 *
 * Child mode: `tsx bench/scale.ts --slice <job.json>` runs one slice and prints its figures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { LAMBDA_PROCESS_ENV, LAMBDA_V8_FLAGS, REPORTS_PREFIX } from '../functions/contract.js';
import { runReport } from '../functions/core/pipeline.js';
import type { ReportRequest } from '../functions/core/request.js';
import { createLocalSink, reportKeyPrefix } from '../functions/delivery/sink/index.js';
import { runFanOutLocally } from '../functions/fanout/driver-local.js';
import { planSlices, type Slice, sliceWindow } from '../functions/fanout/plan.js';
import { runSlice, type SliceResult } from '../functions/fanout/slice-worker.js';
import { addDays, reportWindow } from '../functions/time/window.js';
import { createVerifikClient } from '../functions/verifik/client.js';
import { startMoto } from '../test/support/moto.js';
import { bundle, fmt, runChild } from './support.js';

const self = fileURLToPath(import.meta.url);
const TZ = 'America/Bogota';
const FROM = '2024-11-01';
const BUCKET = 'bench-scale';

interface SliceJob {
  fakeUrl: string;
  token: string;
  s3: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  keyPrefix: string;
  reportId: string;
  request: { from: string; to: string; timeZone: string };
  slice: Slice;
  concurrency: number;
}

interface SliceFigures {
  index: number;
  rows: number;
  ms: number;
  peakRssMB: number;
  result: SliceResult;
}

function requestOf(r: SliceJob['request']): ReportRequest {
  return {
    definition: 'on-demand',
    window: reportWindow(r.from, r.to, r.timeZone),
    statuses: [],
    types: [],
    clients: [],
    formats: ['xlsx', 'csv'],
  };
}

async function childSlice(file: string): Promise<void> {
  const job = JSON.parse(readFileSync(file, 'utf8')) as SliceJob;
  const s3 = new S3Client({ ...job.s3, forcePathStyle: true });
  const started = performance.now();
  const result = await runSlice(
    {
      reportId: job.reportId,
      request: requestOf(job.request),
      slice: job.slice,
      concurrency: job.concurrency,
    },
    {
      verifik: createVerifikClient({ baseUrl: job.fakeUrl, token: job.token }),
      s3,
      bucket: BUCKET,
      keyPrefix: job.keyPrefix,
    },
  );
  const figures: SliceFigures = {
    index: job.slice.index,
    rows: result.rows,
    ms: performance.now() - started,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    result,
  };
  s3.destroy();
  console.log(JSON.stringify(figures));
}

export async function benchScale(opts: {
  count: number;
  days: number;
  latencyMs: number;
  budget: number;
  local: number;
  lambdaSeconds: number;
}) {
  const to = addDays(FROM, opts.days - 1);
  const window = reportWindow(FROM, to, TZ);
  // The plan from the month's per-day totals (even: the generator spreads records uniformly); each
  // slice is then served by its own fake process holding exactly that slice's records, its pages
  // rendered before the clock starts, so the fake's JSON rendering (one thread, ~40 ms a page
  // live) is not what is measured on this 2-core machine; Verifik's own servers do not share it.
  const perDay = Math.floor(opts.count / opts.days);
  const totals = Array.from({ length: opts.days }, (_, i) => ({
    day: addDays(FROM, i),
    total: perDay + (i < opts.count - perDay * opts.days ? 1 : 0),
  }));
  const planStarted = performance.now();
  const plan = planSlices(window, totals, {
    concurrency: opts.budget,
    secondsPerPage: opts.latencyMs / 1000,
    maxParallelSlices: 16,
    // A smaller run fans out only if told its Lambda is shorter (BENCH_SCALE_LAMBDA_SECONDS).
    lambdaSeconds: opts.lambdaSeconds,
  });
  // What the plan's per-day requests cost on AWS: one page per day at the shared budget.
  const planModelMs = Math.ceil(opts.days / opts.budget) * opts.latencyMs + (performance.now() - planStarted);
  const moto = await startMoto();
  const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const request = requestOf({ from: FROM, to, timeZone: TZ });
  const reportId = `scale-${opts.count}`;
  const slices: SliceFigures[] = [];
  try {
    const started = performance.now();
    const script = await bundle(self);
    const r = await runFanOutLocally({
      request,
      reportId,
      // Only the plan would use it, and the plan is given.
      verifik: createVerifikClient({ baseUrl: 'http://127.0.0.1:9', token: 'unused' }),
      s3,
      bucket: BUCKET,
      plan,
      maxAttempts: 1,
      runner: async (slice, plan) => {
        const fake = await spawnSliceFake(slice, opts.latencyMs);
        const file = join(dir, `slice-${slice.index}.json`);
        const keyPrefix = reportKeyPrefix({
          prefix: REPORTS_PREFIX,
          definition: 'on-demand',
          day: FROM,
          reportId,
        });
        const job: SliceJob = {
          fakeUrl: fake.url,
          token: fake.token,
          s3: moto.clientConfig,
          keyPrefix,
          reportId,
          request: { from: FROM, to, timeZone: TZ },
          slice,
          concurrency: plan.concurrencyPerSlice,
        };
        writeFileSync(file, JSON.stringify(job));
        const figures = await runChild<SliceFigures>(script, ['--slice', file], [...LAMBDA_V8_FLAGS], {
          ...LAMBDA_PROCESS_ENV,
        }).finally(() => fake.stop());
        slices.push(figures);
        process.stderr.write(
          `  slice ${slice.index + 1}/${plan.slices.length}: ${figures.rows} rows in ${fmt(figures.ms / 1000, 1)} s\n`,
        );
        return figures.result;
      },
      // Slices at once on this machine; on AWS all of plan.parallelSlices run together.
      localParallel: opts.local,
    });
    const wallMs = performance.now() - started;
    // The single-process reference: today's pipeline over slice 0's window at the same share.
    const reference = await singleReference(
      script,
      plan.slices[0] as Slice,
      plan.concurrencyPerSlice,
      opts.latencyMs,
      dir,
    );
    const pages = Math.ceil(opts.count / 500);
    const readLimitS = (pages / opts.budget) * (opts.latencyMs / 1000);
    const slowest = Math.max(...slices.map((s) => s.ms));
    const modelledS = (planModelMs + slowest + r.timings.assembleMs) / 1000;
    const perWorker = slices.map((s) => s.rows / (s.ms / 1000));
    const shareRate = (plan.concurrencyPerSlice * 500) / (opts.latencyMs / 1000);
    console.log(
      [
        `| figure | value | goal |`,
        `| --- | --- | --- |`,
        `| validations, days | ${r.summary.totals.validations.toLocaleString('en')} over ${opts.days} days | |`,
        `| slices (parallel on AWS × requests each) | ${plan.slices.length} (${plan.parallelSlices} × ${plan.concurrencyPerSlice}) | ≤ 32 in flight |`,
        `| read's limit: pages ÷ ${opts.budget} × ${opts.latencyMs} ms | ${fmt(readLimitS, 1)} s | |`,
        `| plan (${opts.days} per-day requests at the budget, modelled) | ${fmt(planModelMs / 1000, 1)} s | |`,
        `| local fan-out wall time (${opts.local} slices at once on 2 cores) | ${fmt(wallMs / 1000, 1)} s | |`,
        `| slowest slice | ${fmt(slowest / 1000, 1)} s | |`,
        `| assembly | ${fmt(r.timings.assembleMs / 1000, 1)} s (${fmt((100 * r.timings.assembleMs) / (r.timings.assembleMs + slowest), 1)} % of modelled) | < 5 % |`,
        `| bytes copied server-side / fetched / uploaded | ${(r.stats.copiedBytes / 2 ** 20).toFixed(0)} / ${(r.stats.fetchedBytes / 2 ** 20).toFixed(1)} / ${(r.stats.uploadedBytes / 2 ** 20).toFixed(1)} MiB | |`,
        `| modelled Lambda wall time (plan + slowest slice + assembly) | ${fmt(modelledS, 1)} s | < 180 s |`,
        `| peak RSS per worker (max) | ${fmt(Math.max(...slices.map((s) => s.peakRssMB)), 0)} MB | ≤ the 1M-row single run's |`,
        `| per-worker throughput (min / median) | ${fmt(Math.min(...perWorker), 0)} / ${fmt(perWorker.sort((a, b) => a - b)[perWorker.length >> 1] ?? 0, 0)} rows/s | ≥ 90 % of single-process |`,
        `| single process (runReport) on slice 1's window at the same share | ${fmt(reference.rows / (reference.ms / 1000), 0)} rows/s, ${fmt(reference.peakRssMB, 0)} MB → worker min ÷ single = ${fmt((100 * Math.min(...perWorker)) / (reference.rows / (reference.ms / 1000)), 0)} % | |`,
        `| a slice's read limit at its share (${plan.concurrencyPerSlice} × 500 rows / ${opts.latencyMs} ms) | ${fmt(shareRate, 0)} rows/s | |`,
      ].join('\n'),
    );
    return { r, slices, wallMs, modelledS };
  } finally {
    s3.destroy();
    await moto.stop();
  }
}

/** A fake Verifik process holding exactly the slice's records, its pages rendered up front. */
async function spawnSliceFake(
  slice: Slice,
  latencyMs: number,
): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/fake-verifik-process.ts',
      '--count',
      String(slice.estimate),
      '--seed',
      String(13 + slice.index),
      '--start',
      new Date(slice.startMs).toISOString(),
      '--end',
      new Date(slice.endMs).toISOString(),
      '--latency-ms',
      String(latencyMs),
      '--prerender',
      '500',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('..', import.meta.url)) },
  );
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  let info: { url: string; token: string } | null = null;
  for await (const line of lines) {
    info = JSON.parse(line) as { url: string; token: string };
    break;
  }
  if (!info) throw new Error('slice fake did not start');
  proc.stdout?.resume();
  return {
    ...info,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.stdin?.end();
        await once(proc, 'exit');
      }
    },
  };
}

interface ReferenceFigures {
  rows: number;
  ms: number;
  peakRssMB: number;
}

async function singleReference(
  script: string,
  slice: Slice,
  concurrency: number,
  latencyMs: number,
  dir: string,
) {
  const fake = await spawnSliceFake(slice, latencyMs);
  try {
    const file = join(dir, 'reference.json');
    writeFileSync(file, JSON.stringify({ fakeUrl: fake.url, token: fake.token, slice, concurrency }));
    return await runChild<ReferenceFigures>(script, ['--reference', file], [...LAMBDA_V8_FLAGS], {
      ...LAMBDA_PROCESS_ENV,
    });
  } finally {
    await fake.stop();
  }
}

async function childReference(file: string): Promise<void> {
  const job = JSON.parse(readFileSync(file, 'utf8')) as {
    fakeUrl: string;
    token: string;
    slice: Slice;
    concurrency: number;
  };
  const out = mkdtempSync(join(tmpdir(), 'bench-scale-ref-'));
  const window = sliceWindow(
    requestOf({ from: job.slice.from, to: job.slice.to, timeZone: TZ }).window,
    job.slice,
  );
  const started = performance.now();
  const r = await runReport({
    request: { ...requestOf({ from: job.slice.from, to: job.slice.to, timeZone: TZ }), window },
    reportId: 'scale-reference',
    verifik: createVerifikClient({ baseUrl: job.fakeUrl, token: job.token }),
    sink: createLocalSink({ dir: out, reportId: 'scale-reference' } as never),
    read: { concurrency: job.concurrency },
  });
  const figures: ReferenceFigures = {
    rows: r.summary.totals.validations,
    ms: performance.now() - started,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  rmSync(out, { recursive: true, force: true });
  console.log(JSON.stringify(figures));
}

const { values } = parseArgs({
  options: { slice: { type: 'string' }, reference: { type: 'string' } },
  strict: false,
});
if (typeof values.slice === 'string') await childSlice(values.slice);
if (typeof values.reference === 'string') await childReference(values.reference);
