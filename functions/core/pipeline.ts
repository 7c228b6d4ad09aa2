/**
 * The one place the stages meet: fetch → (summary, xlsx, csv) → sink → manifest.
 *
 * Records are read once, as a stream, and fanned out to every consumer side by side; nothing
 * holds the day in memory. The manifest is committed only after every file is durably stored,
 * and any failure aborts the sink, so a report either exists complete or not at all.
 */
import { pipeline as pipe } from 'node:stream/promises';
import { FILE_CATALOGUE, type FileKind, SUMMARY_FILE } from '../contract.js';
import type { ReportSink } from '../delivery/sink/index.js';
import { flatten } from '../report/columns.js';
import type { ReportContext, ReportFilters } from '../report/context.js';
import { summaryCsvDocument } from '../report/csv.js';
import { createDetailWriter, type DetailTargets } from '../report/detail-writer.js';
import { buildManifest, HashingCounter } from '../report/manifest.js';
import { createThreadedDetailWriter } from '../report/render-thread.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../report/summary.js';
import { applyInProcessV8Flags } from '../settings/runtime-flags.js';
import type { VerifikClient } from '../verifik/client.js';
import { type ReadProgress, readWindow } from '../verifik/read/index.js';
import { refId } from '../verifik/schema.js';
import { downloadName } from './naming.js';
import type { ReadTuning, ReportFile, ReportRequest, ReportResult } from './request.js';

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

interface OpenFile {
  kind: FileKind;
  name: string;
  measure: HashingCounter;
  /** Resolves when the bytes went through the measure into the sink and the sink stored them. */
  stored: Promise<void>;
  rows: number;
}

export async function runReport(opts: RunReportOptions): Promise<ReportResult> {
  // The process's memory settings for a report (once per process; every caller runs reports here).
  applyInProcessV8Flags();
  const { request, reportId, sink } = opts;
  const now = opts.now ?? (() => new Date());
  const timeZone = request.window.timeZone;
  const opened: OpenFile[] = [];

  const open = (kind: FileKind): OpenFile => {
    const { name, contentType } = FILE_CATALOGUE[kind];
    const measure = new HashingCounter();
    const target = sink.open({
      name,
      contentType,
      downloadName: downloadName(request, name),
    });
    const stored = Promise.all([pipe(measure, target.stream), target.done]).then(() => undefined);
    // Surface failures through `stored`; never as an unhandled rejection while rows are still being written.
    stored.catch(() => undefined);
    const file: OpenFile = { kind, name, measure, stored, rows: 0 };
    opened.push(file);
    return file;
  };

  const wantXlsx = request.formats.includes('xlsx');
  const wantCsv = request.formats.includes('csv');
  const xlsxFile = wantXlsx ? open('xlsx') : null;
  const csvFile = wantCsv ? open('details-csv') : null;
  const targets: DetailTargets = {
    ...(xlsxFile ? { xlsx: { out: xlsxFile.measure, options: { timeZone, fileName: xlsxFile.name } } } : {}),
    ...(csvFile ? { csv: { out: csvFile.measure, options: { timeZone, fileName: csvFile.name } } } : {}),
  };
  const makeDetails = (opts.renderThread ?? true) ? createThreadedDetailWriter : createDetailWriter;
  const details = xlsxFile || csvFile ? makeDetails(targets) : null;

  try {
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
    const summary = new SummaryBuilder({ timeZone });
    let filteredOut = 0;

    for await (const batch of read.batches) {
      for (const record of batch) {
        if (
          (types && !types.has(record.type ?? '')) ||
          (clients && !clients.has(refId(record.client) ?? ''))
        ) {
          filteredOut++;
          continue;
        }
        const row = flatten(record);
        summary.add(record, row);
        const wait = details?.write(row);
        if (wait) await wait;
      }
    }
    const diagnostics = await read.diagnostics;

    const result = summary.result();
    const delta = opts.previous ? compareSummaries(result, opts.previous) : null;
    const ctx: ReportContext = {
      id: reportId,
      window: request.window,
      filters: filtersOf(request),
      generatedAt: now(),
      summary: result,
      ...(delta ? { previous: delta } : {}),
      diagnostics: {
        ...diagnosticsRecord(diagnostics),
        ...(filteredOut ? { filteredOutLocally: filteredOut } : {}),
      },
    };

    if (details) {
      const written = await details.finish(ctx);
      if (xlsxFile) xlsxFile.rows = written.xlsx?.rows ?? 0;
      if (csvFile) csvFile.rows = written.csv?.rows ?? 0;
    }
    if (wantCsv) {
      const s = open('summary-csv');
      const summaryDoc = summaryCsvDocument(ctx);
      s.rows = summaryDoc.rows;
      s.measure.end(summaryDoc.text);
    }
    await Promise.all(opened.map((f) => f.stored));

    const files: ReportFile[] = opened.map((f) => ({
      name: f.name,
      kind: f.kind,
      contentType: FILE_CATALOGUE[f.kind].contentType,
      bytes: f.measure.bytes,
      sha256: f.measure.sha256(),
      rows: f.rows,
    }));
    // The full summary, for the next report's deltas (the manifest carries totals only). Stored
    // before the manifest, so every complete report has it; not a file people download.
    const summaryFile = sink.open({ name: SUMMARY_FILE, contentType: 'application/json' });
    summaryFile.stream.end(JSON.stringify(result));
    await summaryFile.done;

    const manifest = buildManifest(ctx, files);
    await sink.commit(`${JSON.stringify(manifest, null, 2)}\n`);
    return { id: reportId, manifest, summary: result, delta, files, location: sink.location };
  } catch (err) {
    details?.abort(err);
    for (const f of opened) f.measure.destroy(err instanceof Error ? err : new Error(String(err)));
    await sink.abort(err);
    throw err;
  }
}

function filtersOf(request: ReportRequest): ReportFilters {
  return { statuses: request.statuses, types: request.types, clients: request.clients };
}

function diagnosticsRecord(d: object): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}
