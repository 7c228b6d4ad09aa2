/**
 * Finds which records a list query selects without materialising them: field filters become
 * a cached ascending Int32Array of dataset indices (one per filter signature, rebuilt after
 * an insert), and createdAt bounds become a binary-searched slice of it.
 */
import type { Dataset } from './generator.js';
import type { Bound, ListQuery } from './query.js';

/** A contiguous slice [from, to) of either all records (`indices` null) or of `indices`. */
export interface Selection {
  indices: Int32Array | null;
  from: number;
  to: number;
}

/** Dataset index of the k-th selected record (0-based within the slice). */
export function selectedIndex(sel: Selection, k: number): number {
  const pos = sel.from + k;
  return sel.indices ? sel.indices[pos]! : pos;
}

const MAX_CACHED = 64;

export class SelectionCache {
  private readonly cache = new Map<string, Int32Array>();
  private version = -1;

  constructor(private readonly dataset: Dataset) {}

  select(q: ListQuery): Selection {
    const indices = this.fieldMatches(q);
    const n = indices ? indices.length : this.dataset.size;
    const timeAt = indices
      ? (p: number) => this.dataset.createdAtMs(indices[p]!)
      : (p: number) => this.dataset.createdAtMs(p);
    // Every bound must hold (the module merges them into one range, Mongo ANDs its operators).
    let from = 0;
    let to = n;
    for (const b of q.lower) from = Math.max(from, firstAbove(timeAt, n, b));
    for (const b of q.upper) to = Math.min(to, firstAbove(timeAt, n, { ms: b.ms, strict: !b.strict }));
    return { indices, from, to: Math.max(from, to) };
  }

  /** Indices matching the non-date filters, or null when there are none. */
  private fieldMatches(q: ListQuery): Int32Array | null {
    const { statuses, type, client, project, livenessSession } = q;
    if (statuses === null && type === undefined && client === undefined && project === undefined) {
      if (livenessSession === undefined) return null;
    }
    if (this.version !== this.dataset.version) {
      this.cache.clear();
      this.version = this.dataset.version;
    }
    const key = JSON.stringify([statuses && [...statuses].sort(), type, client, project, livenessSession]);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const wanted = statuses && new Set(statuses);
    const size = this.dataset.size;
    const out = new Int32Array(size);
    let count = 0;
    for (let i = 0; i < size; i++) {
      const f = this.dataset.facets(i);
      if (wanted && !wanted.has(f.status)) continue;
      if (type !== undefined && f.type !== type) continue;
      if (client !== undefined && f.client !== client) continue;
      if (project !== undefined && f.project !== project) continue;
      if (livenessSession !== undefined && f.livenessSession !== livenessSession) continue;
      out[count++] = i;
    }
    const result = out.slice(0, count);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }
}

/**
 * First position whose time is above the bound: > ms when strict, ≥ ms otherwise.
 * Used for upper bounds too: records before `where<_ ms` are those not ≥ ms.
 */
function firstAbove(timeAt: (p: number) => number, n: number, b: Bound): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = timeAt(mid);
    if (b.strict ? t <= b.ms : t < b.ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
