/**
 * The detail outputs (workbook and details CSV) rendered on their own thread. Rendering is most
 * of a report's CPU (at 1M rows ≈ 12 s for the workbook and its zip, ≈ 2 s for the CSV); on the
 * main thread it would add to fetching, parsing, validating and the summary instead of overlapping
 * them. The main thread sends each row once, in packed batches (row-pack.ts); the worker renders
 * it into both files and posts their bytes back, a channel per file. Both directions are
 * flow-controlled, so memory stays bounded by a few batches and a few chunks per file.
 *
 * The worker is this same module (also inside a Lambda bundle, where `import.meta.url` is the
 * bundle): it starts its loop when loaded with the marker in `workerData`.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Writable as WritableStream } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FlatRow } from './columns.js';
import type { ReportContext } from './context.js';
import { DETAILS_CSV_FILE, type DetailsCsvOptions } from './csv.js';
import {
  createDetailWriter,
  type DetailResult,
  type DetailTargets,
  type DetailWriter,
} from './detail-writer.js';
import {
  type RenderErrorData,
  RenderFailedError,
  renderErrorData,
  renderErrorFrom,
  WriterStateError,
} from './errors.js';
import { type PackedRows, packTransferList, RowPacker, unpackRows } from './row-pack.js';
import { WORKBOOK_FILE, type XlsxWriterOptions } from './xlsx.js';

const MARK = 'verifik-render-thread';
/** Rows per message: large enough that cloning overhead is per batch, small enough to stay lean. */
const BATCH_ROWS = 1000;
/** Batches sent and not yet rendered by the worker before `write` asks the caller to wait. */
const MAX_BATCHES_IN_FLIGHT = 4;
/** Bytes of one file the worker may have posted before the main thread has written them. */
const MAX_UNACKED_BYTES = 4 * 1024 * 1024;
const YOUNG_GENERATION_MB = 8;

type Channel = 'xlsx' | 'csv';
const DEFAULT_FILE: Record<Channel, string> = { xlsx: WORKBOOK_FILE, csv: DETAILS_CSV_FILE };

type ToWorker =
  | { type: 'rows'; rows: PackedRows }
  | { type: 'finish'; ctx: ReportContext }
  | { type: 'chunk-ack'; channel: Channel; bytes: number }
  | { type: 'abort'; message: string };

type FromWorker =
  | { type: 'chunk'; channel: Channel; data: Uint8Array }
  | { type: 'rows-ack' }
  | { type: 'done'; result: DetailResult }
  | { type: 'error'; error: RenderErrorData };

interface WorkerInit {
  [MARK]: true;
  /** The requested files as error messages name them ("validations.xlsx and validations.csv"). */
  files: string;
  xlsx?: XlsxWriterOptions;
  csv?: DetailsCsvOptions;
}

/** One file's end on the main thread: the real output, and what has been written but not acknowledged. */
interface MainChannel {
  channel: Channel;
  out: Writable;
  file: string;
  unacked: number;
  awaitingDrain: boolean;
}

/** Same contract as `createDetailWriter`, with the rendering on a worker thread. */
export function createThreadedDetailWriter(targets: DetailTargets): DetailWriter {
  // The in-thread writer's check, before a worker is started for nothing.
  if (!targets.xlsx && !targets.csv) throw new WriterStateError('A detail writer needs at least one output.');
  const channels: MainChannel[] = [];
  if (targets.xlsx) channels.push(mainChannel('xlsx', targets.xlsx.out, targets.xlsx.options.fileName));
  if (targets.csv) channels.push(mainChannel('csv', targets.csv.out, targets.csv.options.fileName));
  const byName = new Map(channels.map((c) => [c.channel, c]));
  const files = channels.map((c) => c.file).join(' and ');
  const init: WorkerInit = { [MARK]: true, files, xlsx: targets.xlsx?.options, csv: targets.csv?.options };

  const self = fileURLToPath(import.meta.url);
  const worker = new Worker(self, {
    workerData: init,
    // V8 sizes the young generation from the host's memory; the renderers' garbage is short-lived
    // and small, so a small young generation keeps RSS bounded at no measured cost.
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    // Under tsx (development, tests) the worker needs the TypeScript loader too; a bundle does not.
    ...(self.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
  });
  const packer = new RowPacker(BATCH_ROWS);
  let inFlight = 0;
  let failure: Error | null = null;
  let settled = false;
  const waiters: Array<() => void> = [];
  let finished: { resolve: (r: DetailResult) => void; reject: (e: Error) => void } | null = null;

  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const fail = (err: Error) => {
    if (failure || settled) return;
    failure = err;
    wake();
    finished?.reject(failure);
    void worker.terminate();
    for (const c of channels) if (!c.out.destroyed) c.out.destroy(failure);
  };
  const post = (msg: ToWorker) => worker.postMessage(msg);
  const ack = (c: MainChannel) => {
    post({ type: 'chunk-ack', channel: c.channel, bytes: c.unacked });
    c.unacked = 0;
  };

  for (const c of channels) c.out.on('error', (err) => fail(new RenderFailedError(c.file, err)));

  worker.on('message', (msg: FromWorker) => {
    switch (msg.type) {
      case 'chunk': {
        const c = byName.get(msg.channel)!;
        // Acknowledge bytes once the output has taken them; while it is full, acknowledge later, in one go.
        const ok = c.out.write(msg.data);
        c.unacked += msg.data.byteLength;
        if (c.awaitingDrain) break;
        if (ok) ack(c);
        else {
          c.awaitingDrain = true;
          c.out.once('drain', () => {
            c.awaitingDrain = false;
            ack(c);
          });
        }
        break;
      }
      case 'rows-ack':
        inFlight--;
        wake();
        break;
      case 'done': {
        settled = true;
        void worker.terminate();
        // The result is final only when every file's bytes reached its output.
        Promise.all(
          channels.map((c) => {
            c.out.end();
            return once(c.out, 'finish').catch((err: Error) => {
              throw new RenderFailedError(c.file, err);
            });
          }),
        ).then(
          () => finished?.resolve(msg.result),
          (err: Error) => finished?.reject(err),
        );
        break;
      }
      case 'error':
        fail(renderErrorFrom(msg.error));
        break;
    }
  });
  worker.on('error', (err) => fail(new RenderFailedError(files, err)));
  worker.on('exit', (code) => {
    if (!settled)
      fail(
        new RenderFailedError(files, new Error(`the render thread exited (code ${code}) before finishing`)),
      );
  });

  const flush = () => {
    if (packer.count === 0) return;
    inFlight++;
    const rows = packer.take();
    worker.postMessage({ type: 'rows', rows } satisfies ToWorker, packTransferList(rows));
  };

  return {
    write(row: FlatRow) {
      if (failure) throw failure;
      packer.add(row);
      if (packer.count < BATCH_ROWS) return undefined;
      flush();
      if (inFlight <= MAX_BATCHES_IN_FLIGHT) return undefined;
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (failure) reject(failure);
          else if (inFlight <= MAX_BATCHES_IN_FLIGHT) resolve();
          else waiters.push(check);
        };
        check();
      });
    },
    finish(ctx: ReportContext) {
      if (failure) return Promise.reject(failure);
      flush();
      return new Promise((resolve, reject) => {
        finished = { resolve, reject };
        post({ type: 'finish', ctx });
      });
    },
    abort(err: unknown) {
      if (!failure && !settled)
        post({ type: 'abort', message: err instanceof Error ? err.message : String(err) });
      fail(err instanceof Error ? err : new Error(String(err)));
    },
  };
}

function mainChannel(channel: Channel, out: Writable, file: string | undefined): MainChannel {
  return { channel, out, file: file ?? DEFAULT_FILE[channel], unacked: 0, awaitingDrain: false };
}

/** The worker side: the ordinary detail writer, each file's output posted back on its channel. */
function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  const acks = new Map<Channel, (bytes: number) => void>();

  /** A stream whose bytes go to the main thread, holding its writer back while too many are unacknowledged. */
  const channelStream = (channel: Channel): Writable => {
    let unacked = 0;
    const held: Array<() => void> = [];
    acks.set(channel, (bytes) => {
      unacked -= bytes;
      while (unacked <= MAX_UNACKED_BYTES && held.length > 0) held.shift()!();
    });
    return new WritableStream({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _enc, callback) {
        // A copy the main thread owns (transferred, not cloned); the writers may reuse their buffers.
        const data = new Uint8Array(chunk);
        unacked += data.byteLength;
        port.postMessage({ type: 'chunk', channel, data } satisfies FromWorker, [data.buffer]);
        if (unacked <= MAX_UNACKED_BYTES) callback();
        else held.push(callback);
      },
    });
  };

  const targets: DetailTargets = {};
  const streams: Writable[] = [];
  if (init.xlsx) {
    const out = channelStream('xlsx');
    streams.push(out);
    targets.xlsx = { out, options: init.xlsx };
  }
  if (init.csv) {
    const out = channelStream('csv');
    streams.push(out);
    targets.csv = { out, options: init.csv };
  }
  const writer = createDetailWriter(targets);
  let queue = Promise.resolve();
  const report = (err: unknown) =>
    port.postMessage({ type: 'error', error: renderErrorData(err, init.files) } satisfies FromWorker);

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'chunk-ack':
        acks.get(msg.channel)?.(msg.bytes);
        break;
      case 'rows':
        queue = queue.then(async () => {
          for (const row of unpackRows(msg.rows)) {
            const wait = writer.write(row);
            if (wait) await wait;
          }
          port.postMessage({ type: 'rows-ack' } satisfies FromWorker);
        });
        queue.catch(report);
        break;
      case 'finish':
        queue = queue.then(async () => {
          const result = await writer.finish(msg.ctx);
          await Promise.all(
            streams.map(
              (out) =>
                new Promise<void>((resolve, reject) => {
                  if (out.writableFinished) resolve();
                  else out.once('finish', resolve).once('error', reject);
                }),
            ),
          );
          port.postMessage({ type: 'done', result } satisfies FromWorker);
        });
        queue.catch(report);
        break;
      case 'abort':
        writer.abort(new Error(msg.message));
        break;
    }
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK]) {
  runWorker(workerData as WorkerInit);
}
