import { describe, expect, it } from 'vitest';
import { ACCEPTED, IdSet } from '../../functions/verifik/id-set.js';

const objectId = (i: number) =>
  (0x65000000 + i).toString(16).padStart(8, '0') +
  'a1b2c3d4e5' +
  (i % 0xffffff).toString(16).padStart(6, '0');

describe('IdSet', () => {
  it('tells new ids from repeated ones, through growth, with no false duplicates at 300k', () => {
    const set = new IdSet();
    const n = 300_000;
    let falseRepeats = 0;
    for (let i = 0; i < n; i++) if (set.mark(objectId(i), 1_700_000_000_000 + i) !== 0) falseRepeats++;
    expect(falseRepeats).toBe(0);
    expect(set.size).toBe(n);
    let repeats = 0;
    for (let i = 0; i < n; i += 7) if (set.mark(objectId(i), 1_700_000_000_000 + i) !== 0) repeats++;
    expect(repeats).toBe(Math.ceil(n / 7));
    expect(set.size).toBe(n);
  });

  it('needs the same createdAt for a duplicate', () => {
    const set = new IdSet();
    set.mark('x', 1000);
    expect(set.mark('x', 1001)).toBe(0);
    expect(set.mark('x', 1000)).not.toBe(0);
  });

  it('keeps a mask of partitions and of acceptance', () => {
    const set = new IdSet();
    expect(set.mark('x', 5, 0)).toBe(0);
    set.acceptLast();
    expect(set.mark('x', 5, 3)).toBe(1 | ACCEPTED);
    expect(set.mark('x', 5, 3)).toBe(1 | ACCEPTED | (1 << 3));
    expect(() => set.mark('y', 5, 15)).toThrow(RangeError);
  });

  it('uses 14 bytes a slot at most 75% full, sized up front by reserve()', () => {
    const set = new IdSet();
    set.reserve(1_000_000);
    expect(set.bytes).toBe(Math.ceil(1_000_000 / 0.75) * 14);
    for (let i = 0; i < 1000; i++) set.mark(objectId(i), i);
    expect(set.size).toBe(1000);
    expect(set.bytes).toBe(Math.ceil(1_000_000 / 0.75) * 14);
  });

  it('keeps its ids through a resize', () => {
    const set = new IdSet();
    for (let i = 0; i < 5000; i++) set.mark(objectId(i), i);
    set.reserve(100_000);
    let found = 0;
    for (let i = 0; i < 5000; i++) if (set.mark(objectId(i), i) !== 0) found++;
    expect(found).toBe(5000);
  });
});
