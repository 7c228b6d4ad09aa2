/**
 * The workbook rendered on a worker thread: the same bytes' meaning as on the main thread, the
 * same failure guarantees, and the worker also starts from inside a Lambda-style bundle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import XLSX from 'xlsx';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { flatten } from '../../functions/report/columns.js';
import type { ReportContext } from '../../functions/report/context.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { createXlsxWriter, type XlsxWriter } from '../../functions/report/xlsx.js';
import { createThreadedXlsxWriter } from '../../functions/report/xlsx-thread.js';
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

async function render(
  make: (out: Writable) => XlsxWriter,
): Promise<{ bytes: Buffer; result: { rows: number } }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = make(out);
  for (const row of rows) {
    const wait = writer.write(row);
    if (wait) await wait;
  }
  const result = await writer.finish(context());
  return { bytes: Buffer.concat(chunks), result };
}

const sheetData = (bytes: Buffer) => {
  const wb = XLSX.read(bytes, { cellDates: true });
  return {
    names: wb.SheetNames,
    validations: XLSX.utils.sheet_to_json(wb.Sheets.Validations!, { header: 1 }),
  };
};

describe('createThreadedXlsxWriter', () => {
  it('produces the same workbook content as the main-thread writer', async () => {
    const threaded = await render((out) => createThreadedXlsxWriter(out, { timeZone: TZ }));
    const direct = await render((out) => createXlsxWriter(out, { timeZone: TZ }));
    expect(threaded.result.rows).toBe(rows.length);
    const a = sheetData(threaded.bytes);
    const b = sheetData(direct.bytes);
    expect(a.names).toEqual(b.names);
    expect(a.names[0]).toBe('Summary');
    expect(a.validations).toHaveLength(rows.length + 1);
    expect(a.validations).toEqual(b.validations);
  });

  it('rejects when the output fails, instead of finishing', async () => {
    let written = 0;
    const failing = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        cb(written > 64 * 1024 ? new Error('disk full') : null);
      },
    });
    failing.on('error', () => undefined);
    const writer = createThreadedXlsxWriter(failing, { timeZone: TZ, fileName: 'validations.xlsx' });
    const run = (async () => {
      for (const row of rows) {
        const wait = writer.write(row);
        if (wait) await wait;
      }
      return writer.finish(context());
    })();
    await expect(run).rejects.toThrow(/validations\.xlsx.*disk full|disk full/);
  });

  it('rejects finish after abort, and write throws', async () => {
    const out = new PassThrough();
    out.resume();
    out.on('error', () => undefined);
    const writer = createThreadedXlsxWriter(out, { timeZone: TZ });
    writer.write(rows[0]!);
    writer.abort(new Error('read failed'));
    await expect(writer.finish(context())).rejects.toThrow(/read failed/);
    expect(() => writer.write(rows[1]!)).toThrow(/read failed/);
  });

  it('starts its worker from inside an esbuild bundle, as deployed to Lambda', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlsx-thread-bundle-'));
    const entry = join(dir, 'entry.ts');
    const target = join(dir, 'out.xlsx');
    writeFileSync(
      entry,
      `import { createWriteStream } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { createThreadedXlsxWriter } from ${JSON.stringify(join(process.cwd(), 'functions/report/xlsx-thread.ts'))};
import { SummaryBuilder } from ${JSON.stringify(join(process.cwd(), 'functions/report/summary.ts'))};
import { dayWindow } from ${JSON.stringify(join(process.cwd(), 'functions/time/window.ts'))};
if (isMainThread) {
  const out = createWriteStream(${JSON.stringify(target)});
  const w = createThreadedXlsxWriter(out, { timeZone: 'UTC' });
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
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 1 });
    const wb = XLSX.read(readFileSync(target));
    expect(wb.Sheets.Validations!.H2!.v).toBe('=1+1');
    expect(wb.Sheets.Validations!.H2!.f).toBeUndefined();
  });
});
