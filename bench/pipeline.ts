/**
 * The whole report, end to end, against the fake Verifik (its own process, 20 ms a request):
 *
 *   npx tsx bench/pipeline.ts [--sizes 100000,1000000] [--naive-size 100000]
 *
 * Scenarios, each in its own child process so peak RSS is its own:
 * - e2e:    runReport (paginator → summary + xlsx + csv → local sink → manifest).
 * - writer: the Excel writer alone on the same rows (generated in-process, flattened, written):
 *           the floor e2e is compared with, since fetching, CSV and summary should hide behind it.
 * - naive:  sequential pages of 20, every record collected into an array, then exceljs's
 *           in-memory Workbook and a CSV built as one string.
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { createDataset } from '../dev/fake-verifik/generator.js';
import { DEFAULT_CONCURRENCY, LAMBDA_PROCESS_ENV, LAMBDA_V8_FLAGS } from '../functions/contract.js';
import { newReportId } from '../functions/core/naming.js';
import { runReport } from '../functions/core/pipeline.js';
import type { ReportRequest } from '../functions/core/request.js';
import { createLocalSink } from '../functions/delivery/sink/index.js';
import { DETAIL_COLUMNS, DETAIL_KEYS, flatten } from '../functions/report/columns.js';
import { SummaryBuilder } from '../functions/report/summary.js';
import { createXlsxWriter } from '../functions/report/xlsx.js';
import { applyInProcessV8Flags } from '../functions/settings/runtime-flags.js';
import { dayWindow } from '../functions/time/window.js';
import { createVerifikClient, LIST_PATH } from '../functions/verifik/client.js';
import { toQueryString } from '../functions/verifik/query.js';
import { DEFAULT_PER_PAGE } from '../functions/verifik/read/index.js';
import { BiometricValidation } from '../functions/verifik/schema.js';
import { bundle, fmt, ratio, runChild, spawnFake } from './support.js';

const DAY = '2024-12-01';
const TIME_ZONE = 'America/Bogota';
const SEED = 11;
const LATENCY_MS = 20;
const PER_PAGE = Number(process.env.BENCH_PER_PAGE ?? DEFAULT_PER_PAGE);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? DEFAULT_CONCURRENCY);
const self = fileURLToPath(import.meta.url);

export interface PipelineResult {
  scenario: 'e2e' | 'writer' | 'naive';
  validations: number;
  ms: number;
  recordsPerSec: number;
  peakRssMB: number;
  /** CPU seconds (user + system, every thread) the child spent: what two cores have to share. */
  cpuSec: number;
  bytes: number;
}

/** A child's result; peak RSS and CPU are the whole child's, read when it is done. */
function measured(
  scenario: PipelineResult['scenario'],
  validations: number,
  ms: number,
  bytes: number,
): PipelineResult {
  const u = process.resourceUsage();
  return {
    scenario,
    validations,
    ms,
    recordsPerSec: (validations * 1000) / ms,
    peakRssMB: Math.round(u.maxRSS / 1024),
    cpuSec: (u.userCPUTime + u.systemCPUTime) / 1e6,
    bytes,
  };
}

async function childE2e(count: number, url: string, token: string): Promise<PipelineResult> {
  const out = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const window = dayWindow(DAY, TIME_ZONE);
  const request: ReportRequest = {
    definition: 'bench',
    window,
    statuses: [],
    types: [],
    clients: [],
    formats: ['xlsx', 'csv'],
  };
  const reportId = newReportId(request, new Date());
  const started = performance.now();
  const result = await runReport({
    request,
    reportId,
    verifik: createVerifikClient({ baseUrl: url, token }),
    sink: createLocalSink({ dir: out, reportId }),
    read: { perPage: PER_PAGE, concurrency: CONCURRENCY },
  });
  const ms = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  if (result.summary.totals.validations !== count)
    throw new Error(`read ${result.summary.totals.validations} of ${count}`);
  const bytes = result.files.reduce((n, f) => n + f.bytes, 0);
  return measured('e2e', count, ms, bytes);
}

async function childWriter(count: number): Promise<PipelineResult> {
  const out = mkdtempSync(join(tmpdir(), 'bench-writer-'));
  const window = dayWindow(DAY, TIME_ZONE);
  const ds = createDataset({ seed: SEED, count, start: window.start, end: window.end, timeZone: TIME_ZONE });
  const file = createWriteStream(join(out, 'w.xlsx'));
  const summary = new SummaryBuilder({ timeZone: TIME_ZONE });
  const started = performance.now();
  const xlsx = createXlsxWriter(file, { timeZone: TIME_ZONE });
  for (let i = 0; i < ds.size; i++) {
    const record = ds.record(i);
    const row = flatten(record);
    summary.add(record, row);
    const wait = xlsx.write(row);
    if (wait) await wait;
  }
  await xlsx.finish({
    id: 'bench',
    window,
    filters: {},
    generatedAt: new Date(),
    summary: summary.result(),
    diagnostics: {},
  });
  await finished(file);
  const ms = performance.now() - started;
  const bytes = file.bytesWritten;
  rmSync(out, { recursive: true, force: true });
  return measured('writer', count, ms, bytes);
}

/** What a first version would do: page by page at the default size, everything in memory. */
async function childNaive(count: number, url: string, token: string): Promise<PipelineResult> {
  const out = mkdtempSync(join(tmpdir(), 'bench-naive-'));
  const window = dayWindow(DAY, TIME_ZONE);
  const started = performance.now();
  const all: BiometricValidation[] = [];
  for (let page = 1; ; page++) {
    const q = toQueryString({
      page,
      perPage: 20,
      sort: 'createdAt',
      populates: ['client', 'project'],
      createdAfter: new Date(window.start.getTime() - 1),
      createdBefore: window.end,
    });
    const res = await fetch(`${url}${LIST_PATH}?${q}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { data: unknown[]; pagination: { pages: number } };
    for (const r of body.data) all.push(BiometricValidation.parse(r));
    if (page >= body.pagination.pages) break;
  }
  if (all.length !== count) throw new Error(`naive reader read ${all.length} of ${count}`);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Validations');
  ws.columns = DETAIL_COLUMNS.map((c) => ({ header: c.header, key: c.key }));
  const rows = all.map(flatten);
  for (const row of rows) ws.addRow(row);
  await wb.xlsx.writeFile(join(out, 'naive.xlsx'));
  writeFileSync(join(out, 'naive.csv'), stringify(rows.map((r) => DETAIL_KEYS.map((k) => r[k]))));
  const ms = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  return measured('naive', all.length, ms, 0);
}

export interface PipelineBenchOptions {
  sizes?: number[];
  naiveSize?: number;
}

export async function benchPipeline(opts: PipelineBenchOptions = {}): Promise<PipelineResult[]> {
  const sizes = opts.sizes ?? [100_000, 1_000_000];
  const naiveSize = opts.naiveSize ?? 100_000;
  const results: PipelineResult[] = [];
  // Children run the bundled code the way the Lambdas run it (functions/contract.ts, functions/settings/runtime-flags.ts): the same
  // V8 flags and process environment; each child applies the in-process flags itself.
  const script = await bundle(self);
  const flags = [...LAMBDA_V8_FLAGS];
  const env = { ...LAMBDA_PROCESS_ENV };
  for (const count of sizes) {
    const fake = await spawnFake({
      count,
      seed: SEED,
      date: DAY,
      timeZone: TIME_ZONE,
      latencyMs: LATENCY_MS,
      prerender: count === naiveSize ? [PER_PAGE, 20] : [PER_PAGE],
    });
    try {
      const e2e = await runChild<PipelineResult>(
        script,
        ['--child', 'e2e', String(count), fake.url, fake.token],
        flags,
        env,
      );
      const writer = await runChild<PipelineResult>(script, ['--child', 'writer', String(count)], flags, env);
      results.push(e2e, writer);
      if (count === naiveSize) {
        results.push(
          await runChild<PipelineResult>(script, ['--child', 'naive', String(count), fake.url, fake.token]),
        );
      }
    } finally {
      await fake.stop();
    }
  }
  printPipeline(results);
  return results;
}

export function printPipeline(results: PipelineResult[]): void {
  console.log('\nEnd-to-end report (fake Verifik at 20 ms a request, xlsx + csv + summary)');
  console.log('scenario  validations      time  records/s  peak RSS     CPU');
  for (const r of results) {
    console.log(
      `${r.scenario.padEnd(8)}  ${String(r.validations).padStart(11)}  ${fmt(r.ms / 1000, 1).padStart(7)} s  ${Math.round(r.recordsPerSec).toString().padStart(9)}  ${String(r.peakRssMB).padStart(5)} MB  ${fmt(r.cpuSec, 1).padStart(5)} s`,
    );
  }
  const by = (s: PipelineResult['scenario'], n: number) =>
    results.find((r) => r.scenario === s && r.validations === n);
  for (const n of new Set(results.map((r) => r.validations))) {
    const e2e = by('e2e', n);
    const writer = by('writer', n);
    const naive = by('naive', n);
    if (e2e && writer)
      console.log(
        n === 1_000_000
          ? `${n}: e2e / writer alone = ${fmt(ratio(e2e.ms, writer.ms))}× (goal ≤ 1.25×); peak RSS ${e2e.peakRssMB} MB (goal ≤ 300 MB)`
          : // The issue sets these goals at 1M; other sizes are shown for reference.
            `${n}: e2e / writer alone = ${fmt(ratio(e2e.ms, writer.ms))}×, peak RSS ${e2e.peakRssMB} MB (goals are at 1M)`,
      );
    if (e2e && naive)
      console.log(
        `${n}: naive / e2e time = ${fmt(ratio(naive.ms, e2e.ms), 1)}× (goal ≥ 5×), naive / e2e RSS = ${fmt(ratio(naive.peakRssMB, e2e.peakRssMB), 1)}× (goal ≥ 8×)`,
      );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [, scenario, count, url, token] = argv;
    if (scenario !== 'naive') applyInProcessV8Flags();
    const n = Number(count);
    const result =
      scenario === 'e2e'
        ? await childE2e(n, url!, token!)
        : scenario === 'writer'
          ? await childWriter(n)
          : await childNaive(n, url!, token!);
    console.log(JSON.stringify(result));
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: { sizes: { type: 'string' }, 'naive-size': { type: 'string' } },
  });
  await benchPipeline({
    ...(values.sizes ? { sizes: values.sizes.split(',').map(Number) } : {}),
    ...(values['naive-size'] ? { naiveSize: Number(values['naive-size']) } : {}),
  });
}

if (process.argv[1] === self && isMainThread) await main();
