/**
 * Data-layer benchmark: one day of N validations from the fake Verifik (20 ms a request, in its
 * own process), read by the streaming paginator (in its own process, so its peak RSS is its own),
 * against (a) a naive reader — sequential pages of the default 20, collected into an array — and
 * (b) the limit, pages ÷ concurrency × latency.
 *
 *   npx tsx bench/data-layer.ts [--sizes 100000,1000000] [--naive-max-pages N] [--latency-ms 20]
 *     [--live-server] [--no-tuned] [--json]
 *
 * The fake pre-renders the pages the readers ask for (see bench/fake-verifik-process.ts), so that
 * on a 2-core machine its own rendering does not take the CPU the reader is measured on;
 * `--live-server` renders every page live instead.
 *
 * The naive reader needs size ÷ 20 sequential requests (5,000 at 100k: about 2 minutes; 50,000 at
 * 1M: over 17 minutes). It is measured in full at the smallest size (or for `--naive-max-pages`
 * pages) and its time at larger sizes is extrapolated from the measured time per page, which is
 * what a sequential reader's time is; its RSS is not extrapolated.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dayWindow } from '../functions/time/window.js';
import type { ReaderRun } from './data-layer-reader.js';
import { type FakeProcess, runChild, spawnFake } from './support.js';

export interface DataLayerOptions {
  sizes?: number[];
  latencyMs?: number;
  perPage?: number;
  concurrency?: number;
  /** Cap the naive reader at this many pages and extrapolate (default: full run at the smallest size). */
  naiveMaxPages?: number;
  /** Let the fake render every page live instead of pre-rendering the pages the readers ask for. */
  liveServer?: boolean;
  /** Also run the streaming reader with `--max-semi-space-size=8` (default true). */
  tuned?: boolean;
  log?: (line: string) => void;
}

export interface BenchResult {
  scenario: 'data-layer';
  size: number;
  /** `streaming-tuned`: the same reader with `--max-semi-space-size=8` (V8's young generation capped). */
  variant: 'streaming' | 'streaming-tuned' | 'naive' | 'limit';
  wallMs: number;
  recordsPerSec: number;
  /** Peak RSS of the reader process (null for the limit and for extrapolated runs). */
  peakRssMb: number | null;
  pages: number;
  requests: number;
  /** False when the figure is computed (limit) or extrapolated (naive beyond what was run). */
  measured: boolean;
  note: string;
}

export interface Goal {
  name: string;
  target: string;
  actual: string;
  pass: boolean;
}

/** The day the fake generates and the readers read. */
const DAY = '2024-12-01';
const TIME_ZONE = 'America/Bogota';
const READER = fileURLToPath(new URL('./data-layer-reader.ts', import.meta.url));

function runReader(server: FakeProcess, args: string[], nodeFlags: string[] = []): Promise<ReaderRun> {
  const { start, end } = dayWindow(DAY, TIME_ZONE);
  return runChild<ReaderRun>(
    READER,
    [
      '--url',
      server.url,
      '--token',
      server.token,
      '--start',
      start.toISOString(),
      '--end',
      end.toISOString(),
      ...args,
    ],
    nodeFlags,
  );
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

export async function benchDataLayer(opts: DataLayerOptions = {}): Promise<BenchResult[]> {
  const sizes = [...(opts.sizes ?? [100_000, 1_000_000])].sort((a, b) => a - b);
  const latencyMs = opts.latencyMs ?? 20;
  const perPage = opts.perPage ?? 500;
  const concurrency = opts.concurrency ?? 4;
  const log = opts.log ?? ((line: string) => console.error(line));
  const results: BenchResult[] = [];
  let naiveMsPerPage: number | null = null;

  for (const size of sizes) {
    log(`data-layer: ${size} validations, ${latencyMs} ms a request…`);
    const naiveHere = naiveMsPerPage === null;
    const prerender = opts.liveServer ? [] : naiveHere ? [perPage, 20] : [perPage];
    const server = await spawnFake({
      count: size,
      seed: 1,
      date: DAY,
      timeZone: TIME_ZONE,
      latencyMs,
      prerender,
    });
    try {
      const streamingArgs = [
        '--mode',
        'streaming',
        '--per-page',
        String(perPage),
        '--concurrency',
        String(concurrency),
      ];
      const variants: [BenchResult['variant'], string[]][] = [['streaming', []]];
      if (opts.tuned ?? true) variants.push(['streaming-tuned', ['--max-semi-space-size=8']]);
      for (const [variant, flags] of variants) {
        const s = await runReader(server, streamingArgs, flags);
        if (s.records !== size)
          throw new Error(`the streaming reader read ${s.records} of ${size} validations`);
        results.push({
          scenario: 'data-layer',
          size,
          variant,
          wallMs: round(s.wallMs),
          recordsPerSec: round(s.records / (s.wallMs / 1000)),
          peakRssMb: round(s.maxRssMb, 1),
          pages: s.pages,
          requests: s.requests,
          measured: true,
          note:
            `perPage ${perPage}, concurrency ${concurrency}, consumed record by record; reader CPU ${s.cpuMs} ms` +
            `${flags.length ? `; node ${flags.join(' ')}` : ''}${opts.liveServer ? '; live server' : ''}`,
        });
        log(`  ${variant}: ${round(s.wallMs)} ms, peak RSS ${round(s.maxRssMb)} MB, CPU ${s.cpuMs} ms`);
      }

      const pages = Math.ceil(size / perPage);
      const limitMs = (pages / concurrency) * latencyMs;
      results.push({
        scenario: 'data-layer',
        size,
        variant: 'limit',
        wallMs: round(limitMs),
        recordsPerSec: round(size / (limitMs / 1000)),
        peakRssMb: null,
        pages,
        requests: pages,
        measured: false,
        note: `${pages} pages ÷ ${concurrency} in flight × ${latencyMs} ms`,
      });

      const naivePages = Math.ceil(size / 20);
      if (naiveMsPerPage === null) {
        const args = ['--mode', 'naive', '--per-page', '20'];
        if (opts.naiveMaxPages) args.push('--max-pages', String(opts.naiveMaxPages));
        log(
          `  naive: ${opts.naiveMaxPages ? `${opts.naiveMaxPages} of ` : ''}${naivePages} sequential pages…`,
        );
        const n = await runReader(server, args);
        naiveMsPerPage = n.wallMs / n.pages;
        const full = !n.capped;
        results.push({
          scenario: 'data-layer',
          size,
          variant: 'naive',
          wallMs: round(full ? n.wallMs : naiveMsPerPage * naivePages),
          recordsPerSec: round(
            full ? n.records / (n.wallMs / 1000) : size / ((naiveMsPerPage * naivePages) / 1000),
          ),
          peakRssMb: full ? round(n.maxRssMb, 1) : null,
          pages: naivePages,
          requests: naivePages,
          measured: full,
          note: full
            ? 'perPage 20, sequential, collected into an array'
            : `perPage 20, sequential; ${n.pages} pages measured (${round(naiveMsPerPage, 1)} ms each), time extrapolated`,
        });
        log(`  naive: ${round(n.wallMs)} ms for ${n.pages} pages`);
      } else {
        const wallMs = naiveMsPerPage * naivePages;
        results.push({
          scenario: 'data-layer',
          size,
          variant: 'naive',
          wallMs: round(wallMs),
          recordsPerSec: round(size / (wallMs / 1000)),
          peakRssMb: null,
          pages: naivePages,
          requests: naivePages,
          measured: false,
          note: `extrapolated: ${naivePages} pages × ${round(naiveMsPerPage, 1)} ms measured per page at ${sizes[0]}`,
        });
      }
    } finally {
      await server.stop();
    }
  }
  return results;
}

const find = (rs: BenchResult[], size: number, variant: BenchResult['variant']) =>
  rs.find((r) => r.size === size && r.variant === variant);

/** The issue's goals, judged on the results. */
export function dataLayerGoals(results: BenchResult[]): Goal[] {
  const goals: Goal[] = [];
  const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
  for (const size of sizes) {
    const s = find(results, size, 'streaming');
    const n = find(results, size, 'naive');
    const l = find(results, size, 'limit');
    if (s && n) {
      const x = n.wallMs / s.wallMs;
      goals.push({
        name: `${size}: speed-up over the naive reader${n.measured ? '' : ' (naive extrapolated)'}`,
        target: '≥ 10×',
        actual: `${x.toFixed(1)}×`,
        pass: x >= 10,
      });
    }
    if (s && l && size === sizes[0]) {
      const x = s.wallMs / l.wallMs;
      goals.push({
        name: `${size}: wall time ÷ limit`,
        target: '≤ 1.5×',
        actual: `${x.toFixed(2)}×`,
        pass: x <= 1.5,
      });
    }
  }
  for (const variant of ['streaming', 'streaming-tuned'] as const) {
    const small = find(results, sizes[0] ?? 0, variant);
    const large = find(results, sizes.at(-1) ?? 0, variant);
    if (small && large && small !== large && small.peakRssMb && large.peakRssMb) {
      const x = large.peakRssMb / small.peakRssMb;
      goals.push({
        name: `peak RSS ${large.size} ÷ ${small.size}${variant === 'streaming' ? '' : ' (semi-space 8 MB)'}`,
        target: '≤ 1.3×',
        actual: `${x.toFixed(2)}× (${large.peakRssMb} / ${small.peakRssMb} MB)`,
        pass: x <= 1.3,
      });
    }
  }
  return goals;
}

export function formatDataLayer(results: BenchResult[]): string {
  const rows = results.map(
    (r) =>
      `${String(r.size).padStart(9)}  ${r.variant.padEnd(15)}  ${`${(r.wallMs / 1000).toFixed(2)} s`.padStart(10)}  ` +
      `${String(r.recordsPerSec).padStart(9)}/s  ${r.peakRssMb === null ? '       —' : `${r.peakRssMb.toFixed(0).padStart(5)} MB`}  ` +
      `${r.measured ? '' : '(not measured) '}${r.note}`,
  );
  const goals = dataLayerGoals(results).map(
    (g) => `  ${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${g.actual} (goal ${g.target})`,
  );
  return [
    '     size  variant                wall  records/s  peak RSS  note',
    ...rows,
    '',
    'goals:',
    ...goals,
  ].join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'latency-ms': { type: 'string' },
      'naive-max-pages': { type: 'string' },
      'live-server': { type: 'boolean' },
      'no-tuned': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const results = await benchDataLayer({
    ...(values.sizes ? { sizes: values.sizes.split(',').map(Number) } : {}),
    ...(values['latency-ms'] ? { latencyMs: Number(values['latency-ms']) } : {}),
    ...(values['naive-max-pages'] ? { naiveMaxPages: Number(values['naive-max-pages']) } : {}),
    ...(values['live-server'] ? { liveServer: true } : {}),
    ...(values['no-tuned'] ? { tuned: false } : {}),
  });
  console.log(
    values.json
      ? JSON.stringify({ results, goals: dataLayerGoals(results) }, null, 2)
      : formatDataLayer(results),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
