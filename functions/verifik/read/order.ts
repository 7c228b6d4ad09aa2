/**
 * Each record once, in ascending `createdAt` order: the order a page came in, the records of a page
 * that are kept (de-duplicated with the id table, checked against the partition's filter), and the
 * merge of the partitions' streams.
 */

import { parseInstant } from '../../time/instant.js';
import { ACCEPTED, type IdSet } from '../id-set.js';
import type { BiometricValidation, Page } from '../schema.js';
import type { PartitionLedger } from './completeness.js';
import type { ReadDiagnostics } from './diagnostics.js';
import { type Partition, recordVerdict } from './partitions.js';

/** A page whose records go from newer to older (and not all at one instant). */
export function isNewestFirst(records: readonly BiometricValidation[]): boolean {
  const first = records[0];
  const last = records.at(-1);
  // Stryker disable next-line LogicalOperator: `first` and `last` are both undefined (an empty page) or both defined, so `&&` and `||` between their tests agree.
  if (!first || !last || !(parseInstant(first.createdAt) > parseInstant(last.createdAt))) return false;
  // Stryker disable next-line EqualityOperator: with `<=` the extra step reads records[length], undefined, which the `a && b` guard skips.
  for (let i = 1; i < records.length; i++) {
    const a = records[i - 1];
    const b = records[i];
    // Stryker disable next-line ConditionalExpression,LogicalOperator: `a && b` only narrows the type (noUncheckedIndexedAccess); both are defined for every i the loop reaches.
    if (a && b && parseInstant(a.createdAt) < parseInstant(b.createdAt)) return false;
  }
  return true;
}

export function reversed(page: Page): Page {
  return { ...page, records: [...page.records].reverse() };
}

export function isAscending(records: readonly BiometricValidation[]): boolean {
  // Stryker disable next-line EqualityOperator: with `<=` the extra step reads records[length], undefined, which the `a && b` guard skips.
  for (let i = 1; i < records.length; i++) {
    // Instants, not text: a text test first (UTC `Z` instants mostly order as text) missed disorder
    // where the precision differs within one second (`…00.001Z` then `…00Z` is text-ascending).
    const a = records[i - 1];
    const b = records[i];
    // Stryker disable next-line ConditionalExpression,LogicalOperator: `a && b` only narrows the type (noUncheckedIndexedAccess); both are defined for every i the loop reaches.
    if (a && b && parseInstant(a.createdAt) > parseInstant(b.createdAt)) return false;
  }
  return true;
}

/**
 * The records of one page of `part` that are delivered: not seen before in this partition, in the
 * window and the filters, and not already delivered by another partition.
 */
export function acceptPage(
  records: readonly BiometricValidation[],
  part: Partition,
  ledger: PartitionLedger,
  ids: IdSet,
  diag: ReadDiagnostics,
): BiometricValidation[] {
  const bit = 1 << part.index;
  const filter = part.filter;
  const accepted: BiometricValidation[] = [];
  for (const r of records) {
    const ms = parseInstant(r.createdAt);
    // Every record the server sent counts towards its total, whether kept or not.
    const before = ids.mark(r._id, ms, part.index);
    if ((before & bit) !== 0) {
      diag.duplicatesDropped++;
      continue;
    }
    ledger.distinct++;
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
  return accepted;
}

/** K-way merge of ascending batch streams by `createdAt` (ties: lower partition first). */
export async function* mergeByCreatedAt(
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
        // Stryker disable next-line OptionalChaining,StringLiteral: the batch is not empty (checked just above), so its first record exists and the fallback is never used.
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
        // Stryker disable next-line OptionalChaining: i and best index live cursors; the `?.` only narrows the type.
        if ((cursors[i]?.head ?? 0) < (cursors[best]?.head ?? 0)) best = i;
      const c = cursors[best] as Cursor;
      const r = c.batch[c.at] as BiometricValidation;
      out.push(r);
      c.at++;
      if (c.at < c.batch.length) {
        // Stryker disable next-line OptionalChaining,StringLiteral: c.at < c.batch.length (the line above), so the record exists and the fallback is never used.
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
    // Stryker disable next-line ConditionalExpression: the loop ends only right after a yield that emptied `out` (or never ran), so this is a guard that never fires; kept in case the loop changes.
    if (out.length > 0) yield out;
  } finally {
    await Promise.allSettled(streams.map((s) => s.return(undefined)));
  }
}
