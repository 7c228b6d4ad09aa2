/**
 * Long reports fanned out (issue 13): `npm run bench -- --only scale`.
 *
 * 10M validations over 30 days (BENCH_SCALE_COUNT / BENCH_SCALE_DAYS to change) from the fake
 * Verifik at 100 ms a page, a shared budget of 32 requests in flight. The plan splits the month
 * into slices that each get a fixed share of the 32; every slice runs in its own child process
 * (so its peak RSS is its own) through the same runSlice a Lambda runs, writing to moto's S3; the
 * assembler then builds the files in S3 by server-side copies. On this 2-core machine at most
 * BENCH_SCALE_LOCAL (default 1) slices run at once: with one at a time a slice has the cores to
 * itself (with moto and its fake), as a Lambda has its own vCPU, so the slowest slice stands for
 * one Lambda and the modelled wall time on AWS is plan + the slowest slice + assembly (all slices
 * run at once there, each on its own Lambda). With 2 at once, a slice's time includes the other's
 * CPU, which a Lambda would not share.
 *
 * The single-process reference is today's single-Lambda path (runReport) over slice 1's window at
 * the same Verifik share and latency, writing into the S3 sink on the same moto (same bucket,
 * another prefix), so per-worker throughput and peak RSS compare like with like; the same run
 * into a local directory is printed as a second row for context.
 *
 * Assembly is measured on moto, which copies bytes in Python; S3 copies UploadPartCopy ranges
 * server-side. The table therefore also counts the assembler's requests and splits its bytes into
 * copied by S3 and sent (or fetched) by the function itself. No S3 copy speed is assumed.
 *
 * Child mode: `tsx bench/scale.ts --slice <job.json>` runs one slice and prints its figures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { LAMBDA_PROCESS_ENV, LAMBDA_V8_FLAGS, REPORTS_PREFIX } from '../functions/contract.js';
import { runReport } from '../functions/core/pipeline.js';
import type { ReportRequest } from '../functions/core/request.js';
import { createLocalSink, createS3Sink, reportKeyPrefix } from '../functions/delivery/sink/index.js';
import { runFanOutLocally } from '../functions/fanout/driver-local.js';
import { planSlices, type Slice, sliceWindow } from '../functions/fanout/plan.js';
import { runSlice, type SliceResult } from '../functions/fanout/slice-worker.js';
import { addDays, reportWindow } from '../functions/time/window.js';
import { createVerifikClient } from '../functions/verifik/client.js';
import { startMoto } from '../test/support/moto.js';
import { bundle, type FakeProcess, fmt, runChild, spawnFake } from './support.js';

const self = fileURLToPath(import.meta.url);
const TZ = 'America/Bogota';
const FROM = '2024-11-01';
const BUCKET = 'bench-scale';
/** The reference's S3 prefix: the same bucket as the fan-out, apart from its keys. */
const REFERENCE_PREFIX = 'bench-reference/';
/** Today's 1M-row single run from the pipeline bench (README, Performance): context only. */
const PIPELINE_1M = '13.0 s, 268–292 MB peak RSS, local disk';

/** S3 requests by command, and body bytes sent by this process (the function's own uploads). */
interface S3Counts {
  requests: Record<string, number>;
  sentBytes: Record<string, number>;
  copiedBytes: number;
  /**
   * Wall time with at least one UploadPartCopy or CompleteMultipartUpload in flight: S3's
   * server-side work (copying ranges; joining the parts), here moto's, in Python.
   */
  copyingMs: number;
  /** Time in each command, summed over its requests (they overlap). */
  ms: Record<string, number>;
}

/** Counts every request the client sends (assembly's in the bench: the slices have their own clients). */
function countRequests(s3: S3Client): S3Counts {
  const counts: S3Counts = { requests: {}, sentBytes: {}, copiedBytes: 0, copyingMs: 0, ms: {} };
  let copying = 0;
  let copyingSince = 0;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.requests[name] = (counts.requests[name] ?? 0) + 1;
      const input = args.input as { Body?: unknown; CopySourceRange?: string };
      const body = input.Body;
      const sent =
        typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
      if (sent) counts.sentBytes[name] = (counts.sentBytes[name] ?? 0) + sent;
      const range = /^bytes=(\d+)-(\d+)$/.exec(input.CopySourceRange ?? '');
      if (range) counts.copiedBytes += Number(range[2]) - Number(range[1]) + 1;
      const serverSide = name === 'UploadPartCopy' || name === 'CompleteMultipartUpload';
      // The union of the server-side requests' intervals (they run side by side).
      if (serverSide && copying++ === 0) copyingSince = performance.now();
      const t = performance.now();
      try {
        return await next(args);
      } finally {
        counts.ms[name] = (counts.ms[name] ?? 0) + performance.now() - t;
        if (serverSide && --copying === 0) counts.copyingMs += performance.now() - copyingSince;
      }
    },
    { step: 'initialize', name: 'benchCountRequests' },
  );
  return counts;
}

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
  // From here on this client serves only the assembler (and its sink): the slices have their own.
  const counts = countRequests(s3);
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
      moto.clientConfig,
    );
    const pages = Math.ceil(opts.count / 500);
    const readLimitS = (pages / opts.budget) * (opts.latencyMs / 1000);
    const slowest = Math.max(...slices.map((s) => s.ms));
    const modelledMs = planModelMs + slowest + r.timings.assembleMs;
    const modelledS = modelledMs / 1000;
    const assemblyShare = (100 * r.timings.assembleMs) / modelledMs;
    const perWorker = slices.map((s) => s.rows / (s.ms / 1000)).sort((a, b) => a - b);
    const workerMin = perWorker[0] ?? 0;
    const workerMedian = perWorker[perWorker.length >> 1] ?? 0;
    const peakRss = Math.max(...slices.map((s) => s.peakRssMB));
    const refS3Rate = reference.s3.rows / (reference.s3.ms / 1000);
    const refLocalRate = reference.local.rows / (reference.local.ms / 1000);
    const shareRate = (plan.concurrencyPerSlice * 500) / (opts.latencyMs / 1000);
    const verdict = (ok: boolean) => (ok ? 'PASS' : '**MISS**');
    const mib = (b: number) => `${fmt(b / 2 ** 20, 1)} MiB`;
    const n = (name: string) => counts.requests[name] ?? 0;
    const sent = (name: string) => counts.sentBytes[name] ?? 0;
    const others = Object.entries(counts.requests)
      .filter(([k]) => !['UploadPartCopy', 'UploadPart', 'GetObject', 'PutObject'].includes(k))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const oneAtATime =
      opts.local === 1
        ? 'slices ran one at a time here; on AWS they run in parallel, each on its own Lambda'
        : `${opts.local} slices ran at once on 2 cores here (each slice's time includes the others' CPU); on AWS they run in parallel, each on its own Lambda`;
    console.log(
      [
        `(${oneAtATime}; moto, the fakes and other engineers' processes share this machine's 2 cores)`,
        '',
        `| figure | value | goal | verdict |`,
        `| --- | --- | --- | --- |`,
        `| validations, days | ${r.summary.totals.validations.toLocaleString('en')} over ${opts.days} days | | |`,
        `| slices (parallel on AWS × requests each) | ${plan.slices.length} (${plan.parallelSlices} × ${plan.concurrencyPerSlice}) | ≤ ${opts.budget} in flight | ${verdict(plan.parallelSlices * plan.concurrencyPerSlice <= opts.budget)} |`,
        `| read's limit: pages ÷ ${opts.budget} × ${opts.latencyMs} ms | ${fmt(readLimitS, 1)} s | | |`,
        `| plan (${opts.days} per-day requests at the budget, modelled) | ${fmt(planModelMs / 1000, 1)} s | | |`,
        `| local fan-out wall time (${opts.local} slice${opts.local === 1 ? '' : 's'} at a time, incl. each fake's pre-rendering) | ${fmt(wallMs / 1000, 1)} s | | |`,
        `| slowest slice / a slice's read limit at its share (${plan.concurrencyPerSlice} × 500 rows / ${opts.latencyMs} ms) | ${fmt(slowest / 1000, 1)} s / ${fmt((plan.slices[0]?.estimate ?? 0) / shareRate, 1)} s | | |`,
        `| assembly, measured on moto (copies in Python) | ${fmt(r.timings.assembleMs / 1000, 1)} s = ${fmt(assemblyShare, 1)} % of modelled | < 5 % | ${verdict(assemblyShare < 5)} |`,
        `| time per request kind, summed (they overlap) | ${Object.entries(counts.ms)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${fmt(v / 1000, 1)} s`)
          .join(', ')} | | |`,
        `| of which an UploadPartCopy or CompleteMultipartUpload was in flight (S3's server-side work; moto's, in Python) / the rest (the function's own work and its other requests) | ${fmt(counts.copyingMs / 1000, 1)} s / ${fmt((r.timings.assembleMs - counts.copyingMs) / 1000, 1)} s = ${fmt((100 * (r.timings.assembleMs - counts.copyingMs)) / modelledMs, 1)} % of modelled | | |`,
        `| assembly requests: UploadPartCopy / UploadPart / GetObject (ranges) / PutObject | ${n('UploadPartCopy')} / ${n('UploadPart')} / ${n('GetObject')} / ${n('PutObject')} | | |`,
        `| other assembly requests | ${others || 'none'} | | |`,
        `| assembly bytes: copied by S3 (UploadPartCopy) / uploaded by the function (UploadPart + PutObject) / fetched by it | ${mib(counts.copiedBytes)} / ${mib(sent('UploadPart') + sent('PutObject'))} / ${mib(r.stats.fetchedBytes)} | | |`,
        `| modelled Lambda wall time (plan + slowest slice + assembly as measured on moto) | ${fmt(modelledS, 1)} s | < 180 s | ${verdict(modelledS < 180)} |`,
        `| single process (runReport) on slice 1's window at the same share, S3 sink on the same moto | ${fmt(reference.s3.rows, 0)} rows in ${fmt(reference.s3.ms / 1000, 1)} s = ${fmt(refS3Rate, 0)} rows/s, ${fmt(reference.s3.peakRssMB, 0)} MB | (the reference) | |`,
        `| same, local-disk sink (context only) | ${fmt(refLocalRate, 0)} rows/s, ${fmt(reference.local.peakRssMB, 0)} MB | | |`,
        `| today's 1M-row single run, pipeline bench (README; context only) | ${PIPELINE_1M} | | |`,
        `| peak RSS per worker (max) | ${fmt(peakRss, 0)} MB = ${fmt((100 * peakRss) / reference.s3.peakRssMB, 0)} % of the S3 reference | ≤ the reference's ${fmt(reference.s3.peakRssMB, 0)} MB | ${verdict(peakRss <= reference.s3.peakRssMB)} |`,
        `| per-worker throughput (min / median) | ${fmt(workerMin, 0)} / ${fmt(workerMedian, 0)} rows/s = ${fmt((100 * workerMin) / refS3Rate, 0)} / ${fmt((100 * workerMedian) / refS3Rate, 0)} % of the S3 reference | ≥ 90 % (min) | ${verdict(workerMin >= 0.9 * refS3Rate)} |`,
      ].join('\n'),
    );
    return { r, slices, wallMs, modelledS };
  } finally {
    s3.destroy();
    await moto.stop();
  }
}

/** A fake Verifik process holding exactly the slice's records, its pages rendered up front. */
function spawnSliceFake(slice: Slice, latencyMs: number): Promise<FakeProcess> {
  return spawnFake({
    count: slice.estimate,
    seed: 13 + slice.index,
    date: slice.from,
    timeZone: TZ,
    span: { start: new Date(slice.startMs), end: new Date(slice.endMs) },
    latencyMs,
    prerender: [500],
  });
}

interface ReferenceFigures {
  rows: number;
  ms: number;
  peakRssMB: number;
}

interface ReferenceJob {
  fakeUrl: string;
  token: string;
  slice: Slice;
  concurrency: number;
  sink: 's3' | 'local';
  s3: S3ClientConfig;
}

/**
 * Today's single-Lambda path over the slice's window, once into S3 on the bench's moto (the
 * reference) and once into a local directory (context); one fake serves both, its pages rendered
 * once, and each run is its own process so each peak RSS is its own.
 */
async function singleReference(
  script: string,
  slice: Slice,
  concurrency: number,
  latencyMs: number,
  dir: string,
  s3: S3ClientConfig,
): Promise<{ s3: ReferenceFigures; local: ReferenceFigures }> {
  const fake = await spawnSliceFake(slice, latencyMs);
  try {
    const run = async (sink: ReferenceJob['sink']) => {
      const file = join(dir, `reference-${sink}.json`);
      const job: ReferenceJob = { fakeUrl: fake.url, token: fake.token, slice, concurrency, sink, s3 };
      writeFileSync(file, JSON.stringify(job));
      const figures = await runChild<ReferenceFigures>(script, ['--reference', file], [...LAMBDA_V8_FLAGS], {
        ...LAMBDA_PROCESS_ENV,
      });
      process.stderr.write(
        `  reference (${sink}): ${figures.rows} rows in ${fmt(figures.ms / 1000, 1)} s, ${fmt(figures.peakRssMB, 0)} MB\n`,
      );
      return figures;
    };
    return { s3: await run('s3'), local: await run('local') };
  } finally {
    await fake.stop();
  }
}

async function childReference(file: string): Promise<void> {
  const job = JSON.parse(readFileSync(file, 'utf8')) as ReferenceJob;
  const base = requestOf({ from: job.slice.from, to: job.slice.to, timeZone: TZ });
  const window = sliceWindow(base.window, job.slice);
  const reportId = 'scale-reference';
  const s3 = new S3Client({ ...job.s3, forcePathStyle: true });
  const out = mkdtempSync(join(tmpdir(), 'bench-scale-ref-'));
  const sink =
    job.sink === 's3'
      ? createS3Sink({
          s3,
          bucket: BUCKET,
          prefix: REFERENCE_PREFIX,
          definition: 'on-demand',
          window: { from: job.slice.from },
          reportId,
        })
      : createLocalSink({ dir: out, reportId });
  const started = performance.now();
  const r = await runReport({
    request: { ...base, window },
    reportId,
    verifik: createVerifikClient({ baseUrl: job.fakeUrl, token: job.token }),
    sink,
    read: { concurrency: job.concurrency },
  });
  const figures: ReferenceFigures = {
    rows: r.summary.totals.validations,
    ms: performance.now() - started,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  s3.destroy();
  rmSync(out, { recursive: true, force: true });
  console.log(JSON.stringify(figures));
}

const { values } = parseArgs({
  options: { slice: { type: 'string' }, reference: { type: 'string' } },
  strict: false,
});
if (typeof values.slice === 'string') await childSlice(values.slice);
if (typeof values.reference === 'string') await childReference(values.reference);
