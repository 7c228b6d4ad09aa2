/**
 * The Excel writer on its own thread. Rendering and zipping the Validations sheet is the
 * slowest stage of a report (≈ 14 s of CPU at 1M rows); on the main thread it adds to fetching,
 * parsing, the summary and the CSV instead of overlapping them. Here the main thread sends rows
 * in batches and receives the workbook's bytes, and both directions are flow-controlled, so
 * memory stays bounded by a few batches and a few chunks.
 *
 * The worker is this same module (also inside a Lambda bundle, where `import.meta.url` is the
 * bundle): it starts its loop when loaded with the marker in `workerData`.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FlatRow } from './columns.js';
import type { ReportContext } from './context.js';
import { RenderFailedError } from './errors.js';
import { createXlsxWriter, type XlsxWriter, type XlsxWriterOptions } from './xlsx.js';

const MARK = 'verifik-xlsx-thread';
/** Rows per message: large enough that cloning overhead is per batch, small enough to stay lean. */
const BATCH_ROWS = 1000;
/** Batches sent and not yet written by the worker before `write` asks the caller to wait. */
const MAX_BATCHES_IN_FLIGHT = 4;
/** Workbook bytes the worker may have posted before the main thread has written them. */
const MAX_UNACKED_BYTES = 4 * 1024 * 1024;
const YOUNG_GENERATION_MB = 8;

type ToWorker =
  | { type: 'rows'; rows: FlatRow[] }
  | { type: 'finish'; ctx: ReportContext }
  | { type: 'chunk-ack'; bytes: number }
  | { type: 'abort'; message: string };

type FromWorker =
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'rows-ack' }
  | { type: 'done'; rows: number; sheets: string[] }
  | { type: 'error'; message: string };

/** Same contract as `createXlsxWriter`, with the rendering on a worker thread. */
export function createThreadedXlsxWriter(out: Writable, opts: XlsxWriterOptions): XlsxWriter {
  const self = fileURLToPath(import.meta.url);
  const worker = new Worker(self, {
    workerData: { [MARK]: true, opts },
    // V8 sizes the young generation from the host's memory; the renderer's garbage is short-lived
    // and small, so a small young generation keeps RSS bounded at no measured cost.
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    // Under tsx (development, tests) the worker needs the TypeScript loader too; a bundle does not.
    ...(self.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
  });
  const file = opts.fileName ?? 'the workbook';
  let batch: FlatRow[] = [];
  let inFlight = 0;
  let unackedHere = 0;
  let awaitingDrain = false;
  let failure: Error | null = null;
  let settled = false;
  const waiters: Array<() => void> = [];
  let finished: {
    resolve: (r: { rows: number; sheets: string[] }) => void;
    reject: (e: Error) => void;
  } | null = null;

  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const fail = (err: Error) => {
    if (failure || settled) return;
    failure = err instanceof RenderFailedError ? err : new RenderFailedError(file, err);
    wake();
    finished?.reject(failure);
    void worker.terminate();
    if (!out.destroyed) out.destroy(failure);
  };
  const post = (msg: ToWorker) => worker.postMessage(msg);

  worker.on('message', (msg: FromWorker) => {
    switch (msg.type) {
      case 'chunk': {
        // Acknowledge bytes once the output has taken them; while it is full, acknowledge later, in one go.
        const ok = out.write(msg.data);
        unackedHere += msg.data.byteLength;
        if (ok && !awaitingDrain) {
          post({ type: 'chunk-ack', bytes: unackedHere });
          unackedHere = 0;
        } else if (!awaitingDrain) {
          awaitingDrain = true;
          out.once('drain', () => {
            awaitingDrain = false;
            post({ type: 'chunk-ack', bytes: unackedHere });
            unackedHere = 0;
          });
        }
        break;
      }
      case 'rows-ack':
        inFlight--;
        wake();
        break;
      case 'done':
        settled = true;
        out.end();
        // The result is final only when the bytes reached the output.
        once(out, 'finish').then(
          () => finished?.resolve({ rows: msg.rows, sheets: msg.sheets }),
          (err: Error) => finished?.reject(new RenderFailedError(file, err)),
        );
        void worker.terminate();
        break;
      case 'error':
        fail(new Error(msg.message));
        break;
    }
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => {
    if (!settled) fail(new Error(`the Excel worker thread exited (code ${code}) before finishing`));
  });
  out.on('error', (err) => fail(err));

  const flush = () => {
    if (batch.length === 0) return;
    inFlight++;
    post({ type: 'rows', rows: batch });
    batch = [];
  };

  return {
    write(row: FlatRow) {
      if (failure) throw failure;
      batch.push(row);
      if (batch.length < BATCH_ROWS) return undefined;
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

/** The worker side: the ordinary streaming writer, its output posted back in chunks. */
function runWorker(opts: XlsxWriterOptions): void {
  const port = parentPort!;
  let unacked = 0;
  const held: Array<() => void> = [];
  const out = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, callback) {
      // A copy the main thread owns (transferred, not cloned); the zip may reuse its buffers.
      const data = new Uint8Array(chunk);
      unacked += data.byteLength;
      port.postMessage({ type: 'chunk', data } satisfies FromWorker, [data.buffer]);
      if (unacked <= MAX_UNACKED_BYTES) callback();
      else held.push(callback);
    },
  });
  const writer = createXlsxWriter(out, opts);
  let queue = Promise.resolve();
  const report = (err: unknown) =>
    port.postMessage({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
    } satisfies FromWorker);

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'chunk-ack':
        unacked -= msg.bytes;
        while (unacked <= MAX_UNACKED_BYTES && held.length > 0) held.shift()!();
        break;
      case 'rows':
        queue = queue.then(async () => {
          for (const row of msg.rows) {
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
          await new Promise<void>((resolve, reject) => {
            if (out.writableFinished) resolve();
            else out.once('finish', resolve).once('error', reject);
          });
          port.postMessage({ type: 'done', ...result } satisfies FromWorker);
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
  runWorker((workerData as { opts: XlsxWriterOptions }).opts);
}
