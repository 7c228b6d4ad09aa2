/**
 * DrawingML parts for native Excel charts, as strings: `xl/charts/chartN.xml`, the sheet's
 * `xl/drawings/drawingN.xml` and its relationships, and the content-type overrides. Pure; the
 * streaming workbook glue is xlsx-drawing.ts.
 *
 * Hand-written because exceljs has no chart API (its request has been open since 2016) and the
 * libraries that have one either buffer the whole workbook (SheetJS Pro, openpyxl) or are not
 * JavaScript (libxlsxwriter, rust_xlsxwriter). Element names and ORDER follow rust_xlsxwriter's
 * chart.rs / drawing.rs output (its src/chart/tests.rs shows the expected XML), which is what the
 * ECMA-376 schema (CT_ChartSpace, CT_Chart, CT_BarChart, CT_BarSer, CT_CatAx, CT_ValAx) demands:
 * Excel refuses a chart part whose children are out of sequence.
 */

export const NS = {
  c: 'http://schemas.openxmlformats.org/drawingml/2006/chart',
  a: 'http://schemas.openxmlformats.org/drawingml/2006/main',
  r: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  xdr: 'http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing',
  rels: 'http://schemas.openxmlformats.org/package/2006/relationships',
} as const;

export const REL_TYPE = {
  drawing: `${NS.r}/drawing`,
  chart: `${NS.r}/chart`,
} as const;

export const CONTENT_TYPE = {
  chart: 'application/vnd.openxmlformats-officedocument.drawingml.chart+xml',
  drawing: 'application/vnd.openxmlformats-officedocument.drawing+xml',
} as const;

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Text and attribute values: the five XML specials; control characters XML 1.0 forbids are dropped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** 0 → A, 25 → Z, 26 → AA. */
export function columnLetters(col: number): string {
  if (!Number.isInteger(col) || col < 0 || col > 16_383)
    throw new RangeError(`column index ${col} out of range`);
  let s = '';
  for (let n = col + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * A sheet name as a formula prefix: quoted (with inner quotes doubled) unless it is a plain
 * identifier that cannot be read as a cell reference, like rust_xlsxwriter's quote_sheet_name.
 */
export function quoteSheetName(name: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name);
  // "A1", "XFD10" and "R1C1"-style names would read as references: quote them.
  const looksLikeRef = /^[A-Za-z]{1,3}\d+$/.test(name) || /^[RrCc]\d*([RrCc]\d*)?$/.test(name);
  return plain && !looksLikeRef ? name : `'${name.replace(/'/g, "''")}'`;
}

/** Cells of one column of one sheet: rows are 1-based and inclusive; col is 0-based. */
export interface CellRange {
  sheet: string;
  col: number;
  firstRow: number;
  lastRow: number;
}

/** `'By hour'!$B$2:$B$25`, or `Summary!$C$5` for a single cell (unescaped: a formula, not XML). */
export function rangeFormula(r: CellRange): string {
  if (!Number.isInteger(r.firstRow) || r.firstRow < 1 || r.lastRow < r.firstRow || r.lastRow > 1_048_576) {
    throw new RangeError(`row range ${r.firstRow}:${r.lastRow} is not a valid range`);
  }
  const c = `$${columnLetters(r.col)}$`;
  const cells = r.firstRow === r.lastRow ? `${c}${r.firstRow}` : `${c}${r.firstRow}:${c}${r.lastRow}`;
  return `${quoteSheetName(r.sheet)}!${cells}`;
}

/** One series: where its name, categories and values live, and what those cells held when written (the cache). */
export interface ChartSeries {
  name: { ref: CellRange; value: string };
  categories: { ref: CellRange; values: string[] };
  values: { ref: CellRange; values: Array<number | null> };
  /** RGB hex fill (e.g. "C0504D"); absent: the application's palette. */
  color?: string;
}

export interface ChartSpec {
  title: string;
  /** `col`: vertical columns; `bar`: horizontal bars. Both clustered. */
  direction: 'col' | 'bar';
  series: ChartSeries[];
  /** Value axis number format, e.g. "0%"; absent: the cells' own ("General", linked). */
  valueFormat?: string;
}

function richText(text: string): string {
  return (
    '<c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr/></a:pPr>' +
    `<a:r><a:t>${xmlEscape(text)}</a:t></a:r></a:p></c:rich></c:tx>`
  );
}

function strRef(ref: CellRange, values: string[]): string {
  const pts = values.map((v, i) => `<c:pt idx="${i}"><c:v>${xmlEscape(v)}</c:v></c:pt>`).join('');
  return (
    `<c:strRef><c:f>${xmlEscape(rangeFormula(ref))}</c:f>` +
    `<c:strCache><c:ptCount val="${values.length}"/>${pts}</c:strCache></c:strRef>`
  );
}

function numRef(ref: CellRange, values: Array<number | null>): string {
  // An empty cell has no point in the cache (ptCount still counts it), as Excel writes it.
  const pts = values
    .map((v, i) => (v === null || !Number.isFinite(v) ? '' : `<c:pt idx="${i}"><c:v>${v}</c:v></c:pt>`))
    .join('');
  return (
    `<c:numRef><c:f>${xmlEscape(rangeFormula(ref))}</c:f>` +
    `<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="${values.length}"/>${pts}</c:numCache></c:numRef>`
  );
}

function seriesXml(s: ChartSeries, i: number): string {
  const expected = s.categories.ref.lastRow - s.categories.ref.firstRow + 1;
  const vals = s.values.ref.lastRow - s.values.ref.firstRow + 1;
  if (s.categories.values.length !== expected || s.values.values.length !== vals || vals !== expected) {
    throw new RangeError(`series "${s.name.value}": ranges and cached values differ in length`);
  }
  const fill = s.color
    ? `<c:spPr><a:solidFill><a:srgbClr val="${xmlEscape(s.color)}"/></a:solidFill></c:spPr>`
    : '';
  // CT_BarSer: idx, order, tx, spPr, invertIfNegative, …, cat, val.
  return (
    `<c:ser><c:idx val="${i}"/><c:order val="${i}"/>` +
    `<c:tx>${strRef(s.name.ref, [s.name.value])}</c:tx>` +
    fill +
    '<c:invertIfNegative val="0"/>' +
    `<c:cat>${strRef(s.categories.ref, s.categories.values)}</c:cat>` +
    `<c:val>${numRef(s.values.ref, s.values.values)}</c:val>` +
    '</c:ser>'
  );
}

/** `xl/charts/chartN.xml`: a clustered bar or column chart. `axisIds` must be unique in the workbook. */
export function chartXml(spec: ChartSpec, axisIds: readonly [number, number]): string {
  if (spec.series.length === 0) throw new RangeError(`chart "${spec.title}" has no series`);
  const [catId, valId] = axisIds;
  // Columns: categories along the bottom, values up the left; bars: the other way round.
  const [catPos, valPos] = spec.direction === 'col' ? ['b', 'l'] : ['l', 'b'];
  // Bars are drawn bottom-up; reversed, the first row of the table is the top bar, as in the
  // table. The value axis then crosses at the last category, so it stays at the bottom.
  const [catOrder, valCrosses] = spec.direction === 'bar' ? ['maxMin', 'max'] : ['minMax', 'autoZero'];
  const valFmt = spec.valueFormat
    ? `<c:numFmt formatCode="${xmlEscape(spec.valueFormat)}" sourceLinked="0"/>`
    : '<c:numFmt formatCode="General" sourceLinked="1"/>';
  // One series needs no legend: the title says what it is.
  const legend =
    spec.series.length > 1
      ? '<c:legend><c:legendPos val="b"/><c:layout/><c:overlay val="0"/></c:legend>'
      : '';
  return (
    XML_DECL +
    `<c:chartSpace xmlns:c="${NS.c}" xmlns:a="${NS.a}" xmlns:r="${NS.r}">` +
    // roundedCorners defaults to true in the schema: Excel would round the frame.
    '<c:lang val="en-US"/><c:roundedCorners val="0"/>' +
    '<c:chart>' +
    `<c:title>${richText(spec.title)}<c:layout/><c:overlay val="0"/></c:title>` +
    '<c:autoTitleDeleted val="0"/>' +
    '<c:plotArea><c:layout/>' +
    `<c:barChart><c:barDir val="${spec.direction}"/><c:grouping val="clustered"/><c:varyColors val="0"/>` +
    spec.series.map(seriesXml).join('') +
    `<c:gapWidth val="60"/><c:axId val="${catId}"/><c:axId val="${valId}"/></c:barChart>` +
    `<c:catAx><c:axId val="${catId}"/><c:scaling><c:orientation val="${catOrder}"/></c:scaling>` +
    `<c:delete val="0"/><c:axPos val="${catPos}"/><c:numFmt formatCode="General" sourceLinked="1"/>` +
    '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    `<c:crossAx val="${valId}"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>` +
    '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>' +
    // Counts and rates: the value axis starts at zero, or LibreOffice starts it near the smallest
    // bar and a 13 % failure rate looks like nothing beside a 15 % one.
    `<c:valAx><c:axId val="${valId}"/><c:scaling><c:orientation val="minMax"/><c:min val="0"/></c:scaling>` +
    `<c:delete val="0"/><c:axPos val="${valPos}"/><c:majorGridlines/>${valFmt}` +
    '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    `<c:crossAx val="${catId}"/><c:crosses val="${valCrosses}"/><c:crossBetween val="between"/></c:valAx>` +
    '</c:plotArea>' +
    legend +
    '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>' +
    '</c:chart>' +
    '<c:printSettings><c:headerFooter/>' +
    '<c:pageMargins b="0.75" l="0.7" r="0.7" t="0.75" header="0.3" footer="0.3"/><c:pageSetup/>' +
    '</c:printSettings>' +
    '</c:chartSpace>'
  );
}

/** A cell corner: 0-based column and row, as DrawingML counts them. */
export interface CellCorner {
  col: number;
  row: number;
}

export interface ChartAnchor {
  from: CellCorner;
  to: CellCorner;
  /** The shape's name, as Excel's selection pane shows it. */
  name: string;
}

function corner(tag: 'from' | 'to', c: CellCorner): string {
  return (
    `<xdr:${tag}><xdr:col>${c.col}</xdr:col><xdr:colOff>0</xdr:colOff>` +
    `<xdr:row>${c.row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:${tag}>`
  );
}

/**
 * `xl/drawings/drawingN.xml`: one graphic frame per chart; frame i shows the chart of the
 * drawing's relationship `rId{i+1}` (see drawingRelsXml). Anchored to cells, moved but not
 * resized with them (`editAs="oneCell"`, libxlsxwriter's default for charts).
 */
export function drawingXml(anchors: readonly ChartAnchor[]): string {
  const frames = anchors.map(
    (a, i) =>
      `<xdr:twoCellAnchor editAs="oneCell">${corner('from', a.from)}${corner('to', a.to)}` +
      '<xdr:graphicFrame macro="">' +
      `<xdr:nvGraphicFramePr><xdr:cNvPr id="${i + 2}" name="${xmlEscape(a.name)}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>` +
      '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>' +
      `<a:graphic><a:graphicData uri="${NS.c}"><c:chart xmlns:c="${NS.c}" r:id="rId${i + 1}"/></a:graphicData></a:graphic>` +
      '</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>',
  );
  return `${XML_DECL}<xdr:wsDr xmlns:xdr="${NS.xdr}" xmlns:a="${NS.a}" xmlns:r="${NS.r}">${frames.join('')}</xdr:wsDr>`;
}

/** A part's relationships file: `targets[i]` gets `rId{i+1}`. */
export function relsXml(type: string, targets: readonly string[]): string {
  const rels = targets.map(
    (t, i) => `<Relationship Id="rId${i + 1}" Type="${xmlEscape(type)}" Target="${xmlEscape(t)}"/>`,
  );
  return `${XML_DECL}<Relationships xmlns="${NS.rels}">${rels.join('')}</Relationships>`;
}

/** `<Override>` elements for `[Content_Types].xml`; part names are absolute ("/xl/charts/chart1.xml"). */
export function contentTypeOverrides(
  parts: ReadonlyArray<{ partName: string; contentType: string }>,
): string {
  return parts
    .map((p) => `<Override PartName="${xmlEscape(p.partName)}" ContentType="${xmlEscape(p.contentType)}"/>`)
    .join('');
}
