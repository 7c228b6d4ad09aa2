/**
 * Flat rows packed for the hop to the render thread. Why by hand: a structured clone of row
 * objects writes every property name of every row and rebuilds every object and string on the
 * other side (≈ 1.2 µs a row there, plus the garbage); packed as columns — numbers in one
 * Float64Array, repetitive text (status, client, project, check results…) as indices into a
 * per-batch dictionary, unique text as a plain list — receiving costs ≈ 0.2 µs a row (clone and
 * unpack), sending 1.5× less than before, and the typed arrays are transferred, not copied. A property test round-trips
 * arbitrary rows.
 */
import { type ColumnKey, DETAIL_COLUMNS, type FlatRow } from './columns.js';

/** Text columns whose values are (nearly) all different: a dictionary would only add lookups. */
const UNIQUE_TEXT: ReadonlySet<ColumnKey> = new Set(['id', 'identifier', 'livenessSession', 'ipAddress']);

const NUMERIC = DETAIL_COLUMNS.filter((c) => c.kind !== 'string').map((c) => c.key);
const REPEATED = DETAIL_COLUMNS.filter((c) => c.kind === 'string' && !UNIQUE_TEXT.has(c.key)).map(
  (c) => c.key,
);
const UNIQUE = DETAIL_COLUMNS.filter((c) => c.kind === 'string' && UNIQUE_TEXT.has(c.key)).map((c) => c.key);

export interface PackedRows {
  count: number;
  /** Row-major, `NUMERIC.length` a row; NaN is null, booleans are 1 and 0. */
  numbers: Float64Array;
  /** Row-major, `REPEATED.length` a row: an index into `dict`, or -1 for null. */
  codes: Int32Array;
  dict: string[];
  /** Row-major, `UNIQUE.length` a row. */
  unique: Array<string | null>;
}

type Cells = Record<ColumnKey, FlatRow[ColumnKey]>;

/**
 * Packs rows as they come, so each row object dies young (a batch of row objects kept until it
 * is full would outlive young-generation collections and be copied into the old generation).
 */
export class RowPacker {
  #numbers: Float64Array;
  #codes: Int32Array;
  #dict: string[] = [];
  #index = new Map<string, number>();
  #unique: Array<string | null> = [];
  #count = 0;

  constructor(readonly capacity: number) {
    this.#numbers = new Float64Array(capacity * NUMERIC.length);
    this.#codes = new Int32Array(capacity * REPEATED.length);
  }

  get count(): number {
    return this.#count;
  }

  add(row: FlatRow): void {
    if (this.#count === this.capacity)
      throw new RangeError(`A RowPacker holds ${this.capacity} rows; take() them first.`);
    const cells = row as unknown as Cells;
    const numbers = this.#numbers;
    const codes = this.#codes;
    let n = this.#count * NUMERIC.length;
    let c = this.#count * REPEATED.length;
    for (const key of NUMERIC) {
      const v = cells[key];
      numbers[n++] = v === null ? Number.NaN : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
    }
    for (const key of REPEATED) {
      const v = cells[key] as string | null;
      if (v === null) {
        codes[c++] = -1;
        continue;
      }
      let code = this.#index.get(v);
      if (code === undefined) {
        code = this.#dict.length;
        this.#dict.push(v);
        this.#index.set(v, code);
      }
      codes[c++] = code;
    }
    for (const key of UNIQUE) this.#unique.push(cells[key] as string | null);
    this.#count++;
  }

  /** The rows added so far, packed; the packer starts over empty. */
  take(): PackedRows {
    const count = this.#count;
    const full = count === this.capacity;
    const packed: PackedRows = {
      count,
      numbers: full ? this.#numbers : this.#numbers.slice(0, count * NUMERIC.length),
      codes: full ? this.#codes : this.#codes.slice(0, count * REPEATED.length),
      dict: this.#dict,
      unique: this.#unique,
    };
    // The arrays handed out are transferred (detached here), so the next batch gets new ones.
    this.#numbers = new Float64Array(this.capacity * NUMERIC.length);
    this.#codes = new Int32Array(this.capacity * REPEATED.length);
    this.#dict = [];
    this.#index = new Map();
    this.#unique = [];
    this.#count = 0;
    return packed;
  }
}

/** What `postMessage` should transfer rather than copy. */
export function packTransferList(p: PackedRows): ArrayBuffer[] {
  return [p.numbers.buffer as ArrayBuffer, p.codes.buffer as ArrayBuffer];
}

const offsets = (keys: readonly ColumnKey[]) =>
  Object.fromEntries(keys.map((k, i) => [k, i])) as Record<ColumnKey, number>;
const N = offsets(NUMERIC);
const R = offsets(REPEATED);
const U = offsets(UNIQUE);

export function unpackRows(p: PackedRows): FlatRow[] {
  const { numbers, codes, dict, unique } = p;
  const num = (at: number): number | null => {
    const v = numbers[at] as number;
    return Number.isNaN(v) ? null : v;
  };
  const text = (at: number): string | null => {
    const code = codes[at] as number;
    return code < 0 ? null : (dict[code] as string);
  };
  const rows: FlatRow[] = new Array(p.count);
  for (let i = 0; i < p.count; i++) {
    const n = i * NUMERIC.length;
    const r = i * REPEATED.length;
    const u = i * UNIQUE.length;
    const twoFactor = num(n + N.requires2FA);
    // One literal in column order (straight-line code: a keyed loop was 4× slower), so every
    // row gets `flatten`'s hidden class. The round-trip test fails if a column moves group.
    rows[i] = {
      id: unique[u + U.id] as string,
      createdAt: numbers[n + N.createdAt] as number,
      updatedAt: num(n + N.updatedAt),
      completedAt: num(n + N.completedAt),
      expiresAt: num(n + N.expiresAt),
      status: text(r + R.status) as string,
      type: text(r + R.type),
      identifier: unique[u + U.identifier] ?? null,
      clientId: text(r + R.clientId),
      clientName: text(r + R.clientName),
      projectId: text(r + R.projectId),
      projectName: text(r + R.projectName),
      livenessSession: unique[u + U.livenessSession] ?? null,
      requires2FA: twoFactor === null ? null : twoFactor === 1,
      ipAddress: unique[u + U.ipAddress] ?? null,
      quality: text(r + R.quality),
      livenessScore: num(n + N.livenessScore),
      livenessDetection: text(r + R.livenessDetection),
      identityMatch: text(r + R.identityMatch),
      antiSpoofing: text(r + R.antiSpoofing),
      qualityScore: num(n + N.qualityScore),
      riskScore: num(n + N.riskScore),
    };
  }
  return rows;
}
