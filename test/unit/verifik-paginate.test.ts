/**
 * The paginator's pure checks, and its control flow over an in-memory client (no HTTP):
 * sort detection, early stop, merge order, diagnostics.
 */
import { describe, expect, it } from 'vitest';
import type { VerifikClient } from '../../functions/verifik/client.js';
import { IncompleteReadError } from '../../functions/verifik/errors.js';
import type { ListQuery } from '../../functions/verifik/query.js';
import { assertComplete, readWindow, recordVerdict } from '../../functions/verifik/read/index.js';
import type { BiometricValidation, Page } from '../../functions/verifik/schema.js';

const START = Date.parse('2024-12-01T05:00:00Z');
const END = START + 86_400_000;
const rec = (
  i: number,
  ms: number,
  status = 'validated',
  extra: Partial<BiometricValidation> = {},
): BiometricValidation => ({
  _id: `id${String(i).padStart(6, '0')}`,
  status,
  createdAt: new Date(ms).toISOString(),
  type: 'login',
  client: { _id: 'c1', name: 'C' },
  ...extra,
});

describe('recordVerdict', () => {
  const f = { startMs: START, endMs: END, statuses: new Set(['validated']), type: 'login', client: 'c1' };
  it('accepts [start, end) and matching filters', () => {
    expect(recordVerdict(rec(1, START), START, f)).toBe('ok');
    expect(recordVerdict(rec(1, END - 1), END - 1, f)).toBe('ok');
  });
  it('drops what is outside the window', () => {
    expect(recordVerdict(rec(1, START - 1), START - 1, f)).toBe('out-of-window');
    expect(recordVerdict(rec(1, END), END, f)).toBe('out-of-window');
    expect(recordVerdict(rec(1, START), Number.NaN, f)).toBe('out-of-window');
  });
  it('drops filter mismatches: status, type, client (populated or id)', () => {
    expect(recordVerdict(rec(1, START, 'failed'), START, f)).toBe('filter-mismatch');
    expect(recordVerdict(rec(1, START, 'validated', { type: 'liveness' }), START, f)).toBe('filter-mismatch');
    expect(recordVerdict(rec(1, START, 'validated', { client: 'c2' }), START, f)).toBe('filter-mismatch');
    expect(recordVerdict(rec(1, START, 'validated', { client: 'c1' }), START, f)).toBe('ok');
  });
  it('keeps unknown statuses when no status filter is given', () => {
    expect(
      recordVerdict(rec(1, START, 'archived'), START, { startMs: START, endMs: END, statuses: null }),
    ).toBe('ok');
  });
});

describe('assertComplete', () => {
  const base = {
    stopped: false,
    drifted: false,
    shortPages: [] as number[],
    served: 100,
    totals: { first: 250, max: 250, min: 250 },
    distinct: 250,
  };
  it('passes a complete read', () => {
    expect(() => assertComplete('p', base)).not.toThrow();
  });
  it('fails a shortfall against the total', () => {
    expect(() => assertComplete('p', { ...base, distinct: 249 })).toThrow(
      /received 249 distinct records but the server reports 250/,
    );
  });
  it('fails a short middle page when the total was stable', () => {
    expect(() => assertComplete('p', { ...base, shortPages: [2] })).toThrow(IncompleteReadError);
  });
  it('with drift, the distinct count decides', () => {
    const drift = { ...base, drifted: true, shortPages: [3], totals: { first: 250, max: 260, min: 250 } };
    expect(() => assertComplete('p', { ...drift, distinct: 260 })).not.toThrow();
    expect(() => assertComplete('p', { ...drift, distinct: 258 })).toThrow(/grew from 250/);
  });
  it('refuses a shrinking total', () => {
    expect(() => assertComplete('p', { ...base, totals: { first: 250, max: 250, min: 240 } })).toThrow(
      /fell from 250 to 240/,
    );
  });
  it('an early stop needs no total match', () => {
    expect(() => assertComplete('p', { ...base, stopped: true, distinct: 10 })).not.toThrow();
  });
});

/** Serves `records` (whatever order they are in) as pages of `cap`, ignoring every filter. */
function memoryClient(records: BiometricValidation[], cap = 1000): VerifikClient & { queries: ListQuery[] } {
  const queries: ListQuery[] = [];
  return {
    queries,
    urlFor: () => 'memory://',
    async listPage(query) {
      queries.push(query);
      const size = Math.min(cap, query.perPage ?? 20);
      const page = query.page ?? 1;
      const slice = records.slice((page - 1) * size, page * size);
      const result: Page = {
        records: slice,
        page,
        perPage: size,
        total: records.length,
        pages: Math.ceil(records.length / size),
        envelope: 'seed',
      };
      return result;
    },
  };
}

async function collect(read: ReturnType<typeof readWindow>): Promise<string[]> {
  const ids: string[] = [];
  for await (const r of read.records) ids.push(r._id);
  return ids;
}

describe('readWindow over an in-memory client', () => {
  const window = { start: new Date(START), end: new Date(END) };
  // 30 records before, 100 inside, 200 after the window, ascending.
  const all = [
    ...Array.from({ length: 30 }, (_, i) => rec(i, START - 3_000_000 + i * 1000)),
    ...Array.from({ length: 100 }, (_, i) =>
      rec(100 + i, START + i * 600_000, i % 3 === 0 ? 'failed' : 'validated'),
    ),
    ...Array.from({ length: 200 }, (_, i) => rec(1000 + i, END + i * 1000)),
  ];
  const inside = all.slice(30, 130).map((r) => r._id);

  it('drops out-of-window records and stops once ascending records pass the end', async () => {
    const c = memoryClient(all);
    const read = readWindow(c, { window, perPage: 20, concurrency: 1 });
    expect(await collect(read)).toEqual(inside);
    const d = await read.diagnostics;
    expect(d.stoppedEarly).toBe(1);
    expect(d.outOfWindowDropped).toBe(30 + 10); // before, and the rest of the page that passed the end
    // Pages 1–7 hold the window and its end; with concurrency 1, three more pages were queued
    // (look-ahead: concurrency + 2) when it was seen, and nothing after them was asked for.
    expect(c.queries.length).toBe(10);
    expect(Math.max(...c.queries.map((q) => q.page ?? 0))).toBe(10);
  });

  it('reads newest-first pages (an ignored sort) from the last page back, still ascending', async () => {
    const c = memoryClient([...all].reverse());
    const read = readWindow(c, { window, perPage: 50, concurrency: 2 });
    expect(await collect(read)).toEqual(inside);
    const d = await read.diagnostics;
    expect(d.reversedPartitions).toBe(1);
    // 330 records in 7 pages: page 1 (newest) to learn the order, then page 7 (oldest) backwards,
    // stopping once page 3 passes the end (page 2 was queued by then, page 1 never yielded).
    expect(d.stoppedEarly).toBe(1);
    expect(c.queries.map((q) => q.page).slice(0, 4)).toEqual([1, 7, 6, 5]);
  });

  it('never stops early on pages in no order at all, and counts them', async () => {
    // Swap neighbours: every page is out of order both ways.
    const shuffled = all.map(
      (_, i) => all[i % 2 === 0 ? Math.min(i + 1, all.length - 1) : i - 1] as BiometricValidation,
    );
    const c = memoryClient(shuffled);
    const read = readWindow(c, { window, perPage: 50, concurrency: 2 });
    const ids = await collect(read);
    expect([...ids].sort()).toEqual([...inside].sort());
    const d = await read.diagnostics;
    expect(d.stoppedEarly).toBe(0);
    expect(d.unsortedPages).toBeGreaterThan(0);
    expect(d.pages).toBe(Math.ceil(all.length / 50));
  });

  it('duplicate ids on the wire are yielded once', async () => {
    const withDup = [...all.slice(0, 60), ...all.slice(55, 330)];
    const c = memoryClient(withDup);
    const read = readWindow(c, { window, perPage: 20 });
    expect(await collect(read)).toEqual(inside);
    expect((await read.diagnostics).duplicatesDropped).toBe(5);
  });

  it('keeps statuses, merges partitions by createdAt', async () => {
    const c = memoryClient(all);
    const read = readWindow(c, {
      window,
      statuses: ['failed', 'validated'],
      partitionByStatus: true,
      perPage: 25,
    });
    expect(await collect(read)).toEqual(inside);
    const d = await read.diagnostics;
    expect(d.partitions).toBe(2);
    // The memory client ignores where_status: each partition drops the other's records.
    expect(d.filterMismatchDropped).toBeGreaterThan(0);
    expect(new Set(c.queries.map((q) => q.status))).toEqual(new Set(['failed', 'validated']));
  });

  it('sends the window as strict bounds and asks for ascending, populated pages', async () => {
    const c = memoryClient(all);
    await collect(
      readWindow(c, { window, statuses: ['validated'], type: 'login', client: 'c1', perPage: 1000 }),
    );
    expect(c.queries[0]).toEqual({
      page: 1,
      perPage: 1000,
      populates: ['client', 'project'],
      sort: 'createdAt',
      createdAfter: new Date(START - 1),
      createdBefore: new Date(END),
      type: 'login',
      client: 'c1',
      statusIn: ['validated'],
    });
  });

  it('refuses to be iterated twice and validates its options', () => {
    const read = readWindow(memoryClient([]), { window });
    read.records[Symbol.asyncIterator]();
    expect(() => read.records[Symbol.asyncIterator]()).toThrow(/iterated once/);
    expect(() => readWindow(memoryClient([]), { window, perPage: 0 })).toThrow(RangeError);
    expect(() => readWindow(memoryClient([]), { window, concurrency: 1.5 })).toThrow(RangeError);
    expect(() => readWindow(memoryClient([]), { window: { start: window.end, end: window.start } })).toThrow(
      RangeError,
    );
  });
});
