/**
 * SpreadsheetML for the Validations rows, rendered straight to strings.
 *
 * Why not exceljs's `addRow().commit()`: it builds a Row, a Cell, a value object and a merged
 * style object per cell, then looks each style up by content; at a million rows × 22 columns that
 * is most of the run time. The sheet's frame (columns, header, autofilter, views) still comes
 * from exceljs; only the data rows are rendered here, with style ids registered once.
 *
 * Cell types written: inline strings (`t="inlineStr"`, never a formula: text that starts with
 * "=" stays text), numbers, booleans (`t="b"`), and dates as Excel serial numbers with a
 * date-time number format.
 */
import type { ColumnKind, ColumnSpec, FlatRow } from './columns.js';

/** Excel's hard limit on the characters of one cell. */
const MAX_CELL_CHARS = 32_767;

const MS_PER_DAY = 86_400_000;
/** Days from Excel's epoch (1899-12-30, 1900 date system) to 1970-01-01. */
const EXCEL_EPOCH_OFFSET_DAYS = 25_569;

/**
 * Excel serial date of a wall-clock instant expressed "as if UTC", truncated to whole seconds:
 * the cells show seconds, and Excel rounds for display, so 23:59:59.999 would read as midnight
 * of the next day. The CSV keeps the milliseconds.
 */
export function excelSerial(wallClockMs: number): number {
  return Math.floor(wallClockMs / 1000) / (MS_PER_DAY / 1000) + EXCEL_EPOCH_OFFSET_DAYS;
}

// Characters XML 1.0 does not allow (dropped) and the ones that must be escaped. CR is written as
// a character reference, otherwise XML parsers normalise it to LF.
const NEEDS_WORK = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const NEEDS_WORK_ALL = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '\r':
      return '&#13;';
    default:
      return '';
  }
}

/** Text content of an inline string cell: escaped, invalid characters dropped, length capped. */
export function xmlText(value: string): string {
  const s = value.length > MAX_CELL_CHARS ? value.slice(0, MAX_CELL_CHARS) : value;
  return NEEDS_WORK.test(s) ? s.replace(NEEDS_WORK_ALL, escapeChar) : s;
}

/** 1 → A, 27 → AA. */
export function columnLetter(n: number): string {
  let s = '';
  for (let c = n; c > 0; c = Math.floor((c - 1) / 26)) s = String.fromCharCode(65 + ((c - 1) % 26)) + s;
  return s;
}

/** Row marks: which of the shared styles a row uses. Bit 1: failed, bit 2: high risk. */
export type RowMark = 0 | 1 | 2 | 3;

/** Style id per column per mark: styleIds[mark][columnIndex]. */
export type StyleTable = readonly (readonly number[])[];

export interface RowRendererOptions {
  columns: readonly ColumnSpec[];
  styles: StyleTable;
  /** Local wall-clock time of an instant (ms), as if it were UTC. */
  wallClockMs: (ms: number) => number;
  mark: (row: FlatRow) => RowMark;
}

/**
 * Builds one function per column that appends a cell, so the per-row loop does no dispatch on
 * the column kind. Empty cells are written only on marked rows, to carry the row's fill.
 */
export function createRowRenderer(opts: RowRendererOptions): (row: FlatRow, rowNumber: number) => string {
  const { columns, styles, wallClockMs, mark } = opts;
  const letters = columns.map((_, i) => columnLetter(i + 1));
  const keys = columns.map((c) => c.key);
  const kinds: ColumnKind[] = columns.map((c) => c.kind);
  const n = columns.length;

  return (row, r) => {
    const m = mark(row);
    const ids = styles[m] as readonly number[];
    let xml = `<row r="${r}">`;
    for (let i = 0; i < n; i++) {
      const value = row[keys[i] as keyof FlatRow];
      const ref = `${letters[i]}${r}`;
      const s = ids[i];
      if (value === null) {
        if (m !== 0) xml += `<c r="${ref}" s="${s}"/>`;
        continue;
      }
      switch (kinds[i]) {
        case 'datetime':
          xml += `<c r="${ref}" s="${s}"><v>${excelSerial(wallClockMs(value as number))}</v></c>`;
          break;
        case 'number':
        case 'score':
          xml += `<c r="${ref}" s="${s}"><v>${value}</v></c>`;
          break;
        case 'boolean':
          xml += `<c r="${ref}" s="${s}" t="b"><v>${value ? 1 : 0}</v></c>`;
          break;
        default: {
          const text = xmlText(value as string);
          // Leading or trailing whitespace needs xml:space="preserve" or readers trim it.
          xml +=
            text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32)
              ? `<c r="${ref}" s="${s}" t="inlineStr"><is><t xml:space="preserve">${text}</t></is></c>`
              : `<c r="${ref}" s="${s}" t="inlineStr"><is><t>${text}</t></is></c>`;
        }
      }
    }
    return `${xml}</row>`;
  };
}
