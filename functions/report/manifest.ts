/**
 * `manifest.json`: written last, its presence says the report is complete. It names every file
 * with its size and SHA-256 (so a reader can tell a truncated or swapped file) and carries the
 * headline totals and the data layer's diagnostics.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import { DAY_PATTERN, FILE_KINDS } from '../contract.js';
import type { ReportContext, ReportFilters } from './context.js';

export const FileKind = z.enum(FILE_KINDS);

export const ManifestFile = z.object({
  name: z.string().min(1),
  kind: FileKind,
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * Present for a file assembled in S3 from a long report's slices (functions/fanout/): then
   * `sha256` is S3's composite checksum, the SHA-256 of the SHA-256 digests of consecutive parts of
   * these sizes, which S3 computed while copying, so nothing was read back to hash it.
   */
  partBytes: z.array(z.number().int().positive()).optional(),
  /** Data rows (validations) in the file; for the summary CSV, its figure lines. */
  rows: z.number().int().min(0),
});
export type ManifestFile = z.infer<typeof ManifestFile>;

const Day = z.string().regex(DAY_PATTERN);

export const Manifest = z.object({
  id: z.string().min(1),
  window: z.object({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    timeZone: z.string().min(1),
    from: Day,
    to: Day,
  }),
  filters: z.object({
    statuses: z.array(z.string()).optional(),
    types: z.array(z.string()).optional(),
    clients: z.array(z.string()).optional(),
    projects: z.array(z.string()).optional(),
  }),
  generatedAt: z.iso.datetime({ offset: true }),
  totals: z.object({
    validations: z.number().int().min(0),
    byStatus: z.record(z.string(), z.number().int().min(0)),
  }),
  files: z.array(ManifestFile),
  diagnostics: z.record(z.string(), z.union([z.number(), z.string()])),
});
export type Manifest = z.infer<typeof Manifest>;

/** Filters as the manifest records them: only the lists that restrict something. */
export function manifestFilters(f: ReportFilters): Manifest['filters'] {
  return {
    ...(f.statuses && f.statuses.length > 0 ? { statuses: [...f.statuses] } : {}),
    ...(f.types && f.types.length > 0 ? { types: [...f.types] } : {}),
    ...(f.clients && f.clients.length > 0 ? { clients: [...f.clients] } : {}),
    ...(f.projects && f.projects.length > 0 ? { projects: [...f.projects] } : {}),
  };
}

/** Builds and validates the manifest; throws (ZodError) if anything is out of shape. */
export function buildManifest(ctx: ReportContext, files: readonly ManifestFile[]): Manifest {
  // fromEntries defines own properties, so a status named "__proto__" is a key like any other.
  const byStatus = Object.fromEntries(ctx.summary.byStatus.map((e) => [e.key, e.count]));
  const manifest = Manifest.parse({
    id: ctx.id,
    window: {
      start: ctx.window.start.toISOString(),
      end: ctx.window.end.toISOString(),
      timeZone: ctx.window.timeZone,
      from: ctx.window.from,
      to: ctx.window.to,
    },
    filters: manifestFilters(ctx.filters),
    generatedAt: ctx.generatedAt.toISOString(),
    totals: { validations: ctx.summary.totals.validations, byStatus },
    files,
    diagnostics: { ...ctx.diagnostics },
  });
  // Validated above; re-attached because parsing copies records by assignment, which would
  // drop a key such as "__proto__" (an open status set may contain anything).
  manifest.totals.byStatus = byStatus;
  return manifest;
}

/**
 * The checksum a stored file must have to match its manifest entry: the SHA-256 of its bytes, or
 * for a file assembled from parts (`partBytes`) S3's composite: the SHA-256 of the parts' SHA-256
 * digests, the file cut at those sizes.
 */
export function fileChecksum(content: Buffer, file: Pick<ManifestFile, 'partBytes'>): string {
  if (!file.partBytes) return createHash('sha256').update(content).digest('hex');
  const outer = createHash('sha256');
  let at = 0;
  for (const n of file.partBytes) {
    outer.update(
      createHash('sha256')
        .update(content.subarray(at, at + n))
        .digest(),
    );
    at += n;
  }
  return outer.digest('hex');
}

/**
 * A pass-through that counts and hashes what flows through it: put it in front of a sink stream
 * (`renderer → counter → sink`) and read `bytes`/`sha256()` once the sink is done.
 */
export class HashingCounter extends Transform {
  private readonly hash = createHash('sha256');
  private count = 0;
  private digest: string | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    cb(null, chunk);
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything that passed; only valid once the stream has finished. */
  sha256(): string {
    if (!this.writableFinished) throw new Error('HashingCounter.sha256() read before the stream finished.');
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}
