/**
 * How a read is planned before any page arrives (verifik/read/partitions.ts): the partitions and
 * their queries and filters, the pages in flight per partition, and the pages from the first one.
 * The reading itself is tested over an in-memory client (verifik-paginate) and over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PARTITIONS } from '../../functions/verifik/id-set.js';
import {
  lookaheadFor,
  planPages,
  planPartitions,
  recordVerdict,
} from '../../functions/verifik/read/partitions.js';

const start = new Date('2024-12-01T05:00:00.000Z');
const end = new Date('2024-12-02T05:00:00.000Z');
const window = { start, end };

describe('planPartitions', () => {
  it('one partition for all statuses: ascending, populated, strict bounds one millisecond before the start', () => {
    // Strict: no `type` or `client` key at all (not even undefined) in the query or the filter when none is asked.
    expect(planPartitions({ window }, 500)).toStrictEqual([
      {
        index: 0,
        label: 'all statuses',
        query: {
          perPage: 500,
          populates: ['client', 'project'],
          sort: 'createdAt',
          createdAfter: new Date('2024-12-01T04:59:59.999Z'),
          createdBefore: end,
        },
        filter: { startMs: start.getTime(), endMs: end.getTime(), statuses: null },
      },
    ]);
  });

  it('statuses, type and client go into the query and into the filter the records are checked against', () => {
    const [p] = planPartitions({ window, statuses: ['a', 'b', 'a'], type: 'login', client: 'c1' }, 100);
    expect(p?.label).toBe('statuses a,b');
    expect(p?.query).toMatchObject({ statusIn: ['a', 'b'], type: 'login', client: 'c1' });
    expect(p?.filter).toEqual({
      startMs: start.getTime(),
      endMs: end.getTime(),
      statuses: new Set(['a', 'b']),
      type: 'login',
      client: 'c1',
    });
    // An empty list is no filter at all.
    expect(planPartitions({ window, statuses: [] }, 100)[0]).toMatchObject({
      label: 'all statuses',
      filter: { statuses: null },
    });
  });

  it('partitioned by status: one read per distinct status, each with its own bit and filter', () => {
    const parts = planPartitions({ window, statuses: ['new', 'sent', 'new'], partitionByStatus: true }, 100);
    expect(parts.map((p) => [p.index, p.label, p.query.status, [...(p.filter.statuses ?? [])]])).toEqual([
      [0, 'status new', 'new', ['new']],
      [1, 'status sent', 'sent', ['sent']],
    ]);
    expect(parts[0]?.query.statusIn).toBeUndefined();
    // A single status needs no partitioning: it is planned as the one read of a status list.
    const single = planPartitions({ window, statuses: ['new'], partitionByStatus: true }, 100);
    expect(single).toHaveLength(1);
    expect(single[0]?.label).toBe('statuses new');
    expect(single[0]?.query.statusIn).toEqual(['new']);
    expect(single[0]?.query.status).toBeUndefined();
  });

  it(`refuses more than ${MAX_PARTITIONS} partitions, and accepts exactly that many`, () => {
    const statuses = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
    expect(
      planPartitions({ window, statuses: statuses(MAX_PARTITIONS), partitionByStatus: true }, 10),
    ).toHaveLength(MAX_PARTITIONS);
    expect(() =>
      planPartitions({ window, statuses: statuses(MAX_PARTITIONS + 1), partitionByStatus: true }, 10),
    ).toThrow(`partitionByStatus supports at most ${MAX_PARTITIONS} statuses, got ${MAX_PARTITIONS + 1}.`);
  });
});

describe('recordVerdict: the window is [start, end)', () => {
  const filter = { startMs: start.getTime(), endMs: end.getTime(), statuses: null };
  const r = { _id: 'a', status: 'x', createdAt: '' };
  it('takes the first instant, refuses the end', () => {
    expect(recordVerdict(r, start.getTime(), filter)).toBe('ok');
    expect(recordVerdict(r, start.getTime() - 1, filter)).toBe('out-of-window');
    expect(recordVerdict(r, end.getTime() - 1, filter)).toBe('ok');
    expect(recordVerdict(r, end.getTime(), filter)).toBe('out-of-window');
  });
});

describe('pages in flight and pages to read', () => {
  it('each partition keeps its share of the requests plus two in flight, at least one plus two', () => {
    expect(lookaheadFor(8, 1)).toBe(10);
    expect(lookaheadFor(8, 3)).toBe(5); // ceil(8 / 3) = 3
    expect(lookaheadFor(1, 4)).toBe(3);
    expect(lookaheadFor(0, 1)).toBe(3);
  });

  it('a first page shorter than the total reveals the served page size', () => {
    expect(planPages(100, 1000, 500)).toEqual({ served: 100, lastPage: 10 });
    expect(planPages(100, 1001, 500)).toEqual({ served: 100, lastPage: 11 });
    // A first page holding everything: the asked size stands, one page.
    expect(planPages(40, 40, 500)).toEqual({ served: 500, lastPage: 1 });
    expect(planPages(0, 0, 500)).toEqual({ served: 500, lastPage: 1 });
  });
});
