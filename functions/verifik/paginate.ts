/**
 * Reads one report window completely: every validation in [start, end) that matches the filters,
 * each exactly once, in ascending `createdAt` order, as an async stream whose memory is bounded by
 * the pages queued or in flight (per partition, its share of the concurrency + 2, plus the one being
 * consumed), not by the day — plus a compact table of the ids seen (`id-set.ts`, 14 bytes a slot,
 * ≈ 19 bytes a record). A read that cannot prove it is complete fails with `IncompleteReadError` at
 * the end of the stream instead of ending quietly short.
 *
 * Shape: `readWindow()` returns `{ records, diagnostics, snapshot }`. Iterate `records` once; the
 * read starts with the iteration. `diagnostics` resolves with plain-number counters when the stream
 * has been consumed to its end, and rejects with the stream's error if it failed (or if the consumer
 * stopped early). `snapshot()` gives the live counters at any time.
 *
 * Requests go through one limiter shared by the partitions. Verifik's rate limits are unknown, so a
 * 429 halves its concurrency (once per burst) and successes raise it again up to `concurrency`
 * (`adaptive-limit.ts`); the client still retries the refused request itself.
 *
 * How completeness is proven, per partition (one per status with `partitionByStatus`, else one):
 * - Page 1 is read alone: it gives the server's `total` and the page size it really serves (a
 *   server cap below `perPage` is detected here; later pages are numbered with the served size).
 * - The remaining pages are fetched up to `lookahead` ahead of the one being consumed (a sliding
 *   window, not batches) and handed on in page order.
 * - Every record is checked against the window and the filters, because the server silently
 *   ignores parameters it does not know; mismatches are dropped and counted.
 * - Pages are sorted ascending, so once a page ends past the window end nothing later can be in
 *   it: the read stops early, unless `total` changed during the read, in any response including
 *   those still in flight (then positions shifted and only a read to the end, checked against the
 *   final total, proves nothing was skipped).
 * - Records inserted while reading shift later pages: the same record reappears on the next page
 *   (dropped as a duplicate) and `total` grows (the extra tail pages are fetched).
 * - At the end, the distinct records received must reach the largest `total` the server
 *   reported, every page but the last must have been full, and `total` must never have shrunk;
 *   otherwise records may have been skipped, and the read fails. Records inserted into pages
 *   already read cannot be put back into an ordered stream that has moved on: the read fails
 *   rather than return a set that is short of what the server now holds.
 * - Partitions are confirmed at the end (their totals asked again), since one may finish before
 *   records are added to it while the others are still being read.
 */

import { DEFAULT_CONCURRENCY } from '../contract.js';
import { parseInstant } from '../time/instant.js';
import type { ReportWindow } from '../time/window.js';
import { AdaptiveLimiter, type AimdTicket } from './adaptive-limit.js';
import type { RetryInfo, VerifikClient } from './client.js';
import { IncompleteReadError, VerifikRateLimitedError } from './errors.js';
import { ACCEPTED, IdSet, MAX_PARTITIONS } from './id-set.js';
import type { ListQuery } from './query.js';
import { type BiometricValidation, type Page, refId } from './schema.js';

export const DEFAULT_PER_PAGE = 500;
/** Ids pre-allocated for from the server's total (at most 28 MB); beyond it the id table grows as needed. */
const MAX_ID_RESERVATION = 1_500_000;

export interface ReadWindowOptions {
  window: Pick<ReportWindow, 'start' | 'end'>;
  /** Only these statuses (sent as `in_status[]`, or one partition each with `partitionByStatus`); empty = all. */
  statuses?: readonly string[];
  type?: string;
  /** Client id (`where_client`). */
  client?: string;
  perPage?: number;
  /**
   * Requests in flight at once, across all partitions, at most: a 429 halves it for the rest of the
   * read (see `adaptive-limit.ts`), and it climbs back while requests succeed.
   */
  concurrency?: number;
  /** One independent paginated read per status, fetched side by side and merged by `createdAt`. */
  partitionByStatus?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReadProgress) => void;
  now?: () => number;
}

export interface ReadProgress {
  pages: number;
  records: number;
  elapsedMs: number;
}

/** Plain numbers, so that they can go into a manifest as they are. */
export interface ReadDiagnostics {
  /** Pages received (successful page responses). */
  pages: number;
  /** HTTP requests made, retries included. */
  requests: number;
  retries: number;
  /** 429 (Too Many Requests) responses received, retried or not. */
  rateLimited: number;
  /** The lowest concurrency the read went down to after 429s (the configured one if none). */
  lowestConcurrency: number;
  /** Records yielded to the consumer. */
  records: number;
  /** Records received from the server, before any check. */
  received: number;
  duplicatesDropped: number;
  outOfWindowDropped: number;
  filterMismatchDropped: number;
  /** Sum over partitions of the largest `total` the server reported. */
  serverTotal: number;
  /** How much `total` grew during the read (records inserted while reading). */
  totalDrift: number;
  perPageRequested: number;
  /** Smallest page size the server actually served (0 when no page was full). */
  perPageServed: number;
  partitions: number;
  /** Partitions that stopped before their last page because records passed the window end. */
  stoppedEarly: number;
  /** Pages whose records were in no `createdAt` order at all (then no early stop). */
  unsortedPages: number;
  /** Partitions read from the last page back, because the server ignored `sort` and sent newest first. */
  reversedPartitions: number;
  /** Memory of the id table used for de-duplication. */
  idSetBytes: number;
  elapsedMs: number;
}

export interface WindowRead {
  /** Every accepted record, in order. Iterate this or `batches`, once. */
  records: AsyncIterable<BiometricValidation>;
  /** The same records a page at a time (never empty): no per-record await for consumers that loop. */
  batches: AsyncIterable<BiometricValidation[]>;
  diagnostics: Promise<ReadDiagnostics>;
  snapshot(): ReadDiagnostics;
}

interface PartitionCounts {
  /** Records received whose id this partition had not delivered before. */
  distinct: number;
  /** The largest total the server reported for this partition. */
  lastTotal: number;
}

interface Partition {
  index: number;
  label: string;
  query: ListQuery;
  /** The statuses this partition may deliver (its own one when partitioned), null for all. */
  statuses: ReadonlySet<string> | null;
}

/** Accepts a record if it belongs to the window and the filters; the server's word is not enough. */
export function recordVerdict(
  r: BiometricValidation,
  createdAtMs: number,
  f: { startMs: number; endMs: number; statuses: ReadonlySet<string> | null; type?: string; client?: string },
): 'ok' | 'out-of-window' | 'filter-mismatch' {
  if (!(createdAtMs >= f.startMs && createdAtMs < f.endMs)) return 'out-of-window';
  if (f.statuses && !f.statuses.has(r.status)) return 'filter-mismatch';
  if (f.type !== undefined && r.type !== f.type) return 'filter-mismatch';
  if (f.client !== undefined && refId(r.client) !== f.client) return 'filter-mismatch';
  return 'ok';
}

function emptyDiagnostics(perPage: number, partitions: number, concurrency: number): ReadDiagnostics {
  return {
    pages: 0,
    requests: 0,
    retries: 0,
    rateLimited: 0,
    lowestConcurrency: concurrency,
    records: 0,
    received: 0,
    duplicatesDropped: 0,
    outOfWindowDropped: 0,
    filterMismatchDropped: 0,
    serverTotal: 0,
    totalDrift: 0,
    perPageRequested: perPage,
    perPageServed: 0,
    partitions,
    stoppedEarly: 0,
    unsortedPages: 0,
    reversedPartitions: 0,
    idSetBytes: 0,
    elapsedMs: 0,
  };
}

/** A page whose records go from newer to older (and not all at one instant). */
function isNewestFirst(records: readonly BiometricValidation[]): boolean {
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last || !(parseInstant(first.createdAt) > parseInstant(last.createdAt))) return false;
  for (let i = 1; i < records.length; i++) {
    const a = records[i - 1];
    const b = records[i];
    if (a && b && parseInstant(a.createdAt) < parseInstant(b.createdAt)) return false;
  }
  return true;
}

function reversed(page: Page): Page {
  return { ...page, records: [...page.records].reverse() };
}

function isAscending(records: readonly BiometricValidation[]): boolean {
  for (let i = 1; i < records.length; i++) {
    // Strings first (cheap; UTC `Z` instants order as text), confirmed as instants so that a missing
    // fraction (`…00Z` after `…00.001Z` sorts high as text) is not taken for disorder. Mixed UTC
    // offsets within a page would slip past the text test; Verifik sends UTC only.
    const a = records[i - 1];
    const b = records[i];
    if (a && b && a.createdAt > b.createdAt && parseInstant(a.createdAt) > parseInstant(b.createdAt))
      return false;
  }
  return true;
}

function buildPartitions(opts: ReadWindowOptions, perPage: number): Partition[] {
  const base: ListQuery = {
    perPage,
    populates: ['client', 'project'],
    sort: 'createdAt',
    // `where>_` is strict: one millisecond before start makes the start itself included.
    createdAfter: new Date(opts.window.start.getTime() - 1),
    createdBefore: new Date(opts.window.end.getTime()),
    ...(opts.type !== undefined ? { type: opts.type } : {}),
    ...(opts.client !== undefined ? { client: opts.client } : {}),
  };
  const statuses = opts.statuses && opts.statuses.length > 0 ? [...new Set(opts.statuses)] : undefined;
  if (opts.partitionByStatus && statuses && statuses.length > 1) {
    if (statuses.length > MAX_PARTITIONS) {
      throw new RangeError(
        `partitionByStatus supports at most ${MAX_PARTITIONS} statuses, got ${statuses.length}.`,
      );
    }
    return statuses.map((s, index) => ({
      index,
      label: `status ${s}`,
      query: { ...base, status: s },
      statuses: new Set([s]),
    }));
  }
  const query = statuses ? { ...base, statusIn: statuses } : base;
  return [
    {
      index: 0,
      label: statuses ? `statuses ${statuses.join(',')}` : 'all statuses',
      query,
      statuses: statuses ? new Set(statuses) : null,
    },
  ];
}

export function readWindow(client: VerifikClient, opts: ReadWindowOptions): WindowRead {
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

  const partitions = buildPartitions(opts, perPage);
  const now = opts.now ?? (() => performance.now());
  const diag = emptyDiagnostics(perPage, partitions.length, concurrency);
  const ids = new IdSet();
  // Shared by all partitions: the server's rate limit is per client, not per query.
  const limit = new AdaptiveLimiter({ max: concurrency });
  // Pages queued per partition: its share of the requests plus two, so that a request starts
  // (through the shared limiter) the moment another completes, not when the consumer gets to the
  // next page. Not more: a page that arrives early waits parsed, and its records then outlive the
  // young generation (a 1M-record report: twice the share measured 286–297 MB peak RSS, share + 2
  // 268–279 MB, at the same speed).
  const lookahead = Math.max(1, Math.ceil(concurrency / partitions.length)) + 2;
  const filterOf = (part: Partition) => ({
    startMs,
    endMs,
    statuses: part.statuses,
    ...(opts.type !== undefined ? { type: opts.type } : {}),
    ...(opts.client !== undefined ? { client: opts.client } : {}),
  });
  let started = 0;
  let acceptedSoFar = 0;
  const countRetry = (info: RetryInfo) => {
    diag.retries++;
    diag.requests++;
    if (info.status === 429) diag.rateLimited++;
  };
  /** `listPage` with the read's counting; a 429 also lowers the concurrency when `ticket` is given. */
  const listPage = async (query: ListQuery, signal: AbortSignal, ticket?: AimdTicket): Promise<Page> => {
    diag.requests++;
    const onRetry = ticket
      ? (info: RetryInfo) => {
          countRetry(info);
          if (info.status === 429) limit.rateLimited(ticket);
        }
      : countRetry;
    try {
      return await client.listPage(query, { signal, onRetry });
    } catch (error) {
      // The 429 that used up the retries is not reported through onRetry.
      if (error instanceof VerifikRateLimitedError) diag.rateLimited++;
      throw error;
    }
  };

  const snapshot = (): ReadDiagnostics => ({
    ...diag,
    lowestConcurrency: limit.lowest,
    idSetBytes: ids.bytes,
    elapsedMs: started === 0 ? 0 : Math.round(now() - started),
  });

  /**
   * Pages of one partition, in page order. At most `lookahead` pages are queued, in flight or
   * received but not yet consumed (the limiter keeps `concurrency` of them on the wire), so memory
   * is bounded by lookahead + 1 pages, the +1 being the one the consumer is on.
   */
  async function* pagesOf(
    part: Partition,
    counts: PartitionCounts,
    readSignal: AbortSignal,
  ): AsyncGenerator<Page> {
    // Aborts this partition's look-ahead when it stops early or fails, without touching the others.
    const own = new AbortController();
    const signal = AbortSignal.any(
      opts.signal ? [opts.signal, readSignal, own.signal] : [readSignal, own.signal],
    );
    const totals = { first: -1, max: 0, min: Number.POSITIVE_INFINITY };
    const fetchPage = (page: number): Promise<Page> =>
      limit.run(async (ticket) => {
        const result = await listPage({ ...part.query, page }, signal, ticket);
        diag.pages++;
        diag.received += result.records.length;
        const total = result.total ?? 0;
        if (totals.first < 0) totals.first = total;
        totals.max = Math.max(totals.max, total);
        totals.min = Math.min(totals.min, total);
        return result;
      });
    const drifted = () => totals.max !== totals.first || totals.min !== totals.first;

    const inflight = new Map<number, Promise<Page>>();
    const launch = (page: number) => {
      const p = fetchPage(page);
      p.catch(() => {}); // awaited in turn, or abandoned after an early stop or a failure
      inflight.set(page, p);
    };
    const take = (page: number): Promise<Page> => {
      const pending = inflight.get(page) ?? fetchPage(page);
      inflight.delete(page);
      return pending;
    };
    /** Whether the read may stop after `page`, which the consumer has just had. */
    const mayStopAfter = async (page: Page): Promise<boolean> => {
      if (!endsPastWindow(page) || drifted()) return false;
      // A response still in flight may reveal inserts; then stopping here would be unproven.
      if (inflight.size > 0) await Promise.allSettled(inflight.values());
      return !drifted();
    };
    let stopped = false;
    let newestFirst = false;
    let served = perPage;
    const shortPages: number[] = [];
    try {
      const first = await fetchPage(1);
      const firstCount = first.records.length;
      const total = first.total ?? 0;
      if (firstCount === 0 && total > 0) {
        throw new IncompleteReadError(
          `${part.label}: the server reports ${total} records but its first page is empty`,
        );
      }
      // The page size the server really serves: a first page shorter than the total reveals a cap.
      if (firstCount < total) served = firstCount;
      // Sized once from the total; capped, since a server that ignores the window reports far more.
      ids.reserve(Math.min(total, MAX_ID_RESERVATION));
      diag.perPageServed = diag.perPageServed === 0 ? served : Math.min(diag.perPageServed, served);
      let lastPage = Math.max(1, Math.ceil(total / served));
      if (isNewestFirst(first.records)) {
        // The server ignored sort=createdAt (its default is newest first): read the pages from the
        // last one back, each reversed, so that the stream is still ascending.
        newestFirst = true;
        diag.reversedPartitions++;
        let next = lastPage;
        const launchDownTo = (lowest: number) => {
          for (; next >= Math.max(2, lowest); next--) launch(next);
        };
        for (let want = lastPage; want >= 2 && !stopped; want--) {
          launchDownTo(want - lookahead + 1);
          const page = reversed(await take(want));
          launchDownTo(want - lookahead);
          // Every page but the highest-numbered one must be full.
          if (want < lastPage && page.records.length < served) shortPages.push(want);
          yield page;
          stopped = await mayStopAfter(page);
        }
        if (!stopped) yield reversed(first);
      } else {
        yield first;
        let lastCount = firstCount;
        stopped = await mayStopAfter(first);

        let next = 2;
        let want = 2;
        const launchUpTo = (last: number) => {
          for (; next <= Math.min(last, lastPage); next++) launch(next);
        };
        while (!stopped) {
          if (want > lastPage) {
            // Records inserted during the read grow `total`: fetch the tail they pushed out, starting
            // again at the old last page if it was partial (its end may have moved).
            const grown = Math.ceil(totals.max / served);
            if (grown <= lastPage) break;
            if (lastCount < served) want = lastPage;
            lastPage = grown;
            next = Math.max(next, want + 1);
          }
          launchUpTo(want + lookahead - 1);
          const page = await take(want);
          // Keep `lookahead` requests busy while this page is being consumed.
          launchUpTo(want + lookahead);
          // Every page before the last must be full, or records between them may be missing.
          if (lastCount < served) shortPages.push(want - 1);
          lastCount = page.records.length;
          yield page;
          stopped = await mayStopAfter(page);
          want++;
        }
      }
    } finally {
      own.abort(new Error('partition finished'));
      inflight.clear();
    }
    if (newestFirst && drifted()) {
      throw new IncompleteReadError(
        `${part.label}: the server ignored sort=createdAt (it sends the newest first, so the pages were read from the last one back) and its total changed from ${totals.first} to ${totals.max} during the read, so records may have moved into pages already read`,
      );
    }
    counts.lastTotal = totals.max;
    if (stopped) diag.stoppedEarly++;
    diag.serverTotal += totals.max;
    diag.totalDrift += totals.max - Math.max(0, totals.first);
    assertComplete(part.label, {
      stopped,
      drifted: drifted(),
      shortPages,
      served,
      totals,
      distinct: counts.distinct,
    });
  }

  const endsPastWindow = (page: Page): boolean => {
    const last = page.records.at(-1);
    if (!last) return false;
    if (!isAscending(page.records)) {
      diag.unsortedPages++;
      return false;
    }
    return parseInstant(last.createdAt) >= endMs;
  };

  /** Accepted records of one partition, a batch per page. */
  async function* batchesOf(
    part: Partition,
    counts: PartitionCounts,
    readSignal: AbortSignal,
  ): AsyncGenerator<BiometricValidation[]> {
    const bit = 1 << part.index;
    const filter = filterOf(part);
    for await (const page of pagesOf(part, counts, readSignal)) {
      const accepted: BiometricValidation[] = [];
      for (const r of page.records) {
        const ms = parseInstant(r.createdAt);
        // Every record the server sent counts towards its total, whether kept or not.
        const before = ids.mark(r._id, ms, part.index);
        if ((before & bit) !== 0) {
          diag.duplicatesDropped++;
          continue;
        }
        counts.distinct++;
        const verdict = recordVerdict(r, ms, filter);
        if (verdict === 'out-of-window') diag.outOfWindowDropped++;
        else if (verdict === 'filter-mismatch') diag.filterMismatchDropped++;
        else if ((before & ACCEPTED) !== 0)
          diag.duplicatesDropped++; // another partition yielded it
        else {
          ids.acceptLast();
          accepted.push(r);
        }
      }
      acceptedSoFar += accepted.length;
      yield accepted;
      opts.onProgress?.({
        pages: diag.pages,
        records: acceptedSoFar,
        elapsedMs: Math.round(now() - started),
      });
    }
  }

  /**
   * Partitions are read side by side, so one may finish before records are added to it while the
   * others are still being read, and nothing in its own responses would show it. So once all are
   * read, all ask for their totals again at once (one record a request). Partition p is then known
   * unchanged from its last page to its confirmation, and every confirmation comes after every
   * last page: the merged stream is the server's state at the moment the last page was served.
   * A changed total may predate that moment, so it fails the read.
   */
  async function confirmUnchanged(counts: readonly PartitionCounts[], signal: AbortSignal): Promise<void> {
    if (partitions.length < 2) return;
    // Outside the limiter (one request per partition, at most MAX_PARTITIONS): their 429s are
    // counted but lower nothing, as no page requests follow them.
    const confirm = async (part: Partition, c: PartitionCounts) => {
      const page = await listPage({ ...part.query, page: 1, perPage: 1 }, signal);
      if ((page.total ?? 0) !== c.lastTotal) {
        throw new IncompleteReadError(
          `${part.label}: its total changed from ${c.lastTotal} to ${page.total ?? 0} while the other partitions were read, so records added to it may be missing`,
        );
      }
    };
    await Promise.all(partitions.map((part, i) => confirm(part, counts[i] as PartitionCounts)));
  }

  async function* run(): AsyncGenerator<BiometricValidation[]> {
    started = now();
    const stop = new AbortController();
    try {
      const counts = partitions.map((): PartitionCounts => ({ distinct: 0, lastTotal: 0 }));
      const streams = partitions.map((p, i) => batchesOf(p, counts[i] as PartitionCounts, stop.signal));
      const merged = streams.length === 1 && streams[0] ? streams[0] : mergeByCreatedAt(streams);
      yield* merged;
      await confirmUnchanged(counts, stop.signal);
    } finally {
      // Abandons look-ahead requests after an early stop, a failure or a consumer that broke off.
      stop.abort(new Error('read finished'));
      diag.idSetBytes = ids.bytes;
      diag.elapsedMs = Math.round(now() - started);
    }
  }

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
    const inner = run();
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
            settle.resolve(snapshot());
            return { done: true, value: undefined };
          }
          if (step.value.length === 0) continue;
          diag.records += step.value.length;
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
  return { records, batches, diagnostics, snapshot };
}

/**
 * The checks that prove a partition complete. Inserts during the read only shift records to later
 * positions: they produce duplicates and a growing `total`, and a record can be missed only if it
 * moved between pages read at different times, which leaves the distinct count short of the final
 * total. A shrinking `total` (deletions, status changes) could hide a gap behind the extra records
 * read earlier, so it is refused.
 */
export function assertComplete(
  label: string,
  r: {
    stopped: boolean;
    drifted: boolean;
    shortPages: readonly number[];
    served: number;
    totals: { first: number; max: number; min: number };
    distinct: number;
  },
): void {
  if (r.totals.min < r.totals.first) {
    throw new IncompleteReadError(
      `${label}: the server's total fell from ${r.totals.first} to ${r.totals.min} during the read (records deleted or changed), so positions shifted and records may have been skipped`,
    );
  }
  // With a stable total, a short page in the middle is a gap; with drift the distinct count decides.
  if (!r.drifted && r.shortPages.length > 0) {
    throw new IncompleteReadError(
      `${label}: page(s) ${r.shortPages.slice(0, 5).join(', ')} held fewer than ${r.served} records although later pages followed, so records between them may be missing`,
    );
  }
  if (!r.stopped && r.distinct < r.totals.max) {
    throw new IncompleteReadError(
      `${label}: received ${r.distinct} distinct records but the server reports ${r.totals.max}${r.drifted ? ` (its total grew from ${r.totals.first} during the read; records inserted where pages had already been read were missed)` : ''}`,
    );
  }
}

/** K-way merge of ascending batch streams by `createdAt` (ties: lower partition first). */
async function* mergeByCreatedAt(
  streams: AsyncGenerator<BiometricValidation[]>[],
): AsyncGenerator<BiometricValidation[]> {
  interface Cursor {
    stream: AsyncGenerator<BiometricValidation[]>;
    batch: BiometricValidation[];
    at: number;
    head: number;
  }
  const cursors: Cursor[] = [];
  const refill = async (c: Cursor): Promise<boolean> => {
    for (;;) {
      const step = await c.stream.next();
      if (step.done) return false;
      if (step.value.length > 0) {
        c.batch = step.value;
        c.at = 0;
        c.head = parseInstant(step.value[0]?.createdAt ?? '');
        return true;
      }
    }
  };
  try {
    // Start every partition at once so their first pages are fetched side by side.
    const initial = streams.map((stream) => ({ stream, batch: [], at: 0, head: 0 }) as Cursor);
    const alive = await Promise.all(initial.map(refill));
    initial.forEach((c, i) => {
      if (alive[i]) cursors.push(c);
    });
    let out: BiometricValidation[] = [];
    while (cursors.length > 0) {
      let best = 0;
      for (let i = 1; i < cursors.length; i++)
        if ((cursors[i]?.head ?? 0) < (cursors[best]?.head ?? 0)) best = i;
      const c = cursors[best] as Cursor;
      const r = c.batch[c.at] as BiometricValidation;
      out.push(r);
      c.at++;
      if (c.at < c.batch.length) {
        c.head = parseInstant(c.batch[c.at]?.createdAt ?? '');
        if (out.length >= 1000) {
          yield out;
          out = [];
        }
      } else {
        // Hand on what is merged (never empty: a record was just added) before awaiting this partition's next page.
        yield out;
        out = [];
        if (!(await refill(c))) cursors.splice(best, 1);
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.allSettled(streams.map((s) => s.return(undefined)));
  }
}
