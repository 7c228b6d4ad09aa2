/**
 * The Summary's native charts, read back by an independent reader: a report made by the
 * production path (runReport, workbook rendered on the worker thread) is opened with Python's
 * openpyxl (test/support/xlsx-charts.py), which must see three bar charts whose series point at
 * the cells holding the summary's figures; the same script checks the zip package itself.
 *
 * openpyxl comes from Debian's python3-openpyxl, so the interpreter is Debian's, by path: the
 * pyenv python first on PATH has no openpyxl. .ci/run installs the package when it is missing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { FILE_CATALOGUE } from '../../functions/contract.js';
import { runReport } from '../../functions/core/pipeline.js';
import type { ReportResult } from '../../functions/core/request.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { createXlsxWriter } from '../../functions/report/xlsx.js';
import { MAX_CLIENT_BARS } from '../../functions/report/xlsx-summary-charts.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { createMemorySink } from '../support/memory-sink.js';

const PYTHON = '/usr/bin/python3';
const READER = fileURLToPath(new URL('../support/xlsx-charts.py', import.meta.url));
const TZ = 'Europe/Madrid';
const DAY = '2024-11-05';
const window = dayWindow(DAY, TZ);

interface SeenSeries {
  name: string;
  categories: string;
  values: string;
  cells: { name: unknown[]; categories: unknown[]; values: unknown[] };
}
interface SeenChart {
  class: string;
  barDir: string;
  grouping: string;
  title: string | null;
  from: { col: number; row: number };
  series: SeenSeries[];
}
interface Seen {
  error: string | null;
  charts: SeenChart[];
  warnings: string[];
  package: string[];
  types: Record<string, string | null>;
}

const dir = mkdtempSync(join(tmpdir(), 'xlsx-charts-'));
let fake: FakeVerifik;
let report: ReportResult;
let workbook: Buffer;

async function readBack(bytes: Buffer, name: string): Promise<Seen> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const { stdout } = await promisify(execFile)(PYTHON, [READER, file, 'Summary'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Seen;
}

/** The same package with `edit` applied to its entries (SheetJS's CFB reads and writes zips). */
function repack(bytes: Buffer, edit: (cfb: ReturnType<typeof XLSX.CFB.read>) => void): Buffer {
  const cfb = XLSX.CFB.read(bytes, { type: 'buffer' });
  edit(cfb);
  return Buffer.from(XLSX.CFB.write(cfb, { type: 'buffer', fileType: 'zip' }) as Uint8Array);
}

beforeAll(async () => {
  const dataset = createDataset({
    seed: 11,
    count: 1200,
    start: window.start,
    end: window.end,
    timeZone: TZ,
  });
  fake = await startFakeVerifik({ dataset, token: 'charts-token', faults: { maxPerPage: 200 } });
  const sink = createMemorySink();
  report = await runReport({
    request: { definition: 'daily-ops', window, statuses: [], types: [], clients: [], formats: ['xlsx'] },
    reportId: `daily-ops-${DAY}-charts`,
    verifik: createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } }),
    sink,
    previous: null,
    now: () => new Date('2024-11-06T07:00:00Z'),
    read: { perPage: 200, concurrency: 2 },
    renderThread: true,
  });
  const stored = sink.files.get(FILE_CATALOGUE.xlsx.name);
  if (!stored) throw new Error('the report stored no workbook');
  workbook = stored.bytes;
});

afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('charts on the Summary sheet, read back by openpyxl', () => {
  let seen: Seen;
  beforeAll(async () => {
    seen = await readBack(workbook, 'report.xlsx');
  });

  it('opens without a warning, and openpyxl sees three clustered bar charts: columns per hour, then bars', () => {
    expect(seen.error).toBeNull();
    expect(seen.warnings).toEqual([]);
    expect(seen.charts.map((c) => [c.class, c.barDir, c.grouping, c.title])).toEqual([
      ['BarChart', 'col', 'clustered', `Validations per hour (${TZ})`],
      ['BarChart', 'bar', 'clustered', 'Status shares'],
      ['BarChart', 'bar', 'clustered', 'Failure rate per client'],
    ]);
    // Right of the tables (columns A–H), top to bottom.
    expect(seen.charts.map((c) => c.from.col)).toEqual([9, 9, 9]);
    const rows = seen.charts.map((c) => c.from.row);
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
  });

  it("hours: both series point at the By hour sheet's cells, which hold the summary's counts", () => {
    const s = report.summary;
    const [validations, failed] = seen.charts[0]?.series ?? [];
    expect(validations).toMatchObject({
      name: "'By hour'!$B$1",
      categories: "'By hour'!$A$2:$A$25",
      values: "'By hour'!$B$2:$B$25",
    });
    expect(failed).toMatchObject({ name: "'By hour'!$C$1", values: "'By hour'!$C$2:$C$25" });
    expect(validations?.cells.name).toEqual(['Validations']);
    expect(validations?.cells.values).toEqual(s.byHour.map((h) => h.count));
    expect(failed?.cells.values).toEqual(s.byHour.map((h) => h.failed));
    expect(validations?.cells.categories[9]).toBe('09:00–09:59');
    expect(s.totals.validations).toBeGreaterThan(1000);
  });

  it("status shares: the series points at the Summary's own By status table, which holds the summary's shares", () => {
    const s = report.summary;
    const [shares] = seen.charts[1]?.series ?? [];
    const cat = /^Summary!\$A\$(\d+):\$A\$(\d+)$/.exec(shares?.categories ?? '');
    expect(cat, shares?.categories).not.toBeNull();
    const [first, last] = [Number(cat?.[1]), Number(cat?.[2])];
    expect(shares?.values).toBe(`Summary!$C$${first}:$C$${last}`);
    expect(shares?.name).toBe(`Summary!$C$${first - 1}`);
    expect(shares?.cells.name).toEqual(['Share']);
    expect(shares?.cells.categories).toEqual(s.byStatus.map((e) => e.key));
    expect(shares?.cells.values).toEqual(s.byStatus.map((e) => e.share));
    expect(s.byStatus.length).toBeGreaterThan(3);
  });

  it("failure rate per client: the series points at the By client sheet's Failed % cells, which hold failed / validations", () => {
    const clients = report.summary.byClient.slice(0, MAX_CLIENT_BARS);
    const [rate] = seen.charts[2]?.series ?? [];
    expect(rate).toMatchObject({
      name: "'By client'!$E$1",
      categories: `'By client'!$B$2:$B$${clients.length + 1}`,
      values: `'By client'!$E$2:$E$${clients.length + 1}`,
    });
    expect(rate?.cells.name).toEqual(['Failed %']);
    expect(rate?.cells.categories).toEqual(clients.map((c) => c.name));
    const rates = rate?.cells.values as number[];
    clients.forEach((c, i) => {
      expect(rates[i]).toBeCloseTo(c.failed / c.count, 12);
    });
  });

  it('is a valid package: every part has a content type, charts and drawing their own, every relationship resolves', () => {
    expect(seen.package).toEqual([]);
    const chartType = 'application/vnd.openxmlformats-officedocument.drawingml.chart+xml';
    expect(seen.types).toMatchObject({
      'xl/charts/chart1.xml': chartType,
      'xl/charts/chart2.xml': chartType,
      'xl/charts/chart3.xml': chartType,
      'xl/drawings/drawing1.xml': 'application/vnd.openxmlformats-officedocument.drawing+xml',
    });
  });

  it('the package check is not blind: an undeclared chart and a dangling relationship are reported', async () => {
    const broken = repack(workbook, (cfb) => {
      const types = XLSX.CFB.find(cfb, '[Content_Types].xml');
      if (!types?.content) throw new Error('no [Content_Types].xml');
      const xml = Buffer.from(types.content as Uint8Array)
        .toString('utf8')
        .replace(/<Override PartName="\/xl\/charts\/chart2\.xml"[^>]*\/>/, '');
      types.content = Buffer.from(xml, 'utf8');
      XLSX.CFB.utils.cfb_del(cfb, '/xl/charts/chart3.xml');
    });
    const { package: problems, error } = await readBack(broken, 'broken.xlsx');
    expect(error).toMatch(/chart3\.xml/);
    expect(problems).toContain('no content type of its own: xl/charts/chart2.xml');
    expect(problems).toContain('override for a missing part: /xl/charts/chart3.xml');
    expect(problems.some((p) => /drawing1\.xml\.rels rId3: target \.\.\/charts\/chart3\.xml/.test(p))).toBe(
      true,
    );
  });
});

describe('a day without validations', () => {
  it('still opens cleanly: the hours chart (all zero) alone, no chart over an empty table', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = createXlsxWriter(out, { timeZone: TZ });
    await w.finish({
      id: 'empty',
      window,
      filters: {},
      generatedAt: new Date('2024-11-06T07:00:00Z'),
      summary: new SummaryBuilder({ timeZone: TZ }).result(),
      diagnostics: {},
    });
    const seen = await readBack(Buffer.concat(chunks), 'empty.xlsx');
    expect(seen.error).toBeNull();
    expect(seen.warnings).toEqual([]);
    expect(seen.package).toEqual([]);
    expect(seen.charts.map((c) => c.title)).toEqual([`Validations per hour (${TZ})`]);
    expect(seen.charts[0]?.series[0]?.cells.values).toEqual(Array(24).fill(0));
  });
});
