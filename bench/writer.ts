/**
 * The Excel writer alone: rows/s and peak RSS, each scenario in its own child process so RSS
 * is per scenario, all measured in the same run.
 *
 *   npx tsx bench/writer.ts [--rows 1000000] [--naive-rows 100000] [--addrow-rows 200000]
 *                           [--only stream,stream-lean,addrow,naive] [--cpu-prof]
 *
 * Scenarios
 * - stream:  createXlsxWriter (this project): Validations streamed as raw row XML, drain-aware.
 * - addrow:  the same workbook layout through exceljs's own row API (`addRow().commit()` with
 *            Date cells and per-column styles) and the same drain wait: the "before" of the
 *            writer's hot-path work.
 * - naive:   the in-memory `new ExcelJS.Workbook()` + `xlsx.writeFile` baseline.
 * Rows come from a pool of 10,000 flattened generator records, cycled, so generating them costs
 * nothing measurable and the shape (non-ASCII, missing fields, formula-like text) is realistic.
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { createDataset } from '../dev/fake-verifik/generator.js';
import { DETAIL_COLUMNS, type FlatRow, flatten } from '../functions/report/columns.js';
import type { ReportContext } from '../functions/report/context.js';
import { SummaryBuilder } from '../functions/report/summary.js';
import { createXlsxWriter } from '../functions/report/xlsx.js';
import { DATETIME_FORMAT } from '../functions/report/xlsx-sheets.js';
import { dayWindow } from '../functions/time/window.js';
import { ZoneClock } from '../functions/time/zone.js';
import { runChild } from './support.js';

export type WriterScenario = 'stream' | 'stream-lean' | 'addrow' | 'naive';

/**
 * V8 sizes its young generation from the machine's memory (64–128 MB here, on 24 GB); most of
 * the writer's RSS is that, not live data. Lambda's runtime caps it by function memory; locally,
 * NODE_OPTIONS=--max-semi-space-size=8 does the same. "stream-lean" measures the writer so.
 */
const LEAN_FLAGS = ['--max-semi-space-size=8'];
const PROFILE_DIR = join(tmpdir(), 'verifik-bench-profiles');

export interface WriterResult {
  scenario: WriterScenario;
  rows: number;
  ms: number;
  rowsPerSec: number;
  peakRssMB: number;
  /** RSS before the first row (runtime, modules, row pool): the scenario's own share is the difference. */
  startRssMB: number;
  bytes: number;
}

export interface WriterBenchOptions {
  rows?: number;
  naiveRows?: number;
  addrowRows?: number;
  only?: WriterScenario[];
  /** Extra node flags for the children (e.g. ['--cpu-prof']). */
  nodeFlags?: string[];
}

const TIME_ZONE = 'America/Bogota';
const POOL = 10_000;

/** The row pool and a report context for it, both built before the clock starts. */
function fixture(): { pool: FlatRow[]; ctx: ReportContext } {
  const window = dayWindow('2024-12-01', TIME_ZONE);
  const records = [...createDataset({ seed: 7, start: window.start, end: window.end, count: POOL })];
  const pool = records.map(flatten);
  const b = new SummaryBuilder({ timeZone: TIME_ZONE });
  for (const [i, r] of records.entries()) b.add(r, pool[i]);
  const ctx = {
    id: 'bench',
    window,
    filters: {},
    generatedAt: new Date(),
    summary: b.result(),
    diagnostics: {},
  };
  return { pool, ctx };
}

async function drain(out: Writable): Promise<void> {
  if (out.writableNeedDrain) await once(out, 'drain');
}

async function runStream(file: string, rows: number, pool: FlatRow[], ctx: ReportContext): Promise<void> {
  const out = createWriteStream(file);
  const w = createXlsxWriter(out, { timeZone: TIME_ZONE });
  for (let i = 0; i < rows; i++) {
    const wait = w.write(pool[i % POOL] as FlatRow);
    if (wait) await wait;
  }
  await w.finish(ctx);
}

/** exceljs's own row API, with the same Validations-first layout and a drain wait on the entry stream. */
async function runAddRow(file: string, rows: number, pool: FlatRow[]): Promise<void> {
  const out = createWriteStream(file);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const ws = wb.addWorksheet('Validations', { views: [{ state: 'frozen', ySplit: 1 }] });
  const clock = new ZoneClock(TIME_ZONE);
  ws.columns = DETAIL_COLUMNS.map((c) => ({
    header: c.header,
    key: c.key,
    width: c.width,
    style: c.kind === 'datetime' ? { numFmt: DATETIME_FORMAT } : {},
  }));
  const entry = (ws as unknown as { stream: { pipes: Writable[] } }).stream;
  for (let i = 0; i < rows; i++) {
    const r = pool[i % POOL] as FlatRow;
    const values = DETAIL_COLUMNS.map((c) => {
      const v = r[c.key];
      return c.kind === 'datetime' && v !== null ? new Date(clock.wallClockMs(v as number)) : v;
    });
    ws.addRow(values).commit();
    if (i % 512 === 0) {
      const p = entry.pipes[0] as Writable & { _writableState?: { length: number } };
      while ((p._writableState?.length ?? 0) > 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
      await drain(out);
    }
  }
  ws.commit();
  await wb.commit();
}

async function runNaive(file: string, rows: number, pool: FlatRow[]): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Validations');
  const clock = new ZoneClock(TIME_ZONE);
  ws.columns = DETAIL_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width }));
  for (let i = 0; i < rows; i++) {
    const r = pool[i % POOL] as FlatRow;
    ws.addRow(
      DETAIL_COLUMNS.map((c) => {
        const v = r[c.key];
        return c.kind === 'datetime' && v !== null ? new Date(clock.wallClockMs(v as number)) : v;
      }),
    );
  }
  await wb.xlsx.writeFile(file);
}

/** Runs one scenario in this process and prints its result as JSON (child side). */
async function child(scenario: WriterScenario, rows: number): Promise<void> {
  const { pool, ctx } = fixture();
  const dir = mkdtempSync(join(tmpdir(), 'bench-writer-'));
  const file = join(dir, `${scenario}.xlsx`);
  try {
    const startRssMB = Math.round(process.memoryUsage.rss() / 1024 / 1024);
    const t0 = performance.now();
    if (scenario === 'stream' || scenario === 'stream-lean') await runStream(file, rows, pool, ctx);
    else if (scenario === 'addrow') await runAddRow(file, rows, pool);
    else await runNaive(file, rows, pool);
    const ms = performance.now() - t0;
    const result: WriterResult = {
      scenario,
      rows,
      ms: Math.round(ms),
      rowsPerSec: Math.round(rows / (ms / 1000)),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      startRssMB,
      bytes: statSync(file).size,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** All scenarios, one child process each; for bench/run.ts. */
export async function benchWriter(opts: WriterBenchOptions = {}): Promise<WriterResult[]> {
  const rows = opts.rows ?? 1_000_000;
  const plan: Array<[WriterScenario, number]> = [
    ['stream', rows],
    ['stream-lean', rows],
    ['addrow', opts.addrowRows ?? Math.min(rows, 200_000)],
    ['naive', opts.naiveRows ?? Math.min(rows, 100_000)],
  ];
  const results: WriterResult[] = [];
  for (const [scenario, n] of plan) {
    if (opts.only && !opts.only.includes(scenario)) continue;
    const flags = [...(scenario === 'stream-lean' ? LEAN_FLAGS : []), ...(opts.nodeFlags ?? [])];
    results.push(
      await runChild<WriterResult>(
        fileURLToPath(import.meta.url),
        ['--child', scenario, '--rows', String(n)],
        flags,
      ),
    );
  }
  return results;
}

export function formatWriterResults(results: WriterResult[]): string {
  const lines = results.map(
    (r) =>
      `${r.scenario.padEnd(11)} ${String(r.rows).padStart(9)} rows  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ` +
      `${String(r.rowsPerSec).padStart(8)} rows/s  peak RSS ${String(r.peakRssMB).padStart(5)} MB ` +
      `(${String(r.startRssMB).padStart(3)} MB before the first row)  ` +
      `${(r.bytes / 1e6).toFixed(1)} MB file`,
  );
  const stream = results.find((r) => r.scenario === 'stream');
  const naive = results.find((r) => r.scenario === 'naive');
  const addrow = results.find((r) => r.scenario === 'addrow');
  if (stream && addrow)
    lines.push(`stream vs addrow: ${(stream.rowsPerSec / addrow.rowsPerSec).toFixed(2)}× rows/s`);
  if (stream && naive) {
    lines.push(
      `stream vs naive: ${(stream.rowsPerSec / naive.rowsPerSec).toFixed(2)}× rows/s, ` +
        `${(naive.peakRssMB / stream.peakRssMB).toFixed(2)}× leaner (naive at ${naive.rows} rows, stream at ${stream.rows})`,
    );
  }
  return lines.join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const scenario = arg('--child') as WriterScenario | undefined;
  const rows = Number(arg('--rows') ?? 1_000_000);
  if (scenario) {
    await child(scenario, rows);
    return;
  }
  const only = arg('--only')?.split(',') as WriterScenario[] | undefined;
  const results = await benchWriter({
    rows,
    ...(arg('--naive-rows') ? { naiveRows: Number(arg('--naive-rows')) } : {}),
    ...(arg('--addrow-rows') ? { addrowRows: Number(arg('--addrow-rows')) } : {}),
    ...(only ? { only } : {}),
    ...(process.argv.includes('--cpu-prof')
      ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] }
      : {}),
  });
  console.log(formatWriterResults(results));
  if (process.argv.includes('--cpu-prof')) console.log(`CPU profiles: ${PROFILE_DIR}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
