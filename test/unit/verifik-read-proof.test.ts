/**
 * The proof that a read is complete (verifik/read/completeness.ts), each rule on its own: the
 * ledger a partition keeps, the checks on it, and the confirmation across partitions.
 */
import { describe, expect, it } from 'vitest';
import { IncompleteReadError } from '../../functions/verifik/errors.js';
import {
  assertComplete,
  confirmUnchanged,
  PartitionLedger,
} from '../../functions/verifik/read/completeness.js';
import type { Partition } from '../../functions/verifik/read/partitions.js';

describe('PartitionLedger', () => {
  it('keeps the first total reported, and the largest and smallest since; drift is any change', () => {
    const l = new PartitionLedger('all statuses', 500);
    expect(l.totals).toEqual({ first: -1, max: 0, min: Number.POSITIVE_INFINITY });
    l.seeTotal(10);
    expect(l.totals).toEqual({ first: 10, max: 10, min: 10 });
    expect(l.drifted).toBe(false);
    l.seeTotal(12);
    l.seeTotal(11);
    expect(l.totals).toEqual({ first: 10, max: 12, min: 10 });
    expect(l.drifted).toBe(true);
    const down = new PartitionLedger('x', 500);
    down.seeTotal(0);
    expect(down.totals.first).toBe(0);
    down.seeTotal(5);
    down.seeTotal(0);
    expect(down.totals).toEqual({ first: 0, max: 5, min: 0 });
    const shrink = new PartitionLedger('x', 500);
    shrink.seeTotal(5);
    shrink.seeTotal(4);
    expect(shrink.drifted).toBe(true);
    expect(shrink.served).toBe(500);
  });

  it('an empty first page while the server counts records is refused; an empty window is not', () => {
    const l = new PartitionLedger('status new', 500);
    expect(() => l.checkFirstPage(0, 3)).toThrow(
      new IncompleteReadError('status new: the server reports 3 records but its first page is empty'),
    );
    expect(() => l.checkFirstPage(0, 0)).not.toThrow();
    expect(() => l.checkFirstPage(3, 3)).not.toThrow();
  });

  it('newest-first pages with a changed total are refused; either alone is fine', () => {
    // A new ledger has read nothing newest first: a changed total alone is not this check's concern.
    const fresh = new PartitionLedger('all statuses', 500);
    fresh.seeTotal(10);
    fresh.seeTotal(11);
    expect(fresh.newestFirst).toBe(false);
    expect(() => fresh.checkNewestFirst()).not.toThrow();
    const l = new PartitionLedger('all statuses', 500);
    l.seeTotal(10);
    l.newestFirst = true;
    expect(() => l.checkNewestFirst()).not.toThrow();
    l.seeTotal(11);
    expect(() => l.checkNewestFirst()).toThrow(
      'all statuses: the server ignored sort=createdAt (it sends the newest first, so the pages were read from the last one back) and its total changed from 10 to 11 during the read, so records may have moved into pages already read',
    );
    l.newestFirst = false;
    expect(() => l.checkNewestFirst()).not.toThrow();
  });

  it('verify() applies assertComplete to what the ledger holds', () => {
    const l = new PartitionLedger('all statuses', 500);
    l.seeTotal(3);
    l.distinct = 2;
    expect(() => l.verify()).toThrow('all statuses: received 2 distinct records but the server reports 3');
    l.stopped = true;
    expect(() => l.verify()).not.toThrow();
    const short = new PartitionLedger('p', 500);
    short.seeTotal(3);
    short.distinct = 3;
    short.served = 2;
    short.shortPages.push(1);
    expect(() => short.verify()).toThrow(/page\(s\) 1 held fewer than 2 records/);
  });
});

describe('assertComplete: each rule and its message', () => {
  const ok = {
    stopped: false,
    drifted: false,
    shortPages: [],
    served: 100,
    totals: { first: 5, max: 5, min: 5 },
    distinct: 5,
  };

  it('a complete read passes, also with more distinct records than the total (inserts)', () => {
    expect(() => assertComplete('p', ok)).not.toThrow();
    expect(() => assertComplete('p', { ...ok, distinct: 6 })).not.toThrow();
  });

  it('a total that fell is refused, even when everything else looks complete', () => {
    expect(() => assertComplete('p', { ...ok, drifted: true, totals: { first: 5, max: 5, min: 4 } })).toThrow(
      "p: the server's total fell from 5 to 4 during the read (records deleted or changed), so positions shifted and records may have been skipped",
    );
  });

  it('short middle pages with a stable total: at most five named', () => {
    expect(() => assertComplete('p', { ...ok, shortPages: [2, 3, 4, 5, 6, 7] })).toThrow(
      'p: page(s) 2, 3, 4, 5, 6 held fewer than 100 records although later pages followed, so records between them may be missing',
    );
    // With drift, the distinct count decides instead.
    expect(() =>
      assertComplete('p', {
        ...ok,
        drifted: true,
        shortPages: [2],
        totals: { first: 5, max: 6, min: 5 },
        distinct: 6,
      }),
    ).not.toThrow();
  });

  it('fewer distinct records than the largest total: says whether the total grew', () => {
    expect(() => assertComplete('p', { ...ok, distinct: 4 })).toThrow(
      new IncompleteReadError('p: received 4 distinct records but the server reports 5'),
    );
    expect(() =>
      assertComplete('p', { ...ok, drifted: true, totals: { first: 5, max: 7, min: 5 }, distinct: 6 }),
    ).toThrow(
      new IncompleteReadError(
        'p: received 6 distinct records but the server reports 7 (its total grew from 5 during the read; records inserted where pages had already been read were missed)',
      ),
    );
  });
});

describe('confirmUnchanged', () => {
  const part = (index: number, label: string) => ({ index, label }) as Partition;
  const ledger = (lastTotal: number) => Object.assign(new PartitionLedger('x', 10), { lastTotal });

  it('asks nothing of a single partition', async () => {
    let asked = 0;
    await confirmUnchanged([part(0, 'a')], [ledger(1)], async () => {
      asked++;
      return 99;
    });
    expect(asked).toBe(0);
  });

  it('passes when every total is unchanged, fails naming the partition whose total moved', async () => {
    const parts = [part(0, 'status new'), part(1, 'status sent')];
    await expect(
      confirmUnchanged(parts, [ledger(3), ledger(4)], async (p) => (p.index === 0 ? 3 : 4)),
    ).resolves.toBeUndefined();
    await expect(
      confirmUnchanged(parts, [ledger(3), ledger(4)], async (p) => (p.index === 0 ? 3 : 5)),
    ).rejects.toThrow(
      'status sent: its total changed from 4 to 5 while the other partitions were read, so records added to it may be missing',
    );
  });
});
