/**
 * The fan-out without Step Functions: the same plan, slice and assembly code, driven in one
 * process (tests, `npm run bench`, the CLI against moto). It mirrors the state machine:
 * plan → slices at most `parallelSlices` at once, each retried up to `maxAttempts` times → assemble;
 * a slice that fails on every attempt fails the report, and the report's prefix is cleared
 * (the same S3 sink abort the assembler uses), so no manifest and no part remains.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { ReportRequest, ReportResult } from '../core/request.js';
import { createS3Sink } from '../delivery/sink/index.js';
import { ReportsError } from '../errors/kinds.js';
import type { Summary } from '../report/summary.js';
import type { VerifikClient } from '../verifik/client.js';
import { type BackoffBoard, CoordinatedBackoff, MemoryBackoffBoard } from '../verifik/read/shared-backoff.js';
import { type AssembleStats, assembleReport } from './assemble.js';
import { dayTotals } from './estimate.js';
import type { PartLimits } from './parts.js';
import { type Plan, type PlanModel, planSlices, type Slice } from './plan.js';
import { runSlice, type SliceResult } from './slice-worker.js';

export class SliceFailedError extends ReportsError {
  override readonly kind = 'upstream-data';
  override name = 'SliceFailedError';
}

/** How one slice is run: in this process by default; the bench runs each in its own process. */
export type SliceRunner = (slice: Slice, plan: Plan, attempt: number) => Promise<SliceResult>;

export interface LocalFanOutOptions {
  request: ReportRequest;
  reportId: string;
  verifik: VerifikClient;
  s3: S3Client;
  bucket: string;
  prefix?: string;
  model?: Partial<PlanModel>;
  /** A plan made elsewhere (tests); otherwise estimated from the per-day totals. */
  plan?: Plan;
  perPage?: number;
  /** Attempts per slice, as the Map's Retry (default 3: the first try and two retries). */
  maxAttempts?: number;
  runner?: SliceRunner;
  renderThread?: boolean;
  previous?: Summary | null;
  now?: () => Date;
  partLimits?: Partial<PartLimits>;
  onSliceDone?: (done: number, total: number) => void;
  /** Slices run at once here (default the plan's): a small machine runs fewer than AWS would. */
  localParallel?: number;
  /**
   * Where the slices share their 429s (default: one board in this process, as the slices here are
   * in it; DynamoDB's on AWS). `null`: each slice backs off alone.
   */
  backoffBoard?: BackoffBoard | null;
}

export interface LocalFanOutResult extends ReportResult {
  plan: Plan;
  stats: AssembleStats;
  timings: { planMs: number; slicesMs: number; assembleMs: number; sliceMs: number[] };
  attempts: number[];
}

export async function runFanOutLocally(opts: LocalFanOutOptions): Promise<LocalFanOutResult> {
  const { request, reportId, s3, bucket } = opts;
  const t0 = performance.now();
  const plan =
    opts.plan ??
    planSlices(
      request.window,
      await dayTotals(opts.verifik, {
        window: request.window,
        statuses: request.statuses,
        ...(request.types.length === 1 ? { type: request.types[0] } : {}),
        ...(request.clients.length === 1 ? { client: request.clients[0] } : {}),
        concurrency: opts.model?.concurrency ?? 8,
      }),
      opts.model,
    );
  const t1 = performance.now();
  const keyPrefix = createS3Sink({
    s3,
    bucket,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    definition: request.definition,
    window: request.window,
    reportId,
  }).keyPrefix;
  const board = opts.backoffBoard === undefined ? new MemoryBackoffBoard() : opts.backoffBoard;
  const runner: SliceRunner =
    opts.runner ??
    ((slice) =>
      runSlice(
        {
          reportId,
          request,
          slice,
          concurrency: plan.concurrencyPerSlice,
          ...(opts.perPage ? { perPage: opts.perPage } : {}),
        },
        {
          verifik: opts.verifik,
          s3,
          bucket,
          keyPrefix,
          ...(opts.renderThread !== undefined ? { renderThread: opts.renderThread } : {}),
          ...(board
            ? { sharedBackoff: new CoordinatedBackoff(board, { share: plan.concurrencyPerSlice }) }
            : {}),
        },
      ));
  const maxAttempts = opts.maxAttempts ?? 3;
  const limit = pLimit(opts.localParallel ?? plan.parallelSlices);
  const attempts = plan.slices.map(() => 0);
  const sliceMs = plan.slices.map(() => 0);
  let done = 0;
  const failFast = new AbortController();
  const settled = await Promise.allSettled(
    plan.slices.map((slice) =>
      limit(async () => {
        for (;;) {
          if (failFast.signal.aborted) throw new SliceFailedError('another slice failed');
          attempts[slice.index] = (attempts[slice.index] ?? 0) + 1;
          const started = performance.now();
          try {
            const r = await runner(slice, plan, attempts[slice.index] ?? 1);
            sliceMs[slice.index] = performance.now() - started;
            opts.onSliceDone?.(++done, plan.slices.length);
            return r;
          } catch (err) {
            if ((attempts[slice.index] ?? 0) >= maxAttempts) {
              failFast.abort();
              throw new SliceFailedError(
                `slice ${slice.index + 1} of ${plan.slices.length} (${slice.from}…${slice.to}) failed ${maxAttempts} times: ${(err as Error).message}`,
                { cause: err },
              );
            }
          }
        }
      }),
    ),
  );
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) {
    // Every slice has settled; clear the prefix as a failed report's sink does.
    const err = failures.find((e) => e.message !== 'another slice failed') ?? failures[0];
    const sink = createS3Sink({
      s3,
      bucket,
      ...(opts.prefix ? { prefix: opts.prefix } : {}),
      definition: request.definition,
      window: request.window,
      reportId,
    });
    await sink.abort(err);
    throw err;
  }
  const t2 = performance.now();
  const assembled = await assembleReport({
    s3,
    bucket,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    reportId,
    request,
    sliceCount: plan.slices.length,
    previous: opts.previous ?? null,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.partLimits ? { partLimits: opts.partLimits } : {}),
  });
  const t3 = performance.now();
  return {
    ...assembled,
    plan,
    attempts,
    timings: { planMs: t1 - t0, slicesMs: t2 - t1, assembleMs: t3 - t2, sliceMs },
  };
}
