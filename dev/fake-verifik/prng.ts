/**
 * Small deterministic pseudo-random helpers. Every generated record is a pure function of
 * (seed, index), so a million-record dataset stores only its timestamps and recomputes the rest.
 */

/** A 32-bit integer hash of a 32-bit input (lowbias32 by Chris Wellons): well mixed, cheap. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines a seed with further integers into one 32-bit stream key. */
export function mix(seed: number, ...parts: number[]): number {
  let h = hash32(seed ^ 0x9e3779b9);
  for (const p of parts) h = hash32(h ^ Math.imul(p + 0x632be5ab, 0x9e3779b1));
  return h;
}

/** mulberry32: a tiny generator with a 32-bit state; plenty for test data. */
export class Rng {
  private state: number;
  constructor(key: number) {
    this.state = key >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A value in [0, 1] rounded to 2–4 decimals, like scores that come out of a model. */
  score(lo: number, hi: number): number {
    const decimals = 2 + this.int(3);
    const f = 10 ** decimals;
    return Math.min(1, Math.max(0, Math.round((lo + this.next() * (hi - lo)) * f) / f));
  }
}

/** Picks an index from cumulative weights (ascending, last = total) with a uniform draw u in [0,1). */
export function pickWeighted(cumulative: readonly number[], u: number): number {
  const total = cumulative[cumulative.length - 1]!;
  const x = u * total;
  for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return i;
  return cumulative.length - 1;
}

export function cumulate(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => {
    sum += w;
    return sum;
  });
}

/** Lower-case hex of a 32-bit unsigned integer, padded to `width` (≤ 8) characters. */
export function hex(n: number, width: number): string {
  return (n >>> 0)
    .toString(16)
    .padStart(8, '0')
    .slice(8 - width);
}

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dayPrefixes = new Map<number, string>();

/**
 * `new Date(ms).toISOString()` at a fraction of its cost (it dominated record generation):
 * the `YYYY-MM-DDT` prefix is cached per day, the time of day is assembled from tables.
 */
export function isoString(instant: number): string {
  const ms = Math.floor(instant);
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size > 10_000) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  let rem = ms - day * DAY_MS;
  const milli = rem % 1000;
  rem = (rem - milli) / 1000;
  const s = rem % 60;
  rem = (rem - s) / 60;
  const m = rem % 60;
  const h = (rem - m) / 60;
  return `${prefix}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[milli]}Z`;
}
