/**
 * Which charts the Summary sheet shows and which cells each one draws from. Pure: given where
 * the tables were written, it answers chart specs whose series reference those cells (so a
 * chart follows an edit of its table) and whose caches hold the same values as the cells.
 */
import type { CellRange, ChartAnchor, ChartSeries, ChartSpec } from './xlsx-chart-xml.js';
import type { Table, Value } from './xlsx-sheets.js';

/** A table as written: its sheet and the 1-based row of its header (data rows follow it). */
export interface PlacedTable {
  sheet: string;
  table: Table;
  headerRow: number;
}

export interface SummaryChartSources {
  byHour: PlacedTable;
  /** The Summary sheet's own "By status" table. */
  byStatus: PlacedTable;
  byClient: PlacedTable;
  timeZone: string;
}

export interface PlacedChart {
  spec: ChartSpec;
  anchor: ChartAnchor;
}

/** More bars than this stop being readable; the client chart shows the busiest ones (the table's order). */
export const MAX_CLIENT_BARS = 20;

/** Charts sit right of the Summary's tables (columns A–H), one under the other, this many columns wide. */
const CHART_COL = 9;
const CHART_WIDTH_COLS = 10;
const FAILED_RED = 'C0504D';
const VALIDATIONS_BLUE = '1F4E79';

interface Column {
  ref: CellRange;
  values: Value[];
}

/** The cells under `header`, for the first `count` data rows. */
function column(p: PlacedTable, header: string, count: number): Column {
  const col = p.table.headers?.indexOf(header) ?? -1;
  if (col < 0) throw new RangeError(`no column "${header}" in the table on ${p.sheet}`);
  return {
    ref: { sheet: p.sheet, col, firstRow: p.headerRow + 1, lastRow: p.headerRow + count },
    values: p.table.rows.slice(0, count).map((r) => r[col] ?? null),
  };
}

function headerCell(p: PlacedTable, header: string): ChartSeries['name'] {
  const col = p.table.headers?.indexOf(header) ?? -1;
  if (col < 0) throw new RangeError(`no column "${header}" in the table on ${p.sheet}`);
  return { ref: { sheet: p.sheet, col, firstRow: p.headerRow, lastRow: p.headerRow }, value: header };
}

const asText = (v: Value): string => (v === null ? '' : v instanceof Date ? v.toISOString() : String(v));
const asNumber = (v: Value): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function series(
  p: PlacedTable,
  categories: Column,
  header: string,
  count: number,
  color?: string,
): ChartSeries {
  const values = column(p, header, count);
  return {
    name: headerCell(p, header),
    categories: { ref: categories.ref, values: categories.values.map(asText) },
    values: { ref: values.ref, values: values.values.map(asNumber) },
    ...(color ? { color } : {}),
  };
}

/**
 * Client names label the bars when every charted client has one and no two share it;
 * otherwise the IDs do (a blank or repeated label would make two bars indistinguishable).
 */
function clientLabels(p: PlacedTable, count: number): Column {
  const names = column(p, 'Client', count);
  const texts = names.values.map(asText);
  const usable = texts.every((t) => t.trim() !== '') && new Set(texts).size === texts.length;
  return usable ? names : column(p, 'Client ID', count);
}

/**
 * Validations per hour (columns: all validations and the failed ones), status shares (bars) and
 * failure rate per client (bars). A chart whose table has no rows is left out: a series over an
 * empty range is invalid.
 */
export function summaryCharts(src: SummaryChartSources): PlacedChart[] {
  const specs: ChartSpec[] = [];
  const hours = src.byHour.table.rows.length;
  if (hours > 0) {
    const labels = column(src.byHour, src.byHour.table.headers?.[0] ?? '', hours);
    specs.push({
      title: `Validations per hour (${src.timeZone})`,
      direction: 'col',
      series: [
        series(src.byHour, labels, 'Validations', hours, VALIDATIONS_BLUE),
        series(src.byHour, labels, 'Failed', hours, FAILED_RED),
      ],
    });
  }
  const statuses = src.byStatus.table.rows.length;
  if (statuses > 0) {
    specs.push({
      title: 'Status shares',
      direction: 'bar',
      series: [
        series(src.byStatus, column(src.byStatus, 'Status', statuses), 'Share', statuses, VALIDATIONS_BLUE),
      ],
      valueFormat: '0%',
    });
  }
  const allClients = src.byClient.table.rows.length;
  const clients = Math.min(allClients, MAX_CLIENT_BARS);
  if (clients > 0) {
    specs.push({
      title:
        allClients > clients
          ? `Failure rate per client (top ${clients} of ${allClients} by validations)`
          : 'Failure rate per client',
      direction: 'bar',
      series: [series(src.byClient, clientLabels(src.byClient, clients), 'Failed %', clients, FAILED_RED)],
      valueFormat: '0%',
    });
  }

  // Stacked down the sheet; a bar chart grows with its bars so labels stay legible.
  let row = 1;
  return specs.map((spec, i) => {
    const points = spec.series[0]?.values.values.length ?? 0;
    const height = spec.direction === 'col' ? 20 : Math.max(12, 6 + points);
    const anchor: ChartAnchor = {
      from: { col: CHART_COL, row },
      to: { col: CHART_COL + CHART_WIDTH_COLS, row: row + height },
      name: `Chart ${i + 1}`,
    };
    row += height + 1;
    return { spec, anchor };
  });
}
