/**
 * The order of records in a read (verifik/read/order.ts): a page's direction, which records of a
 * page are delivered (each once, in the window and the filters), and the merge of partitions.
 */
import { describe, expect, it } from 'vitest';
import { IdSet } from '../../functions/verifik/id-set.js';
import { PartitionLedger } from '../../functions/verifik/read/completeness.js';
import { emptyDiagnostics } from '../../functions/verifik/read/diagnostics.js';
import {
  acceptPage,
  isAscending,
  isNewestFirst,
  mergeByCreatedAt,
  reversed,
} from '../../functions/verifik/read/order.js';
import { planPartitions } from '../../functions/verifik/read/partitions.js';
import type { BiometricValidation, Page } from '../../functions/verifik/schema.js';

const T0 = Date.parse('2024-12-01T10:00:00.000Z');
const rec = (id: string, secondsAfter: number, status = 'new'): BiometricValidation => ({
  _id: id,
  status,
  createdAt: new Date(T0 + secondsAfter * 1000).toISOString(),
});

describe('page direction', () => {
  it('newest first: first after last and never rising; not when all share one instant', () => {
    expect(isNewestFirst([rec('a', 3), rec('b', 2), rec('c', 2), rec('d', 1)])).toBe(true);
    expect(isNewestFirst([rec('a', 3), rec('b', 1), rec('c', 2), rec('d', 0)])).toBe(false);
    expect(isNewestFirst([rec('a', 1), rec('b', 1)])).toBe(false);
    // Judged by the last record, not the second: a tie at the top still reads newest first.
    expect(isNewestFirst([rec('a', 3), rec('b', 3), rec('c', 1)])).toBe(true);
    expect(isNewestFirst([rec('a', 1), rec('b', 2)])).toBe(false);
    expect(isNewestFirst([rec('a', 1)])).toBe(false);
    expect(isNewestFirst([])).toBe(false);
  });

  it('ascending: never falling, ties allowed; a missing fraction is not disorder', () => {
    expect(isAscending([rec('a', 1), rec('b', 1), rec('c', 2)])).toBe(true);
    expect(isAscending([rec('a', 2), rec('b', 1)])).toBe(false);
    expect(isAscending([rec('a', 1), rec('b', 3), rec('c', 2)])).toBe(false);
    expect(isAscending([])).toBe(true);
    const sameInstant = [
      { ...rec('a', 0), createdAt: '2024-12-01T10:00:00.000Z' },
      { ...rec('b', 0), createdAt: '2024-12-01T10:00:00Z' },
    ];
    expect(isAscending(sameInstant)).toBe(true);
    // The other way round: `…00Z` sorts high as text, yet it is the same instant.
    expect(isAscending([...sameInstant].reverse())).toBe(true);
  });

  it('ascending is judged by instant: a later record with a shorter fraction is still disorder', () => {
    // As text `…00.001Z` < `…00Z` ('.' < 'Z'), but the first is 1 ms later than the second.
    const page = [
      { ...rec('a', 0), createdAt: '2024-12-01T10:00:00.001Z' },
      { ...rec('b', 0), createdAt: '2024-12-01T10:00:00Z' },
    ];
    expect(isAscending(page)).toBe(false);
    expect(isAscending([...page].reverse())).toBe(true);
  });

  it('reversed() turns the records around and leaves the page as it was', () => {
    const page: Page = {
      records: [rec('a', 1), rec('b', 2)],
      page: 3,
      perPage: 2,
      total: 9,
      pages: 5,
      envelope: 'seed',
    };
    const r = reversed(page);
    expect(r).toEqual({ ...page, records: [rec('b', 2), rec('a', 1)] });
    expect(page.records.map((x) => x._id)).toEqual(['a', 'b']);
  });
});

describe('acceptPage', () => {
  const window = { start: new Date(T0), end: new Date(T0 + 60_000) };

  it('delivers each record once, in the window and the filter, counting every reason to drop one', () => {
    const [p0, p1] = planPartitions({ window, statuses: ['new', 'sent'], partitionByStatus: true }, 10);
    const ids = new IdSet();
    const diag = emptyDiagnostics(10, 2, 1);
    const l0 = new PartitionLedger(p0!.label, 10);
    const l1 = new PartitionLedger(p1!.label, 10);
    const page = [
      rec('a', 1),
      rec('b', 2),
      rec('a', 1),
      rec('late', 60),
      rec('early', -1),
      rec('s', 3, 'sent'),
    ];
    expect(acceptPage(page, p0!, l0, ids, diag).map((r) => r._id)).toEqual(['a', 'b']);
    expect(diag).toMatchObject({ duplicatesDropped: 1, outOfWindowDropped: 2, filterMismatchDropped: 1 });
    // Distinct ids this partition received, whether kept or not.
    expect(l0.distinct).toBe(5);
    // The other partition: 'a' (its status changed to sent meanwhile) was already delivered by the first one.
    expect(
      acceptPage([rec('a', 1, 'sent'), rec('s', 3, 'sent')], p1!, l1, ids, diag).map((r) => r._id),
    ).toEqual(['s']);
    expect(diag.duplicatesDropped).toBe(2);
    expect(l1.distinct).toBe(2);
  });
});

describe('mergeByCreatedAt', () => {
  async function* stream(...batches: BiometricValidation[][]): AsyncGenerator<BiometricValidation[]> {
    for (const b of batches) yield b;
  }
  async function all(gen: AsyncGenerator<BiometricValidation[]>): Promise<BiometricValidation[][]> {
    const out: BiometricValidation[][] = [];
    for await (const b of gen) out.push(b);
    return out;
  }

  it('merges ascending streams by createdAt, the lower partition first on ties, skipping empty batches', async () => {
    const batches = await all(
      mergeByCreatedAt([
        stream([rec('a1', 1), rec('a3', 3)], [], [rec('a5', 5)]),
        stream([], [rec('b1', 1), rec('b2', 2)], [rec('b6', 6)]),
        stream(),
      ]),
    );
    expect(batches.flat().map((r) => r._id)).toEqual(['a1', 'b1', 'b2', 'a3', 'a5', 'b6']);
    expect(batches.every((b) => b.length > 0)).toBe(true);
  });

  it('hands on at most 1000 records a batch while a partition has more', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => rec(`m${i}`, i));
    const batches = await all(mergeByCreatedAt([stream(many)]));
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
  });

  it('closes every stream when the consumer stops early', async () => {
    const closed: string[] = [];
    async function* tracked(name: string) {
      try {
        yield [rec(`${name}1`, 1)];
        yield [rec(`${name}2`, 2)];
      } finally {
        closed.push(name);
      }
    }
    for await (const _ of mergeByCreatedAt([tracked('a'), tracked('b')])) break;
    expect(closed.sort()).toEqual(['a', 'b']);
  });
});
