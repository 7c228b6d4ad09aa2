/**
 * Reads one report window completely: every validation in [start, end) that matches the filters,
 * each exactly once, in ascending `createdAt` order, as an async stream whose memory is bounded by
 * the pages queued or in flight (per partition, its share of the concurrency + 2, plus the one being
 * consumed), not by the day — plus a compact table of the ids seen (`id-set.ts`, 14 bytes a slot,
 * ≈ 19 bytes a record). A read that cannot prove it is complete (`completeness.ts`) fails with
 * `IncompleteReadError` at the end of the stream instead of ending quietly short.
 *
 * Shape: `readWindow()` returns `{ records, batches, diagnostics, snapshot }` (`stream.ts`). Iterate
 * `records` or `batches`, once; the read starts with the iteration. `diagnostics` resolves with
 * plain-number counters when the stream has been consumed to its end, and rejects with the stream's
 * error if it failed (or if the consumer stopped early). `snapshot()` gives the live counters at any
 * time.
 *
 * Requests go through one limiter shared by the partitions. Verifik's rate limits are unknown, so a
 * 429 halves its concurrency (once per burst) and successes raise it again up to `concurrency`
 * (`adaptive-limit.ts`); the client still retries the refused request itself.
 *
 * `WindowReader` follows a read from top to bottom: plan the partitions (constructor), then per
 * partition fetch its pages ahead of the consumer under the limiter (`#pagesOf`), keep each record
 * once (`#acceptedOf`), prove the partition complete (`#closePartition`), merge the partitions and
 * confirm their totals (`run`); the counters (`snapshot`) are the diagnostics.
 */

import { DEFAULT_CONCURRENCY } from '../../contract.js';
import { parseInstant } from '../../time/instant.js';
import { AdaptiveLimiter, type AimdTicket } from '../adaptive-limit.js';
import type { RetryInfo, VerifikClient } from '../client.js';
import { VerifikRateLimitedError } from '../errors.js';
import { IdSet } from '../id-set.js';
import type { ListQuery } from '../query.js';
import type { BiometricValidation, Page } from '../schema.js';
import { confirmUnchanged, PartitionLedger } from './completeness.js';
import { emptyDiagnostics, type ReadDiagnostics, type ReadProgress } from './diagnostics.js';
import { Lookahead } from './lookahead.js';
import { acceptPage, isAscending, isNewestFirst, mergeByCreatedAt, reversed } from './order.js';
import {
  lookaheadFor,
  type Partition,
  planPages,
  planPartitions,
  type WindowSelection,
} from './partitions.js';
import type { SharedBackoff } from './shared-backoff.js';
import { type BatchSource, streamOf, type WindowRead } from './stream.js';

export const DEFAULT_PER_PAGE = 500;
/** Ids pre-allocated for from the server's total (at most 28 MB); beyond it the id table grows as needed. */
const MAX_ID_RESERVATION = 1_500_000;

export interface ReadWindowOptions extends WindowSelection {
  perPage?: number;
  /**
   * Requests in flight at once, across all partitions, at most: a 429 halves it for the rest of the
   * read (see `adaptive-limit.ts`), and it climbs back while requests succeed.
   */
  concurrency?: number;
  signal?: AbortSignal;
  /**
   * Shared with the other readers of the same report (a fanned-out report's slices): one AIMD
   * for all of them (shared-backoff.ts). This read then follows the shared level instead of
   * raising its own; its own 429 still halves its level at once.
   */
  sharedBackoff?: SharedBackoff;
  onProgress?: (progress: ReadProgress) => void;
  now?: () => number;
}

export function readWindow(client: VerifikClient, opts: ReadWindowOptions): WindowRead {
  return streamOf(new WindowReader(client, opts));
}

class WindowReader implements BatchSource {
  readonly #client: VerifikClient;
  readonly #opts: ReadWindowOptions;
  readonly #perPage: number;
  readonly #endMs: number;
  readonly #partitions: readonly Partition[];
  readonly #lookahead: number;
  readonly #now: () => number;
  readonly #diag: ReadDiagnostics;
  readonly #ids = new IdSet();
  /** Shared by all partitions: the server's rate limit is per client, not per query. */
  readonly #limit: AdaptiveLimiter;
  #started = 0;
  #acceptedSoFar = 0;
  /** Counts a retried request. The confirmations pass it as is; page requests also tell the limiter of a 429. */
  readonly #countRetry = (info: RetryInfo): void => {
    this.#diag.retries++;
    this.#diag.requests++;
    if (info.status === 429) this.#diag.rateLimited++;
  };

  constructor(client: VerifikClient, opts: ReadWindowOptions) {
    const perPage = opts.perPage ?? DEFAULT_PER_PAGE;
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(perPage) || perPage < 1)
      throw new RangeError(`perPage must be a whole number ≥ 1, got ${perPage}.`);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}.`);
    }
    const startMs = opts.window.start.getTime();
    const endMs = opts.window.end.getTime();
    if (!(endMs > startMs)) throw new RangeError('The window must end after it starts.');

    this.#client = client;
    this.#opts = opts;
    this.#perPage = perPage;
    this.#endMs = endMs;
    this.#partitions = planPartitions(opts, perPage);
    this.#now = opts.now ?? (() => performance.now());
    this.#diag = emptyDiagnostics(perPage, this.#partitions.length, concurrency);
    this.#limit = new AdaptiveLimiter({
      max: concurrency,
      // With a shared backoff the board raises the level, on the evidence of every slice.
      ...(opts.sharedBackoff ? { increaseAfter: () => Number.POSITIVE_INFINITY } : {}),
    });
    this.#lookahead = lookaheadFor(concurrency, this.#partitions.length);
  }

  /** The partitions side by side, merged, then confirmed; batches may be empty. */
  async *run(): AsyncGenerator<BiometricValidation[]> {
    this.#started = this.#now();
    const stop = new AbortController();
    try {
      const partitions = this.#partitions;
      const ledgers = partitions.map((p) => new PartitionLedger(p.label, this.#perPage));
      const streams = partitions.map((p, i) =>
        this.#acceptedOf(p, ledgers[i] as PartitionLedger, stop.signal),
      );
      const merged = streams.length === 1 && streams[0] ? streams[0] : mergeByCreatedAt(streams);
      yield* merged;
      // Outside the limiter (one request per partition, at most MAX_PARTITIONS): their 429s are
      // counted but lower nothing, as no page requests follow them.
      await confirmUnchanged(partitions, ledgers, async (part) => {
        const page = await this.#listPage({ ...part.query, page: 1, perPage: 1 }, stop.signal);
        return page.total ?? 0;
      });
    } finally {
      // Abandons look-ahead requests after an early stop, a failure or a consumer that broke off.
      stop.abort(new Error('read finished'));
      this.#diag.idSetBytes = this.#ids.bytes;
      this.#diag.elapsedMs = Math.round(this.#now() - this.#started);
    }
  }

  delivered(records: number): void {
    this.#diag.records += records;
  }

  snapshot(): ReadDiagnostics {
    return {
      ...this.#diag,
      lowestConcurrency: this.#limit.lowest,
      idSetBytes: this.#ids.bytes,
      elapsedMs: this.#started === 0 ? 0 : Math.round(this.#now() - this.#started),
    };
  }

  /** Accepted records of one partition, a batch per page. */
  async *#acceptedOf(
    part: Partition,
    ledger: PartitionLedger,
    readSignal: AbortSignal,
  ): AsyncGenerator<BiometricValidation[]> {
    const diag = this.#diag;
    const ids = this.#ids;
    for await (const page of this.#pagesOf(part, ledger, readSignal)) {
      const accepted = acceptPage(page.records, part, ledger, ids, diag);
      this.#acceptedSoFar += accepted.length;
      yield accepted;
      this.#opts.onProgress?.({
        pages: diag.pages,
        records: this.#acceptedSoFar,
        elapsedMs: Math.round(this.#now() - this.#started),
      });
    }
  }

  /**
   * Pages of one partition, in page order. At most `lookahead` pages are queued, in flight or
   * received but not yet consumed (the limiter keeps `concurrency` of them on the wire), so memory
   * is bounded by lookahead + 1 pages, the +1 being the one the consumer is on. Page 1 is read
   * alone: it gives the total, the served page size and the order the server really sorts in.
   */
  async *#pagesOf(part: Partition, ledger: PartitionLedger, readSignal: AbortSignal): AsyncGenerator<Page> {
    // Aborts this partition's look-ahead when it stops early or fails, without touching the others.
    const own = new AbortController();
    const external = this.#opts.signal;
    const signal = AbortSignal.any(external ? [external, readSignal, own.signal] : [readSignal, own.signal]);
    const fetch = (page: number) => this.#fetchPage(part.query, page, ledger, signal);
    const ahead = new Lookahead(fetch);
    try {
      const first = await fetch(1);
      const lastPage = this.#planPages(first, ledger);
      if (isNewestFirst(first.records)) yield* this.#newestFirstPages(first, lastPage, ledger, ahead);
      else yield* this.#ascendingPages(first, lastPage, ledger, ahead);
    } finally {
      own.abort(new Error('partition finished'));
      ahead.clear();
    }
    this.#closePartition(ledger);
  }

  /** Sizes the partition's read from its first page; returns its last page. */
  #planPages(first: Page, ledger: PartitionLedger): number {
    const count = first.records.length;
    const total = first.total ?? 0;
    ledger.checkFirstPage(count, total);
    const { served, lastPage } = planPages(count, total, this.#perPage);
    ledger.served = served;
    // Sized once from the total; capped, since a server that ignores the window reports far more.
    this.#ids.reserve(Math.min(total, MAX_ID_RESERVATION));
    const diag = this.#diag;
    diag.perPageServed = diag.perPageServed === 0 ? served : Math.min(diag.perPageServed, served);
    return lastPage;
  }

  async *#ascendingPages(
    first: Page,
    lastPage: number,
    ledger: PartitionLedger,
    ahead: Lookahead,
  ): AsyncGenerator<Page> {
    const lookahead = this.#lookahead;
    const served = ledger.served;
    yield first;
    let lastCount = first.records.length;
    ledger.stopped = await this.#mayStopAfter(first, ledger, ahead);

    let want = 2;
    while (!ledger.stopped) {
      if (want > lastPage) {
        // Records inserted during the read grow `total`: fetch the tail they pushed out, starting
        // again at the old last page if it was partial (its end may have moved).
        const grown = Math.ceil(ledger.totals.max / served);
        if (grown <= lastPage) break;
        if (lastCount < served) want = lastPage;
        lastPage = grown;
        ahead.next = Math.max(ahead.next, want + 1);
      }
      ahead.upTo(Math.min(want + lookahead - 1, lastPage));
      const page = await ahead.take(want);
      // Keep `lookahead` requests busy while this page is being consumed.
      ahead.upTo(Math.min(want + lookahead, lastPage));
      // Every page before the last must be full, or records between them may be missing.
      if (lastCount < served) ledger.shortPages.push(want - 1);
      lastCount = page.records.length;
      yield page;
      ledger.stopped = await this.#mayStopAfter(page, ledger, ahead);
      want++;
    }
  }

  /**
   * The server ignored sort=createdAt (its default is newest first): read the pages from the last
   * one back, each reversed, so that the stream is still ascending.
   */
  async *#newestFirstPages(
    first: Page,
    lastPage: number,
    ledger: PartitionLedger,
    ahead: Lookahead,
  ): AsyncGenerator<Page> {
    const lookahead = this.#lookahead;
    ledger.newestFirst = true;
    this.#diag.reversedPartitions++;
    ahead.next = lastPage;
    for (let want = lastPage; want >= 2 && !ledger.stopped; want--) {
      ahead.downTo(want - lookahead + 1);
      const page = reversed(await ahead.take(want));
      ahead.downTo(want - lookahead);
      // Every page but the highest-numbered one must be full.
      if (want < lastPage && page.records.length < ledger.served) ledger.shortPages.push(want);
      yield page;
      ledger.stopped = await this.#mayStopAfter(page, ledger, ahead);
    }
    if (!ledger.stopped) yield reversed(first);
  }

  /** Whether the read may stop after `page`, which the consumer has just had. */
  async #mayStopAfter(page: Page, ledger: PartitionLedger, ahead: Lookahead): Promise<boolean> {
    if (!this.#endsPastWindow(page) || ledger.drifted) return false;
    // A response still in flight may reveal inserts; then stopping here would be unproven.
    if (ahead.size > 0) await ahead.settled();
    return !ledger.drifted;
  }

  #endsPastWindow(page: Page): boolean {
    const last = page.records.at(-1);
    if (!last) return false;
    if (!isAscending(page.records)) {
      this.#diag.unsortedPages++;
      return false;
    }
    return parseInstant(last.createdAt) >= this.#endMs;
  }

  /** Once a partition's pages are all read (or it stopped early): its counters, then its proof. */
  #closePartition(ledger: PartitionLedger): void {
    ledger.checkNewestFirst();
    const { totals } = ledger;
    ledger.lastTotal = totals.max;
    const diag = this.#diag;
    if (ledger.stopped) diag.stoppedEarly++;
    diag.serverTotal += totals.max;
    diag.totalDrift += totals.max - Math.max(0, totals.first);
    ledger.verify();
  }

  /** One page under the shared limiter, its total recorded for the partition's proof. */
  #fetchPage(query: ListQuery, page: number, ledger: PartitionLedger, signal: AbortSignal): Promise<Page> {
    const shared = this.#opts.sharedBackoff;
    return this.#limit.run(async (ticket) => {
      if (shared) this.#limit.follow(await shared.beforeRequest(signal));
      const result = await this.#listPage({ ...query, page }, signal, ticket);
      if (shared && !ticket.throttled) shared.succeeded();
      this.#diag.pages++;
      this.#diag.received += result.records.length;
      ledger.seeTotal(result.total ?? 0);
      return result;
    });
  }

  /** `listPage` with the read's counting; a 429 also lowers the concurrency when `ticket` is given. */
  async #listPage(query: ListQuery, signal: AbortSignal, ticket?: AimdTicket): Promise<Page> {
    this.#diag.requests++;
    const onRetry = ticket
      ? (info: RetryInfo) => {
          this.#countRetry(info);
          if (info.status !== 429) return;
          // Once per burst, as the limiter decides; at the level's floor too, for the pause.
          const news = this.#limit.isFresh(ticket);
          this.#limit.rateLimited(ticket);
          if (news) this.#opts.sharedBackoff?.throttled(info.delayMs);
        }
      : this.#countRetry;
    try {
      return await this.#client.listPage(query, { signal, onRetry });
    } catch (error) {
      // The 429 that used up the retries is not reported through onRetry.
      if (error instanceof VerifikRateLimitedError) this.#diag.rateLimited++;
      throw error;
    }
  }
}
