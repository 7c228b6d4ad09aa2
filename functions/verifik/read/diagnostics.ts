/** What a read reports about itself: progress while it runs, counters when it ends. */

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

export function emptyDiagnostics(perPage: number, partitions: number, concurrency: number): ReadDiagnostics {
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
