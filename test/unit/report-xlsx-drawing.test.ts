/**
 * attachCharts against stand-ins for exceljs's stream writer internals: which parts it queues,
 * where the sheet's <drawing> goes, and how [Content_Types].xml is completed. The real writer is
 * exercised end to end, and read back by openpyxl, in report-xlsx-charts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attachCharts, type ChartSheet, type ChartWorkbook } from '../../functions/report/xlsx-drawing.js';
import type { PlacedChart } from '../../functions/report/xlsx-summary-charts.js';

const CHART: PlacedChart = {
  spec: {
    title: 'T',
    direction: 'col',
    series: [
      {
        name: { ref: { sheet: 'S', col: 1, firstRow: 1, lastRow: 1 }, value: 'N' },
        categories: { ref: { sheet: 'S', col: 0, firstRow: 2, lastRow: 3 }, values: ['a', 'b'] },
        values: { ref: { sheet: 'S', col: 1, firstRow: 2, lastRow: 3 }, values: [1, 2] },
      },
    ],
  },
  anchor: { from: { col: 9, row: 1 }, to: { col: 19, row: 20 }, name: 'Chart 1' },
};

function fakes(contentTypes = '<?xml?><Types><Default Extension="xml"/></Types>') {
  const appended: Array<{ name: string; source: string }> = [];
  const sheetXml: string[] = [];
  const rels: Array<{ Type: string; Target: string }> = [];
  const wb: ChartWorkbook = {
    zip: {
      append(source, data) {
        appended.push({ name: data.name, source });
      },
    },
    // exceljs renders and appends synchronously inside a promise executor.
    addContentTypes() {
      return new Promise<void>((resolve) => {
        this.zip.append(contentTypes, { name: '[Content_Types].xml' });
        resolve();
      });
    },
  };
  const sheet: ChartSheet = {
    committed: false,
    _sheetRelsWriter: {
      addRelationship(rel) {
        rels.push(rel);
        return `rId${rels.length + 1}`; // a sheet that already has a hyperlink rel
      },
    },
    _writeLegacyData() {
      sheetXml.push('<legacyDrawing r:id="rId9"/>');
    },
    _write(text) {
      sheetXml.push(text);
    },
  };
  return { wb, sheet, appended, sheetXml, rels };
}

describe('attachCharts', () => {
  it('queues each chart, the drawing and its relationships, and links the sheet to the drawing', () => {
    const f = fakes();
    attachCharts(f.wb, f.sheet, [CHART, { ...CHART, anchor: { ...CHART.anchor, name: 'Chart 2' } }]);
    expect(f.appended.map((a) => a.name)).toEqual([
      'xl/charts/chart1.xml',
      'xl/charts/chart2.xml',
      'xl/drawings/drawing1.xml',
      'xl/drawings/_rels/drawing1.xml.rels',
    ]);
    expect(f.appended[0]?.source).toContain('<c:axId val="50010002"/>');
    expect(f.appended[1]?.source).toContain('<c:axId val="50010004"/>');
    expect(f.appended[3]?.source).toContain(
      'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart" Target="../charts/chart2.xml"',
    );
    expect(f.rels).toEqual([
      {
        Type: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing',
        Target: '../drawings/drawing1.xml',
      },
    ]);
    // At commit exceljs calls _writeLegacyData: <drawing> goes first, with the id the rel got.
    f.sheet._writeLegacyData();
    expect(f.sheetXml).toEqual(['<drawing r:id="rId2"/>', '<legacyDrawing r:id="rId9"/>']);
  });

  it('declares the chart and drawing content types in the [Content_Types].xml exceljs renders, and only there', async () => {
    const f = fakes();
    attachCharts(f.wb, f.sheet, [CHART]);
    await f.wb.addContentTypes();
    expect(f.appended.at(-1)?.source).toBe(
      '<?xml?><Types><Default Extension="xml"/>' +
        '<Override PartName="/xl/charts/chart1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawingml.chart+xml"/>' +
        '<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>' +
        '</Types>',
    );
    // The zip's own append is back afterwards: later parts pass untouched.
    f.wb.zip.append('<x/>', { name: 'xl/workbook.xml' });
    expect(f.appended.at(-1)).toEqual({ name: 'xl/workbook.xml', source: '<x/>' });
  });

  it('fails the file, rather than leave charts undeclared, when exceljs renders content types it does not expect', async () => {
    const f = fakes('<Types/>');
    attachCharts(f.wb, f.sheet, [CHART]);
    await expect(f.wb.addContentTypes()).rejects.toThrow(/\[Content_Types\]\.xml/);
  });

  it('adds nothing without charts; refuses a second drawing and a committed sheet', () => {
    const none = fakes();
    attachCharts(none.wb, none.sheet, []);
    expect(none.appended).toEqual([]);
    expect(none.rels).toEqual([]);

    const twice = fakes();
    attachCharts(twice.wb, twice.sheet, [CHART]);
    expect(() => attachCharts(twice.wb, twice.sheet, [CHART])).toThrow(/already has its drawing/);

    const late = fakes();
    expect(() => attachCharts(late.wb, { ...late.sheet, committed: true }, [CHART])).toThrow(
      /already committed/,
    );
  });
});
