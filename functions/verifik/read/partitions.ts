/**
 * How a window is split into independent paginated reads (partitions), what each may deliver, and
 * how its pages are planned from the first one.
 *
 * Each partition carries the filter its records are checked against as well as its query: the
 * server silently ignores parameters it does not know, so its answer is not proof of a match.
 */

import type { ReportWindow } from '../../time/window.js';
import { MAX_PARTITIONS } from '../id-set.js';
import type { ListQuery } from '../query.js';
import { type BiometricValidation, refId } from '../schema.js';

/** What a read selects: the window and the filters. */
export interface WindowSelection {
  window: Pick<ReportWindow, 'start' | 'end'>;
  /** Only these statuses (sent as `in_status[]`, or one partition each with `partitionByStatus`); empty = all. */
  statuses?: readonly string[];
  type?: string;
  /** Client id (`where_client`). */
  client?: string;
  /** One independent paginated read per status, fetched side by side and merged by `createdAt`. */
  partitionByStatus?: boolean;
}

export interface RecordFilter {
  startMs: number;
  endMs: number;
  /** The statuses a partition may deliver (its own one when partitioned), null for all. */
  statuses: ReadonlySet<string> | null;
  type?: string;
  client?: string;
}

export interface Partition {
  /** Its bit in the id table's partition mask (below `MAX_PARTITIONS`). */
  index: number;
  label: string;
  query: ListQuery;
  filter: RecordFilter;
}

/** Accepts a record if it belongs to the window and the filters; the server's word is not enough. */
export function recordVerdict(
  r: BiometricValidation,
  createdAtMs: number,
  f: RecordFilter,
): 'ok' | 'out-of-window' | 'filter-mismatch' {
  if (!(createdAtMs >= f.startMs && createdAtMs < f.endMs)) return 'out-of-window';
  if (f.statuses && !f.statuses.has(r.status)) return 'filter-mismatch';
  if (f.type !== undefined && r.type !== f.type) return 'filter-mismatch';
  if (f.client !== undefined && refId(r.client) !== f.client) return 'filter-mismatch';
  return 'ok';
}

export function planPartitions(opts: WindowSelection, perPage: number): Partition[] {
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
  // Every filter gets the same shape, so that `recordVerdict` sees one.
  const filter = (statuses: ReadonlySet<string> | null): RecordFilter => ({
    startMs: opts.window.start.getTime(),
    endMs: opts.window.end.getTime(),
    statuses,
    ...(opts.type !== undefined ? { type: opts.type } : {}),
    ...(opts.client !== undefined ? { client: opts.client } : {}),
  });
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
      filter: filter(new Set([s])),
    }));
  }
  const query = statuses ? { ...base, statusIn: statuses } : base;
  return [
    {
      index: 0,
      label: statuses ? `statuses ${statuses.join(',')}` : 'all statuses',
      query,
      filter: filter(statuses ? new Set(statuses) : null),
    },
  ];
}

/**
 * Pages queued per partition: its share of the requests plus two, so that a request starts
 * (through the shared limiter) the moment another completes, not when the consumer gets to the
 * next page. Not more: a page that arrives early waits parsed, and its records then outlive the
 * young generation (a 1M-record report: twice the share measured 286–297 MB peak RSS, share + 2
 * 268–279 MB, at the same speed).
 */
export function lookaheadFor(concurrency: number, partitions: number): number {
  return Math.max(1, Math.ceil(concurrency / partitions)) + 2;
}

/**
 * The page size the server really serves and the last page, from page 1 (read alone for this):
 * a first page shorter than the total reveals a server cap below `perPage`, and later pages are
 * numbered with the served size.
 */
export function planPages(
  firstCount: number,
  total: number,
  perPage: number,
): { served: number; lastPage: number } {
  const served = firstCount < total ? firstCount : perPage;
  return { served, lastPage: Math.max(1, Math.ceil(total / served)) };
}
