/**
 * The set of record ids seen in one read, compact enough for a million records.
 *
 * A `Set<string>` of 24-character ids costs about 64 bytes an id in V8 (string + table entry),
 * 64 MB for a 1M-record day: more than the rest of the reader together. This table keeps, per
 * id, a 64-bit hash (two independent 32-bit hashes), the low 32 bits of `createdAt` in ms, and
 * a bit mask of the partitions that delivered it: 14 bytes a slot in typed arrays, outside the
 * JS heap, about 19 MB at 1M when sized up front with `reserve(total)`. Two different records are mistaken for one only if both hashes
 * and the millisecond agree (a duplicate always has the same id *and* the same `createdAt`).
 */

const MAX_LOAD = 0.75;

/**
 * Two independent 32-bit hashes of `s` in one pass (FNV-1a and a murmur3-style mix), so that the
 * pair behaves as one 64-bit hash. Written to `out` to avoid allocating per id.
 */
function hashPair(s: string, out: Uint32Array): void {
  let f = 0x811c9dc5;
  let h = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    f = Math.imul(f ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= s.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  out[0] = f;
  out[1] = h | 1; // never 0: (h2 === 0) marks an empty slot
}

/** Partitions use bits 0..14 of the mask; bit 15 says a copy of the record was accepted (yielded). */
export const MAX_PARTITIONS = 15;
export const ACCEPTED = 1 << 15;

/** Slot of a hash pair in a table of `capacity` slots (any size, not only powers of two). */
function home(a: number, b: number, capacity: number): number {
  return Math.floor((((a ^ Math.imul(b, 0x9e3779b1)) >>> 0) / 4294967296) * capacity);
}

export class IdSet {
  #capacity: number;
  #size = 0;
  #reserved = 0;
  #h1: Uint32Array;
  #h2: Uint32Array;
  #t: Uint32Array;
  #mask: Uint16Array;
  #lastSlot = -1;
  readonly #scratch = new Uint32Array(2);

  constructor(expected = 0) {
    this.#capacity = IdSet.#capacityFor(expected);
    this.#h1 = new Uint32Array(this.#capacity);
    this.#h2 = new Uint32Array(this.#capacity);
    this.#t = new Uint32Array(this.#capacity);
    this.#mask = new Uint16Array(this.#capacity);
  }

  static #capacityFor(entries: number): number {
    return Math.max(1024, Math.ceil(entries / MAX_LOAD));
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.#capacity * 14;
  }

  /**
   * Announces `n` more ids (the server's total): sizing the table once avoids the doubling steps,
   * each of which briefly holds the old and the new table (1.5× the memory at the peak).
   */
  reserve(n: number): void {
    this.#reserved += Math.max(0, n);
    const want = Math.max(this.#reserved, this.#size);
    if (want / this.#capacity > MAX_LOAD) this.#resize(IdSet.#capacityFor(want));
  }

  /**
   * Records that partition `partition` (0-based, < 15) delivered `id`. Returns the mask as it was
   * before (0 = never seen).
   */
  mark(id: string, createdAtMs: number, partition = 0): number {
    if (!(partition >= 0 && partition < MAX_PARTITIONS))
      throw new RangeError(`partition ${partition} is not in 0..14`);
    if ((this.#size + 1) / this.#capacity > MAX_LOAD) this.#resize(this.#capacity * 2);
    hashPair(id, this.#scratch);
    const a = this.#scratch[0] as number;
    const b = this.#scratch[1] as number;
    const t = createdAtMs >>> 0;
    const bit = 1 << partition;
    const cap = this.#capacity;
    for (let i = home(a, b, cap); ; i = i + 1 === cap ? 0 : i + 1) {
      if (this.#h2[i] === 0) {
        this.#h1[i] = a;
        this.#h2[i] = b;
        this.#t[i] = t;
        this.#mask[i] = bit;
        this.#size++;
        this.#lastSlot = i;
        return 0;
      }
      if (this.#h1[i] === a && this.#h2[i] === b && this.#t[i] === t) {
        const before = this.#mask[i] ?? 0;
        this.#mask[i] = before | bit;
        this.#lastSlot = i;
        return before;
      }
    }
  }

  /** Sets `ACCEPTED` on the id passed to the latest `mark`. */
  acceptLast(): void {
    if (this.#lastSlot < 0) throw new Error('acceptLast() needs a mark() first.');
    this.#mask[this.#lastSlot] = (this.#mask[this.#lastSlot] ?? 0) | ACCEPTED;
  }

  #resize(cap: number): void {
    this.#lastSlot = -1;
    const { h1, h2, t, m } = { h1: this.#h1, h2: this.#h2, t: this.#t, m: this.#mask };
    this.#capacity = cap;
    this.#h1 = new Uint32Array(cap);
    this.#h2 = new Uint32Array(cap);
    this.#t = new Uint32Array(cap);
    this.#mask = new Uint16Array(cap);
    for (let j = 0; j < h2.length; j++) {
      const b = h2[j] ?? 0;
      if (b === 0) continue;
      const a = h1[j] ?? 0;
      let i = home(a, b, cap);
      while (this.#h2[i] !== 0) i = i + 1 === cap ? 0 : i + 1;
      this.#h1[i] = a;
      this.#h2[i] = b;
      this.#t[i] = t[j] ?? 0;
      this.#mask[i] = m[j] ?? 0;
    }
  }
}
