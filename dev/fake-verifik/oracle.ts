/**
 * The test oracle: what a complete, correct read of the fake API must return, computed from
 * materialised records rather than the server's indexes, so a bug in those indexes cannot
 * also hide in the expected answer.
 */
import { type BiometricValidation, refId } from '../../functions/verifik/schema.js';
import type { Dataset } from './generator.js';

/** What a list request asks for, in the oracle's terms: start inclusive, end exclusive. */
export interface RecordFilter {
  start?: Date;
  end?: Date;
  statuses?: string[];
  type?: string;
  client?: string;
  project?: string;
  livenessSession?: string;
}

/** The oracle: does record r belong to what filter f describes? Independent of the server's indexes. */
export function matchesFilter(r: BiometricValidation, f: RecordFilter): boolean {
  const ms = Date.parse(r.createdAt);
  if (f.start && ms < f.start.getTime()) return false;
  if (f.end && ms >= f.end.getTime()) return false;
  if (f.statuses && !f.statuses.includes(r.status)) return false;
  if (f.type !== undefined && r.type !== f.type) return false;
  if (f.client !== undefined && refId(r.client) !== f.client) return false;
  if (f.project !== undefined && refId(r.project) !== f.project) return false;
  if (f.livenessSession !== undefined && refId(r.livenessSession) !== f.livenessSession) return false;
  return true;
}

/** First index whose createdAt is ≥ ms. */
export function lowerBound(ds: Dataset, ms: number): number {
  let lo = 0;
  let hi = ds.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ds.createdAtMs(mid) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The records a complete read of filter f must return, ascending by createdAt. */
export function expectedRecords(ds: Dataset, f: RecordFilter): BiometricValidation[] {
  const from = f.start ? lowerBound(ds, f.start.getTime()) : 0;
  const to = f.end ? lowerBound(ds, f.end.getTime()) : ds.size;
  const out: BiometricValidation[] = [];
  for (let i = from; i < to; i++) {
    const r = ds.record(i);
    if (matchesFilter(r, f)) out.push(r);
  }
  return out;
}
