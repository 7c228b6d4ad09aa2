import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../functions/time/instant.js';

const same = (s: string) => expect(Object.is(parseInstant(s), Date.parse(s)), s).toBe(true);

describe('parseInstant (Date.parse, fast for UTC instants)', () => {
  it('equals Date.parse on every instant from year 0 to 9999, with and without milliseconds', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (d) => {
          const iso = d.toISOString();
          same(iso);
          same(`${iso.slice(0, 19)}Z`);
          expect(parseInstant(iso)).toBe(d.getTime());
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('equals Date.parse on near misses: any digit, separator or length in the fast path’s shape', () => {
    const digit = fc.constantFrom(...'0123456789');
    const anyChar = fc.constantFrom(...'0123456789-:T.Z +tzx');
    const shaped = fc
      .tuple(
        fc.array(digit, { minLength: 4, maxLength: 4 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 2, maxLength: 2 }),
        fc.array(digit, { minLength: 3, maxLength: 3 }),
      )
      .map(
        ([y, mo, d, h, mi, s, ms]) =>
          `${y.join('')}-${mo.join('')}-${d.join('')}T${h.join('')}:${mi.join('')}:${s.join('')}.${ms.join('')}Z`,
      );
    fc.assert(
      fc.property(shaped, fc.nat(23), anyChar, fc.boolean(), (s, at, c, dropMs) => {
        same(s);
        same(`${s.slice(0, 19)}Z`);
        const mutated = s.slice(0, at) + c + s.slice(at + 1);
        same(dropMs ? `${mutated.slice(0, 19)}Z` : mutated);
      }),
      { numRuns: 5000 },
    );
  });

  it('hands other forms to Date.parse unchanged', () => {
    for (const s of [
      '2024-12-01T10:00:00+05:00',
      '2024-12-01T10:00:00.5Z',
      '2024-12-01T10:00:00.123456Z',
      '2024-12-01',
      '2024-02-30T00:00:00Z', // V8 rolls over to 1 March
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:59:60Z',
      '2024-02-29T12:00:00.000Z',
      '2023-02-29T12:00:00.000Z',
      'Sun, 01 Dec 2024 10:00:00 GMT',
      '',
      'not a date',
    ])
      same(s);
  });
});
