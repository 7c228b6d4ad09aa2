/**
 * Puts native charts on a sheet of exceljs's streaming WorkbookWriter, which has no chart API.
 *
 * What a chart needs in the package (the layout libxlsxwriter and rust_xlsxwriter write):
 *   xl/charts/chartN.xml                      the chart (xlsx-chart-xml.ts)
 *   xl/drawings/drawing1.xml (+ _rels)        where each chart sits, and which part it is
 *   <drawing r:id="…"/> in the sheet (+ rel)  the sheet's link to its drawing
 *   [Content_Types].xml overrides             chart and drawing content types
 * The chart and drawing parts are a few KB of strings appended to the zip's queue; nothing here
 * touches the Validations sheets or buffers rows, so the writer's memory and speed are kept.
 *
 * Two hooks into exceljs 4.4's internals (pinned by test/unit/report-xlsx-charts.test.ts, which
 * reads the package back with openpyxl):
 *  - the sheet writer writes `<legacyDrawing>` in `_writeLegacyData()`, after `<rowBreaks>`:
 *    exactly where CT_Worksheet wants `<drawing>` (before `<legacyDrawing>`), so we write ours
 *    there first;
 *  - the workbook writer renders `[Content_Types].xml` in `addContentTypes()` and appends it to
 *    the zip synchronously; we add our overrides to that one string on its way in.
 */
import {
  CONTENT_TYPE,
  chartXml,
  contentTypeOverrides,
  drawingXml,
  REL_TYPE,
  relsXml,
} from './xlsx-chart-xml.js';
import type { PlacedChart } from './xlsx-summary-charts.js';

/** The parts of exceljs's stream WorkbookWriter used here, beyond its typings. */
export interface ChartWorkbook {
  zip: { append(source: string, data: { name: string }): unknown };
  addContentTypes(): Promise<void>;
}

/** The parts of exceljs's stream WorksheetWriter used here, beyond its typings. */
export interface ChartSheet {
  readonly committed?: boolean;
  _sheetRelsWriter: { addRelationship(rel: { Type: string; Target: string }): string };
  _writeLegacyData(): void;
  _write(text: string): void;
}

const CONTENT_TYPES_PART = '[Content_Types].xml';
const withCharts = new WeakSet<object>();

/** Axis ids only need to be unique within the workbook; libxlsxwriter-like numbers, two per chart. */
function axisIds(chart: number): [number, number] {
  return [50_010_000 + 2 * chart, 50_010_001 + 2 * chart];
}

/**
 * Adds `charts` to `sheet` (one drawing for the workbook, charts numbered from 1). Call before
 * the sheet's commit and before the workbook's; at most once per workbook.
 */
export function attachCharts(wb: ChartWorkbook, sheet: ChartSheet, charts: readonly PlacedChart[]): void {
  if (charts.length === 0) return;
  if (withCharts.has(wb)) throw new Error('attachCharts: this workbook already has its drawing');
  if (sheet.committed) throw new Error('attachCharts: the sheet is already committed');
  withCharts.add(wb);

  const drawing = 'xl/drawings/drawing1.xml';
  const chartParts = charts.map((_, i) => `xl/charts/chart${i + 1}.xml`);
  charts.forEach((c, i) => {
    wb.zip.append(chartXml(c.spec, axisIds(i + 1)), { name: chartParts[i] as string });
  });
  wb.zip.append(drawingXml(charts.map((c) => c.anchor)), { name: drawing });
  wb.zip.append(
    relsXml(
      REL_TYPE.chart,
      chartParts.map((p) => `../charts/${p.slice('xl/charts/'.length)}`),
    ),
    { name: 'xl/drawings/_rels/drawing1.xml.rels' },
  );

  const rId = sheet._sheetRelsWriter.addRelationship({
    Type: REL_TYPE.drawing,
    Target: '../drawings/drawing1.xml',
  });
  const writeLegacyData = sheet._writeLegacyData.bind(sheet);
  sheet._writeLegacyData = () => {
    sheet._write(`<drawing r:id="${rId}"/>`);
    writeLegacyData();
  };

  addContentTypes(
    wb,
    contentTypeOverrides([
      ...chartParts.map((p) => ({ partName: `/${p}`, contentType: CONTENT_TYPE.chart })),
      { partName: `/${drawing}`, contentType: CONTENT_TYPE.drawing },
    ]),
  );
}

/** Appends `overrides` to the `[Content_Types].xml` exceljs renders at commit. */
function addContentTypes(wb: ChartWorkbook, overrides: string): void {
  const render = wb.addContentTypes;
  wb.addContentTypes = () => {
    const zip = wb.zip;
    const append = zip.append;
    zip.append = (source, data) => {
      // Anything else, or a shape we do not know, fails the file rather than leaving charts undeclared.
      if (data.name !== CONTENT_TYPES_PART || typeof source !== 'string' || !source.includes('</Types>')) {
        throw new Error(`attachCharts: expected ${CONTENT_TYPES_PART} from exceljs, got ${data.name}`);
      }
      return append.call(
        zip,
        source.replace('</Types>', () => `${overrides}</Types>`),
        data,
      );
    };
    try {
      return render.call(wb);
    } finally {
      zip.append = append;
    }
  };
}
