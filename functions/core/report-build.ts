/**
 * One report in the making: its files open in a sink, its summary builder and its detail writer.
 * Records go in one at a time; `finish` completes the files, stores the summary and commits the
 * manifest; `abort` leaves nothing behind. The pipeline drives one of these per report: one for a
 * plain report, one per scope (and one overall) for a split report fed by a single read.
 */
import { pipeline as pipe } from 'node:stream/promises';
import { FILE_CATALOGUE, type FileKind, SUMMARY_FILE } from '../contract.js';
import type { ReportSink } from '../delivery/sink/index.js';
import type { FlatRow } from '../report/columns.js';
import type { ReportContext, ReportFilters } from '../report/context.js';
import { summaryCsvDocument } from '../report/csv.js';
import { createDetailWriter, type DetailTargets, type DetailWriter } from '../report/detail-writer.js';
import { buildManifest, HashingCounter } from '../report/manifest.js';
import { createThreadedDetailWriter } from '../report/render-thread.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../report/summary.js';
import type { BiometricValidation } from '../verifik/schema.js';
import { downloadName } from './naming.js';
import type { ReportFile, ReportRequest, ReportResult } from './request.js';

interface OpenFile {
  kind: FileKind;
  name: string;
  measure: HashingCounter;
  /** Resolves when the bytes went through the measure into the sink and the sink stored them. */
  stored: Promise<void>;
  rows: number;
}

export interface ReportBuildOptions {
  request: ReportRequest;
  reportId: string;
  sink: ReportSink;
  /** The previous report of the same definition (or scope), for deltas. */
  previous?: Summary | null | undefined;
  /** Render on a worker thread (overlaps the read; one thread per report, so not for many scopes). */
  renderThread: boolean;
}

export class ReportBuild {
  readonly request: ReportRequest;
  readonly reportId: string;
  private readonly sink: ReportSink;
  private readonly previous: Summary | null;
  private readonly opened: OpenFile[] = [];
  private readonly summary: SummaryBuilder;
  private readonly details: DetailWriter | null;
  private readonly xlsxFile: OpenFile | null;
  private readonly csvFile: OpenFile | null;

  constructor(opts: ReportBuildOptions) {
    this.request = opts.request;
    this.reportId = opts.reportId;
    this.sink = opts.sink;
    this.previous = opts.previous ?? null;
    const timeZone = opts.request.window.timeZone;
    this.summary = new SummaryBuilder({ timeZone });
    this.xlsxFile = opts.request.formats.includes('xlsx') ? this.open('xlsx') : null;
    this.csvFile = opts.request.formats.includes('csv') ? this.open('details-csv') : null;
    const targets: DetailTargets = {
      ...(this.xlsxFile
        ? { xlsx: { out: this.xlsxFile.measure, options: { timeZone, fileName: this.xlsxFile.name } } }
        : {}),
      ...(this.csvFile
        ? { csv: { out: this.csvFile.measure, options: { timeZone, fileName: this.csvFile.name } } }
        : {}),
    };
    const make = opts.renderThread ? createThreadedDetailWriter : createDetailWriter;
    this.details = this.xlsxFile || this.csvFile ? make(targets) : null;
  }

  private open(kind: FileKind): OpenFile {
    const { name, contentType } = FILE_CATALOGUE[kind];
    const measure = new HashingCounter();
    const target = this.sink.open({ name, contentType, downloadName: downloadName(this.request, name) });
    const stored = Promise.all([pipe(measure, target.stream), target.done]).then(() => undefined);
    // Surface failures through `stored`; never as an unhandled rejection while rows are still being written.
    stored.catch(() => undefined);
    const file: OpenFile = { kind, name, measure, stored, rows: 0 };
    this.opened.push(file);
    return file;
  }

  /** Adds one record; returns a promise only when the caller must wait (back-pressure). */
  add(record: BiometricValidation, row: FlatRow): undefined | Promise<void> {
    this.summary.add(record, row);
    return this.details?.write(row);
  }

  /** Completes every file, stores the summary, commits the manifest. */
  async finish(input: {
    generatedAt: Date;
    diagnostics: Record<string, number | string>;
  }): Promise<ReportResult> {
    const { request, reportId, sink } = this;
    const result = this.summary.result();
    const delta = this.previous ? compareSummaries(result, this.previous) : null;
    const ctx: ReportContext = {
      id: reportId,
      window: request.window,
      filters: filtersOf(request),
      generatedAt: input.generatedAt,
      summary: result,
      ...(delta ? { previous: delta } : {}),
      diagnostics: input.diagnostics,
    };
    if (this.details) {
      const written = await this.details.finish(ctx);
      if (this.xlsxFile) this.xlsxFile.rows = written.xlsx?.rows ?? 0;
      if (this.csvFile) this.csvFile.rows = written.csv?.rows ?? 0;
    }
    if (request.formats.includes('csv')) {
      const s = this.open('summary-csv');
      const summaryDoc = summaryCsvDocument(ctx);
      s.rows = summaryDoc.rows;
      s.measure.end(summaryDoc.text);
    }
    await Promise.all(this.opened.map((f) => f.stored));

    const files: ReportFile[] = this.opened.map((f) => ({
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
  }

  /** Abandons every file and the sink: nothing of this report remains. */
  async abort(err: unknown): Promise<void> {
    this.details?.abort(err);
    for (const f of this.opened) f.measure.destroy(err instanceof Error ? err : new Error(String(err)));
    await this.sink.abort(err);
  }
}

function filtersOf(request: ReportRequest): ReportFilters {
  return {
    statuses: request.statuses,
    types: request.types,
    clients: request.clients,
    ...(request.projects ? { projects: request.projects } : {}),
  };
}
