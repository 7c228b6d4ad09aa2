/**
 * The DrawingML builders on their own: formulas, escaping, caches and the element order the
 * schema requires (the read-back by openpyxl and LibreOffice is report-xlsx-charts.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  type ChartSpec,
  chartXml,
  columnLetters,
  contentTypeOverrides,
  drawingXml,
  quoteSheetName,
  rangeFormula,
  relsXml,
  xmlEscape,
} from '../../functions/report/xlsx-chart-xml.js';

/** Asserts the tags appear in this order (each one after the previous) in `xml`. */
function expectOrder(xml: string, tags: string[]): void {
  let at = -1;
  for (const tag of tags) {
    const next = xml.indexOf(tag, at + 1);
    expect(next, `${tag} after position ${at}`).toBeGreaterThan(at);
    at = next;
  }
}

const hours = (n: number) => Array.from({ length: n }, (_, h) => `${h}h`);

const SPEC: ChartSpec = {
  title: 'Per hour <all> & "more"',
  direction: 'col',
  series: [
    {
      name: { ref: { sheet: 'By hour', col: 1, firstRow: 1, lastRow: 1 }, value: 'Validations' },
      categories: { ref: { sheet: 'By hour', col: 0, firstRow: 2, lastRow: 4 }, values: hours(3) },
      values: { ref: { sheet: 'By hour', col: 1, firstRow: 2, lastRow: 4 }, values: [5, null, 7.5] },
      color: '1F4E79',
    },
    {
      name: { ref: { sheet: "R&D 'Ops'", col: 2, firstRow: 1, lastRow: 1 }, value: 'Failed' },
      categories: { ref: { sheet: 'By hour', col: 0, firstRow: 2, lastRow: 4 }, values: hours(3) },
      values: { ref: { sheet: "R&D 'Ops'", col: 2, firstRow: 2, lastRow: 4 }, values: [1, 0, 2] },
    },
  ],
};

describe('formulas', () => {
  it('names columns like Excel: A…Z, AA…ZZ, AAA; refuses what Excel has not', () => {
    expect([0, 25, 26, 51, 701, 702, 16_383].map(columnLetters)).toEqual([
      'A',
      'Z',
      'AA',
      'AZ',
      'ZZ',
      'AAA',
      'XFD',
    ]);
    expect(() => columnLetters(16_384)).toThrow(RangeError);
    expect(() => columnLetters(-1)).toThrow(RangeError);
  });

  it('quotes a sheet name only when it needs it, doubling inner quotes', () => {
    expect(quoteSheetName('Summary')).toBe('Summary');
    expect(quoteSheetName('Sheet_1.b')).toBe('Sheet_1.b');
    expect(quoteSheetName('By hour')).toBe("'By hour'");
    expect(quoteSheetName("O'Brien")).toBe("'O''Brien'");
    expect(quoteSheetName('Señora')).toBe("'Señora'");
    // Names that read as cell references or R1C1 references.
    expect(quoteSheetName('A1')).toBe("'A1'");
    expect(quoteSheetName('XFD100')).toBe("'XFD100'");
    expect(quoteSheetName('R2C3')).toBe("'R2C3'");
    expect(quoteSheetName('1st')).toBe("'1st'");
  });

  it('writes absolute ranges, a single cell without a colon, and refuses reversed or impossible rows', () => {
    expect(rangeFormula({ sheet: 'By hour', col: 1, firstRow: 2, lastRow: 25 })).toBe("'By hour'!$B$2:$B$25");
    expect(rangeFormula({ sheet: 'Summary', col: 2, firstRow: 7, lastRow: 7 })).toBe('Summary!$C$7');
    expect(() => rangeFormula({ sheet: 'S', col: 0, firstRow: 5, lastRow: 4 })).toThrow(RangeError);
    expect(() => rangeFormula({ sheet: 'S', col: 0, firstRow: 0, lastRow: 4 })).toThrow(RangeError);
    expect(() => rangeFormula({ sheet: 'S', col: 0, firstRow: 1, lastRow: 1_048_577 })).toThrow(RangeError);
  });

  it('escapes the XML specials and drops the control characters XML 1.0 forbids', () => {
    expect(xmlEscape(`a<b>&"c'\u0001\u0008d\te`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d\te');
  });
});

describe('chartXml', () => {
  const xml = chartXml(SPEC, [101, 102]);

  it('lays the chart out in the order CT_ChartSpace, CT_Chart, CT_BarChart and the axes require', () => {
    expectOrder(xml, [
      '<c:chartSpace',
      '<c:lang ',
      '<c:roundedCorners ',
      '<c:chart>',
      '<c:title>',
      '<c:autoTitleDeleted ',
      '<c:plotArea>',
      '<c:layout/>',
      '<c:barChart>',
      '<c:barDir val="col"/>',
      '<c:grouping val="clustered"/>',
      '<c:varyColors ',
      '<c:ser>',
      '<c:ser>',
      '<c:gapWidth ',
      '<c:axId val="101"/>',
      '<c:axId val="102"/>',
      '</c:barChart>',
      '<c:catAx><c:axId val="101"/>',
      '<c:scaling>',
      '<c:delete ',
      '<c:axPos val="b"/>',
      '<c:numFmt ',
      '<c:majorTickMark ',
      '<c:tickLblPos ',
      '<c:crossAx val="102"/>',
      '<c:crosses ',
      '<c:auto ',
      '<c:lblAlgn ',
      '<c:lblOffset ',
      '</c:catAx>',
      '<c:valAx><c:axId val="102"/>',
      '<c:scaling><c:orientation val="minMax"/><c:min val="0"/></c:scaling>',
      '<c:axPos val="l"/>',
      '<c:majorGridlines/>',
      '<c:numFmt ',
      '<c:crossAx val="101"/>',
      '<c:crosses ',
      '<c:crossBetween ',
      '</c:valAx>',
      '</c:plotArea>',
      '<c:legend>',
      '<c:plotVisOnly ',
      '<c:dispBlanksAs ',
      '</c:chart>',
      '<c:printSettings>',
      '</c:chartSpace>',
    ]);
  });

  it('orders each series idx, order, tx, spPr, invertIfNegative, cat, val (CT_BarSer)', () => {
    const first = xml.slice(xml.indexOf('<c:ser>'), xml.indexOf('</c:ser>'));
    expectOrder(first, [
      '<c:idx val="0"/>',
      '<c:order val="0"/>',
      '<c:tx>',
      '<c:spPr>',
      '<c:invertIfNegative ',
      '<c:cat>',
      '<c:val>',
    ]);
    const second = xml.slice(xml.lastIndexOf('<c:ser>'));
    expect(second).toContain('<c:idx val="1"/><c:order val="1"/>');
    // No colour asked: no spPr, the application's palette.
    expect(second.slice(0, second.indexOf('</c:ser>'))).not.toContain('<c:spPr>');
  });

  it('references the cells, escaped, with caches of the same values; an empty cell has no point', () => {
    expect(xml).toContain('<c:f>&apos;By hour&apos;!$B$1</c:f>');
    expect(xml).toContain('<c:f>&apos;By hour&apos;!$A$2:$A$4</c:f>');
    expect(xml).toContain('<c:f>&apos;R&amp;D &apos;&apos;Ops&apos;&apos;&apos;!$C$2:$C$4</c:f>');
    expect(xml).toContain(
      '<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="3"/>' +
        '<c:pt idx="0"><c:v>5</c:v></c:pt><c:pt idx="2"><c:v>7.5</c:v></c:pt></c:numCache>',
    );
    expect(xml).toContain('<c:strCache><c:ptCount val="3"/><c:pt idx="0"><c:v>0h</c:v></c:pt>');
    expect(xml).toContain('<a:t>Per hour &lt;all&gt; &amp; &quot;more&quot;</a:t>');
  });

  it('draws bars top-down in table order with the value axis kept at the bottom, and a fixed value format', () => {
    const bars = chartXml(
      { ...SPEC, direction: 'bar', series: SPEC.series.slice(0, 1), valueFormat: '0%' },
      [1, 2],
    );
    expect(bars).toContain('<c:barDir val="bar"/>');
    expectOrder(bars, [
      '<c:catAx>',
      '<c:orientation val="maxMin"/>',
      '<c:axPos val="l"/>',
      '<c:valAx>',
      '<c:axPos val="b"/>',
      '<c:numFmt formatCode="0%" sourceLinked="0"/>',
      '<c:crosses val="max"/>',
    ]);
    // One series: no legend.
    expect(bars).not.toContain('<c:legend>');
  });

  it('refuses a chart without series and a series whose ranges and caches disagree', () => {
    expect(() => chartXml({ ...SPEC, series: [] }, [1, 2])).toThrow(RangeError);
    const [s] = SPEC.series;
    if (!s) throw new Error('fixture');
    expect(() =>
      chartXml({ ...SPEC, series: [{ ...s, values: { ...s.values, values: [1, 2] } }] }, [1, 2]),
    ).toThrow(/differ in length/);
  });
});

describe('drawing, relationships, content types', () => {
  it('anchors one frame per chart, each pointing at its own relationship', () => {
    const xml = drawingXml([
      { from: { col: 9, row: 1 }, to: { col: 19, row: 19 }, name: 'Chart <1>' },
      { from: { col: 9, row: 20 }, to: { col: 19, row: 32 }, name: 'Chart 2' },
    ]);
    expect(xml.match(/<xdr:twoCellAnchor editAs="oneCell">/g)).toHaveLength(2);
    expectOrder(xml, [
      '<xdr:from><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>',
      '<xdr:to><xdr:col>19</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>19</xdr:row>',
      '<xdr:graphicFrame macro="">',
      '<xdr:cNvPr id="2" name="Chart &lt;1&gt;"/>',
      '<xdr:xfrm>',
      'r:id="rId1"',
      '<xdr:clientData/>',
      '<xdr:row>20</xdr:row>',
      '<xdr:cNvPr id="3" name="Chart 2"/>',
      'r:id="rId2"',
    ]);
  });

  it('numbers relationships from rId1 in target order and declares content types as overrides', () => {
    const rels = relsXml('http://t/chart', ['../charts/chart1.xml', '../charts/chart2.xml']);
    expect(rels).toContain('<Relationship Id="rId1" Type="http://t/chart" Target="../charts/chart1.xml"/>');
    expect(rels).toContain('<Relationship Id="rId2" Type="http://t/chart" Target="../charts/chart2.xml"/>');
    expect(contentTypeOverrides([{ partName: '/xl/charts/chart1.xml', contentType: 'a/b+xml' }])).toBe(
      '<Override PartName="/xl/charts/chart1.xml" ContentType="a/b+xml"/>',
    );
  });
});
