/**
 * The final report from its slices, built in S3 without reading the slices' data again:
 * - the details CSV: BOM and header line, then each slice's records, as one multipart upload
 *   whose big parts are server-side copies of the slices' CSV objects;
 * - the workbook: its small parts come from the single-run writer itself (`template.ts`: the
 *   merged Summary with its charts, the breakdown sheets, styles, workbook.xml with one
 *   Validations tab per slice sheet); its Validations sheets are the slices' compressed sheet
 *   entries, copied by byte range behind a new local header; a central directory (Zip64 where
 *   needed) ends it;
 * - the merged summary (`summary.json`, `summary.csv`), then the manifest, last, through the same
 *   S3 sink a single run uses; a failure aborts that sink, which deletes everything under the
 *   report's prefix (parts included), so no manifest and no half report remain.
 */
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FILE_CATALOGUE, SUMMARY_FILE } from '../contract.js';
import { downloadName } from '../core/naming.js';
import type { ReportFile, ReportRequest, ReportResult } from '../core/request.js';
import { createS3Sink } from '../delivery/sink/index.js';
import { DETAIL_KEYS } from '../report/columns.js';
import type { ReportContext } from '../report/context.js';
import { csvLine, summaryCsvDocument } from '../report/csv.js';
import { buildManifest, HashingCounter } from '../report/manifest.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../report/summary.js';
import { bytesMoved, type PartLimits, type Piece, planParts } from './parts.js';
import { composeObject } from './s3-compose.js';
import { partKey, SliceResult } from './slice-worker.js';
import { renderTemplate } from './template.js';
import {
  centralDirectory,
  localHeader,
  type PlacedEntry,
  readCentralDirectory,
  ZipFormatError,
} from './zip.js';

const FILE_ORDER = ['xlsx', 'details-csv', 'summary-csv'];

export interface AssembleInput {
  s3: S3Client;
  bucket: string;
  prefix?: string;
  reportId: string;
  request: ReportRequest;
  /** How many slices the plan made (each must have left its result). */
  sliceCount: number;
  previous?: Summary | null;
  now?: () => Date;
  /** Tests lower S3's 5 MiB part minimum to exercise copies with small files. */
  partLimits?: Partial<PartLimits>;
  /** Tests force Zip64 records to check that readers take them. */
  forceZip64?: boolean;
}

export interface AssembleStats {
  copiedBytes: number;
  uploadedBytes: number;
  fetchedBytes: number;
  parts: number;
}

export async function readSliceResults(
  s3: S3Client,
  bucket: string,
  keyPrefix: string,
  n: number,
): Promise<SliceResult[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: partKey(keyPrefix, i, 'json') }));
      const text = await (res.Body as { transformToString(): Promise<string> }).transformToString();
      const parsed = SliceResult.parse(JSON.parse(text));
      if (parsed.index !== i) throw new ZipFormatError(`slice result ${i} says it is slice ${parsed.index}`);
      return parsed;
    }),
  );
}

export async function assembleReport(input: AssembleInput): Promise<ReportResult & { stats: AssembleStats }> {
  const { s3, bucket, request, reportId } = input;
  const now = input.now ?? (() => new Date());
  const sink = createS3Sink({
    s3,
    bucket,
    ...(input.prefix ? { prefix: input.prefix } : {}),
    definition: request.definition,
    window: request.window,
    reportId,
  });
  const stats: AssembleStats = { copiedBytes: 0, uploadedBytes: 0, fetchedBytes: 0, parts: 0 };
  try {
    const slices = await readSliceResults(s3, bucket, sink.keyPrefix, input.sliceCount);
    const summary = SummaryBuilder.merged(
      request.window.timeZone,
      slices.map((s) => s.summary),
    ).result();
    const delta = input.previous ? compareSummaries(summary, input.previous) : null;
    const diagnostics: Record<string, number | string> = { slices: slices.length };
    for (const s of slices)
      for (const [k, v] of Object.entries(s.diagnostics))
        diagnostics[k] = ((diagnostics[k] as number) ?? 0) + v;
    const filteredOut = slices.reduce((n, s) => n + s.filteredOut, 0);
    if (filteredOut) diagnostics.filteredOutLocally = filteredOut;
    const rows = slices.reduce((n, s) => n + s.rows, 0);
    const ctx: ReportContext = {
      id: reportId,
      window: request.window,
      filters: { statuses: request.statuses, types: request.types, clients: request.clients },
      generatedAt: now(),
      summary,
      ...(delta ? { previous: delta } : {}),
      diagnostics,
    };

    const files: ReportFile[] = [];
    const compose = async (kind: 'xlsx' | 'details-csv', pieces: Piece[]) => {
      const { name, contentType } = FILE_CATALOGUE[kind];
      const plan = planParts(pieces, input.partLimits);
      const moved = bytesMoved(plan);
      const done = await composeObject(
        { s3, bucket, key: sink.keyOf(name), contentType, downloadName: downloadName(request, name) },
        plan,
      );
      stats.copiedBytes += moved.copied;
      stats.uploadedBytes += moved.uploaded;
      stats.fetchedBytes += done.fetchedBytes;
      stats.parts += plan.length;
      files.push({
        name,
        kind,
        contentType,
        bytes: done.bytes,
        sha256: done.compositeSha256,
        partBytes: done.partBytes,
        rows,
      });
    };

    // The two big files are composed side by side: each is mostly S3 copying, not our work.
    const workbook = request.formats.includes('xlsx')
      ? workbookPieces(ctx, slices, input.forceZip64 ?? false).then((pieces) => compose('xlsx', pieces))
      : Promise.resolve();
    workbook.catch(() => undefined);
    if (request.formats.includes('csv')) {
      const pieces: Piece[] = [{ kind: 'bytes', data: Buffer.from(`\uFEFF${csvLine(DETAIL_KEYS)}`, 'utf8') }];
      for (const s of slices) {
        if (!s.csv) throw new ZipFormatError(`slice ${s.index} has no CSV part`);
        pieces.push({ kind: 'range', key: s.csv.key, start: 0, end: s.csv.bytes });
      }
      await compose('details-csv', pieces);
      await workbook;
      // The summary CSV is small: written through the sink like a single run's.
      const doc = summaryCsvDocument(ctx);
      const { name, contentType } = FILE_CATALOGUE['summary-csv'];
      const measure = new HashingCounter();
      const target = sink.open({ name, contentType, downloadName: downloadName(request, name) });
      measure.pipe(target.stream);
      measure.end(doc.text);
      await target.done;
      files.push({
        name,
        kind: 'summary-csv',
        contentType,
        bytes: measure.bytes,
        sha256: measure.sha256(),
        rows: doc.rows,
      });
    }
    await workbook;
    // The manifest lists the files in the single run's order: workbook, details CSV, summary CSV.
    files.sort((a, b) => FILE_ORDER.indexOf(a.kind) - FILE_ORDER.indexOf(b.kind));
    const summaryFile = sink.open({ name: SUMMARY_FILE, contentType: 'application/json' });
    summaryFile.stream.end(JSON.stringify(summary));
    await summaryFile.done;

    const manifest = buildManifest(ctx, files);
    await sink.commit(`${JSON.stringify(manifest, null, 2)}\n`);
    // The parts are no longer needed; a leftover is removed by the bucket's expiry anyway.
    await Promise.all(
      slices.flatMap((s) =>
        [partKey(sink.keyPrefix, s.index, 'json'), s.csv?.key, s.xlsx?.key]
          .filter((k): k is string => k !== undefined)
          .map((Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined)),
      ),
    );
    return { id: reportId, manifest, summary, delta, files, location: sink.location, stats };
  } catch (err) {
    await sink.abort(err);
    throw err;
  }
}

/**
 * The workbook as pieces: the slices' sheet entries first (each behind its new local header, the
 * name the template gives that tab), then the template's other entries, then the directory.
 * Big entries first so that the small ones and the directory form the last part, which alone may
 * be under 5 MiB.
 */
async function workbookPieces(
  ctx: ReportContext,
  slices: readonly SliceResult[],
  forceZip64: boolean,
): Promise<Piece[]> {
  const sheets = slices.flatMap((s) => {
    if (!s.xlsx) throw new ZipFormatError(`slice ${s.index} has no workbook part`);
    const key = s.xlsx.key;
    return s.xlsx.sheets.map((e) => ({ key, e }));
  });
  const template = await renderTemplate(ctx, sheets.length);
  const at = ctx.generatedAt;
  const pieces: Piece[] = [];
  const placed: PlacedEntry[] = [];
  let offset = 0;
  sheets.forEach(({ key, e }, i) => {
    const path = template.validations[i]?.path;
    if (!path) throw new ZipFormatError(`the template has no tab for sheet ${i + 1}`);
    const spec = { name: path, crc32: e.crc32, compressedSize: e.compressedSize, size: e.size };
    const header = localHeader(spec, at, { forceZip64 });
    placed.push({ ...spec, localHeaderOffset: offset });
    pieces.push(
      { kind: 'bytes', data: header },
      { kind: 'range', key, start: e.dataOffset, end: e.dataOffset + e.compressedSize },
    );
    offset += header.length + e.compressedSize;
  });
  const dropped = new Set(template.validations.map((v) => v.path));
  for (const e of readCentralDirectory(template.zip, template.zip.length)) {
    if (dropped.has(e.name)) continue;
    const start = e.localHeaderOffset;
    const nameLen = template.zip.readUInt16LE(start + 26);
    const extraLen = template.zip.readUInt16LE(start + 28);
    const data = template.zip.subarray(
      start + 30 + nameLen + extraLen,
      start + 30 + nameLen + extraLen + e.compressedSize,
    );
    const spec = {
      name: e.name,
      crc32: e.crc32,
      compressedSize: e.compressedSize,
      size: e.size,
      method: e.method,
    };
    const header = localHeader(spec, at, { forceZip64 });
    placed.push({ ...spec, localHeaderOffset: offset });
    pieces.push({ kind: 'bytes', data: Buffer.concat([header, data]) });
    offset += header.length + data.length;
  }
  pieces.push({ kind: 'bytes', data: centralDirectory(placed, offset, at, { forceZip64 }) });
  return pieces;
}
