/**
 * The read as the consumer sees it: its records, or the same a page at a time, iterable once;
 * the diagnostics promise, settled by the iteration and nowhere else.
 */

import type { BiometricValidation } from '../schema.js';
import type { ReadDiagnostics } from './diagnostics.js';

export interface WindowRead {
  /** Every accepted record, in order. Iterate this or `batches`, once. */
  records: AsyncIterable<BiometricValidation>;
  /** The same records a page at a time (never empty): no per-record await for consumers that loop. */
  batches: AsyncIterable<BiometricValidation[]>;
  diagnostics: Promise<ReadDiagnostics>;
  snapshot(): ReadDiagnostics;
}

/** What the stream needs from the reader. */
export interface BatchSource {
  /** The read itself, which starts with the first `next()`. Batches may be empty. */
  run(): AsyncGenerator<BiometricValidation[]>;
  /** Counts records handed to the consumer. */
  delivered(records: number): void;
  snapshot(): ReadDiagnostics;
}

export function streamOf(source: BatchSource): WindowRead {
  let settle!: { resolve: (d: ReadDiagnostics) => void; reject: (e: unknown) => void };
  const diagnostics = new Promise<ReadDiagnostics>((resolve, reject) => {
    settle = { resolve, reject };
  });
  diagnostics.catch(() => {}); // callers that only iterate must not get an unhandled rejection

  let iterated = false;
  const claim = () => {
    if (iterated) throw new Error('A window read can be iterated once; call readWindow again to read again.');
    iterated = true;
  };
  /** The accepted records a page at a time; the one place the read is settled. */
  const batchIterator = (): AsyncIterator<BiometricValidation[]> => {
    const inner = source.run();
    let done = false;
    return {
      async next(): Promise<IteratorResult<BiometricValidation[]>> {
        for (;;) {
          if (done) return { done: true, value: undefined };
          let step: IteratorResult<BiometricValidation[]>;
          try {
            step = await inner.next();
          } catch (error) {
            done = true;
            settle.reject(error);
            throw error;
          }
          if (step.done) {
            done = true;
            settle.resolve(source.snapshot());
            return { done: true, value: undefined };
          }
          if (step.value.length === 0) continue;
          source.delivered(step.value.length);
          return { done: false, value: step.value };
        }
      },
      async return(): Promise<IteratorResult<BiometricValidation[]>> {
        if (!done) {
          done = true;
          settle.reject(
            new Error('The consumer stopped reading before the end; the diagnostics are incomplete.'),
          );
        }
        await inner.return(undefined);
        return { done: true, value: undefined };
      },
    };
  };
  const batches: AsyncIterable<BiometricValidation[]> = {
    [Symbol.asyncIterator]() {
      claim();
      return batchIterator();
    },
  };
  const records: AsyncIterable<BiometricValidation> = {
    [Symbol.asyncIterator]() {
      claim();
      const pages = batchIterator();
      // Records are served from the current batch without another async generator per record.
      let batch: BiometricValidation[] = [];
      let at = 0;
      return {
        async next(): Promise<IteratorResult<BiometricValidation>> {
          while (at >= batch.length) {
            const step = await pages.next();
            if (step.done) return { done: true, value: undefined };
            batch = step.value;
            at = 0;
          }
          return { done: false, value: batch[at++] as BiometricValidation };
        },
        async return(): Promise<IteratorResult<BiometricValidation>> {
          batch = [];
          await pages.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { records, batches, diagnostics, snapshot: () => source.snapshot() };
}
