import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { DETAIL_KEYS, type FlatRow, flatten } from '../../functions/report/columns.js';
import { type PackedRows, packTransferList, RowPacker, unpackRows } from '../../functions/report/row-pack.js';

const text = fc.option(fc.string({ unit: 'grapheme' }), { nil: null });
const score = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null });
const instant = fc.option(fc.integer({ min: -8.64e15, max: 8.64e15 }), { nil: null });
const row: fc.Arbitrary<FlatRow> = fc.record({
  id: fc.string({ minLength: 1 }),
  createdAt: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  updatedAt: instant,
  completedAt: instant,
  expiresAt: instant,
  status: fc.constantFrom('validated', 'failed', 'pending', 'estado-raro', ''),
  type: fc.option(fc.constantFrom('login', 'onboarding', 'signup'), { nil: null }),
  identifier: text,
  clientId: text,
  clientName: text,
  projectId: text,
  projectName: text,
  livenessSession: text,
  requires2FA: fc.option(fc.boolean(), { nil: null }),
  ipAddress: text,
  quality: text,
  livenessScore: score,
  livenessDetection: text,
  identityMatch: text,
  antiSpoofing: text,
  qualityScore: score,
  riskScore: score,
});

/** One batch of `rows`, packed as the render thread packs them. */
function pack(rows: readonly FlatRow[]): PackedRows {
  const packer = new RowPacker(rows.length);
  for (const r of rows) packer.add(r);
  return packer.take();
}

/** What the render thread does: pack, clone across the boundary (typed arrays transferred), unpack. */
function hop(rows: FlatRow[]): FlatRow[] {
  const packed = pack(rows);
  return unpackRows(structuredClone(packed, { transfer: packTransferList(packed) }));
}

describe('RowPacker / unpackRows', () => {
  it('round-trips arbitrary rows: nulls, empty text, booleans, -0, non-ASCII, repeated and unique text', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), (rows) => {
        const back = hop(rows);
        expect(back).toEqual(rows);
        for (const [i, r] of back.entries()) {
          // Same keys in the same order as the original (one hidden class with `flatten`'s rows).
          expect(Object.keys(r)).toEqual(DETAIL_KEYS);
          for (const k of DETAIL_KEYS) expect(Object.is(r[k], rows[i]![k])).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips a generated day, and packs repeated text once per batch', () => {
    const ds = createDataset({
      seed: 8,
      count: 1000,
      start: new Date('2024-12-01T05:00:00Z'),
      end: new Date('2024-12-02T05:00:00Z'),
    });
    const rows = [...ds].map(flatten);
    const packed = pack(rows);
    expect(new Set(packed.dict).size).toBe(packed.dict.length);
    expect(packed.dict.length).toBeLessThan(rows.length);
    expect(hop(rows)).toEqual(rows);
  });

  it('a RowPacker reused batch after batch (the last one partial) loses and mixes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 7 }),
        (rows, capacity) => {
          const packer = new RowPacker(capacity);
          const back: FlatRow[] = [];
          for (const r of rows) {
            packer.add(r);
            if (packer.count === capacity) back.push(...unpackRows(structuredClone(packer.take())));
          }
          if (packer.count > 0) back.push(...unpackRows(structuredClone(packer.take())));
          expect(back).toEqual(rows);
          expect(packer.count).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
    const full = new RowPacker(1);
    const [first, second] = [
      ...createDataset({ seed: 3, count: 2, start: new Date(0), end: new Date(86_400_000) }),
    ].map(flatten);
    full.add(first!);
    expect(() => full.add(second!)).toThrow(/holds 1 rows/);
  });
});
