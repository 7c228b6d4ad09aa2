/**
 * The small sheets of the workbook — Summary and the breakdowns — as plain tables first
 * (pure, testable: what is shown where) and then written through exceljs's worksheet API, which
 * is fine for a few thousand cells. Styles are shared objects so exceljs registers each once.
 */
import type { Style, Worksheet } from 'exceljs';
import type { ZoneClock } from '../time/zone.js';
import { CHECK_KEYS, CHECK_LABELS, DETAIL_COLUMNS } from './columns.js';
import { describeFilters, type ReportContext } from './context.js';
import type { Change } from './summary.js';

export type Value = string | number | boolean | Date | null;
export type Format = 'text' | 'int' | 'pct' | 'score' | 'datetime' | 'seconds' | 'signedInt' | 'signedPct';

export interface Table {
  /** Names a table another part refers to (the Summary's charts find "byStatus" by it). */
  key?: 'byStatus';
  title?: string;
  headers?: string[];
  formats: Format[];
  rows: Value[][];
  /** Widths in characters (for tables that own their sheet). */
  widths?: number[];
}

const HEADER_OF = new Map<string, string>(DETAIL_COLUMNS.map((c) => [c.key, c.header]));

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

/**
 * A Date whose UTC fields are the wall-clock time in the report zone (Excel has no zones),
 * truncated to the second like the Validations cells (see excelSerial).
 */
function wall(clock: ZoneClock, ms: number): Date {
  return new Date(Math.floor(clock.wallClockMs(ms) / 1000) * 1000);
}

function share(n: number, total: number): number | null {
  return total === 0 ? null : n / total;
}

/** The Summary sheet: headline figures first, then every breakdown that fits on one screen. */
export function summaryTables(ctx: ReportContext, clock: ZoneClock): Table[] {
  const s = ctx.summary;
  const w = ctx.window;
  const total = s.totals.validations;
  const tz = w.timeZone;
  const tables: Table[] = [];
  /** A labelled count and its share of all validations. */
  const ofTotal = (label: string, n: number): Value[] => [label, n, share(n, total)];
  /** A breakdown of the validations: label, count, share. */
  const breakdown = (title: string, label: string, rows: Value[][]): Table => ({
    title,
    headers: [label, 'Validations', 'Share'],
    formats: ['text', 'int', 'pct'],
    rows,
  });

  tables.push({
    title: 'Verifik validations report',
    formats: ['text', 'text'],
    rows: [
      ['Report', ctx.id],
      ['Days', w.from === w.to ? w.from : `${w.from} to ${w.to}`],
      ['Time zone', tz],
      ['Filters', describeFilters(ctx.filters)],
    ],
  });
  tables.push({
    formats: ['text', 'datetime'],
    rows: [
      [`Window start (${tz})`, wall(clock, w.start.getTime())],
      [`Window end, exclusive (${tz})`, wall(clock, w.end.getTime())],
      [`Generated at (${tz})`, wall(clock, ctx.generatedAt.getTime())],
    ],
  });

  const checks = s.checks;
  tables.push({
    title: 'Headline',
    headers: ['Figure', 'Value', 'Share'],
    formats: ['text', 'int', 'pct'],
    rows: [
      ['Validations', total, null],
      ofTotal('Failed (status or a failed check)', s.totals.failed),
      ofTotal(`High risk (risk score ≥ ${s.risk.thresholds.high})`, s.totals.highRisk),
      ['Requiring 2FA', s.twoFactor.required, s.twoFactor.share],
      ...CHECK_KEYS.map((k): Value[] => [`${CHECK_LABELS[k]} passed`, checks[k].passed, checks[k].passRate]),
    ],
  });
  tables.push({
    formats: ['text', 'seconds'],
    rows: [
      ['Completion time p50 (s)', seconds(s.completion.p50Ms)],
      ['Completion time p95 (s)', seconds(s.completion.p95Ms)],
    ],
  });

  if (ctx.previous) {
    const p = ctx.previous;
    const row = (label: string, c: Change): Value[] => [label, c.current, c.previous, c.delta, c.relative];
    tables.push({
      title: 'Compared with the previous report',
      headers: ['Figure', 'Now', 'Previous', 'Change', 'Change %'],
      formats: ['text', 'int', 'int', 'signedInt', 'signedPct'],
      rows: [
        row('Validations', p.validations),
        row('Failed', p.failed),
        row('High risk', p.highRisk),
        ...p.byStatus.map((c) => row(`Status: ${c.key}`, c)),
      ],
    });
    tables.push({
      headers: ['Rate / score', 'Now', 'Previous', 'Change', ''],
      formats: ['text', 'pct', 'pct', 'signedPct', 'text'],
      rows: CHECK_KEYS.map((k) => {
        const c = p.passRates[k];
        return [`${CHECK_LABELS[k]} pass rate`, c.current, c.previous, c.delta, null];
      }),
    });
  }

  tables.push({
    ...breakdown(
      'By status',
      'Status',
      s.byStatus.map((e) => [e.key, e.count, e.share]),
    ),
    key: 'byStatus',
  });
  tables.push(
    breakdown('By type', 'Type', [
      ...s.byType.map((e): Value[] => [e.key, e.count, e.share]),
      ...(s.missing.type ? [ofTotal('(no type)', s.missing.type)] : []),
    ]),
  );
  tables.push({
    title: 'Checks (rates are shares of the validations that have the check)',
    headers: ['Check', 'Passed', 'Failed', 'Other', 'Missing', 'Pass rate', 'Fail rate'],
    formats: ['text', 'int', 'int', 'int', 'int', 'pct', 'pct'],
    rows: CHECK_KEYS.map((k) => {
      const c = checks[k];
      return [CHECK_LABELS[k], c.passed, c.failed, c.other, c.missing, c.passRate, c.failRate];
    }),
  });
  const dist = (label: string, d: typeof s.scores.livenessScore): Value[] => [
    label,
    d.count,
    d.mean,
    d.min,
    d.p50,
    d.p90,
    d.p99,
    d.max,
  ];
  tables.push({
    title: 'Scores (quantiles: nearest rank, ±0.00005)',
    headers: ['Score', 'Count', 'Mean', 'Min', 'p50', 'p90', 'p99', 'Max'],
    formats: ['text', 'int', 'score', 'score', 'score', 'score', 'score', 'score'],
    rows: [dist('Liveness score', s.scores.livenessScore), dist('Quality score', s.scores.qualityScore)],
  });
  const r = s.risk;
  tables.push(
    breakdown('Risk score', 'Bucket', [
      ofTotal(`Low (< ${r.thresholds.medium})`, r.buckets.low),
      ofTotal(`Medium (${r.thresholds.medium} to < ${r.thresholds.high})`, r.buckets.medium),
      ofTotal(`High (≥ ${r.thresholds.high})`, r.buckets.high),
      ofTotal('No risk score', r.missing),
    ]),
  );
  tables.push({
    title: 'Completion time (completed − created)',
    headers: ['Figure', 'Value'],
    formats: ['text', 'int'],
    rows: [
      ['Completed validations', s.completion.count],
      ['Completed before created (excluded)', s.completion.negative],
    ],
  });
  tables.push({
    formats: ['text', 'seconds'],
    rows: [
      ['p50 (s)', seconds(s.completion.p50Ms)],
      ['p95 (s)', seconds(s.completion.p95Ms)],
      ['Mean (s)', seconds(s.completion.meanMs)],
      ['Max (s)', seconds(s.completion.maxMs)],
    ],
  });
  tables.push({
    title: 'Missing fields (counted as missing, never as zero)',
    headers: ['Field', 'Validations without it', 'Share'],
    formats: ['text', 'int', 'pct'],
    rows: Object.entries(s.missing)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => ofTotal(HEADER_OF.get(k) ?? k, n)),
  });
  tables.push({
    title: 'Data notes',
    headers: ['Note', 'Value'],
    formats: ['text', 'text'],
    rows: [
      ...Object.entries(ctx.diagnostics).map(([k, v]): Value[] => [k, v]),
      ['Completion-time quantiles', `nearest rank, within ±${s.completion.relativeError * 100}%`],
      ['Rows marked red', 'failed status or a failed check'],
      ['Rows in bold orange', `risk score ≥ ${s.risk.thresholds.high}`],
    ],
  });
  return tables;
}

export function byClientTable(ctx: ReportContext, kind: 'client' | 'project'): Table {
  const label = kind === 'client' ? 'Client' : 'Project';
  const entries = kind === 'client' ? ctx.summary.byClient : ctx.summary.byProject;
  return {
    headers: [`${label} ID`, label, 'Validations', 'Failed', 'Failed %', 'High risk', 'High risk %'],
    formats: ['text', 'text', 'int', 'int', 'pct', 'int', 'pct'],
    widths: [26, 30, 12, 10, 10, 10, 12],
    rows: entries.map((e) => [
      e.id ?? `(no ${kind})`,
      e.name,
      e.count,
      e.failed,
      share(e.failed, e.count),
      e.highRisk,
      share(e.highRisk, e.count),
    ]),
  };
}

export function byHourTable(ctx: ReportContext): Table {
  const tz = ctx.window.timeZone;
  return {
    headers: [`Hour (${tz})`, 'Validations', 'Failed', 'Failed %'],
    formats: ['text', 'int', 'int', 'pct'],
    widths: [24, 12, 10, 10],
    rows: ctx.summary.byHour.map((h) => [
      `${String(h.hour).padStart(2, '0')}:00–${String(h.hour).padStart(2, '0')}:59`,
      h.count,
      h.failed,
      share(h.failed, h.count),
    ]),
  };
}

export function highestRiskTable(ctx: ReportContext, clock: ZoneClock): Table {
  const tz = ctx.window.timeZone;
  return {
    headers: ['Risk score', 'Validation ID', `Created at (${tz})`, 'Status', 'Type', 'Identifier', 'Client'],
    formats: ['score', 'text', 'datetime', 'text', 'text', 'text', 'text'],
    widths: [11, 26, 20, 12, 12, 28, 28],
    rows: ctx.summary.risk.top.map((e) => [
      e.riskScore,
      e.id,
      wall(clock, Date.parse(e.createdAt)),
      e.status,
      e.type,
      e.identifier,
      e.clientName ?? e.clientId,
    ]),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing tables

/** Instants in every sheet: Excel cells have no zone, so the wall-clock time in the report's zone. */
export const DATETIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';

const NUM_FMT: Record<Format, string | undefined> = {
  text: undefined,
  int: '#,##0',
  pct: '0.0%',
  score: '0.0000',
  datetime: DATETIME_FORMAT,
  seconds: '#,##0.0',
  signedInt: '+#,##0;-#,##0;0',
  signedPct: '+0.0%;-0.0%;0.0%',
};

const HEADER_FONT = { bold: true, color: { argb: 'FFFFFFFF' } };
const HEADER_FILL = { type: 'pattern' as const, pattern: 'solid' as const, fgColor: { argb: 'FF1F4E79' } };

/** One shared style object per format and role: exceljs then registers each style once. */
const CELL_STYLE = Object.fromEntries(
  Object.entries(NUM_FMT).map(([k, numFmt]) => [k, numFmt ? { numFmt } : {}]),
) as Record<Format, Partial<Style>>;
export const HEADER_STYLE: Partial<Style> = { font: HEADER_FONT, fill: HEADER_FILL };
const TITLE_STYLE: Partial<Style> = { font: { bold: true, size: 13 } };
const LABEL_STYLE: Partial<Style> = { font: { bold: true } };

/**
 * Appends `table` to `ws`: title, header and rows (a blank line between stacked tables is the
 * caller's). Answers the 1-based row of its header (0 when it has none), for charts that
 * reference its cells.
 */
export function writeTable(ws: Worksheet, table: Table, opts: { labelColumn?: boolean } = {}): number {
  if (table.title) {
    const row = ws.addRow([table.title]);
    row.getCell(1).style = TITLE_STYLE;
  }
  let headerRow = 0;
  if (table.headers) {
    const row = ws.addRow(table.headers);
    for (let i = 1; i <= table.headers.length; i++) row.getCell(i).style = HEADER_STYLE;
    headerRow = row.number;
  }
  for (const values of table.rows) {
    const row = ws.addRow(values.map((v) => (v === null ? undefined : v)));
    values.forEach((v, i) => {
      if (v === null) return;
      const cell = row.getCell(i + 1);
      cell.style = i === 0 && opts.labelColumn ? LABEL_STYLE : CELL_STYLE[table.formats[i] ?? 'text'];
    });
  }
  return headerRow;
}

/** A sheet that is one table: frozen header, autofilter, widths. */
export function writeTableSheet(ws: Worksheet, table: Table): void {
  ws.columns = (table.widths ?? []).map((width) => ({ width }));
  writeTable(ws, table);
  const cols = table.headers?.length ?? 1;
  ws.autoFilter = {
    from: { row: 1, column: 1 },
    to: { row: Math.max(1, table.rows.length + 1), column: cols },
  };
}
