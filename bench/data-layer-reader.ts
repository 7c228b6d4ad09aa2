/**
 * One reader run in its own process, so that `maxRSS` is this reader's alone. Prints one JSON line.
 *
 *   tsx bench/data-layer-reader.ts --url URL --token T --start ISO --end ISO --mode streaming|naive
 *     [--per-page 500] [--concurrency 4] [--max-pages N (naive only: stop after N pages)]
 */
import { parseArgs } from 'node:util';
import { createVerifikClient } from '../functions/verifik/client.js';
import { readWindow } from '../functions/verifik/read/index.js';
import type { BiometricValidation } from '../functions/verifik/schema.js';

export interface ReaderRun {
  mode: 'streaming' | 'naive';
  records: number;
  pages: number;
  requests: number;
  wallMs: number;
  maxRssMb: number;
  /** Naive only: the run stopped after `--max-pages`, short of the whole window. */
  capped: boolean;
  /** Total records the server reports for the window (to extrapolate a capped run). */
  serverTotal: number;
  /** CPU time of the reader process (user + system). */
  cpuMs: number;
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    mode: { type: 'string', default: 'streaming' },
    'per-page': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    'max-pages': { type: 'string' },
  },
});
if (!values.url || !values.token || !values.start || !values.end)
  throw new Error('--url, --token, --start and --end are required');
const client = createVerifikClient({ baseUrl: values.url, token: values.token });
const window = { start: new Date(values.start), end: new Date(values.end) };

const cpuMs = () => {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
};

async function streaming(): Promise<ReaderRun> {
  const t0 = performance.now();
  const read = readWindow(client, {
    window,
    perPage: Number(values['per-page'] ?? 500),
    concurrency: Number(values.concurrency),
  });
  let records = 0;
  let checksum = 0;
  for await (const r of read.records) {
    records++;
    checksum = (checksum + r._id.length) | 0; // consume each record, as a report would
  }
  const d = await read.diagnostics;
  const wallMs = performance.now() - t0;
  if (checksum === -1) console.error('unreachable');
  return {
    mode: 'streaming',
    records,
    pages: d.pages,
    requests: d.requests,
    wallMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    capped: false,
    serverTotal: d.serverTotal,
    cpuMs: cpuMs(),
  };
}

/** What a first version typically does: default page size, one page after another, all in an array. */
async function naive(): Promise<ReaderRun> {
  const perPage = Number(values['per-page'] ?? 20);
  const maxPages = values['max-pages'] ? Number(values['max-pages']) : Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  const all: BiometricValidation[] = [];
  let pages = 0;
  let total = 0;
  for (let page = 1; page <= maxPages; page++) {
    const p = await client.listPage({
      page,
      perPage,
      sort: 'createdAt',
      populates: ['client', 'project'],
      createdAfter: new Date(window.start.getTime() - 1),
      createdBefore: window.end,
    });
    pages++;
    total = p.total ?? 0;
    all.push(...p.records);
    if (p.records.length < perPage) break;
  }
  const wallMs = performance.now() - t0;
  return {
    mode: 'naive',
    records: all.length,
    pages,
    requests: pages,
    wallMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    capped: all.length < total,
    serverTotal: total,
    cpuMs: cpuMs(),
  };
}

const run = values.mode === 'naive' ? await naive() : await streaming();
process.stdout.write(`${JSON.stringify(run)}\n`);
