import { describe, expect, it } from 'vitest';
import { ByteBatch } from '../../functions/report/byte-batch.js';

describe('ByteBatch', () => {
  it('hands on every byte, in order, in chunks no larger than its capacity; oversize text as is', () => {
    const chunks: Array<Buffer | string> = [];
    const batch = new ByteBatch(32, (chunk) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk)); // views are reused
      return false;
    });
    const parts = ['ab', 'ñé€', 'x'.repeat(9), '😀', 'y'.repeat(20), 'z'];
    for (const p of parts) expect(batch.add(p)).toBe(false);
    expect(batch.flush()).toBe(false);
    expect(batch.size).toBe(0);
    expect(chunks.map((c) => c.toString()).join('')).toBe(parts.join(''));
    for (const c of chunks) if (typeof c !== 'string') expect(c.length).toBeLessThanOrEqual(32);
    expect(chunks).toContain('y'.repeat(20)); // 20 × 3 > 32: never copied into the buffer
  });

  it('reports when the receiver asks to wait', () => {
    const batch = new ByteBatch(12, () => true);
    expect(batch.add('abc')).toBe(false); // 3 × 3 ≤ 12: batched, nothing emitted
    expect(batch.size).toBe(3);
    expect(batch.add('de')).toBe(false); // 3 + 2 × 3 ≤ 12: batched
    expect(batch.size).toBe(5);
    expect(batch.add('fgh')).toBe(true); // 5 + 3 × 3 > 12: the batch was emitted first
    expect(batch.size).toBe(3);
    expect(batch.flush()).toBe(true);
    expect(batch.flush()).toBe(false); // empty: nothing to emit
  });
});
