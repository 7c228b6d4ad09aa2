/**
 * The one place the stages meet: fetch → (summary, xlsx, csv) → sink → manifest, for one report
 * (runReport) or for one report per scope from a single read (runScopedReports); each report's
 * own stages are core/report-build.ts.
 *
 * Records are read once, as a stream, and fanned out to every consumer side by side; nothing
 * holds the day in memory. The manifest is committed only after every file is durably stored,
 * and any failure aborts the sink, so a report either exists complete or not at all.
 */
import type { ReportSink } from '../delivery/sink/index.js';
import { type FlatRow, flatten } from '../report/columns.js';
import type { Summary } from '../report/summary.js';
import { applyInProcessV8Flags } from '../settings/runtime-flags.js';
import type { VerifikClient } from '../verifik/client.js';
import { type ReadProgress, readWindow } from '../verifik/read/index.js';
import { type BiometricValidation, refId } from '../verifik/schema.js';
import { ReportBuild } from './report-build.js';
import type { ReadTuning, ReportRequest, ReportResult } from './request.js';

export interface RunReportOptions {
  request: ReportRequest;
  reportId: string;
  verifik: VerifikClient;
  sink: ReportSink;
  /** The previous report of the same definition, for deltas. */
  previous?: Summary | null;
  now?: () => Date;
  onProgress?: (p: ReadProgress) => void;
  read?: ReadTuning;
  /** Render the workbook and the details CSV on a worker thread (default true), overlapping the read. */
  renderThread?: boolean;
  signal?: AbortSignal;
}

export interface ScopeTarget {
  /** The project (or client) id whose rows this report gets. */
  id: string;
  request: ReportRequest;
  reportId: string;
  sink: ReportSink;
  previous?: Summary | null;
}

export interface RunScopedOptions
  extends Omit<RunReportOptions, 'reportId' | 'sink' | 'previous' | 'renderThread'> {
  /** The definition's request: window, filters and formats every scope shares. */
  request: ReportRequest;
  by: 'project' | 'client';
  scopes: ScopeTarget[];
  /** The definition's overall report (every row), when asked for. */
  overall?: { reportId: string; sink: ReportSink; previous?: Summary | null } | undefined;
}

export interface ScopedResult {
  overall: ReportResult | null;
  /** By scope id, in the order given. */
  scopes: Map<string, ReportResult>;
  /** Rows of no configured scope: in the overall report only. */
  unscoped: number;
}

export async function runReport(opts: RunReportOptions): Promise<ReportResult> {
  // The process's memory settings for a report (once per process; every caller runs reports here).
  applyInProcessV8Flags();
  const now = opts.now ?? (() => new Date());
  const build = new ReportBuild({
    request: opts.request,
    reportId: opts.reportId,
    sink: opts.sink,
    previous: opts.previous,
    renderThread: opts.renderThread ?? true,
  });
  try {
    const read = await readInto(opts, opts.request, (record, row) => build.add(record, row));
    return await build.finish({ generatedAt: now(), diagnostics: read });
  } catch (err) {
    await build.abort(err);
    throw err;
  }
}

/**
 * One read of the period, many reports: each record goes to the overall report (when asked) and
 * to the report of its project or client. Scopes render in this thread: a worker thread per
 * scope would cost more memory than the rendering it overlaps. Any failure aborts every report
 * of the run, so no scope is delivered from a read that did not complete.
 */
export async function runScopedReports(opts: RunScopedOptions): Promise<ScopedResult> {
  applyInProcessV8Flags();
  const now = opts.now ?? (() => new Date());
  const builds = new Map<string, ReportBuild>();
  const all: ReportBuild[] = [];
  let overall: ReportBuild | null = null;
  try {
    for (const s of opts.scopes) {
      const b = new ReportBuild({ ...s, renderThread: false });
      builds.set(s.id, b);
      all.push(b);
    }
    if (opts.overall) {
      overall = new ReportBuild({ request: opts.request, ...opts.overall, renderThread: true });
      all.push(overall);
    }
  } catch (err) {
    await Promise.all(all.map((b) => b.abort(err)));
    throw err;
  }
  const field = opts.by === 'project' ? 'project' : 'client';
  let unscoped = 0;
  try {
    const read = await readInto(opts, opts.request, (record, row) => {
      const id = refId(record[field]);
      const scope = id === null ? undefined : builds.get(id);
      if (!scope) unscoped++;
      const a = scope?.add(record, row);
      const b = overall?.add(record, row);
      return a && b ? Promise.all([a, b]).then(() => undefined) : (a ?? b);
    });
    const generatedAt = now();
    const results = new Map<string, ReportResult>();
    // Finished one at a time: each finish flushes a workbook, and memory stays that of one flush.
    for (const [id, b] of builds) results.set(id, await b.finish({ generatedAt, diagnostics: read }));
    const overallResult = overall
      ? await overall.finish({ generatedAt, diagnostics: { ...read, ...(unscoped ? { unscoped } : {}) } })
      : null;
    return { overall: overallResult, scopes: results, unscoped };
  } catch (err) {
    await Promise.all(all.map((b) => b.abort(err)));
    throw err;
  }
}

type Route = (record: BiometricValidation, row: FlatRow) => undefined | Promise<void>;

/**
 * Reads the window once, applies the filters the API cannot (more than one type or client, any
 * project), and hands each record to `route`; resolves with the read's diagnostics.
 */
async function readInto(
  opts: Pick<RunReportOptions, 'verifik' | 'onProgress' | 'read' | 'signal'>,
  request: ReportRequest,
  route: Route,
): Promise<Record<string, number | string>> {
  const read = readWindow(opts.verifik, {
    window: request.window,
    statuses: request.statuses,
    // The API filters one type and one client; more than one is filtered here, record by record.
    type: request.types.length === 1 ? request.types[0] : undefined,
    client: request.clients.length === 1 ? request.clients[0] : undefined,
    perPage: opts.read?.perPage,
    concurrency: opts.read?.concurrency,
    partitionByStatus: opts.read?.partitionByStatus,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  const types = request.types.length > 1 ? new Set(request.types) : null;
  const clients = request.clients.length > 1 ? new Set(request.clients) : null;
  const projects = request.projects ? new Set(request.projects) : null;
  let filteredOut = 0;
  for await (const batch of read.batches) {
    for (const record of batch) {
      if (
        (types && !types.has(record.type ?? '')) ||
        (clients && !clients.has(refId(record.client) ?? '')) ||
        (projects && !projects.has(refId(record.project) ?? ''))
      ) {
        filteredOut++;
        continue;
      }
      const wait = route(record, flatten(record));
      if (wait) await wait;
    }
  }
  const diagnostics = await read.diagnostics;
  return { ...diagnosticsRecord(diagnostics), ...(filteredOut ? { filteredOutLocally: filteredOut } : {}) };
}

function diagnosticsRecord(d: object): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}
