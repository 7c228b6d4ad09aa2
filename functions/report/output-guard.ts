/**
 * Watches one output while a renderer writes to it, so that a failed or stalled output can only
 * ever end in a rejected promise — never in a silent exit 0 (a pending promise with nothing left
 * on the event loop) or in a "finished" file that is truncated.
 *
 * Stall = the progress mark (bytes moved, buffers shrinking) did not change for `watchdogMs`
 * while we were waiting. The poll timer is deliberately ref'd: it keeps the process alive until
 * the wait either succeeds or fails loudly.
 */
import type { EventEmitter } from 'node:events';
import { RenderFailedError, RenderStalledError } from './errors.js';

const POLL_MS = 20;
const DEFAULT_WATCHDOG_MS = 60_000;

/** What each file writer (workbook, details CSV) takes about its output. */
export interface OutputOptions {
  /** Reject when the output accepted nothing for this long (default 60 s). */
  watchdogMs?: number;
  /** Name used in error messages. */
  fileName?: string;
}

export class OutputGuard {
  private failure: Error | null = null;
  private readonly wakers = new Set<() => void>();

  private readonly file: string;
  private readonly watchdogMs: number;

  constructor(
    opts: OutputOptions,
    /** How error messages name the file when `opts.fileName` is not given. */
    defaultFile: string,
    /** Anything that changes whenever the output makes progress. */
    private readonly progress: () => string | number,
    /** Tear-down to run once on the first failure (unpipe, abort, destroy). */
    private readonly onFailure: (err: Error) => void,
  ) {
    this.file = opts.fileName ?? defaultFile;
    this.watchdogMs = opts.watchdogMs ?? DEFAULT_WATCHDOG_MS;
  }

  assertOk(): void {
    if (this.failure) throw this.failure;
  }

  /** Records the first failure (later ones are ignored), tears down and wakes every waiter. */
  fail(err: unknown): Error {
    if (this.failure) return this.failure;
    this.failure =
      err instanceof RenderFailedError || err instanceof RenderStalledError
        ? err
        : new RenderFailedError(this.file, err);
    try {
      this.onFailure(this.failure);
    } finally {
      this.wakeAll();
    }
    return this.failure;
  }

  /** Resolves once `ready()` holds; rejects on failure or when nothing moved for `watchdogMs`. */
  async waitUntil(ready: () => boolean, drainSource?: () => EventEmitter | undefined): Promise<void> {
    let mark = this.progress();
    let since = Date.now();
    while (!ready()) {
      this.assertOk();
      await this.tick(drainSource?.());
      const now = this.progress();
      if (now !== mark) {
        mark = now;
        since = Date.now();
      } else if (Date.now() - since >= this.watchdogMs) {
        throw this.fail(new RenderStalledError(this.file, Date.now() - since));
      }
    }
    this.assertOk();
  }

  /** Awaits `work` under the same failure and stall rules. */
  async guard<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    let rejected = false;
    work.then(
      (v) => {
        settled = true;
        value = v;
        this.wakeAll();
      },
      (e: unknown) => {
        settled = true;
        rejected = true;
        error = e;
        this.wakeAll();
      },
    );
    await this.waitUntil(() => settled);
    if (rejected) throw this.fail(error);
    return value as T;
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** One wait step: the next 'drain' of `emitter`, a wake-up, or POLL_MS, whichever is first. */
  private tick(emitter: EventEmitter | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        emitter?.off('drain', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      emitter?.once('drain', done);
      this.wakers.add(done);
    });
  }
}
