/**
 * The pipeline, where the stages meet, tested directly: an in-memory sink and the fake Verifik
 * in this process (no moto, no S3), against the oracle's answer for the same window.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../../dev/fake-verifik/server.js';
import { FILE_CATALOGUE, SUMMARY_FILE } from '../../../functions/contract.js';
import { downloadName } from '../../../functions/core/naming.js';
import { runReport } from '../../../functions/core/pipeline.js';
import type { ReportRequest } from '../../../functions/core/request.js';
import { kindOf } from '../../../functions/errors/kinds.js';
import { Manifest } from '../../../functions/report/manifest.js';
import type { Summary } from '../../../functions/report/summary.js';
import { dayWindow } from '../../../functions/time/window.js';
import { createVerifikClient } from '../../../functions/verifik/client.js';
import { refId } from '../../../functions/verifik/schema.js';
import { createMemorySink } from '../../support/memory-sink.js';

const TZ = 'Europe/Madrid';
// A daylight-saving day: 25 hours long in the report's zone.
const DAY = '2024-10-27';
const window = dayWindow(DAY, TZ);

let fake: FakeVerifik;
let dataset: Dataset;

beforeAll(async () => {
  dataset = createDataset({
    seed: 7,
    count: 2500,
    start: new Date(window.start.getTime() - 2 * 3600_000),
    end: new Date(window.end.getTime() + 2 * 3600_000),
    timeZone: TZ,
  });
  fake = await startFakeVerifik({ dataset, token: 'pipeline-token', faults: { maxPerPage: 200 } });
});
afterAll(async () => {
  await fake.close();
});

function request(over: Partial<ReportRequest> = {}): ReportRequest {
  return {
    definition: 'daily-ops',
    window,
    statuses: [],
    types: [],
    clients: [],
    formats: ['xlsx', 'csv'],
    ...over,
  };
}

function run(req: ReportRequest, opts: { previous?: Summary; renderThread?: boolean } = {}) {
  const sink = createMemorySink();
  const verifik = createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } });
  const result = runReport({
    request: req,
    reportId: `daily-ops-${DAY}-test`,
    verifik,
    sink,
    previous: opts.previous ?? null,
    now: () => new Date('2024-10-28T08:00:00Z'),
    read: { perPage: 200, concurrency: 3 },
    renderThread: opts.renderThread ?? false,
  });
  return { sink, result };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('runReport', () => {
  it('reads the window once, stores every file, then commits a manifest that describes them byte for byte', async () => {
    const { sink, result } = run(request());
    const r = await result;
    const expected = expectedRecords(dataset, { start: window.start, end: window.end });
    expect(expected.length).toBeGreaterThan(100);

    expect(r.summary.totals.validations).toBe(expected.length);
    expect(r.manifest.totals.validations).toBe(expected.length);
    // Files in the catalogue's names and content types, each row counted.
    expect(r.files.map((f) => [f.kind, f.name, f.contentType])).toEqual([
      ['xlsx', FILE_CATALOGUE.xlsx.name, FILE_CATALOGUE.xlsx.contentType],
      ['details-csv', FILE_CATALOGUE['details-csv'].name, FILE_CATALOGUE['details-csv'].contentType],
      ['summary-csv', FILE_CATALOGUE['summary-csv'].name, FILE_CATALOGUE['summary-csv'].contentType],
    ]);
    expect(r.files.find((f) => f.kind === 'xlsx')?.rows).toBe(expected.length);
    expect(r.files.find((f) => f.kind === 'details-csv')?.rows).toBe(expected.length);

    // The manifest committed is the one returned, and every file it lists is stored as described.
    const manifest = Manifest.parse(JSON.parse(sink.manifest ?? 'null'));
    expect(manifest).toEqual(r.manifest);
    for (const f of manifest.files) {
      const stored = sink.files.get(f.name);
      expect(stored, f.name).toBeDefined();
      expect(stored?.bytes.length).toBe(f.bytes);
      expect(sha256(stored?.bytes ?? Buffer.alloc(0))).toBe(f.sha256);
      expect(stored?.spec.downloadName).toBe(downloadName(request(), f.name));
    }
    // The full summary is stored too (for the next report's deltas), and the manifest comes last.
    expect(JSON.parse(sink.files.get(SUMMARY_FILE)?.bytes.toString('utf8') ?? 'null')).toEqual(
      JSON.parse(JSON.stringify(r.summary)),
    );
    expect(sink.events.at(-1)).toBe('commit');
    expect(sink.events.filter((e) => e.startsWith('stored')).length).toBe(4);
    expect(sink.aborted).toBeUndefined();
  });

  it('filters more than one type or client record by record, and says how many it dropped', async () => {
    const clients = dataset.clients.slice(0, 2).map((c) => c._id);
    const { result } = run(request({ clients, formats: ['csv'] }));
    const r = await result;
    const inWindow = expectedRecords(dataset, { start: window.start, end: window.end });
    const kept = inWindow.filter((v) => clients.includes(refId(v.client) ?? ''));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(inWindow.length);
    expect(r.summary.totals.validations).toBe(kept.length);
    expect(r.manifest.diagnostics.filteredOutLocally).toBe(inWindow.length - kept.length);
    // csv only: no workbook.
    expect(r.files.map((f) => f.kind)).toEqual(['details-csv', 'summary-csv']);
  });

  it('compares with the previous summary when given one', async () => {
    const first = await run(request({ formats: ['csv'] })).result;
    const { result } = run(request({ formats: ['csv'] }), { previous: first.summary });
    const r = await result;
    expect(r.delta).not.toBeNull();
    const n = first.summary.totals.validations;
    expect(r.delta?.validations).toEqual({ current: n, previous: n, delta: 0, relative: 0 });
  });

  it('a malformed page mid-read aborts the sink: no manifest, nothing stored, an upstream-data error', async () => {
    fake.faults.push(
      { kind: 'malformed', body: '{"data": 5}' },
      { when: (q) => q.query.get('page') === '3' },
    );
    try {
      const { sink, result } = run(request(), { renderThread: true });
      const err = await result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(kindOf(err)).toBe('upstream-data');
      expect(sink.manifest).toBeNull();
      expect(sink.files.size).toBe(0);
      expect(sink.events).toContain('abort');
      expect(sink.events).not.toContain('commit');
    } finally {
      fake.faults.clear();
      fake.faults.set({ maxPerPage: 200 });
    }
  });
});
