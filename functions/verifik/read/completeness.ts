/**
 * The proof that a read delivered every record the server holds for the window, per partition.
 * A read that cannot prove it fails with `IncompleteReadError` instead of ending quietly short.
 *
 * - Page 1 is read alone: it gives the server's `total` and the page size it really serves.
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

import { IncompleteReadError } from '../errors.js';
import type { Partition } from './partitions.js';

/** What one partition's read has established so far, for its proof. */
export class PartitionLedger {
  /** The server's `total`: the first reported (-1 before any), and the largest and smallest since. */
  readonly totals = { first: -1, max: 0, min: Number.POSITIVE_INFINITY };
  /** Records received whose id this partition had not delivered before. */
  distinct = 0;
  /** The largest total the server reported, fixed once the partition is read. */
  lastTotal = 0;
  /** The page size the server serves (the requested one until page 1 says otherwise). */
  served: number;
  /** Pages that held fewer than `served` records although later pages followed. */
  readonly shortPages: number[] = [];
  /** Stopped before its last page because records passed the window end. */
  stopped = false;
  /** Read from the last page back, because the server ignored `sort` and sent newest first. */
  newestFirst = false;

  constructor(
    readonly label: string,
    perPage: number,
  ) {
    this.served = perPage;
  }

  seeTotal(total: number): void {
    const t = this.totals;
    if (t.first < 0) t.first = total;
    t.max = Math.max(t.max, total);
    t.min = Math.min(t.min, total);
  }

  /** `total` changed during the read: positions shifted. */
  get drifted(): boolean {
    const t = this.totals;
    return t.max !== t.first || t.min !== t.first;
  }

  /** Page 1 holds nothing while the server counts records: nothing read after it could be trusted. */
  checkFirstPage(count: number, total: number): void {
    if (count === 0 && total > 0) {
      throw new IncompleteReadError(
        `${this.label}: the server reports ${total} records but its first page is empty`,
      );
    }
  }

  /** Read newest first, inserts land in pages already read and cannot be detected by the count. */
  checkNewestFirst(): void {
    if (this.newestFirst && this.drifted) {
      throw new IncompleteReadError(
        `${this.label}: the server ignored sort=createdAt (it sends the newest first, so the pages were read from the last one back) and its total changed from ${this.totals.first} to ${this.totals.max} during the read, so records may have moved into pages already read`,
      );
    }
  }

  verify(): void {
    assertComplete(this.label, {
      stopped: this.stopped,
      drifted: this.drifted,
      shortPages: this.shortPages,
      served: this.served,
      totals: this.totals,
      distinct: this.distinct,
    });
  }
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

/**
 * Partitions are read side by side, so one may finish before records are added to it while the
 * others are still being read, and nothing in its own responses would show it. So once all are
 * read, all ask for their totals again at once (`totalNow`). Partition p is then known unchanged
 * from its last page to its confirmation, and every confirmation comes after every last page: the
 * merged stream is the server's state at the moment the last page was served. A changed total may
 * predate that moment, so it fails the read.
 */
export async function confirmUnchanged(
  partitions: readonly Partition[],
  ledgers: readonly PartitionLedger[],
  totalNow: (part: Partition) => Promise<number>,
): Promise<void> {
  if (partitions.length < 2) return;
  const confirm = async (part: Partition, ledger: PartitionLedger) => {
    const total = await totalNow(part);
    if (total !== ledger.lastTotal) {
      throw new IncompleteReadError(
        `${part.label}: its total changed from ${ledger.lastTotal} to ${total} while the other partitions were read, so records added to it may be missing`,
      );
    }
  };
  await Promise.all(partitions.map((part, i) => confirm(part, ledgers[i] as PartitionLedger)));
}
