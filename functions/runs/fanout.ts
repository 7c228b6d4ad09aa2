/**
 * A long on-demand report fanned out on Step Functions (issue 13): the steps the state machine
 * runs, each a small function over the run's ports, in the order of the machine:
 *   plan (in the worker: `planFanOut`) → Map of `fanOutSlice` → `fanOutAssemble` → `fanOutDeliver`,
 *   any failure after the retries → `fanOutFail`.
 * The worker's claim on the report id is carried through the execution (`runId`): every step
 * renews its lease while it works, so the sweeper sees a live run, and the one mail is sent under
 * that claim, after assembly, with the same guarantees as a single run's.
 */
import { z } from 'zod';
import { FILE_CATALOGUE, ON_DEMAND_DEFINITION, SUMMARY_FILE } from '../contract.js';
import { describeFailure } from '../delivery/mail/index.js';
import { createS3Sink, readManifest } from '../delivery/sink/index.js';
import { DynamoBackoffBoard } from '../delivery/state/backoff-board.js';
import { markRun, renewLease } from '../delivery/state/index.js';
import { recordSliceProgress } from '../delivery/state/reports.js';
import { ERROR_KINDS, type ErrorKind, isQuotable, kindOf, ReportsError } from '../errors/kinds.js';
import { assembleReport } from '../fanout/assemble.js';
import { dayTotals } from '../fanout/estimate.js';
import { type Plan, type PlanModel, planSlices, type Slice } from '../fanout/plan.js';
import { runSlice } from '../fanout/slice-worker.js';
import { Manifest } from '../report/manifest.js';
import type { Summary } from '../report/summary.js';
import { VerifikAuthError } from '../verifik/errors.js';
import { CoordinatedBackoff } from '../verifik/read/shared-backoff.js';
import { type HeldRun, keepAlive, RUN_LEASE_SECONDS } from './claim.js';
import type { RunDeps } from './deps.js';
import { mailFailure, recordFailure } from './failure.js';
import { readStoredFile } from './files.js';
import { logEntry } from './log.js';
import { composeMail, sendUnderClaim } from './mail.js';
import { type Produced, recordComplete } from './produce.js';
import { onDemandReportRequest } from './request-record.js';
import { OnDemandRequest } from './worker-payload.js';

/** The execution's input, as the worker starts it; every step reads the part it needs. */
export const FanOutExecution = z.object({
  reportId: z.string().min(1),
  runId: z.string().min(1),
  baseUrl: z.url(),
  request: OnDemandRequest,
  slices: z.array(z.custom<Slice>((v) => typeof v === 'object' && v !== null && 'startMs' in v)).min(1),
  concurrencyPerSlice: z.number().int().positive(),
  parallelSlices: z.number().int().positive(),
});
export type FanOutExecution = z.infer<typeof FanOutExecution>;

/** One Map item: the execution's shared fields and its slice (the Map's ItemSelector builds it). */
export const FanOutSliceTask = FanOutExecution.omit({ slices: true, parallelSlices: true }).extend({
  slice: z.custom<Slice>((v) => typeof v === 'object' && v !== null && 'startMs' in v),
});
export type FanOutSliceTask = z.infer<typeof FanOutSliceTask>;

/**
 * A step's failure as it crosses Step Functions, which keeps only an error type and a message:
 * the type carries the taxonomy's kind and whether the message may be quoted
 * (`<kind>[!]:<name>`), so the fail step describes it as a single run would describe the error.
 */
export class FanOutStepError extends ReportsError {
  override readonly kind: ErrorKind;
  override readonly quotable: boolean;
  constructor(kind: ErrorKind, name: string, message: string, quotable: boolean) {
    super(message);
    this.kind = kind;
    this.name = name;
    this.quotable = quotable;
  }
}

/** Rethrows a step's error with its kind in its name (what Step Functions passes on as the type). */
function carryKind(err: unknown): never {
  const kind = kindOf(err);
  if (kind === 'unexpected' || !(err instanceof Error)) throw err;
  const carried = new Error(err.message, { cause: err });
  carried.name = `${kind}${isQuotable(err) ? '' : '!'}:${err.name}`;
  throw carried;
}

/** The step's error back from Step Functions' `{ Error, Cause }` (a Lambda's cause is JSON). */
export function stepFailure(error: { Error?: string; Cause?: string }): Error {
  let type = error.Error ?? 'Error';
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorType?: string; errorMessage?: string };
    type = cause.errorType ?? type;
    message = cause.errorMessage ?? message;
  } catch {
    // Not a Lambda's JSON cause (e.g. States.Timeout): the text as it is.
  }
  const m = /^([a-z-]+)(!?):(.+)$/.exec(type);
  if (m && (ERROR_KINDS as readonly string[]).includes(m[1] ?? '')) {
    return new FanOutStepError(m[1] as ErrorKind, m[3] ?? 'Error', message, m[2] !== '!');
  }
  const plain = new Error(message);
  plain.name = type;
  return plain;
}

/** Starts the fan-out execution of a report (the stack's state machine; a local driver in tests). */
export interface FanOutStarter {
  start(input: FanOutExecution): Promise<void>;
  /** The plan's cost model where it differs from the measured defaults (tests force a fan-out). */
  model?: Partial<PlanModel>;
}

const heldRun = (e: Pick<FanOutExecution, 'reportId' | 'runId'>): HeldRun => ({
  definition: ON_DEMAND_DEFINITION,
  day: e.reportId,
  runId: e.runId,
  reportId: e.reportId,
});

/** Renews the claim now and while `work` runs; a claim that is no longer ours stops the step. */
async function underLease<T>(
  deps: RunDeps,
  e: Pick<FanOutExecution, 'reportId' | 'runId'>,
  work: () => Promise<T>,
) {
  const run = heldRun(e);
  const held = await renewLease(deps.doc, deps.config.STATE_TABLE, {
    definition: run.definition,
    day: run.day,
    runId: run.runId,
    leaseSeconds: RUN_LEASE_SECONDS,
    now: deps.now(),
  });
  if (!held) throw new Error(`report ${e.reportId}: the run's claim was taken over; this execution stops`);
  const beat = keepAlive(deps, { definition: run.definition, day: run.day, runId: run.runId });
  try {
    return await work();
  } finally {
    beat.stop();
  }
}

const sinkPrefix = (deps: RunDeps, reportId: string, request: ReturnType<typeof onDemandReportRequest>) =>
  createS3Sink({
    s3: deps.s3,
    bucket: deps.config.REPORTS_BUCKET,
    prefix: deps.config.REPORTS_PREFIX,
    definition: request.definition,
    window: request.window,
    reportId,
  });

/**
 * The plan for an on-demand report, from one small request a day: whether it fans out, and how.
 * Called by the worker before it produces anything, so a small report keeps today's path.
 */
export async function planFanOut(
  deps: RunDeps,
  request: OnDemandRequest,
  model: Partial<PlanModel> = {},
): Promise<Plan> {
  const r = onDemandReportRequest(request);
  const verifik = deps.verifik(await deps.secrets.verifikToken());
  const totals = await dayTotals(verifik, {
    window: r.window,
    statuses: r.statuses,
    ...(r.types.length === 1 ? { type: r.types[0] } : {}),
    ...(r.clients.length === 1 ? { client: r.clients[0] } : {}),
    concurrency: deps.config.VERIFIK_CONCURRENCY,
  });
  return planSlices(r.window, totals, { concurrency: deps.config.VERIFIK_CONCURRENCY, ...model });
}

/** Marks the report as fanned out: slices 0 of n, so `GET /reports/{id}` shows progress. */
export async function recordFanOutStart(deps: RunDeps, reportId: string, total: number): Promise<void> {
  await recordSliceProgress(deps.doc, deps.config.STATE_TABLE, reportId, { total });
}

export async function fanOutSlice(
  deps: RunDeps,
  task: FanOutSliceTask,
): Promise<{ index: number; rows: number }> {
  const request = onDemandReportRequest(task.request);
  return underLease(deps, task, async () => {
    const token = await deps.secrets.verifikToken();
    try {
      const result = await runSlice(
        { reportId: task.reportId, request, slice: task.slice, concurrency: task.concurrencyPerSlice },
        {
          verifik: deps.verifik(token),
          s3: deps.s3,
          bucket: deps.config.REPORTS_BUCKET,
          keyPrefix: sinkPrefix(deps, task.reportId, request).keyPrefix,
          sharedBackoff: new CoordinatedBackoff(
            new DynamoBackoffBoard(deps.doc, deps.config.STATE_TABLE, task.reportId, () => deps.now()),
            { share: task.concurrencyPerSlice },
          ),
        },
      );
      await recordSliceProgress(deps.doc, deps.config.STATE_TABLE, task.reportId, { done: 1 });
      return { index: result.index, rows: result.rows };
    } catch (err) {
      if (err instanceof VerifikAuthError) deps.secrets.invalidate();
      carryKind(err);
    }
  });
}

export async function fanOutAssemble(
  deps: RunDeps,
  e: FanOutExecution,
): Promise<{ manifestKey: string; validations: number }> {
  const request = onDemandReportRequest(e.request);
  return underLease(deps, e, async () => {
    const sink = sinkPrefix(deps, e.reportId, request);
    const result = await assembleReport({
      s3: deps.s3,
      bucket: deps.config.REPORTS_BUCKET,
      prefix: deps.config.REPORTS_PREFIX,
      reportId: e.reportId,
      request,
      sliceCount: e.slices.length,
      now: deps.now,
    }).catch(carryKind);
    await recordComplete(deps, e.reportId, { result, manifestKey: sink.manifestKey });
    await logEntry(
      deps,
      { definition: ON_DEMAND_DEFINITION, day: e.reportId },
      { type: 'produced', reportId: e.reportId, runId: e.runId },
    );
    return { manifestKey: sink.manifestKey, validations: result.summary.totals.validations };
  });
}

/**
 * The one mail, after assembly: the manifest (already committed) is read back for the figures,
 * and the send goes under the run's claim like a single run's.
 */
export async function fanOutDeliver(deps: RunDeps, e: FanOutExecution): Promise<{ mail: string }> {
  const request = onDemandReportRequest(e.request);
  const run = heldRun(e);
  const table = deps.config.STATE_TABLE;
  if (e.request.notify.length === 0) {
    await markRun(deps.doc, table, { ...run, status: 'done', now: deps.now() });
    return { mail: 'none asked' };
  }
  return underLease(deps, e, async () => {
    const produced = await readAssembled(deps, e.reportId, request);
    const composed = await composeMail(deps, {
      label: ON_DEMAND_DEFINITION,
      request,
      produced,
      baseUrl: e.baseUrl,
    });
    const sent = await sendUnderClaim(deps, run, e.request.notify, composed);
    return { mail: sent.status };
  });
}

/** The assembled report as the mail needs it: its manifest and full summary, read back (small). */
async function readAssembled(
  deps: RunDeps,
  reportId: string,
  request: ReturnType<typeof onDemandReportRequest>,
): Promise<Produced> {
  const sink = sinkPrefix(deps, reportId, request);
  const bucket = deps.config.REPORTS_BUCKET;
  const manifest = Manifest.parse(await readManifest(deps.s3, bucket, sink.manifestKey));
  const summary = JSON.parse(
    (await readStoredFile(deps.s3, bucket, sink.keyOf(SUMMARY_FILE))).toString('utf8'),
  ) as Summary;
  const files = manifest.files.map((f) => ({ ...f, contentType: FILE_CATALOGUE[f.kind].contentType }));
  return {
    result: { id: reportId, manifest, summary, delta: null, files, location: sink.location },
    manifestKey: sink.manifestKey,
  };
}

/**
 * A slice failed after its retries, or assembly or delivery failed: nothing of the report stays
 * (the sink's abort clears its prefix, parts included, and no manifest exists), the report and
 * the claim are failed with the reason, and the requester is told. The owners learn of it from
 * the state machine's failed-executions alarm.
 */
export async function fanOutFail(
  deps: RunDeps,
  e: FanOutExecution,
  error: { Error?: string; Cause?: string },
) {
  const request = onDemandReportRequest(e.request);
  const err = stepFailure(error);
  await sinkPrefix(deps, e.reportId, request).abort(err);
  const reason = describeFailure(err, e.reportId);
  await recordFailure(deps, heldRun(e), reason.detail, { reportRecorded: true });
  await logEntry(
    deps,
    { definition: ON_DEMAND_DEFINITION, day: e.reportId },
    { type: 'failed', reportId: e.reportId, runId: e.runId, detail: reason.detail },
  );
  await mailFailure(deps, {
    to: e.request.notify,
    label: ON_DEMAND_DEFINITION,
    window: request.window,
    reason,
    reportId: e.reportId,
    willRetry: false,
  });
  return { failed: reason.detail };
}
