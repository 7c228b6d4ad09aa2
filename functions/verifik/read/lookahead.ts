/**
 * The pages of one partition requested ahead of the one being consumed: a sliding window, not
 * batches. The reader says how far ahead (`upTo`, `downTo`) and takes the pages in its own order;
 * a page taken before it was requested is fetched then.
 */

import type { Page } from '../schema.js';

export class Lookahead {
  readonly #inflight = new Map<number, Promise<Page>>();
  readonly #fetch: (page: number) => Promise<Page>;
  /** The next page to request. */
  next = 2;

  constructor(fetch: (page: number) => Promise<Page>) {
    this.#fetch = fetch;
  }

  /** Requests the pages from `next` up to `last`. */
  upTo(last: number): void {
    for (; this.next <= last; this.next++) this.#launch(this.next);
  }

  /** Requests the pages from `next` down to `lowest`, never page 1 (read alone, first). */
  downTo(lowest: number): void {
    const stop = Math.max(2, lowest);
    for (; this.next >= stop; this.next--) this.#launch(this.next);
  }

  take(page: number): Promise<Page> {
    const pending = this.#inflight.get(page) ?? this.#fetch(page);
    this.#inflight.delete(page);
    return pending;
  }

  /** Pages requested and not yet taken. */
  get size(): number {
    return this.#inflight.size;
  }

  /** Resolves once every page requested and not taken has arrived or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#inflight.values());
  }

  /** Forgets the pages not taken (their requests are aborted by the caller's signal). */
  clear(): void {
    this.#inflight.clear();
  }

  #launch(page: number): void {
    const p = this.#fetch(page);
    p.catch(() => {}); // awaited in turn, or abandoned after an early stop or a failure
    this.#inflight.set(page, p);
  }
}
