import { createHash, randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Client,
  s3Client,
  s3ClientConfig,
  setClients,
  usesCustomS3Endpoint,
} from '../../functions/delivery/aws-clients.js';
import { attachmentDisposition } from '../../functions/delivery/content-disposition.js';
import { presignDownload } from '../../functions/delivery/links.js';
import {
  createS3Sink,
  findPreviousManifest,
  ManifestNotFoundError,
  readManifest,
  reportKeyPrefix,
  type S3SinkOptions,
  S3SinkStateError,
  S3UploadError,
} from '../../functions/delivery/sink/index.js';
import { type Moto, startMoto } from '../support/moto.js';

const MiB = 1024 * 1024;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let moto: Moto;
let s3: S3Client;
let bucketSeq = 0;

beforeAll(async () => {
  moto = await startMoto();
  s3 = createS3Client(moto.clientConfig);
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

async function newBucket(): Promise<string> {
  const bucket = `sink-test-${++bucketSeq}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** A sink for the `daily` definition's report of 2024-12-01 (the day most tests use). */
function dailySink(bucket: string, reportId: string, extra: Partial<S3SinkOptions> = {}) {
  return createS3Sink({
    s3,
    bucket,
    definition: 'daily',
    window: { from: '2024-12-01' },
    reportId,
    ...extra,
  });
}

/** Writes `data` in 64 KiB chunks, honouring back-pressure, and ends the stream. */
function writeAll(stream: Writable, data: Buffer): Promise<void> {
  const chunks = (function* () {
    for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
  })();
  return pipeline(Readable.from(chunks), stream);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key as string).sort();
}

async function openMultipartUploads(bucket: string): Promise<number> {
  const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (res.Uploads ?? []).length;
}

describe('aws-clients', () => {
  it('switches S3 to path-style addressing for a custom endpoint only', () => {
    expect(usesCustomS3Endpoint({}, {})).toBe(false);
    expect(usesCustomS3Endpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' })).toBe(true);
    expect(usesCustomS3Endpoint({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000' })).toBe(true);
    expect(
      usesCustomS3Endpoint({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
    ).toBe(false);
    expect(s3ClientConfig({ endpoint: 'http://127.0.0.1:1' }, {}).forcePathStyle).toBe(true);
  });

  it('reaches a stand-in through AWS_ENDPOINT_URL_S3 alone, as the CLI does', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, moto.env);
      delete process.env.AWS_ENDPOINT_URL;
      process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
      setClients();
      await s3Client().send(new CreateBucketCommand({ Bucket: 'env-configured' }));
      await s3Client().send(new PutObjectCommand({ Bucket: 'env-configured', Key: 'k', Body: 'via env' }));
      expect((await objectBytes('env-configured', 'k')).toString()).toBe('via env');
    } finally {
      s3Client().destroy();
      setClients();
      process.env = saved;
    }
  });
});

describe('reportKeyPrefix', () => {
  it('dates keys by the window start and refuses unsafe parts', () => {
    expect(reportKeyPrefix({ definition: 'daily', day: '2024-12-01', reportId: 'r1' })).toBe(
      'reports/daily/2024/12/01/r1/',
    );
    expect(reportKeyPrefix({ prefix: 'x', definition: 'daily', day: '2024-02-29', reportId: 'r1' })).toBe(
      'x/daily/2024/02/29/r1/',
    );
    expect(() => reportKeyPrefix({ definition: '../etc', day: '2024-12-01', reportId: 'r1' })).toThrow(
      S3SinkStateError,
    );
    expect(() => reportKeyPrefix({ definition: 'daily', day: '2024-12-01', reportId: 'a/b' })).toThrow(
      S3SinkStateError,
    );
    expect(() => reportKeyPrefix({ definition: 'daily', day: '2024-13-01', reportId: 'r1' })).toThrow();
  });
});

describe('createS3Sink', () => {
  it('stores a multipart file and a tiny file byte for byte, with headers, then the manifest last', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-a');
    expect(sink.location).toBe(`s3://${bucket}/reports/daily/2024/12/01/rep-a/`);

    const big = randomBytes(12 * MiB + 12345);
    const tiny = Buffer.from('id,status\n1,passed\n');
    // Download names are the caller's rule (core/naming.ts downloadName); the sink stores them.
    const xlsx = sink.open({
      name: 'validations.xlsx',
      contentType: XLSX,
      downloadName: 'verifik-daily-2024-12-01.xlsx',
    });
    const csv = sink.open({
      name: 'validations.csv',
      contentType: 'text/csv; charset=utf-8',
      downloadName: 'día.csv',
    });
    await Promise.all([writeAll(xlsx.stream, big), writeAll(csv.stream, tiny)]);
    expect(await xlsx.done).toEqual({ bytes: big.length });
    expect(await csv.done).toEqual({ bytes: tiny.length });

    // Files are stored, but the report is not complete until the manifest exists.
    expect(await keysUnder(bucket, sink.keyPrefix)).toEqual([
      'reports/daily/2024/12/01/rep-a/validations.csv',
      'reports/daily/2024/12/01/rep-a/validations.xlsx',
    ]);

    expect(sha256(await objectBytes(bucket, sink.keyOf('validations.xlsx')))).toBe(sha256(big));
    expect(sha256(await objectBytes(bucket, sink.keyOf('validations.csv')))).toBe(sha256(tiny));

    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: sink.keyOf('validations.xlsx') }),
    );
    expect(head.ContentType).toBe(XLSX);
    expect(head.ContentDisposition).toBe(
      `attachment; filename="verifik-daily-2024-12-01.xlsx"; filename*=UTF-8''verifik-daily-2024-12-01.xlsx`,
    );
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentLength).toBe(big.length);
    const csvHead = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: sink.keyOf('validations.csv') }),
    );
    expect(csvHead.ContentDisposition).toBe(`attachment; filename="d_a.csv"; filename*=UTF-8''d%C3%ADa.csv`);

    const manifest = { id: 'rep-a', files: ['validations.xlsx', 'validations.csv'] };
    await sink.commit(JSON.stringify(manifest));
    const manifestHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: sink.manifestKey }));
    expect(manifestHead.ContentType).toBe('application/json; charset=utf-8');
    expect(manifestHead.ServerSideEncryption).toBe('AES256');
    expect(await readManifest(s3, bucket, sink.manifestKey)).toEqual(manifest);
    expect(await openMultipartUploads(bucket)).toBe(0);

    // What a link click redirects to: a presigned GET serving the same bytes under the download name.
    const url = await presignDownload(s3, bucket, sink.keyOf('validations.xlsx'), {
      downloadName: 'verifik-daily-2024-12-01.xlsx',
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(
      attachmentDisposition('verifik-daily-2024-12-01.xlsx'),
    );
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(big));

    expect(() => sink.open({ name: 'late.csv', contentType: 'text/csv' })).toThrow(S3SinkStateError);
  });

  it('stores an empty file as a 0-byte object', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-e');
    const empty = sink.open({ name: 'validations.csv', contentType: 'text/csv' });
    empty.stream.end();
    expect(await empty.done).toEqual({ bytes: 0 });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: sink.keyOf('validations.csv') }));
    expect(head.ContentLength).toBe(0);
    await sink.commit('{}');
    expect(await keysUnder(bucket, sink.keyPrefix)).toEqual([
      sink.keyOf('manifest.json'),
      sink.keyOf('validations.csv'),
    ]);
  });

  it('refuses reserved, unsafe and duplicate file names', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-n');
    expect(() => sink.open({ name: 'manifest.json', contentType: 'application/json' })).toThrow(
      S3SinkStateError,
    );
    expect(() => sink.open({ name: '../x.csv', contentType: 'text/csv' })).toThrow(S3SinkStateError);
    const f = sink.open({ name: 'a.csv', contentType: 'text/csv' });
    expect(() => sink.open({ name: 'a.csv', contentType: 'text/csv' })).toThrow(/already opened/);
    await writeAll(f.stream, Buffer.from('x'));
    await f.done;
    await sink.abort(new Error('test over'));
  });

  it('abort mid-stream leaves no parts, no files and no manifest, and unblocks the writer', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-b');
    const tiny = sink.open({ name: 'summary.csv', contentType: 'text/csv' });
    await writeAll(tiny.stream, Buffer.from('done already\n'));
    await tiny.done;

    const big = sink.open({ name: 'validations.xlsx', contentType: XLSX });
    // Enough for the first 8 MiB part to be sent, so a multipart upload exists on the server.
    const firstParts = randomBytes(9 * MiB);
    for (let i = 0; i < firstParts.length; i += MiB) {
      if (!big.stream.write(firstParts.subarray(i, i + MiB))) {
        await new Promise((resolve) => big.stream.once('drain', resolve));
      }
    }
    await expect.poll(() => openMultipartUploads(bucket), { timeout: 10_000 }).toBe(1);

    await sink.abort(new Error('renderer crashed'));

    await expect(big.done).rejects.toThrow(/aborted: Error: renderer crashed/);
    expect(big.stream.destroyed).toBe(true);
    expect(await openMultipartUploads(bucket)).toBe(0);
    expect(await keysUnder(bucket, 'reports/')).toEqual([]);
    await expect(sink.commit('{}')).rejects.toThrow(S3SinkStateError);
    // Aborting twice is harmless.
    await sink.abort(new Error('again'));
  });

  it('rejects done with a clear message when the bucket does not exist, without hanging the writer', async () => {
    const sink = dailySink('no-such-bucket-here', 'rep-c');
    const big = sink.open({ name: 'validations.xlsx', contentType: XLSX });
    const small = sink.open({ name: 'validations.csv', contentType: 'text/csv' });
    const writes = Promise.allSettled([
      writeAll(big.stream, randomBytes(20 * MiB)),
      writeAll(small.stream, Buffer.from('a')),
    ]);

    await expect(big.done).rejects.toThrow(S3UploadError);
    await expect(big.done).rejects.toThrow(
      /upload of s3:\/\/no-such-bucket-here\/reports\/daily\/2024\/12\/01\/rep-c\/validations\.xlsx failed: NoSuchBucket/,
    );
    await expect(small.done).rejects.toThrow(/NoSuchBucket/);
    // The writer sees the failure too instead of waiting forever on back-pressure.
    const [bigWrite] = await writes;
    expect(bigWrite.status).toBe('rejected');

    await expect(sink.commit('{}')).rejects.toThrow(/not writing manifest\.json: 2 file\(s\) failed/);
    await sink.abort(new Error('upload failed'));
  });

  it('never writes a manifest when one file failed, and abort cleans up the file that succeeded', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-d');
    const good = sink.open({ name: 'validations.csv', contentType: 'text/csv' });
    const bad = sink.open({ name: 'validations.xlsx', contentType: XLSX });
    await writeAll(good.stream, Buffer.from('ok\n'));
    await good.done;
    bad.stream.destroy(new Error('renderer failed'));
    await expect(bad.done).rejects.toThrow(/renderer failed/);

    await expect(sink.commit('{}')).rejects.toThrow(/validations\.xlsx/);
    expect(await keysUnder(bucket, sink.keyPrefix)).toEqual([sink.keyOf('validations.csv')]);
    await sink.abort(new Error('renderer failed'));
    expect(await keysUnder(bucket, 'reports/')).toEqual([]);
  });

  it('asks for KMS encryption when given a key id', async () => {
    const bucket = await newBucket();
    const sink = dailySink(bucket, 'rep-k', { sse: { kmsKeyId: 'alias/reports' } });
    const f = sink.open({ name: 'validations.csv', contentType: 'text/csv' });
    await writeAll(f.stream, Buffer.from('x\n'));
    await f.done;
    await sink.commit('{}');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: sink.keyOf('validations.csv') }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain('alias/reports');
  });
});

describe('readManifest / findPreviousManifest', () => {
  async function putManifest(bucket: string, day: string, reportId: string, body: unknown) {
    const key = `${reportKeyPrefix({ definition: 'daily', day, reportId })}manifest.json`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(body) }));
    return key;
  }

  it('finds the newest completed report of the previous day, skipping incomplete ones', async () => {
    const bucket = await newBucket();
    await putManifest(bucket, '2024-11-30', 'r-old', { n: 1 });
    // S3 timestamps have one-second resolution: make the second one clearly newer.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const newest = await putManifest(bucket, '2024-11-30', 'r-new', { n: 3 });
    // A report without manifest (incomplete) and one of another definition must be ignored.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'reports/daily/2024/11/30/r-partial/validations.csv',
        Body: 'x',
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'reports/weekly/2024/11/30/r-w/manifest.json',
        Body: '{}',
      }),
    );

    const found = await findPreviousManifest({ s3, bucket, definition: 'daily', day: '2024-12-01' });
    expect(found).toMatchObject({ key: newest, day: '2024-11-30', reportId: 'r-new' });
    expect(await readManifest(s3, bucket, (found as { key: string }).key)).toEqual({ n: 3 });

    // Month boundary and the look-back limit.
    expect(
      await findPreviousManifest({ s3, bucket, definition: 'daily', day: '2024-12-02', maxDaysBack: 1 }),
    ).toBeNull();
    expect(
      await findPreviousManifest({ s3, bucket, definition: 'daily', day: '2024-12-02', maxDaysBack: 2 }),
    ).toMatchObject({ reportId: 'r-new' });
    expect(
      await findPreviousManifest({
        s3,
        bucket,
        definition: 'daily',
        day: '2024-12-01',
        excludeReportId: 'r-new',
      }),
    ).toMatchObject({ reportId: 'r-old' });
  });

  it('says clearly when a manifest is missing', async () => {
    const bucket = await newBucket();
    await expect(readManifest(s3, bucket, 'reports/daily/2024/12/01/nope/manifest.json')).rejects.toThrow(
      ManifestNotFoundError,
    );
  });
});
