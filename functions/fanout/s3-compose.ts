/**
 * Carries out a part plan (`parts.ts`) as one S3 multipart upload: copies run server-side
 * (`UploadPartCopy` with a byte range), buffered parts are uploaded after their ranges are fetched.
 *
 * Integrity without re-reading: the upload asks S3 for SHA-256 checksums, so S3 computes each
 * part's digest (copied parts included) and the object's composite checksum, the SHA-256 of the
 * parts' digests. That composite is what the manifest records for an assembled file, with the
 * part sizes to verify it by (README, "Long reports").
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describeAwsError } from '../delivery/aws-errors.js';
import { attachmentDisposition } from '../delivery/content-disposition.js';
import { ReportsError } from '../errors/kinds.js';
import { fileChecksum } from '../report/manifest.js';
import type { PartPlan, Piece } from './parts.js';

export class AssemblyError extends ReportsError {
  override readonly kind = 'output';
  override name = 'AssemblyError';
}

export interface ComposeTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  downloadName: string;
  /** Parts in flight at once (copies are cheap for us; S3 does the work). */
  concurrency?: number;
}

export interface Composed {
  bytes: number;
  /** Hex SHA-256 of the concatenated part digests (S3's composite checksum). */
  compositeSha256: string;
  /** Each part's size, in order: what a reader needs to recompute the composite. */
  partBytes: number[];
  /** Bytes fetched here by ranged GETs to top up small parts. */
  fetchedBytes: number;
}

/** The bytes of a range piece, checked to be exactly as long as asked. */
export async function fetchRange(
  s3: S3Client,
  bucket: string,
  p: Extract<Piece, { kind: 'range' }>,
): Promise<Buffer> {
  if (p.end === p.start) return Buffer.alloc(0);
  const res = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: p.key, Range: `bytes=${p.start}-${p.end - 1}` }),
  );
  const body = Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  if (body.length !== p.end - p.start) {
    throw new AssemblyError(
      `s3://${bucket}/${p.key} bytes ${p.start}-${p.end - 1}: got ${body.length} bytes`,
    );
  }
  return body;
}

const b64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

export async function composeObject(target: ComposeTarget, plan: readonly PartPlan[]): Promise<Composed> {
  const { s3, bucket, key } = target;
  if (plan.length === 0) throw new AssemblyError(`nothing to assemble into s3://${bucket}/${key}`);
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: target.contentType,
      ContentDisposition: attachmentDisposition(target.downloadName),
      ServerSideEncryption: 'AES256',
      ChecksumAlgorithm: 'SHA256',
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new AssemblyError(`S3 gave no upload id for s3://${bucket}/${key}`);
  const limit = pLimit(target.concurrency ?? 8);
  let fetched = 0;
  try {
    const done: Array<CompletedPart & { bytes: number }> = await Promise.all(
      plan.map((part, i) =>
        limit(async () => {
          const PartNumber = i + 1;
          if (part.kind === 'copy') {
            const res = await s3.send(
              new UploadPartCopyCommand({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber,
                CopySource: `${bucket}/${encodeURIComponent(part.key)}`,
                CopySourceRange: `bytes=${part.start}-${part.end - 1}`,
              }),
            );
            const r = res.CopyPartResult;
            return {
              PartNumber,
              ETag: r?.ETag,
              ...(r?.ChecksumSHA256 ? { ChecksumSHA256: r.ChecksumSHA256 } : {}),
              bytes: part.end - part.start,
            };
          }
          const chunks: Buffer[] = [];
          for (const s of part.segments) {
            if (s.kind === 'bytes') chunks.push(s.data);
            else {
              chunks.push(await fetchRange(s3, bucket, s));
              fetched += s.end - s.start;
            }
          }
          const body = Buffer.concat(chunks);
          const ChecksumSHA256 = createHash('sha256').update(body).digest('base64');
          const res = await s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber,
              Body: body,
              ChecksumSHA256,
            }),
          );
          return { PartNumber, ETag: res.ETag, ChecksumSHA256, bytes: body.length };
        }),
      ),
    );
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done.map(({ bytes: _b, ...p }) => p) },
      }),
    );
    let composite = completed.ChecksumSHA256;
    if (!composite) {
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      composite = head.ChecksumSHA256;
    }
    if (!composite) throw new AssemblyError(`S3 gave no SHA-256 checksum for s3://${bucket}/${key}`);
    const partBytes = done.map((p) => p.bytes);
    return {
      bytes: partBytes.reduce((a, b) => a + b, 0),
      compositeSha256: b64ToHex(composite.split('-')[0] ?? ''),
      partBytes,
      fetchedBytes: fetched,
    };
  } catch (err) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    if (err instanceof ReportsError) throw err;
    throw new AssemblyError(`assembling s3://${bucket}/${key} failed: ${describeAwsError(err)}`, {
      cause: err,
    });
  }
}

/** The composite SHA-256 of bytes cut into parts of these sizes (what S3 computes; for checks). */
export function compositeSha256(bytes: Buffer, partBytes: readonly number[]): string {
  return fileChecksum(bytes, { partBytes: [...partBytes] });
}
