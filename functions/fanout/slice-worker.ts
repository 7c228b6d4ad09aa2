/**
 * One slice of a long report: read its window once, count it into a partial summary, render its
 * rows into the same two writers a single run uses, and store under the report's `parts/` prefix:
 * - `slice-NNNN.csv`: the details CSV's records without the BOM and header line (the assembler
 *   writes those once), so the slices' parts concatenate into the single run's file byte for byte;
 * - `slice-NNNN.xlsx`: a complete workbook of the slice from the real workbook writer; the
 *   assembler copies only its Validations sheet entries (their compressed bytes, by range);
 * - `slice-NNNN.json`: the summary state, counters, and where those sheet entries lie.
 * A retried slice writes the same keys again: the last complete attempt wins.
 */
import { PassThrough, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import type { ReportRequest } from '../core/request.js';
import { DETAIL_KEYS, flatten } from '../report/columns.js';
import type { ReportContext } from '../report/context.js';
import { csvLine } from '../report/csv.js';
import { createDetailWriter, type DetailTargets } from '../report/detail-writer.js';
import { createThreadedDetailWriter } from '../report/render-thread.js';
import { SummaryBuilder, type SummaryState } from '../report/summary.js';
import { applyInProcessV8Flags } from '../settings/runtime-flags.js';
import type { VerifikClient } from '../verifik/client.js';
import { readWindow } from '../verifik/read/index.js';
import type { SharedBackoff } from '../verifik/read/shared-backoff.js';
import { refId } from '../verifik/schema.js';
import { type Slice, sliceWindow } from './plan.js';
import { fetchRange } from './s3-compose.js';
import { dataOffset, entryBytes, readCentralDirectory, type ZipEntry, ZipFormatError } from './zip.js';

/**
 * Bytes of the end of a slice workbook read back first: its central directory, `workbook.xml` and
 * its relationships, which exceljs writes last (a few KB; more is read if they lie earlier). Read
 * back after the upload rather than kept while writing: holding the stream's last 2 MiB cost the
 * worker that much peak RSS for the whole write.
 */
const TAIL_BYTES = 256 * 1024;

export const SheetEntry = z.object({
  /** The sheet's name in the slice's workbook ("Validations", "Validations (2)", …). */
  name: z.string(),
  dataOffset: z.number().int().nonnegative(),
  compressedSize: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  crc32: z.number().int().nonnegative(),
});
export type SheetEntry = z.infer<typeof SheetEntry>;

/** What a slice leaves for the assembler (`slice-NNNN.json`). Checked when read back. */
export const SliceResult = z.object({
  index: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  filteredOut: z.number().int().nonnegative(),
  summary: z.custom<SummaryState>((v) => typeof v === 'object' && v !== null && 'total' in v),
  diagnostics: z.record(z.string(), z.number()),
  csv: z.object({ key: z.string(), bytes: z.number().int().nonnegative() }).optional(),
  xlsx: z
    .object({ key: z.string(), bytes: z.number().int().nonnegative(), sheets: z.array(SheetEntry).min(1) })
    .optional(),
});
export type SliceResult = z.infer<typeof SliceResult>;

export interface SliceJob {
  reportId: string;
  request: ReportRequest;
  slice: Slice;
  /** Verifik requests in flight for this slice: its fixed share of the report's budget. */
  concurrency: number;
  perPage?: number;
}

export interface SliceDeps {
  verifik: VerifikClient;
  s3: S3Client;
  bucket: string;
  /** The report's key prefix (ends in `/`); parts go under `<prefix>parts/`. */
  keyPrefix: string;
  /** Render on a worker thread (as the single run does), default true. */
  renderThread?: boolean;
  now?: () => Date;
  signal?: AbortSignal;
  /** Bytes of the workbook's end read first (default `TAIL_BYTES`; tests make it tiny). */
  tailBytes?: number;
  /** The report's other slices' 429s, and this one's for them (verifik/read/shared-backoff.ts). */
  sharedBackoff?: SharedBackoff;
}

const pad = (n: number) => String(n).padStart(4, '0');
export const partKey = (keyPrefix: string, index: number, ext: 'csv' | 'xlsx' | 'json') =>
  `${keyPrefix}parts/slice-${pad(index)}.${ext}`;

/** Drops a known prefix (the CSV's BOM and header line) from a stream, checking it is there. */
class DropPrefix extends Transform {
  /** Bytes passed on (the prefix not counted). */
  bytes = 0;
  private left: Buffer;
  constructor(prefix: string) {
    super();
    this.left = Buffer.from(prefix, 'utf8');
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (this.left.length === 0) {
      this.bytes += chunk.length;
      cb(null, chunk);
      return;
    }
    const n = Math.min(this.left.length, chunk.length);
    if (!chunk.subarray(0, n).equals(this.left.subarray(0, n))) {
      cb(new ZipFormatError('the details CSV did not start with its header line'));
      return;
    }
    this.left = this.left.subarray(n);
    this.bytes += chunk.length - n;
    cb(null, n < chunk.length ? chunk.subarray(n) : undefined);
  }
}

/** Counts the bytes that pass (the workbook's size, for its tail's ranged read). */
class CountBytes extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/**
 * S3's smallest part (5 MiB) rather than the sink's 8 MiB: a worker holds up to (queue + 1) parts
 * of each of its two files, and a slice's parts (at most one sheet, < 1 GB) stay far below the
 * 10,000-part limit. Peak RSS per worker is one of the fan-out's goals.
 */
const SLICE_PART_SIZE = 5 * 1024 * 1024;

function upload(s3: S3Client, bucket: string, key: string, body: PassThrough, contentType: string): Upload {
  return new Upload({
    client: s3,
    queueSize: 2,
    partSize: SLICE_PART_SIZE,
    leavePartsOnError: false,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ServerSideEncryption: 'AES256',
    },
  });
}

export async function runSlice(job: SliceJob, deps: SliceDeps): Promise<SliceResult> {
  // The process's memory settings for a report, as runReport applies them.
  applyInProcessV8Flags();
  const { request, slice } = job;
  const { s3, bucket, keyPrefix } = deps;
  const timeZone = request.window.timeZone;
  const window = sliceWindow(request.window, slice);
  const wantXlsx = request.formats.includes('xlsx');
  const wantCsv = request.formats.includes('csv');

  const outputs: Array<{ upload: Upload; done: Promise<unknown>; head: Writable }> = [];
  const open = (key: string, contentType: string, through: Transform) => {
    const body = new PassThrough();
    const up = upload(s3, bucket, key, body, contentType);
    const done = Promise.all([pipe(through, body), up.done()]);
    done.catch(() => undefined);
    outputs.push({ upload: up, done, head: through });
    return through;
  };
  const csvKey = partKey(keyPrefix, slice.index, 'csv');
  const xlsxKey = partKey(keyPrefix, slice.index, 'xlsx');
  const csvDrop = new DropPrefix(`\uFEFF${csvLine(DETAIL_KEYS)}`);
  const csvOut = wantCsv ? open(csvKey, 'text/csv', csvDrop) : null;
  const tail = new CountBytes();
  const xlsxOut = wantXlsx
    ? open(xlsxKey, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', tail)
    : null;
  const targets: DetailTargets = {
    ...(xlsxOut
      ? { xlsx: { out: xlsxOut, options: { timeZone, fileName: `slice ${slice.index} workbook` } } }
      : {}),
    ...(csvOut ? { csv: { out: csvOut, options: { timeZone, fileName: `slice ${slice.index} CSV` } } } : {}),
  };
  const make = (deps.renderThread ?? true) ? createThreadedDetailWriter : createDetailWriter;
  const details = xlsxOut || csvOut ? make(targets) : null;

  try {
    const read = readWindow(deps.verifik, {
      window,
      statuses: request.statuses,
      type: request.types.length === 1 ? request.types[0] : undefined,
      client: request.clients.length === 1 ? request.clients[0] : undefined,
      perPage: job.perPage,
      concurrency: job.concurrency,
      signal: deps.signal,
      ...(deps.sharedBackoff ? { sharedBackoff: deps.sharedBackoff } : {}),
    });
    const types = request.types.length > 1 ? new Set(request.types) : null;
    const clients = request.clients.length > 1 ? new Set(request.clients) : null;
    const summary = new SummaryBuilder({ timeZone });
    let filteredOut = 0;
    for await (const batch of read.batches) {
      for (const record of batch) {
        if (
          (types && !types.has(record.type ?? '')) ||
          (clients && !clients.has(refId(record.client) ?? ''))
        ) {
          filteredOut++;
          continue;
        }
        const row = flatten(record);
        summary.add(record, row);
        const wait = details?.write(row);
        if (wait) await wait;
      }
    }
    const diagnostics: Record<string, number> = {};
    for (const [k, v] of Object.entries(await read.diagnostics))
      if (typeof v === 'number') diagnostics[k] = v;
    // Only when something happened: a report that was never throttled reads as before.
    const shared = deps.sharedBackoff?.stats;
    if (shared && shared.writes + shared.followed + shared.boardErrors > 0) {
      diagnostics.sharedBackoffWrites = shared.writes;
      diagnostics.sharedBackoffFollowed = shared.followed;
      diagnostics.sharedBackoffPausedMs = Math.round(shared.pausedMs);
      diagnostics.sharedBackoffBoardErrors = shared.boardErrors;
    }

    const ctx: ReportContext = {
      id: job.reportId,
      window,
      filters: { statuses: request.statuses, types: request.types, clients: request.clients },
      generatedAt: (deps.now ?? (() => new Date()))(),
      summary: summary.result(),
      diagnostics: {},
    };
    const written = details ? await details.finish(ctx) : {};
    await Promise.all(outputs.map((o) => o.done));
    const state = summary.state();
    const result: SliceResult = {
      index: slice.index,
      rows: state.total,
      filteredOut,
      summary: state,
      diagnostics,
      ...(csvOut && written.csv ? { csv: { key: csvKey, bytes: csvDrop.bytes } } : {}),
      ...(xlsxOut
        ? {
            xlsx: {
              key: xlsxKey,
              bytes: tail.bytes,
              sheets: await validationsEntries(s3, bucket, xlsxKey, tail.bytes, deps.tailBytes ?? TAIL_BYTES),
            },
          }
        : {}),
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: partKey(keyPrefix, slice.index, 'json'),
        Body: JSON.stringify(result),
        ContentType: 'application/json',
        ServerSideEncryption: 'AES256',
      }),
    );
    return result;
  } catch (err) {
    details?.abort(err);
    for (const o of outputs) {
      o.head.destroy(err instanceof Error ? err : new Error(String(err)));
      await o.upload.abort().catch(() => undefined);
    }
    throw err;
  }
}

/** An entry of the tail's archive, read from the tail (the small entries at the end). */
function tailEntry(tail: Buffer, archiveSize: number, e: ZipEntry): Buffer {
  const shift = archiveSize - tail.length;
  if (e.localHeaderOffset < shift) throw new ZipFormatError(`${e.name} lies before the workbook tail read`);
  return entryBytes(tail, { ...e, localHeaderOffset: e.localHeaderOffset - shift });
}

/**
 * The central directory and the Validations sheets' names and paths, from the workbook's last
 * `first` bytes (four times more at each miss, up to the whole file: then a failure is the file's).
 */
async function readTail(s3: S3Client, bucket: string, key: string, size: number, first: number) {
  for (let want = Math.min(size, first); ; want = Math.min(size, want * 4)) {
    const buf = await fetchRange(s3, bucket, { kind: 'range', key, start: size - want, end: size });
    try {
      const entries = readCentralDirectory(buf, size);
      const byName = new Map(entries.map((e) => [e.name, e]));
      const get = (name: string) => {
        const e = byName.get(name);
        if (!e) throw new ZipFormatError(`slice workbook has no ${name}`);
        return e;
      };
      const sheets = validationsSheetTargets(
        tailEntry(buf, size, get('xl/workbook.xml')).toString('utf8'),
        tailEntry(buf, size, get('xl/_rels/workbook.xml.rels')).toString('utf8'),
      );
      return { sheets, get };
    } catch (err) {
      if (!(err instanceof ZipFormatError) || want >= size) throw err;
    }
  }
}

/**
 * The Validations sheets of a slice workbook, in tab order, with where their compressed bytes lie:
 * names and targets from `xl/workbook.xml` and its relationships (exceljs writes both last, so they
 * are in the tail), sizes and CRCs from the central directory, and each data offset from its local
 * header (one small ranged GET per sheet: the header may carry an extra field).
 */
async function validationsEntries(
  s3: S3Client,
  bucket: string,
  key: string,
  size: number,
  tailBytes: number,
): Promise<SheetEntry[]> {
  const { sheets, get } = await readTail(s3, bucket, key, size, tailBytes);
  const out: SheetEntry[] = [];
  for (const s of sheets) {
    const e = get(s.path);
    const head = await fetchRange(s3, bucket, {
      kind: 'range',
      key,
      start: e.localHeaderOffset,
      end: Math.min(size, e.localHeaderOffset + 30 + 1024),
    });
    out.push({
      name: s.name,
      dataOffset: dataOffset(e.localHeaderOffset, head),
      compressedSize: e.compressedSize,
      size: e.size,
      crc32: e.crc32,
    });
  }
  return out;
}

/** The Validations sheets of a workbook in tab order: their names and zip paths. */
export function validationsSheetTargets(
  workbookXml: string,
  relsXml: string,
): Array<{ name: string; path: string }> {
  const targets = new Map<string, string>();
  for (const m of relsXml.matchAll(/<Relationship\b[^>]*>/g)) {
    const id = /\bId="([^"]+)"/.exec(m[0])?.[1];
    const target = /\bTarget="([^"]+)"/.exec(m[0])?.[1];
    if (id && target) targets.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target}`);
  }
  const out: Array<{ name: string; path: string }> = [];
  for (const m of workbookXml.matchAll(/<sheet\b[^>]*>/g)) {
    const name = /\bname="([^"]+)"/.exec(m[0])?.[1];
    const rid = /\br:id="([^"]+)"/.exec(m[0])?.[1];
    if (!name || !rid || !/^Validations( \(\d+\))?$/.test(name)) continue;
    const path = targets.get(rid);
    if (!path) throw new ZipFormatError(`sheet ${name} has no relationship ${rid}`);
    out.push({ name, path });
  }
  if (out.length === 0) throw new ZipFormatError('the workbook has no Validations sheet');
  return out;
}
