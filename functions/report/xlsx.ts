/**
 * The report workbook, streamed into any Writable (a file now, an S3 upload later) in bounded
 * memory.
 *
 * The design decision (see issue 3, "Known traps"): exceljs's stream writer zips entries one
 * after another, and it ignores back-pressure. So:
 *  1. The Validations sheet(s) are created first and streamed while rows arrive; after each
 *     batch we wait until the bytes buffered in front of the zip are below a bound (2 MB by
 *     default). That wait can resolve, because the sheet being written is the zip's current entry.
 *  2. Summary and breakdown sheets are created and committed at the end — the summary is only
 *     known then anyway. They are a few KB each, and so are the Summary's native charts
 *     (xlsx-drawing.ts), whose series reference the breakdown tables' cells.
 *  3. Tab order is not zip order: `workbook.xml` lists sheets in the order of the writer's sheet
 *     list, so before committing we reorder that list (Summary, breakdowns, Validations…) and
 *     set `activeTab: 0`. File names (`sheetN.xml`) keep their ids; only the listing changes.
 * Every wait runs under an OutputGuard: an output that errors or stops draining rejects
 * `write`/`finish` and tears the archive down; nothing resolves after a failure.
 */
import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { ZoneClock } from '../time/zone.js';
import { ByteBatch } from './byte-batch.js';
import { DETAIL_COLUMNS, type FlatRow, isFailedRow, isHighRisk } from './columns.js';
import type { ReportContext } from './context.js';
import { WriterStateError } from './errors.js';
import { OutputGuard, type OutputOptions } from './output-guard.js';
import { attachCharts, type ChartSheet, type ChartWorkbook } from './xlsx-drawing.js';
import { createRowRenderer, type RowMark } from './xlsx-rows.js';
import {
  byClientTable,
  byHourTable,
  DATETIME_FORMAT,
  HEADER_STYLE,
  highestRiskTable,
  summaryTables,
  type Table,
  writeTable,
  writeTableSheet,
} from './xlsx-sheets.js';
import { type PlacedTable, type SummaryChartSources, summaryCharts } from './xlsx-summary-charts.js';

/** Excel's row limit per sheet, header included. */
const EXCEL_MAX_ROWS = 1_048_576;

const SHEET_NAMES = {
  summary: 'Summary',
  byClient: 'By client',
  byProject: 'By project',
  byHour: 'By hour',
  highestRisk: 'Highest risk',
  validations: 'Validations',
} as const;

/** How error messages name the workbook when no `fileName` is given. */
export const WORKBOOK_FILE = 'the workbook';

export interface XlsxWriterOptions extends OutputOptions {
  timeZone: string;
  /** Rows per Validations sheet including the header; default Excel's 1,048,576. */
  maxRowsPerSheet?: number;
  /** Bytes allowed to queue in front of the zip before `write` asks the caller to wait (default 2 MB). */
  maxBufferedBytes?: number;
}

export interface XlsxWriter {
  /** Returns a promise only when the caller must wait (back-pressure); otherwise nothing. */
  write(row: FlatRow): undefined | Promise<void>;
  /** Writes the summary sheets and completes the file; rejects on any failure or stall. */
  finish(ctx: ReportContext): Promise<{ rows: number; sheets: string[] }>;
  /** Abandons the file: the archive stops and `out` is destroyed with `err`. */
  abort(err: unknown): void;
}

// ---------------------------------------------------------------------------------------------
// The parts of exceljs's stream writer we rely on beyond its typings. Pinned by the tests that
// unzip workbook.xml and by the 1M-row benchmark.

/** archiver's own readable-stream copy predates `writableLength`: read the states directly. */
interface PipeInternals extends EventEmitter {
  _writableState?: { length: number };
  _readableState?: { length: number };
}

interface StreamBufInternals extends EventEmitter {
  /**
   * Where the sheet's bytes go: archiver wraps the entry in a PassThrough at append time, so
   * this holds that PassThrough, which buffers while the entry waits for its turn in the zip.
   */
  pipes: PipeInternals[];
  /** Bytes held while not yet handed on. */
  buffers: Array<{ length: number }>;
  write(chunk: string | Buffer): unknown;
}

interface SheetWriter extends ExcelJS.Worksheet {
  readonly id: number;
  readonly stream: StreamBufInternals;
  commit(): void;
}

interface WorkbookInternals {
  _worksheets: Array<SheetWriter | undefined>;
  styles: { addStyleModel(style: Partial<ExcelJS.Style>, cellType: ExcelJS.ValueType): number };
  zip: EventEmitter & { pointer(): number; abort(): unknown; unpipe(dest?: Writable): unknown };
}

/** Rendered rows reach the sheet stream through a ByteBatch of this size, handed on half full. */
const BATCH_BYTES = 256 * 1024;

const MARK_FILL = { type: 'pattern', pattern: 'solid' } as const;
/** One shared style per mark, merged with the column's number format once, at start. */
const MARK_STYLES: readonly Partial<ExcelJS.Style>[] = [
  {},
  { fill: { ...MARK_FILL, fgColor: { argb: 'FFFFC7CE' } }, font: { color: { argb: 'FF9C0006' } } },
  {
    fill: { ...MARK_FILL, fgColor: { argb: 'FFFFEB9C' } },
    font: { bold: true, color: { argb: 'FF9C5700' } },
  },
  {
    fill: { ...MARK_FILL, fgColor: { argb: 'FFFFC7CE' } },
    font: { bold: true, color: { argb: 'FF9C0006' } },
  },
];

function columnStyle(kind: (typeof DETAIL_COLUMNS)[number]['kind']): Partial<ExcelJS.Style> {
  switch (kind) {
    case 'datetime':
      return { numFmt: DATETIME_FORMAT };
    case 'score':
      return { numFmt: '0.00##' };
    case 'boolean':
      return { alignment: { horizontal: 'center' } };
    default:
      return {};
  }
}

function cellType(kind: (typeof DETAIL_COLUMNS)[number]['kind']): ExcelJS.ValueType {
  switch (kind) {
    case 'datetime':
      return ExcelJS.ValueType.Date;
    case 'number':
    case 'score':
      return ExcelJS.ValueType.Number;
    case 'boolean':
      return ExcelJS.ValueType.Boolean;
    default:
      return ExcelJS.ValueType.String;
  }
}

export function createXlsxWriter(out: Writable, opts: XlsxWriterOptions): XlsxWriter {
  return new StreamingXlsxWriter(out, opts);
}

class StreamingXlsxWriter implements XlsxWriter {
  private readonly wb: ExcelJS.stream.xlsx.WorkbookWriter;
  private readonly internals: WorkbookInternals;
  private readonly clock: ZoneClock;
  private readonly guard: OutputGuard;
  private readonly render: (row: FlatRow, rowNumber: number) => string;
  private readonly maxDataRows: number;
  private readonly maxBuffered: number;
  private readonly validationSheets: SheetWriter[] = [];
  private sheet: SheetWriter | null = null;
  private sheetRows = 0;
  private rows = 0;
  // exceljs's sheet stream copies what it is given synchronously (batch mode): no copy here.
  // Back-pressure is measured on the zip's side (pending()), not by the sheet stream's answer.
  private readonly batch = new ByteBatch(BATCH_BYTES, (chunk) => {
    this.sheet?.stream.write(chunk);
    return true;
  });
  private state: 'open' | 'finishing' | 'done' = 'open';

  constructor(
    private readonly out: Writable,
    private readonly opts: XlsxWriterOptions,
  ) {
    this.clock = new ZoneClock(opts.timeZone);
    const maxRows = opts.maxRowsPerSheet ?? EXCEL_MAX_ROWS;
    if (!Number.isInteger(maxRows) || maxRows < 2 || maxRows > EXCEL_MAX_ROWS) {
      throw new RangeError(`maxRowsPerSheet must be an integer from 2 to ${EXCEL_MAX_ROWS}, got ${maxRows}.`);
    }
    this.maxDataRows = maxRows - 1;
    this.maxBuffered = opts.maxBufferedBytes ?? 2 * 1024 * 1024;

    this.wb = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: out,
      useStyles: true,
      useSharedStrings: false,
      // archiver's default deflate level is kept: it measured fastest here; level 6 was 40 % slower
      // for a 22 % smaller file.
    });
    this.internals = this.wb as unknown as WorkbookInternals;
    const zip = this.internals.zip;
    this.guard = new OutputGuard(
      opts,
      WORKBOOK_FILE,
      () => `${zip.pointer()}:${out.writableLength}:${this.pending()}`,
      (err) => this.teardown(err),
    );
    out.on('error', (err) => this.guard.fail(err));
    zip.on('error', (err: unknown) => this.guard.fail(err));
    zip.on('warning', (err: unknown) => this.guard.fail(err));

    const styles = MARK_STYLES.map((mark) =>
      DETAIL_COLUMNS.map((c) =>
        this.internals.styles.addStyleModel({ ...columnStyle(c.kind), ...mark }, cellType(c.kind)),
      ),
    );
    this.render = createRowRenderer({
      columns: DETAIL_COLUMNS,
      styles,
      wallClockMs: (ms) => this.clock.wallClockMs(ms),
      // The same predicates as the summary's counts, so the marked rows are the counted ones.
      mark: (row) => ((isFailedRow(row) ? 1 : 0) | (isHighRisk(row) ? 2 : 0)) as RowMark,
    });
  }

  write(row: FlatRow): undefined | Promise<void> {
    if (this.state !== 'open') throw new WriterStateError('write() after finish() or abort()');
    this.guard.assertOk();
    if (this.sheet === null || this.sheetRows >= this.maxDataRows) this.nextValidationsSheet();
    this.sheetRows++;
    this.rows++;
    const emitted = this.batch.add(this.render(row, this.sheetRows + 1));
    if (emitted || this.batch.size >= BATCH_BYTES / 2) {
      this.batch.flush();
      return this.afterFlush();
    }
    return undefined;
  }

  private afterFlush(): undefined | Promise<void> {
    if (this.pending() <= this.maxBuffered) return undefined;
    return this.guard.waitUntil(
      () => this.pending() <= this.maxBuffered,
      () => this.sheet?.stream.pipes[0],
    );
  }

  async finish(ctx: ReportContext): Promise<{ rows: number; sheets: string[] }> {
    if (this.state !== 'open') throw new WriterStateError('finish() called twice or after abort()');
    if (ctx.window.timeZone !== this.opts.timeZone) {
      throw new WriterStateError(
        `The report's zone (${ctx.window.timeZone}) differs from the writer's (${this.opts.timeZone}): ` +
          'create the writer with the report window’s time zone.',
      );
    }
    this.state = 'finishing';
    this.guard.assertOk();
    if (this.sheet === null) this.nextValidationsSheet();
    this.closeValidationsSheet();

    const byClient = byClientTable(ctx, 'client');
    const byHour = byHourTable(ctx);
    const small = [
      this.tableSheet(SHEET_NAMES.byClient, byClient),
      this.tableSheet(SHEET_NAMES.byProject, byClientTable(ctx, 'project')),
      this.tableSheet(SHEET_NAMES.byHour, byHour),
      this.tableSheet(SHEET_NAMES.highestRisk, highestRiskTable(ctx, this.clock)),
    ];
    // A table sheet's header is its row 1 (writeTableSheet).
    const summary = this.summarySheet(ctx, {
      byClient: { sheet: SHEET_NAMES.byClient, table: byClient, headerRow: 1 },
      byHour: { sheet: SHEET_NAMES.byHour, table: byHour, headerRow: 1 },
    });
    const ordered = [summary, ...small, ...this.validationSheets];
    // Tab order = order of this list in workbook.xml (see the header comment).
    this.internals._worksheets = ordered;
    this.wb.views = [
      { x: 0, y: 0, width: 24_000, height: 16_000, firstSheet: 0, activeTab: 0, visibility: 'visible' },
    ];

    await this.guard.guard(this.wb.commit());
    this.state = 'done';
    return { rows: this.rows, sheets: ordered.map((s) => s.name) };
  }

  abort(err: unknown): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.guard.fail(err);
  }

  /** Bytes queued in front of the zip for the current sheet. */
  private pending(): number {
    const stream = this.sheet?.stream;
    if (!stream) return 0;
    let n = 0;
    for (const b of stream.buffers) n += b.length;
    for (const p of stream.pipes) n += (p._writableState?.length ?? 0) + (p._readableState?.length ?? 0);
    return n;
  }

  private nextValidationsSheet(): void {
    this.closeValidationsSheet();
    const n = this.validationSheets.length + 1;
    const name = n === 1 ? SHEET_NAMES.validations : `${SHEET_NAMES.validations} (${n})`;
    const ws = this.wb.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1, xSplit: 1 }],
    }) as unknown as SheetWriter;
    ws.columns = DETAIL_COLUMNS.map((c) => ({ key: c.key, width: c.width }));
    const tz = this.opts.timeZone;
    const header = ws.addRow(
      DETAIL_COLUMNS.map((c) => (c.kind === 'datetime' ? `${c.header} (${tz})` : c.header)),
    );
    for (let i = 1; i <= DETAIL_COLUMNS.length; i++) header.getCell(i).style = HEADER_STYLE;
    // Committing the header makes exceljs write <cols> and open <sheetData>; data rows follow raw.
    header.commit();
    this.validationSheets.push(ws);
    this.sheet = ws;
    this.sheetRows = 0;
  }

  private closeValidationsSheet(): void {
    if (this.sheet === null) return;
    this.batch.flush();
    this.sheet.autoFilter = {
      from: { row: 1, column: 1 },
      to: { row: this.sheetRows + 1, column: DETAIL_COLUMNS.length },
    };
    this.sheet.commit();
  }

  private tableSheet(name: string, table: Table): SheetWriter {
    const ws = this.wb.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1 }],
    }) as unknown as SheetWriter;
    writeTableSheet(ws, table);
    ws.commit();
    return ws;
  }

  /** The Summary sheet, with its charts over its own "By status" table and the `charted` sheets. */
  private summarySheet(
    ctx: ReportContext,
    charted: Pick<SummaryChartSources, 'byClient' | 'byHour'>,
  ): SheetWriter {
    const ws = this.wb.addWorksheet(SHEET_NAMES.summary, {
      // tabSelected is honoured by exceljs's sheet-view xform but missing from its typings.
      views: [{ tabSelected: true, showGridLines: false } as Partial<ExcelJS.WorksheetView>],
    }) as unknown as SheetWriter;
    ws.columns = [
      { width: 44 },
      { width: 22 },
      { width: 14 },
      { width: 14 },
      { width: 14 },
      { width: 12 },
      { width: 12 },
    ];
    let byStatus: PlacedTable | undefined;
    summaryTables(ctx, this.clock).forEach((table, i) => {
      if (i > 0 && table.title) ws.addRow([]);
      const headerRow = writeTable(ws, table, { labelColumn: !table.headers });
      if (table.key === 'byStatus') byStatus = { sheet: SHEET_NAMES.summary, table, headerRow };
    });
    if (!byStatus) throw new WriterStateError('the Summary sheet has no "By status" table to chart');
    attachCharts(
      this.wb as unknown as ChartWorkbook,
      ws as unknown as ChartSheet,
      summaryCharts({ ...charted, byStatus, timeZone: ctx.window.timeZone }),
    );
    ws.commit();
    return ws;
  }

  private teardown(err: Error): void {
    const zip = this.internals.zip;
    // Unpipe first: archiver's abort ends its output, which would otherwise end `out` as if the
    // file were complete.
    zip.unpipe(this.out);
    try {
      zip.abort();
    } catch {
      // already finished or aborted
    }
    if (!this.out.destroyed) this.out.destroy(err);
  }
}
