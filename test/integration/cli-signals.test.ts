/**
 * SIGINT / SIGTERM stop a report and leave nothing behind: the command, spawned as people run it
 * (the bin on the project's Node 24), is stopped mid-read and removes its `<id>.partial/`; into S3,
 * a stop aborts the multipart uploads already under way. Exit 130 / 143 with one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import type { StopSignal } from '../../functions/cli/errors.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { dayWindow } from '../../functions/time/window.js';
import { type Moto, startMoto } from '../support/moto.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The project's Node 24 (the `node` devDependency), whatever node runs the tests. */
const NODE = existsSync(join(ROOT, 'node_modules/node/bin/node'))
  ? join(ROOT, 'node_modules/node/bin/node')
  : process.execPath;
const DAY = '2024-12-01';
const TZ = 'UTC';
const window = dayWindow(DAY, TZ);

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('the bin, stopped mid-read', () => {
  let dataset: Dataset;
  let fake: FakeVerifik;

  beforeAll(async () => {
    dataset = createDataset({ seed: 9, count: 4000, start: window.start, end: window.end, timeZone: TZ });
    // Slow pages: the read takes far longer than the test waits before stopping it.
    fake = await startFakeVerifik({
      dataset,
      token: 'signal-token',
      faults: { latencyMs: 500, maxPerPage: 40 },
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it.each([
    ['SIGINT', EXIT.sigint, 130],
    ['SIGTERM', EXIT.sigterm, 143],
  ] as const)('%s: exits %i, one line, no .partial directory left', async (signal, exit, code) => {
    expect(exit).toBe(code);
    const out = mkdtempSync(join(tmpdir(), 'cli-signal-'));
    try {
      const before = fake.requests.length;
      const child = spawn(
        NODE,
        ['bin/verifik-reports.js', '--date', DAY, '--tz', TZ, '--out', out, '--format', 'xlsx,csv'],
        {
          cwd: ROOT,
          env: { ...process.env, VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      let stdout = '';
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      child.stdout?.on('data', (d) => {
        stdout += d;
      });
      const done = exited(child);
      // Mid-read: the partial directory exists and Verifik is being read.
      await until(
        'the read to start',
        () => readdirSync(out).some((d) => d.endsWith('.partial')) && fake.requests.length > before + 2,
      );
      child.kill(signal);
      const result = await Promise.race([
        done,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the command did not stop')), 20_000),
        ),
      ]);
      expect(result).toEqual({ code, signal: null });
      expect(stderr.trim().split('\n')).toEqual([
        `verifik-reports: stopped by ${signal}; no report was written (partial files removed, uploads aborted).`,
      ]);
      expect(stdout).toBe('');
      expect(readdirSync(out)).toEqual([]);
      // It stopped reading: far fewer requests than the 100 pages the day has.
      expect(fake.requests.length - before).toBeLessThan(60);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('into S3, stopped while a multipart upload is open', () => {
  let moto: Moto;
  let s3: S3Client;
  let fake: FakeVerifik;
  const bucket = 'signal-reports';

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, moto.env);
    s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Enough rows (64 pages of 500, ≈ 10 MB of CSV) for the details CSV to pass one 8 MiB part before the read stalls for good.
    const dataset = createDataset({
      seed: 4,
      count: 40_000,
      start: window.start,
      end: window.end,
      timeZone: TZ,
    });
    fake = await startFakeVerifik({ dataset, token: 'signal-token', faults: { maxPerPage: 1000 } });
    fake.faults.push(
      { kind: 'hang', ms: Number.POSITIVE_INFINITY },
      { times: Number.POSITIVE_INFINITY, when: (r) => Number(r.query.get('page')) >= 65 },
    );
  }, 60_000);
  afterAll(async () => {
    await fake?.close();
    await moto?.stop();
  });

  it('SIGTERM: the uploads are aborted, nothing stays under the report prefix, exit 143', async () => {
    const prefix = 'reports/stopped/2024/12/01/';
    let stop: ((signal: StopSignal) => void) | undefined;
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => {
      err += d;
    });
    const running = runCli(
      ['--date', DAY, '--tz', TZ, '--bucket', bucket, '--definition', 'stopped', '--format', 'csv'],
      {
        stdout: new PassThrough(),
        stderr,
        env: { ...process.env, VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token },
        now: () => new Date('2024-12-03T00:00:00Z'),
        onStopSignal: (handler) => {
          stop = handler;
          return () => {
            stop = undefined;
          };
        },
      },
    );
    const uploads = async () =>
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? [];
    await until('a multipart upload to open', async () => (await uploads()).length > 0, 60_000);
    stop?.('SIGTERM');
    expect(await running).toBe(EXIT.sigterm);
    expect(err.trim()).toBe(
      'verifik-reports: stopped by SIGTERM; no report was written (partial files removed, uploads aborted).',
    );
    expect(await uploads()).toEqual([]);
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(objects.KeyCount ?? 0).toBe(0);
    expect(stop).toBeUndefined();
  }, 90_000);
});
