/**
 * The workbook read back with an independent reader (SheetJS) and, for what SheetJS does not
 * expose (tab order, active tab, styles), by unzipping the package and reading its XML.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { DETAIL_COLUMNS, type FlatRow, flatten } from '../../functions/report/columns.js';
import type { ReportContext } from '../../functions/report/context.js';
import { RenderFailedError, RenderStalledError } from '../../functions/report/errors.js';
import { compareSummaries, SummaryBuilder } from '../../functions/report/summary.js';
import { createXlsxWriter, type XlsxWriterOptions } from '../../functions/report/xlsx.js';
import { dayWindow } from '../../functions/time/window.js';
import { ZoneClock } from '../../functions/time/zone.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

const TZ = 'America/Bogota';
const WINDOW = dayWindow('2024-12-01', TZ);

const TRICKY: BiometricValidation[] = [
  {
    _id: 'trick-formula',
    status: 'failed',
    createdAt: '2024-12-01T05:00:00.000Z', // 00:00 in Bogotá
    completedAt: '2024-12-01T05:01:30.250Z',
    identifier: '=HYPERLINK("http://evil","click")',
    ipAddress: '+57 300 1234567',
    client: { _id: 'c-ñ', name: 'Señora Müller & Söhne <SA>' },
    type: '@import',
    riskScore: 0.91,
    requires2FA: true,
    biometricData: { quality: '  spaced  ', livenessScore: -0.5 },
    verificationResults: {
      livenessDetection: 'failed',
      identityMatch: 'passed',
      antiSpoofing: '-1+1',
      qualityScore: 0.3333,
    },
  },
  {
    _id: 'trick-ctrl',
    status: 'weird_status',
    createdAt: '2024-12-01T23:59:59.999Z',
    identifier: 'tab\there\r\nline two \u0001 bell',
    project: 'p-unpopulated',
  },
];

function contextFor(records: BiometricValidation[], extra: Partial<ReportContext> = {}): ReportContext {
  const b = new SummaryBuilder({ timeZone: TZ });
  for (const r of records) b.add(r);
  return {
    id: 'daily-2024-12-01',
    window: WINDOW,
    filters: { statuses: ['failed', 'completed'] },
    generatedAt: new Date('2024-12-02T06:00:00.000Z'),
    summary: b.result(),
    diagnostics: { pages: 3, droppedOutsideWindow: 2 },
    ...extra,
  };
}

async function render(
  records: BiometricValidation[],
  opts: Partial<XlsxWriterOptions> = {},
  ctx = contextFor(records),
): Promise<{ buf: Buffer; result: { rows: number; sheets: string[] } }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = createXlsxWriter(out, { timeZone: TZ, ...opts });
  for (const r of records) {
    const wait = w.write(flatten(r));
    if (wait) await wait;
  }
  const result = await w.finish(ctx);
  return { buf: Buffer.concat(chunks), result };
}

function zipEntry(buf: Buffer, path: string): string {
  const cfb = XLSX.CFB.read(buf, { type: 'buffer' });
  const entry = cfb.FileIndex[cfb.FullPaths.indexOf(`Root Entry/${path}`)];
  if (!entry?.content) throw new Error(`no ${path} in the package`);
  return Buffer.from(entry.content as Uint8Array).toString('utf8');
}

function cellsOf(ws: XLSX.WorkSheet): Array<Record<string, XLSX.CellObject>> {
  const range = XLSX.utils.decode_range(ws['!ref'] ?? 'A1');
  const rows: Array<Record<string, XLSX.CellObject>> = [];
  for (let r = range.s.r; r <= range.e.r; r++) {
    const row: Record<string, XLSX.CellObject> = {};
    DETAIL_COLUMNS.forEach((c, i) => {
      const cell = ws[XLSX.utils.encode_cell({ r, c: i })] as XLSX.CellObject | undefined;
      if (cell) row[c.key] = cell;
    });
    rows.push(row);
  }
  return rows;
}

describe('xlsx writer', () => {
  const generated = [
    ...createDataset({ seed: 3, start: WINDOW.start, end: WINDOW.end, count: 400, timeZone: TZ }),
  ];
  const records = [...TRICKY, ...generated];

  it('puts Summary first and opens on it; breakdowns, then Validations (checked in workbook.xml)', async () => {
    const { buf, result } = await render(records);
    const expected = ['Summary', 'By client', 'By project', 'By hour', 'Highest risk', 'Validations'];
    expect(result.sheets).toEqual(expected);
    expect(XLSX.read(buf, { type: 'buffer' }).SheetNames).toEqual(expected);
    const workbookXml = zipEntry(buf, 'xl/workbook.xml');
    expect([...workbookXml.matchAll(/<sheet [^>]*name="([^"]+)"/g)].map((m) => m[1])).toEqual(expected);
    expect(workbookXml).toMatch(/<workbookView [^>]*activeTab="0"/);
    // The Summary's sheet view is the selected one.
    const rels = zipEntry(buf, 'xl/_rels/workbook.xml.rels');
    const rid = /<sheet [^>]*name="Summary"[^>]*r:id="(rId\d+)"/.exec(workbookXml)?.[1];
    const target = new RegExp(`Id="${rid}"[^>]*Target="([^"]+)"`).exec(rels)?.[1];
    expect(zipEntry(buf, `xl/${target}`)).toMatch(/<sheetView [^>]*tabSelected="1"/);
    expect(result.sheets.every((n) => n.length <= 31)).toBe(true);
  });

  it('writes one row per record with readable headers, zone-named date headers and typed cells', async () => {
    const { buf, result } = await render(records);
    expect(result.rows).toBe(records.length);
    const wb = XLSX.read(buf, { type: 'buffer', cellDates: false, cellNF: true });
    const ws = wb.Sheets.Validations as XLSX.WorkSheet;
    const rows = cellsOf(ws);
    expect(rows.length).toBe(records.length + 1);
    expect(DETAIL_COLUMNS.map((c) => rows[0]?.[c.key]?.v)).toEqual(
      DETAIL_COLUMNS.map((c) => (c.kind === 'datetime' ? `${c.header} (${TZ})` : c.header)),
    );
    const clock = new ZoneClock(TZ);
    records.forEach((rec, i) => {
      const row = rows[i + 1] as Record<string, XLSX.CellObject>;
      const flat = flatten(rec);
      expect(row.id?.v).toBe(rec._id);
      // Dates: number cells holding the zone's wall-clock time, with a date-time format.
      const created = row.createdAt as XLSX.CellObject;
      expect(created.t).toBe('n');
      expect(created.z).toBe('yyyy-mm-dd hh:mm:ss');
      const wallSeconds = Math.floor(clock.wallClockMs(flat.createdAt) / 1000);
      expect(Math.round(((created.v as number) - 25_569) * 86_400)).toBe(wallSeconds);
      if (flat.riskScore === null) expect(row.riskScore).toBeUndefined();
      else expect(row.riskScore).toMatchObject({ t: 'n', v: flat.riskScore });
      if (flat.requires2FA === null) expect(row.requires2FA).toBeUndefined();
      else expect(row.requires2FA).toMatchObject({ t: 'b', v: flat.requires2FA });
      expect(row.status).toMatchObject({ t: 's', v: flat.status });
    });
  });

  it('reads dates back as dates with the expected local wall time', async () => {
    const { buf } = await render(TRICKY);
    const ws = XLSX.read(buf, { type: 'buffer', cellDates: true }).Sheets.Validations as XLSX.WorkSheet;
    const created = ws.B2 as XLSX.CellObject;
    expect(created.t).toBe('d');
    // 05:00Z is midnight in Bogotá; SheetJS renders the cell with its number format.
    expect(created.w).toBe('2024-12-01 00:00:00');
    expect((ws.D2 as XLSX.CellObject).w).toBe('2024-12-01 00:01:30');
    // 23:59:59.999Z: truncated to the second, never rounded up into the next minute (or day).
    expect((ws.B3 as XLSX.CellObject).w).toBe('2024-12-01 18:59:59');
  });

  it('keeps formula-looking and hostile text as plain text, non-ASCII intact', async () => {
    const { buf } = await render(TRICKY);
    const ws = XLSX.read(buf, { type: 'buffer', cellFormula: true }).Sheets.Validations as XLSX.WorkSheet;
    const [, first, second] = cellsOf(ws);
    expect(first?.identifier).toMatchObject({ t: 's', v: '=HYPERLINK("http://evil","click")' });
    expect(first?.identifier?.f).toBeUndefined();
    expect(first?.type).toMatchObject({ t: 's', v: '@import' });
    expect(first?.antiSpoofing).toMatchObject({ t: 's', v: '-1+1' });
    expect(first?.ipAddress).toMatchObject({ t: 's', v: '+57 300 1234567' });
    expect(first?.clientName?.v).toBe('Señora Müller & Söhne <SA>');
    expect(first?.quality?.v).toBe('  spaced  ');
    expect(first?.livenessScore).toMatchObject({ t: 'n', v: -0.5 });
    // Control characters XML cannot carry are dropped; tab, CR and LF survive.
    expect(second?.identifier?.v).toBe('tab\there\r\nline two  bell');
    expect(second?.status?.v).toBe('weird_status');
    expect(second?.projectId?.v).toBe('p-unpopulated');
    const sheetXml = zipEntry(buf, 'xl/worksheets/sheet1.xml');
    expect(sheetXml).not.toContain('<f>');
  });

  it('marks failed and high-risk rows with their own styles', async () => {
    const ok: BiometricValidation = {
      _id: 'ok',
      status: 'completed',
      createdAt: '2024-12-01T12:00:00.000Z',
      riskScore: 0.1,
    };
    const risky: BiometricValidation = { ...ok, _id: 'risky', riskScore: 0.8 };
    const failed: BiometricValidation = { ...ok, _id: 'failed', status: 'failed' };
    const { buf } = await render([ok, risky, failed]);
    const xml = zipEntry(buf, 'xl/worksheets/sheet1.xml');
    const styleOf = (ref: string) => new RegExp(`<c r="${ref}" s="(\\d+)"`).exec(xml)?.[1];
    expect(new Set([styleOf('A2'), styleOf('A3'), styleOf('A4')]).size).toBe(3);
    // Marked rows carry the fill into empty cells too.
    expect(styleOf('H3')).toBe(styleOf('A3'));
    expect(xml).not.toMatch(/<c r="H2"/);
    // Frozen header and autofilter over the data.
    expect(xml).toMatch(/<pane [^>]*ySplit="1"[^>]*state="frozen"/);
    expect(xml).toMatch(/<autoFilter ref="A1:V4"/);
  });

  it('continues on "Validations (2)" and further beyond the row limit', async () => {
    const rows = generated.slice(0, 25);
    const { buf, result } = await render(rows, { maxRowsPerSheet: 11 });
    expect(result.sheets.slice(-3)).toEqual(['Validations', 'Validations (2)', 'Validations (3)']);
    const wb = XLSX.read(buf, { type: 'buffer' });
    const counts = ['Validations', 'Validations (2)', 'Validations (3)'].map(
      (n) => XLSX.utils.sheet_to_json(wb.Sheets[n] as XLSX.WorkSheet).length,
    );
    expect(counts).toEqual([10, 10, 5]);
    const ids = ['Validations', 'Validations (2)', 'Validations (3)'].flatMap((n) =>
      XLSX.utils
        .sheet_to_json<Record<string, string>>(wb.Sheets[n] as XLSX.WorkSheet)
        .map((r) => r['Validation ID']),
    );
    expect(ids).toEqual(rows.map((r) => r._id));
    // Exactly full sheets: no empty trailing sheet.
    const exact = await render(generated.slice(0, 20), { maxRowsPerSheet: 11 });
    expect(exact.result.sheets.filter((n) => n.startsWith('Validations'))).toEqual([
      'Validations',
      'Validations (2)',
    ]);
  });

  it('refuses to finish with a report zone other than the one its dates were written in', async () => {
    const out = new PassThrough();
    out.resume();
    const w = createXlsxWriter(out, { timeZone: 'UTC' });
    await expect(w.finish(contextFor([]))).rejects.toThrow(/differs from the writer's \(UTC\)/);
  });

  it('writes a valid workbook for a day without validations', async () => {
    const { buf, result } = await render([]);
    expect(result.rows).toBe(0);
    const wb = XLSX.read(buf, { type: 'buffer' });
    expect(wb.SheetNames[0]).toBe('Summary');
    expect(XLSX.utils.sheet_to_json(wb.Sheets.Validations as XLSX.WorkSheet)).toEqual([]);
  });

  it('shows headline figures, window, filters, notes and the comparison on the Summary sheet', async () => {
    const ctx = contextFor(records);
    const previous = contextFor(generated.slice(0, 100)).summary;
    const { buf } = await render(records, {}, { ...ctx, previous: compareSummaries(ctx.summary, previous) });
    const ws = XLSX.read(buf, { type: 'buffer', cellDates: true }).Sheets.Summary as XLSX.WorkSheet;
    const grid = XLSX.utils.sheet_to_json<unknown[]>(ws, { header: 1, raw: true });
    const find = (label: string) => grid.find((r) => r[0] === label);
    expect(find('Validations')?.[1]).toBe(records.length);
    expect(find('Time zone')?.[1]).toBe(TZ);
    expect(String(find('Filters')?.[1])).toContain('failed, completed');
    expect(find('droppedOutsideWindow')?.[1]).toBe(2);
    expect(find('Generated at (America/Bogota)')?.[1]).toBeInstanceOf(Date);
    expect(grid.some((r) => r[0] === 'Compared with the previous report')).toBe(true);
    const status = grid.find((r) => r[0] === 'Status: weird_status');
    expect(status?.slice(1, 4)).toEqual([1, 0, 1]);
    const rates = grid.find((r) => r[0] === 'Liveness detection passed');
    expect(rates?.[2]).toBeCloseTo(ctx.summary.checks.livenessDetection.passRate as number, 12);
    const risk = ctx.summary.risk;
    const highBucket = find(`High (≥ ${risk.thresholds.high})`);
    expect(highBucket?.[1]).toBe(risk.buckets.high);
    expect(highBucket?.[2]).toBeCloseTo(risk.buckets.high / records.length, 12);
    expect(find('No risk score')?.[1]).toBe(risk.missing);
    const hours = XLSX.utils.sheet_to_json<Record<string, unknown>>(
      XLSX.read(buf, { type: 'buffer' }).Sheets['By hour'] as XLSX.WorkSheet,
    );
    expect(hours.length).toBe(24);
    expect(hours.reduce((a, h) => a + (h.Validations as number), 0)).toBe(records.length);
  });
});

describe('xlsx writer failures never look like success', () => {
  const rows: FlatRow[] = [
    ...createDataset({ seed: 9, start: WINDOW.start, end: WINDOW.end, count: 3_000, timeZone: TZ }),
  ].map(flatten);

  it('rejects when the output stops draining (watchdog), and finish never resolves', async () => {
    const stuck = new Writable({ highWaterMark: 1024, write() {} }); // never calls back
    const w = createXlsxWriter(stuck, { timeZone: TZ, watchdogMs: 150, maxBufferedBytes: 64 * 1024 });
    let error: unknown;
    try {
      for (let i = 0; i < 200_000; i++) {
        const wait = w.write(rows[i % rows.length] as FlatRow);
        if (wait) await wait;
      }
      await w.finish(contextFor([]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RenderStalledError);
    expect(stuck.destroyed).toBe(true);
    expect(() => w.write(rows[0] as FlatRow)).toThrow();
  });

  it('rejects finish when a small workbook cannot be flushed', async () => {
    const stuck = new Writable({ write() {} });
    const w = createXlsxWriter(stuck, { timeZone: TZ, watchdogMs: 150 });
    w.write(rows[0] as FlatRow);
    await expect(w.finish(contextFor([]))).rejects.toBeInstanceOf(RenderStalledError);
  });

  it('rejects when the output fails', async () => {
    let written = 0;
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        written++;
        cb(written > 3 ? new Error('disk full') : null);
      },
    });
    const w = createXlsxWriter(failing, { timeZone: TZ, watchdogMs: 5_000 });
    const outcome = (async () => {
      for (const row of rows) {
        const wait = w.write(row);
        if (wait) await wait;
      }
      return w.finish(contextFor([]));
    })();
    await expect(outcome).rejects.toBeInstanceOf(RenderFailedError);
    await expect(outcome).rejects.toThrow(/disk full/);
  });

  it('abort destroys the output so a sink cannot store a partial file as complete', async () => {
    const out = new PassThrough();
    out.resume();
    const w = createXlsxWriter(out, { timeZone: TZ });
    w.write(rows[0] as FlatRow);
    const errored = new Promise((resolve) => out.on('error', resolve));
    w.abort(new Error('fetch failed'));
    expect(((await errored) as Error).message).toContain('fetch failed');
    await expect(w.finish(contextFor([]))).rejects.toThrow();
  });
});
