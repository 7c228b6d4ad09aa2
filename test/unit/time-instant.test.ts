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

describe('parseInstant: every position, every neighbour of a digit', () => {
  // Characters next to '0' and '9' and the separators: what a lax digit or separator check would let through.
  const CHARS = [...'/0123456789:;-.TZ zA'];
  const BASES = [
    '2024-02-29T23:59:59.999Z',
    '2023-12-31T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '1999-09-09T09:09:09.909Z',
  ];

  it('equals Date.parse when any one character of a valid instant is replaced, with and without milliseconds', () => {
    for (const base of BASES) {
      for (const s of [base, `${base.slice(0, 19)}Z`]) {
        for (let at = 0; at < s.length; at++) {
          for (const c of CHARS) same(s.slice(0, at) + c + s.slice(at + 1));
        }
      }
    }
  });

  it('knows the length of every month and which years are leap years (every 4, not 100, again 400)', () => {
    for (const year of ['1600', '1700', '1900', '2000', '2023', '2024', '2100', '0004', '0000']) {
      for (const [month, day] of [
        ['02', '28'],
        ['02', '29'],
        ['02', '30'],
        ['04', '30'],
        ['04', '31'],
        ['12', '31'],
        ['12', '32'],
        ['01', '00'],
        ['00', '10'],
        ['13', '01'],
      ]) {
        same(`${year}-${month}-${day}T12:00:00.000Z`);
        same(`${year}-${month}-${day}T12:00:00Z`);
      }
    }
    for (const t of ['24:00:00', '23:60:00', '23:59:60', '00:00:00']) same(`2024-06-15T${t}Z`);
  });

  it('a date parsed right after another is its own date, not the previous one', () => {
    // Dates a careless cache key could mistake for one another.
    for (const [a, b] of [
      ['2024-01-05', '2025-01-04'],
      ['2024-01-05', '2024-01-06'],
      ['2024-02-01', '2024-01-02'],
    ]) {
      same(`${a}T10:00:00.000Z`);
      same(`${b}T10:00:00.000Z`);
    }
  });
});
