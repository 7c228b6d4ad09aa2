/**
 * The per-row outputs of a report, the workbook and the details CSV, behind one writer: rows go in
 * once and reach every requested file. This is the in-thread version; `render-thread.ts` runs this
 * same writer on a worker thread with the same contract.
 */
import type { Writable } from 'node:stream';
import type { FlatRow } from './columns.js';
import type { ReportContext } from './context.js';
import { createDetailsCsvWriter, type DetailsCsvOptions } from './csv.js';
import { WriterStateError } from './errors.js';
import { createXlsxWriter, type XlsxWriterOptions } from './xlsx.js';

/** Where each requested output goes; a missing one is not rendered. */
export interface DetailTargets {
  xlsx?: { out: Writable; options: XlsxWriterOptions };
  csv?: { out: Writable; options: DetailsCsvOptions };
}

export interface DetailResult {
  xlsx?: { rows: number; sheets: string[] };
  csv?: { rows: number };
}

export interface DetailWriter {
  /** Returns a promise only when the caller must wait (back-pressure from any output). */
  write(row: FlatRow): undefined | Promise<void>;
  /** Completes every file (the workbook's summary sheets come from `ctx`); rejects on any failure. */
  finish(ctx: ReportContext): Promise<DetailResult>;
  /** Abandons every file: each output is destroyed with `err`. */
  abort(err: unknown): void;
}

export function createDetailWriter(targets: DetailTargets): DetailWriter {
  if (!targets.xlsx && !targets.csv) throw new WriterStateError('A detail writer needs at least one output.');
  const xlsx = targets.xlsx ? createXlsxWriter(targets.xlsx.out, targets.xlsx.options) : null;
  const csv = targets.csv ? createDetailsCsvWriter(targets.csv.out, targets.csv.options) : null;
  const abort = (err: unknown) => {
    xlsx?.abort(err);
    csv?.abort(err);
  };
  // One output failed: the other must not go on as if the report could still be whole.
  const failAll = (err: unknown): never => {
    abort(err);
    throw err;
  };
  return {
    write(row) {
      let a: Promise<void> | undefined;
      let b: Promise<void> | undefined;
      try {
        a = xlsx?.write(row);
        b = csv?.write(row);
      } catch (err) {
        failAll(err);
      }
      if (!a && !b) return undefined;
      return Promise.all([a, b]).then(() => undefined, failAll);
    },
    async finish(ctx) {
      const [x, c] = await Promise.all([xlsx?.finish(ctx), csv?.finish()]).catch(failAll);
      return { ...(x ? { xlsx: x } : {}), ...(c ? { csv: c } : {}) };
    },
    abort,
  };
}
