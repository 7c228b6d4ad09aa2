/**
 * The detail files rendered on a worker thread: the same content as on the main thread, the same
 * failure guarantees, and the worker also starts from inside a Lambda-style bundle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { flatten } from '../../functions/report/columns.js';
import type { ReportContext } from '../../functions/report/context.js';
import {
  createDetailWriter,
  type DetailResult,
  type DetailTargets,
  type DetailWriter,
} from '../../functions/report/detail-writer.js';
import { RenderStalledError, WriterStateError } from '../../functions/report/errors.js';
import { createThreadedDetailWriter } from '../../functions/report/render-thread.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';

const TZ = 'Europe/Madrid';
const WINDOW = dayWindow('2026-10-25', TZ); // a 25-hour day
const records = [
  ...createDataset({ seed: 21, start: WINDOW.start, end: WINDOW.end, count: 2_500, timeZone: TZ }),
];
const rows = records.map(flatten);

function context(): ReportContext {
  const summary = new SummaryBuilder({ timeZone: TZ });
  for (const [i, r] of records.entries()) summary.add(r, rows[i]);
  return {
    id: 'thread-test',
    window: WINDOW,
    filters: {},
    generatedAt: new Date(),
    summary: summary.result(),
    diagnostics: {},
  };
}

type Make = (targets: DetailTargets) => DetailWriter;

/** Collects everything written to a stream. */
function collector(): { out: PassThrough; bytes: () => Buffer } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function writeAll(writer: DetailWriter, times = 1): Promise<DetailResult> {
  for (let t = 0; t < times; t++) {
    for (const row of rows) {
      const wait = writer.write(row);
      if (wait) await wait;
    }
  }
  return writer.finish(context());
}

async function render(make: Make): Promise<{ xlsx: Buffer; csv: Buffer; result: DetailResult }> {
  const x = collector();
  const c = collector();
  const result = await writeAll(
    make({
      xlsx: { out: x.out, options: { timeZone: TZ } },
      csv: { out: c.out, options: { timeZone: TZ } },
    }),
  );
  return { xlsx: x.bytes(), csv: c.bytes(), result };
}

const sheetData = (bytes: Buffer) => {
  const wb = XLSX.read(bytes, { cellDates: true });
  return {
    names: wb.SheetNames,
    validations: XLSX.utils.sheet_to_json(wb.Sheets.Validations!, { header: 1 }),
  };
};

/** A stream that fails once it has taken `limit` bytes. */
function failingAfter(limit: number): Writable {
  let written = 0;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      cb(written > limit ? new Error('disk full') : null);
    },
  });
  out.on('error', () => undefined);
  return out;
}

const sink = () => {
  const out = new PassThrough();
  out.resume();
  out.on('error', () => undefined);
  return out;
};

describe('createThreadedDetailWriter', () => {
  it('produces the same workbook content and the same CSV bytes as the in-thread writer', async () => {
    const threaded = await render(createThreadedDetailWriter);
    const direct = await render(createDetailWriter);
    expect(threaded.result).toEqual({
      xlsx: { rows: rows.length, sheets: expect.arrayContaining(['Summary', 'Validations']) },
      csv: { rows: rows.length },
    });
    expect(threaded.result).toEqual(direct.result);
    const a = sheetData(threaded.xlsx);
    const b = sheetData(direct.xlsx);
    expect(a.names).toEqual(b.names);
    expect(a.names[0]).toBe('Summary');
    expect(a.validations).toHaveLength(rows.length + 1);
    expect(a.validations).toEqual(b.validations);
    expect(threaded.csv.equals(direct.csv)).toBe(true);
    const parsed = parse(threaded.csv, { bom: true, columns: true }) as Array<{ id: string }>;
    expect(parsed.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });

  it('renders one output alone (a CSV-only report)', async () => {
    const c = collector();
    const result = await writeAll(
      createThreadedDetailWriter({ csv: { out: c.out, options: { timeZone: TZ, fileName: 'v.csv' } } }),
    );
    expect(result).toEqual({ csv: { rows: rows.length } });
    expect(parse(c.bytes(), { bom: true, columns: true })).toHaveLength(rows.length);
  });

  it.each([
    ['xlsx', 'threaded', createThreadedDetailWriter],
    ['csv', 'threaded', createThreadedDetailWriter],
    ['xlsx', 'in-thread', createDetailWriter],
    ['csv', 'in-thread', createDetailWriter],
  ] as const)(
    'rejects when the %s output fails (%s), and fails the other file too',
    async (which, _how, make) => {
      const other = sink();
      const targets: DetailTargets =
        which === 'xlsx'
          ? {
              xlsx: { out: failingAfter(64 * 1024), options: { timeZone: TZ, fileName: 'validations.xlsx' } },
              csv: { out: other, options: { timeZone: TZ, fileName: 'validations.csv' } },
            }
          : {
              xlsx: { out: other, options: { timeZone: TZ, fileName: 'validations.xlsx' } },
              csv: { out: failingAfter(64 * 1024), options: { timeZone: TZ, fileName: 'validations.csv' } },
            };
      const name =
        which === 'xlsx'
          ? /Writing validations\.xlsx failed: disk full/
          : /Writing validations\.csv failed: disk full/;
      await expect(writeAll(make(targets))).rejects.toThrow(name);
      expect(other.destroyed).toBe(true);
    },
  );

  it('reports a stalled output as a RenderStalledError from the worker, class and file intact', async () => {
    // Never drains: the worker's own watchdog must give up, and say which file stalled.
    const stuck = new Writable({ highWaterMark: 1024, write: () => undefined });
    stuck.on('error', () => undefined);
    const writer = createThreadedDetailWriter({
      xlsx: { out: sink(), options: { timeZone: TZ, fileName: 'validations.xlsx' } },
      csv: { out: stuck, options: { timeZone: TZ, fileName: 'validations.csv', watchdogMs: 300 } },
    });
    const err = await writeAll(writer, 12).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderStalledError);
    expect((err as RenderStalledError).file).toBe('validations.csv');
    expect(stuck.destroyed).toBe(true);
  });

  it.each([
    ['threaded', createThreadedDetailWriter],
    ['in-thread', createDetailWriter],
  ] as const)('refuses to start without an output (%s), as a programming error', (_how, make) => {
    expect(() => make({})).toThrow(WriterStateError);
  });

  it('rejects finish after abort, and write throws', async () => {
    const writer = createThreadedDetailWriter({
      xlsx: { out: sink(), options: { timeZone: TZ } },
      csv: { out: sink(), options: { timeZone: TZ } },
    });
    writer.write(rows[0]!);
    writer.abort(new Error('read failed'));
    await expect(writer.finish(context())).rejects.toThrow(/read failed/);
    expect(() => writer.write(rows[1]!)).toThrow(/read failed/);
  });

  it('starts its worker from inside an esbuild bundle, as deployed to Lambda', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-thread-bundle-'));
    const entry = join(dir, 'entry.ts');
    const xlsxTarget = join(dir, 'out.xlsx');
    const csvTarget = join(dir, 'out.csv');
    const src = (path: string) => JSON.stringify(join(process.cwd(), path));
    writeFileSync(
      entry,
      `import { createWriteStream } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { createThreadedDetailWriter } from ${src('functions/report/render-thread.ts')};
import { SummaryBuilder } from ${src('functions/report/summary.ts')};
import { dayWindow } from ${src('functions/time/window.ts')};
if (isMainThread) {
  const w = createThreadedDetailWriter({
    xlsx: { out: createWriteStream(${JSON.stringify(xlsxTarget)}), options: { timeZone: 'UTC' } },
    csv: { out: createWriteStream(${JSON.stringify(csvTarget)}), options: { timeZone: 'UTC' } },
  });
  w.write({ id: 'a1', createdAt: 0, updatedAt: null, completedAt: null, expiresAt: null, status: 'failed', type: 'login',
    identifier: '=1+1', clientId: null, clientName: null, projectId: null, projectName: null, livenessSession: null,
    requires2FA: null, ipAddress: null, quality: null, livenessScore: null, livenessDetection: null, identityMatch: null,
    antiSpoofing: null, qualityScore: null, riskScore: 0.9 });
  const window = dayWindow('1970-01-01', 'UTC');
  const summary = new SummaryBuilder({ timeZone: 'UTC' }).result();
  const r = await w.finish({ id: 'b', window, filters: {}, generatedAt: new Date(), summary, diagnostics: {} });
  console.log(JSON.stringify(r));
}`,
    );
    // The same bundling the CDK uses for the functions: ESM, one file, a require shim.
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'index.mjs'),
      logLevel: 'error',
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    const run = spawnSync(process.execPath, [join(dir, 'index.mjs')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ xlsx: { rows: 1 }, csv: { rows: 1 } });
    const wb = XLSX.read(readFileSync(xlsxTarget));
    expect(wb.Sheets.Validations!.H2!.v).toBe('=1+1');
    expect(wb.Sheets.Validations!.H2!.f).toBeUndefined();
    const csv = parse(readFileSync(csvTarget), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(csv).toEqual([expect.objectContaining({ id: 'a1', identifier: "'=1+1", status: 'failed' })]);
  });
});
