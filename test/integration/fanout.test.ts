/**
 * Long reports fanned out (issue 13), through the local driver against moto and the fake Verifik:
 * the same window read once by a single run and once in slices must give the same summary, the
 * same details CSV byte for byte, and a workbook with the same sheets and rows; slice edges lose
 * and double nothing (records at every edge, equal timestamps across one, a DST day cut in two);
 * a slice failing twice then succeeding completes the report, one always failing fails it and
 * leaves nothing under the report's prefix.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { FILE_CATALOGUE } from '../../functions/contract.js';
import { runReport } from '../../functions/core/pipeline.js';
import type { ReportRequest } from '../../functions/core/request.js';
import { createS3Client } from '../../functions/delivery/aws-clients.js';
import { createS3Sink } from '../../functions/delivery/sink/index.js';
import { runFanOutLocally, SliceFailedError } from '../../functions/fanout/driver-local.js';
import { dayTotals } from '../../functions/fanout/estimate.js';
import { type Plan, type PlanModel, planSlices, type Slice } from '../../functions/fanout/plan.js';
import { compositeSha256 } from '../../functions/fanout/s3-compose.js';
import { runSlice } from '../../functions/fanout/slice-worker.js';
import { Manifest } from '../../functions/report/manifest.js';
import type { Summary } from '../../functions/report/summary.js';
import { reportWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { type Moto, startMoto } from '../support/moto.js';

const TZ = 'Europe/Madrid';
// 2024-10-27 is 25 hours long in Madrid (clocks go back): it is also the day cut in two.
const window = reportWindow('2024-10-25', '2024-10-30', TZ);
const BUCKET = 'fanout-test';
const NOW = new Date('2024-11-02T08:00:00Z');
/** Forces a fan-out of a few thousand records: slices of at most 2,500 rows, four at a time. */
const MODEL: Partial<PlanModel> = {
  lambdaSeconds: 0.2,
  secondsPerPage: 0.001,
  rowsPerSecond: 50_000,
  concurrency: 4,
  maxParallelSlices: 4,
  maxRowsPerSlice: 2500,
};

let moto: Moto;
let s3: S3Client;
let fake: FakeVerifik;
let dataset: Dataset;
let plan: Plan;

const request: ReportRequest = {
  definition: 'on-demand',
  window,
  statuses: [],
  types: [],
  clients: [],
  formats: ['xlsx', 'csv'],
};
const verifik = () => createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } });

async function bytesOf(key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}
async function keysUnder(prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key ?? '');
}
const prefixOf = (reportId: string) =>
  createS3Sink({ s3, bucket: BUCKET, definition: 'on-demand', window, reportId }).keyPrefix;

async function currentPlan(): Promise<Plan> {
  return planSlices(window, await dayTotals(verifik(), { window, concurrency: 4 }), MODEL);
}

beforeAll(async () => {
  moto = await startMoto();
  s3 = createS3Client(moto.clientConfig);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  dataset = createDataset({
    seed: 13,
    count: 9000,
    start: new Date(window.start.getTime() - 3600_000),
    end: new Date(window.end.getTime() + 3600_000),
    timeZone: TZ,
  });
  // A busy DST day: more than one slice holds, so it is cut at an instant inside it.
  const dst = reportWindow('2024-10-27', '2024-10-27', TZ);
  dataset.insert(dataset.generate(2600, dst.start, dst.end));
  fake = await startFakeVerifik({ dataset, token: 'fanout-token' });
  const first = await currentPlan();
  // Records at every slice edge: one a millisecond before, two exactly on it (equal timestamps
  // across the edge: both belong to the later slice), and at the window's own ends.
  const edges = [window.start.getTime(), ...first.slices.map((s) => s.endMs)];
  const atEdges = edges.flatMap((edge) =>
    dataset
      .generate(3)
      .map((r, i) => ({ ...r, createdAt: new Date(edge - (i === 0 ? 1 : 0)).toISOString() })),
  );
  dataset.insert(atEdges);
  plan = await currentPlan();
  expect(plan.slices.map((s) => [s.startMs, s.endMs])).toEqual(first.slices.map((s) => [s.startMs, s.endMs]));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await fake?.close();
  await moto?.stop();
});

describe('the plan over the fake', () => {
  it('fans out into disjoint slices edge to edge, cuts the busy DST day, and loses or doubles no record at an edge', () => {
    expect(plan.fanOut).toBe(true);
    expect(plan.slices[0]?.startMs).toBe(window.start.getTime());
    expect(plan.slices.at(-1)?.endMs).toBe(window.end.getTime());
    for (let i = 1; i < plan.slices.length; i++)
      expect(plan.slices[i]?.startMs).toBe(plan.slices[i - 1]?.endMs);
    const dstPieces = plan.slices.filter((s) => s.from === '2024-10-27');
    expect(dstPieces.length).toBe(2);
    // Each slice's records by the oracle, over its half-open window, add up to the window's.
    const whole = expectedRecords(dataset, { start: window.start, end: window.end });
    const perSlice = plan.slices.map(
      (s) => expectedRecords(dataset, { start: new Date(s.startMs), end: new Date(s.endMs) }).length,
    );
    expect(perSlice.reduce((a, b) => a + b, 0)).toBe(whole.length);
    // A slice of whole days expects exactly the day totals; the cut day's pieces share its total.
    for (const [i, s] of plan.slices.entries())
      if (s.from !== '2024-10-27') expect(perSlice[i]).toBe(s.estimate);
    const cut = plan.slices.flatMap((s, i) => (s.from === '2024-10-27' ? [i] : []));
    expect(cut.reduce((n, i) => n + (perSlice[i] ?? 0), 0)).toBe(
      cut.reduce((n, i) => n + (plan.slices[i]?.estimate ?? 0), 0),
    );
    // The edge records: the ones on an edge are in the later slice, the one before in the earlier.
    const onEdge = plan.slices[1]?.startMs ?? 0;
    const first = expectedRecords(dataset, {
      start: new Date(plan.slices[0]?.startMs ?? 0),
      end: new Date(onEdge),
    });
    const second = expectedRecords(dataset, {
      start: new Date(onEdge),
      end: new Date(plan.slices[1]?.endMs ?? 0),
    });
    expect(first.at(-1)?.createdAt).toBe(new Date(onEdge - 1).toISOString());
    expect(second.slice(0, 2).map((r) => r.createdAt)).toEqual([
      new Date(onEdge).toISOString(),
      new Date(onEdge).toISOString(),
    ]);
  });
});

describe('a fanned-out report against a single run of the same window', () => {
  let single: Awaited<ReturnType<typeof runReport>>;
  let fanned: Awaited<ReturnType<typeof runFanOutLocally>>;

  beforeAll(async () => {
    single = await runReport({
      request,
      reportId: 'single-run',
      verifik: verifik(),
      sink: createS3Sink({ s3, bucket: BUCKET, definition: 'on-demand', window, reportId: 'single-run' }),
      now: () => NOW,
      read: { concurrency: 4 },
      renderThread: false,
    });
    fanned = await runFanOutLocally({
      request,
      reportId: 'fanned-out',
      verifik: verifik(),
      s3,
      bucket: BUCKET,
      plan,
      now: () => NOW,
      renderThread: false,
      // Copies exercised with a few MB: S3's 5 MiB minimum holds in production (moto enforces it
      // on completion, so parts are planned at 5 MiB here too; small files are combined).
    });
  }, 120_000);

  it('reads every record of the window once: slice rows match the oracle', () => {
    const whole = expectedRecords(dataset, { start: window.start, end: window.end });
    expect(single.summary.totals.validations).toBe(whole.length);
    expect(fanned.summary.totals.validations).toBe(whole.length);
    expect(fanned.attempts.every((a) => a === 1)).toBe(true);
  });

  it('merges the slices’ summaries into the single run’s (means to the last bits)', () => {
    const strip = (s: Summary) => {
      const copy = structuredClone(s);
      for (const d of [copy.scores.livenessScore, copy.scores.qualityScore])
        d.mean = d.mean === null ? null : Number(d.mean.toFixed(9));
      copy.completion.meanMs =
        copy.completion.meanMs === null ? null : Number(copy.completion.meanMs.toFixed(6));
      return copy;
    };
    expect(strip(fanned.summary)).toEqual(strip(single.summary));
    expect(fanned.summary.scores.livenessScore.mean).toBeCloseTo(
      single.summary.scores.livenessScore.mean ?? 0,
      12,
    );
  });

  it('assembles the details CSV byte for byte as the single run wrote it', async () => {
    const name = FILE_CATALOGUE['details-csv'].name;
    const a = await bytesOf(`${prefixOf('single-run')}${name}`);
    const b = await bytesOf(`${prefixOf('fanned-out')}${name}`);
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
  });

  it('assembles a workbook with the same sheets and rows (Validations split at slice edges)', async () => {
    const name = FILE_CATALOGUE.xlsx.name;
    const a = XLSX.read(await bytesOf(`${prefixOf('single-run')}${name}`), { cellDates: false });
    const buf = await bytesOf(`${prefixOf('fanned-out')}${name}`);
    const b = XLSX.read(buf, { cellDates: false });
    const rowsOf = (wb: XLSX.WorkBook, sheet: string) =>
      XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[sheet] as XLSX.WorkSheet, { header: 1, raw: true });
    const isValidations = (n: string) => n.startsWith('Validations');
    expect(b.SheetNames.filter((n) => !isValidations(n))).toEqual(
      a.SheetNames.filter((n) => !isValidations(n)),
    );
    expect(b.SheetNames.filter(isValidations).length).toBe(plan.slices.length);
    for (const sheet of ['By client', 'By project', 'By hour', 'Highest risk']) {
      expect(rowsOf(b, sheet), sheet).toEqual(rowsOf(a, sheet));
    }
    // The Summary differs only in the data layer's notes (pages and requests of several reads).
    const notes = new Set([
      ...Object.keys(single.manifest.diagnostics),
      ...Object.keys(fanned.manifest.diagnostics),
    ]);
    // Means are float sums added in another order: equal to 12 significant digits. The report id differs.
    const summaryRows = (wb: XLSX.WorkBook) =>
      rowsOf(wb, 'Summary')
        .filter((r) => !notes.has(String(r[0])) && r[0] !== 'Report')
        .map((r) => r.map((v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v)));
    expect(summaryRows(b)).toEqual(summaryRows(a));
    const validations = (wb: XLSX.WorkBook) =>
      wb.SheetNames.filter(isValidations).flatMap((n, i) => rowsOf(wb, n).slice(i === 0 ? 0 : 1));
    const va = validations(a);
    expect(va.length).toBe(single.summary.totals.validations + 1);
    expect(validations(b)).toEqual(va);

    // openpyxl (another reader, strict about the zip and the parts) opens it with every row.
    const py = '/usr/bin/python3';
    if (existsSync(py) && hasOpenpyxl(py)) {
      const file = join(mkdtempSync(join(tmpdir(), 'fanout-')), 'assembled.xlsx');
      writeFileSync(file, buf);
      const out = execFileSync(py, [
        '-c',
        'import sys,openpyxl,zipfile\nassert zipfile.ZipFile(sys.argv[1]).testzip() is None\nwb=openpyxl.load_workbook(sys.argv[1],read_only=True)\nprint(sum(sum(1 for _ in ws.iter_rows())-1 for ws in wb.worksheets if ws.title.startswith("Validations")))',
        file,
      ]).toString();
      expect(Number(out.trim())).toBe(single.summary.totals.validations);
    }
  });

  it('commits a manifest whose assembled files carry S3’s composite checksum and part sizes, and removes the parts', async () => {
    const manifest = Manifest.parse(
      JSON.parse((await bytesOf(`${prefixOf('fanned-out')}manifest.json`)).toString()),
    );
    expect(manifest.totals.validations).toBe(single.manifest.totals.validations);
    for (const f of manifest.files) {
      const bytes = await bytesOf(`${prefixOf('fanned-out')}${f.name}`);
      expect(bytes.length, f.name).toBe(f.bytes);
      if (f.partBytes) expect(compositeSha256(bytes, f.partBytes), f.name).toBe(f.sha256);
    }
    expect(
      manifest.files
        .filter((f) => f.partBytes)
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['details-csv', 'xlsx']);
    expect((await keysUnder(`${prefixOf('fanned-out')}parts/`)).length).toBe(0);
  });
});

describe('composeObject', () => {
  it('copies ranges of 5 MiB and more server-side and combines the small ones, byte for byte', async () => {
    const { randomBytes } = await import('node:crypto');
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { planParts, MiB } = await import('../../functions/fanout/parts.js');
    const { composeObject } = await import('../../functions/fanout/s3-compose.js');
    const objects = {
      big: randomBytes(12 * MiB + 17),
      small: randomBytes(MiB),
      bigger: randomBytes(12 * MiB),
    };
    for (const [k, body] of Object.entries(objects)) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `compose/${k}`, Body: body }));
    }
    const head = Buffer.from('header\r\n');
    const plan = planParts([
      { kind: 'bytes', data: head },
      { kind: 'range', key: 'compose/big', start: 0, end: objects.big.length },
      { kind: 'range', key: 'compose/small', start: 0, end: objects.small.length },
      { kind: 'range', key: 'compose/bigger', start: 100, end: objects.bigger.length },
    ]);
    expect(plan.filter((p) => p.kind === 'copy').length).toBe(2);
    const done = await composeObject(
      {
        s3,
        bucket: BUCKET,
        key: 'compose/out',
        contentType: 'application/octet-stream',
        downloadName: 'out',
      },
      plan,
    );
    const expected = Buffer.concat([head, objects.big, objects.small, objects.bigger.subarray(100)]);
    const got = await bytesOf('compose/out');
    expect(got.equals(expected)).toBe(true);
    expect(done.bytes).toBe(expected.length);
    expect(compositeSha256(got, done.partBytes)).toBe(done.compositeSha256);
    expect(done.fetchedBytes).toBeLessThan(expected.length / 2);
  }, 60_000);
});

describe("a slice workbook's tail", () => {
  it('is read back from S3, more of it until its directory and workbook part are in it', async () => {
    const slice = plan.slices[0] as Slice;
    const run = (reportId: string, tailBytes?: number) =>
      runSlice(
        { reportId, request, slice, concurrency: plan.concurrencyPerSlice },
        {
          verifik: verifik(),
          s3,
          bucket: BUCKET,
          keyPrefix: prefixOf(reportId),
          renderThread: false,
          ...(tailBytes ? { tailBytes } : {}),
        },
      );
    const whole = await run('tail-default');
    // 100 bytes hold no central directory: the read grows (400, 1,600, …) until they fit.
    const grown = await run('tail-tiny', 100);
    expect(whole.xlsx?.sheets.length).toBeGreaterThan(0);
    // Same entries at the same offsets (the small parts after them, with their timestamps, may
    // compress a byte apart).
    expect(grown.xlsx?.sheets).toEqual(whole.xlsx?.sheets);
  }, 60_000);
});

describe('slice failures', () => {
  it('a slice that fails twice then succeeds completes the report', async () => {
    let failures = 0;
    const r = await runFanOutLocally({
      request: { ...request, formats: ['csv'] },
      reportId: 'flaky-slice',
      verifik: verifik(),
      s3,
      bucket: BUCKET,
      plan,
      renderThread: false,
      runner: async (slice, p, attempt) => {
        if (slice.index === 1 && attempt <= 2) {
          failures++;
          throw new Error(`injected failure ${attempt}`);
        }
        return runSlice(
          {
            reportId: 'flaky-slice',
            request: { ...request, formats: ['csv'] },
            slice,
            concurrency: p.concurrencyPerSlice,
          },
          { verifik: verifik(), s3, bucket: BUCKET, keyPrefix: prefixOf('flaky-slice'), renderThread: false },
        );
      },
    });
    expect(failures).toBe(2);
    expect(r.attempts[1]).toBe(3);
    expect(r.manifest.totals.validations).toBe(
      expectedRecords(dataset, { start: window.start, end: window.end }).length,
    );
  }, 60_000);

  it('a slice that always fails fails the report with its reason and leaves no manifest and no part', async () => {
    const err = await runFanOutLocally({
      request,
      reportId: 'broken-slice',
      verifik: verifik(),
      s3,
      bucket: BUCKET,
      plan,
      renderThread: false,
      runner: async (slice, p) => {
        if (slice.index === 2) throw new Error('Verifik kept answering 503');
        return runSlice(
          { reportId: 'broken-slice', request, slice, concurrency: p.concurrencyPerSlice },
          {
            verifik: verifik(),
            s3,
            bucket: BUCKET,
            keyPrefix: prefixOf('broken-slice'),
            renderThread: false,
          },
        );
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SliceFailedError);
    expect((err as Error).message).toMatch(/slice 3 of \d+ .* failed 3 times: Verifik kept answering 503/);
    expect(await keysUnder(prefixOf('broken-slice'))).toEqual([]);
  }, 60_000);
});

function hasOpenpyxl(py: string): boolean {
  try {
    execFileSync(py, ['-c', 'import openpyxl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
