/**
 * Scoped reports from one read against the naive way, one read per scope (the API has no project
 * filter, so each of those reads the whole day and keeps one project's rows):
 *
 *   npx tsx bench/scoped.ts [--count 1000000]
 *
 * Scenarios, each in its own child process so peak RSS is its own, all on the same day of the
 * fake Verifik (own process, pages pre-rendered, 20 ms a request), 20 projects (4 clients × 5):
 * - scoped:   runScopedReports, 20 project reports (xlsx + csv + summary) from one read.
 * - separate: 20 runReport calls one after the other, each with one project's filter.
 * - single:   one unscoped runReport of the day: the memory reference (goal ≤ 1.5× its peak RSS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { createDataset } from '../dev/fake-verifik/generator.js';
import { DEFAULT_CONCURRENCY, LAMBDA_PROCESS_ENV, LAMBDA_V8_FLAGS } from '../functions/contract.js';
import { newReportId } from '../functions/core/naming.js';
import { runReport, runScopedReports } from '../functions/core/pipeline.js';
import type { ReportRequest } from '../functions/core/request.js';
import { createLocalSink } from '../functions/delivery/sink/index.js';
import { applyInProcessV8Flags } from '../functions/settings/runtime-flags.js';
import { dayWindow } from '../functions/time/window.js';
import { createVerifikClient } from '../functions/verifik/client.js';
import { DEFAULT_PER_PAGE } from '../functions/verifik/read/index.js';
import { bundle, fmt, ratio, runChild, spawnFake } from './support.js';

const DAY = '2024-12-01';
const TIME_ZONE = 'America/Bogota';
const SEED = 17;
const CLIENTS = 4;
const PROJECTS_PER_CLIENT = 5;
const LATENCY_MS = 20;
const self = fileURLToPath(import.meta.url);

export interface ScopedResult {
  scenario: 'scoped' | 'separate' | 'single';
  validations: number;
  reports: number;
  ms: number;
  peakRssMB: number;
  cpuSec: number;
}

function measured(
  scenario: ScopedResult['scenario'],
  validations: number,
  reports: number,
  ms: number,
): ScopedResult {
  const u = process.resourceUsage();
  return {
    scenario,
    validations,
    reports,
    ms,
    peakRssMB: Math.round(u.maxRSS / 1024),
    cpuSec: (u.userCPUTime + u.systemCPUTime) / 1e6,
  };
}

function projectIds(): string[] {
  const window = dayWindow(DAY, TIME_ZONE);
  // The ids depend on the seed, the start and the tenant counts only, not on the record count.
  return createDataset({
    seed: SEED,
    count: 1,
    start: window.start,
    end: window.end,
    clients: CLIENTS,
    projectsPerClient: PROJECTS_PER_CLIENT,
  }).projects.map((p) => p._id);
}

const request = (): ReportRequest => ({
  definition: 'bench',
  window: dayWindow(DAY, TIME_ZONE),
  statuses: [],
  types: [],
  clients: [],
  formats: ['xlsx', 'csv'],
});

async function child(scenario: ScopedResult['scenario'], count: number, url: string, token: string) {
  const out = mkdtempSync(join(tmpdir(), `bench-${scenario}-`));
  const verifik = createVerifikClient({ baseUrl: url, token });
  const read = { perPage: DEFAULT_PER_PAGE, concurrency: DEFAULT_CONCURRENCY };
  const projects = projectIds();
  const started = performance.now();
  let rows = 0;
  let reports = 0;
  if (scenario === 'scoped') {
    const result = await runScopedReports({
      request: request(),
      by: 'project',
      scopes: projects.map((id, i) => {
        const req = { ...request(), definition: `bench--p${i}`, projects: [id] };
        const reportId = newReportId(req, new Date());
        return { id, request: req, reportId, sink: createLocalSink({ dir: out, reportId }) };
      }),
      verifik,
      read,
    });
    for (const r of result.scopes.values()) rows += r.summary.totals.validations;
    reports = result.scopes.size;
  } else if (scenario === 'separate') {
    for (const [i, id] of projects.entries()) {
      const req = { ...request(), definition: `bench--p${i}`, projects: [id] };
      const reportId = newReportId(req, new Date());
      const r = await runReport({
        request: req,
        reportId,
        verifik,
        sink: createLocalSink({ dir: out, reportId }),
        read,
      });
      rows += r.summary.totals.validations;
      reports++;
    }
  } else {
    const reportId = newReportId(request(), new Date());
    const r = await runReport({
      request: request(),
      reportId,
      verifik,
      sink: createLocalSink({ dir: out, reportId }),
      read,
    });
    rows = r.summary.totals.validations;
    reports = 1;
  }
  const ms = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  if (rows !== count) throw new Error(`${scenario}: ${rows} rows of ${count}`);
  return measured(scenario, count, reports, ms);
}

export async function benchScoped(opts: { count?: number } = {}): Promise<ScopedResult[]> {
  const count = opts.count ?? 1_000_000;
  const script = await bundle(self);
  const fake = await spawnFake({
    count,
    seed: SEED,
    date: DAY,
    timeZone: TIME_ZONE,
    latencyMs: LATENCY_MS,
    prerender: [DEFAULT_PER_PAGE],
    clients: CLIENTS,
    projectsPerClient: PROJECTS_PER_CLIENT,
  });
  const results: ScopedResult[] = [];
  try {
    for (const scenario of ['single', 'scoped', 'separate'] as const) {
      results.push(
        await runChild<ScopedResult>(
          script,
          ['--child', scenario, String(count), fake.url, fake.token],
          [...LAMBDA_V8_FLAGS],
          {
            ...LAMBDA_PROCESS_ENV,
          },
        ),
      );
    }
  } finally {
    await fake.stop();
  }
  console.log(formatScoped(results));
  return results;
}

export function formatScoped(results: ScopedResult[]): string {
  const lines = [
    `Scoped reports: ${CLIENTS * PROJECTS_PER_CLIENT} projects, fake Verifik at ${LATENCY_MS} ms a request`,
    'scenario  validations  reports      time  peak RSS     CPU',
    ...results.map(
      (r) =>
        `${r.scenario.padEnd(8)}  ${String(r.validations).padStart(11)}  ${String(r.reports).padStart(7)}  ${fmt(r.ms / 1000, 1).padStart(7)} s  ${String(r.peakRssMB).padStart(5)} MB  ${fmt(r.cpuSec, 1).padStart(5)} s`,
    ),
  ];
  const by = (s: ScopedResult['scenario']) => results.find((r) => r.scenario === s);
  const scoped = by('scoped');
  const separate = by('separate');
  const single = by('single');
  if (scoped && separate) {
    const speed = ratio(separate.ms, scoped.ms);
    lines.push(
      `separate reads / one read time = ${fmt(speed, 1)}× (goal ≥ 5×): ${speed >= 5 ? 'PASS' : 'MISS'}`,
    );
  }
  if (scoped && single) {
    const mem = ratio(scoped.peakRssMB, single.peakRssMB);
    lines.push(
      `one read's peak RSS / one unscoped report's = ${fmt(mem)}× (goal ≤ 1.5×): ${mem <= 1.5 ? 'PASS' : 'MISS'}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [, scenario, count, url, token] = argv;
    applyInProcessV8Flags();
    console.log(
      JSON.stringify(await child(scenario as ScopedResult['scenario'], Number(count), url!, token!)),
    );
    return;
  }
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string' } } });
  await benchScoped(values.count ? { count: Number(values.count) } : {});
}

if (process.argv[1] === self && isMainThread) await main();
