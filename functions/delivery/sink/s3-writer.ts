/**
 * The S3 report store: each file streams into a multipart upload as it is rendered, and
 * `manifest.json` is written last, only when every file is stored. A failed run aborts its
 * uploads, deletes what it stored, and leaves no manifest, so readers never see half a report.
 */
import { Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FILE_NAME, MANIFEST_NAME, REPORTS_PREFIX } from '../../contract.js';
import { ReportsError } from '../../errors/kinds.js';
import { describeAwsError } from '../aws-errors.js';
import { attachmentDisposition } from '../content-disposition.js';
import type { FileSpec, ReportSink, SinkFile } from './port.js';
import { reportKeyPrefix, S3SinkStateError } from './s3-keys.js';

/** 8 MiB parts, at most 2 in flight per file: ~24 MiB buffered per open file. */
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 2;
/** An abort waits this long for an upload to wind down before cutting it off. */
const ABORT_GRACE_MS = 30_000;

export type ServerSideEncryption = 'AES256' | { kmsKeyId: string };

export class S3UploadError extends ReportsError {
  override readonly kind = 'output';
  override name = 'S3UploadError';
}

export class SinkAbortedError extends ReportsError {
  override readonly kind = 'output';
  override name = 'SinkAbortedError';
}

function sseParams(
  sse: ServerSideEncryption,
): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  return sse === 'AES256'
    ? { ServerSideEncryption: 'AES256' }
    : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId };
}

export interface S3SinkOptions {
  s3: S3Client;
  bucket: string;
  prefix?: string;
  /** Report definition name (or "on-demand"), the first key level under the prefix. */
  definition: string;
  /** The report window; its first day dates the keys and the download names. */
  window: { from: string };
  reportId: string;
  sse?: ServerSideEncryption;
  /** Multipart tuning; the defaults keep ~24 MiB buffered per open file. */
  partSize?: number;
  queueSize?: number;
}

interface OpenFile {
  name: string;
  key: string;
  stream: Transform;
  upload: Upload;
  done: Promise<{ bytes: number }>;
  settled: boolean;
}

export interface S3ReportSink extends ReportSink {
  readonly bucket: string;
  /** Key prefix of this report, ending in `/`. */
  readonly keyPrefix: string;
  readonly manifestKey: string;
  keyOf(name: string): string;
}

export function createS3Sink(options: S3SinkOptions): S3ReportSink {
  const {
    s3,
    bucket,
    prefix = REPORTS_PREFIX,
    definition,
    window,
    reportId,
    sse = 'AES256',
    partSize = DEFAULT_PART_SIZE,
    queueSize = DEFAULT_QUEUE_SIZE,
  } = options;
  const keyPrefix = reportKeyPrefix({ prefix, definition, day: window.from, reportId });
  const manifestKey = `${keyPrefix}${MANIFEST_NAME}`;
  const files = new Map<string, OpenFile>();
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const keyOf = (name: string) => `${keyPrefix}${name}`;

  function open(spec: FileSpec): SinkFile {
    if (state !== 'open')
      throw new S3SinkStateError(`cannot open ${spec.name}: the report was already ${state}`);
    if (!FILE_NAME.test(spec.name) || spec.name === MANIFEST_NAME) {
      throw new S3SinkStateError(`file name ${JSON.stringify(spec.name)} is reserved or not key-safe`);
    }
    if (files.has(spec.name))
      throw new S3SinkStateError(`file ${spec.name} was already opened for this report`);

    const key = keyOf(spec.name);
    let bytes = 0;
    const stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    // The failure reaches the caller through `done`; without a listener a destroyed stream
    // would crash the process with an unhandled 'error' event.
    stream.on('error', () => {});

    const upload = new Upload({
      client: s3,
      queueSize,
      partSize,
      leavePartsOnError: false,
      params: {
        Bucket: bucket,
        Key: key,
        Body: stream,
        ContentType: spec.contentType,
        // The one naming rule (core/naming.ts downloadName) is the caller's; a file without a
        // download name (summary.json) is saved under its own.
        ContentDisposition: attachmentDisposition(spec.downloadName ?? spec.name),
        ...sseParams(sse),
      },
    });

    const file: OpenFile = {
      name: spec.name,
      key,
      stream,
      upload,
      done: Promise.resolve({ bytes: 0 }),
      settled: false,
    };
    file.done = upload.done().then(
      () => {
        file.settled = true;
        return { bytes };
      },
      (err: unknown) => {
        file.settled = true;
        // Unblocks a renderer waiting on back-pressure from an upload that will never read again.
        stream.destroy(err instanceof Error ? err : new Error(String(err)));
        if (err instanceof SinkAbortedError) throw err;
        throw new S3UploadError(`upload of s3://${bucket}/${key} failed: ${describeAwsError(err)}`, {
          cause: err,
        });
      },
    );
    // Callers may only look at `done` after writing; keep an early rejection from being "unhandled".
    file.done.catch(() => {});
    files.set(spec.name, file);
    return { stream, done: file.done };
  }

  async function commit(manifestJson: string): Promise<void> {
    if (state !== 'open') throw new S3SinkStateError(`cannot commit: the report was already ${state}`);
    const results = await Promise.allSettled([...files.values()].map((f) => f.done));
    const failed = [...files.values()].filter((_, i) => results[i]?.status === 'rejected');
    if (failed.length > 0) {
      throw new S3SinkStateError(
        `not writing ${MANIFEST_NAME}: ${failed.length} file(s) failed to upload (${failed.map((f) => f.name).join(', ')}); abort the report`,
      );
    }
    // Re-checked after the wait: an abort may have started meanwhile.
    if ((state as string) !== 'open')
      throw new S3SinkStateError('cannot commit: the report was aborted meanwhile');
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: manifestKey,
          Body: manifestJson,
          ContentType: 'application/json; charset=utf-8',
          ...sseParams(sse),
        }),
      );
    } catch (err) {
      throw new S3UploadError(`writing s3://${bucket}/${manifestKey} failed: ${describeAwsError(err)}`, {
        cause: err,
      });
    }
    state = 'committed';
  }

  async function settleWithin(file: OpenFile, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([file.done.then(noop, noop), timeout]);
    clearTimeout(timer);
  }

  async function sweepMultipartUploads(): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: keyPrefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        await s3
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }))
          .catch(noop);
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async function deleteStoredObjects(): Promise<void> {
    // Everything under the report's own prefix belongs to this report, tracked or not.
    const keys = new Set([...files.values()].map((f) => f.key));
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.add(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await Promise.all(
      [...keys].map((Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(noop)),
    );
  }

  async function abort(reason: unknown): Promise<void> {
    if (state === 'aborted') return;
    state = 'aborted';
    const why = new SinkAbortedError(`report ${reportId} aborted: ${describeAwsError(reason)}`);
    const pending = [...files.values()].filter((f) => !f.settled);
    // Destroying the body makes lib-storage stop reading, finish in-flight parts and abort the
    // multipart upload itself, so `done` settles only once S3 holds nothing of it.
    for (const f of pending) f.stream.destroy(why);
    await Promise.all(pending.map((f) => settleWithin(f, ABORT_GRACE_MS)));
    for (const f of pending) if (!f.settled) await f.upload.abort().catch(noop);
    // Belt and braces: an upload created by a request still in flight above is caught here.
    await sweepMultipartUploads().catch(noop);
    await deleteStoredObjects().catch(noop);
  }

  return {
    location: `s3://${bucket}/${keyPrefix}`,
    bucket,
    keyPrefix,
    manifestKey,
    keyOf,
    open,
    commit,
    abort,
  };
}

function noop(): void {}
