import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digits2, parseCanonicalUtc, parseInstant } from '../../functions/time/instant.js';

const same = (s: string) => expect(Object.is(parseInstant(s), Date.parse(s)), s).toBe(true);

/**
 * Hands `check` strings in the fast path's shape (random digits), the same without milliseconds,
 * and the same with one character replaced by a digit or a near-miss separator.
 */
function nearCanonical(check: (s: string) => void, numRuns: number): void {
  const digit = fc.constantFrom(...'0123456789');
  const anyChar = fc.constantFrom(...'0123456789-:T.Z +/;tzx');
  const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
  const shaped = fc
    .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3))
    .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  fc.assert(
    fc.property(shaped, fc.nat(23), anyChar, fc.boolean(), (s, at, c, dropMs) => {
      check(s);
      check(`${s.slice(0, 19)}Z`);
      const mutated = s.slice(0, at) + c + s.slice(at + 1);
      check(dropMs ? `${mutated.slice(0, 19)}Z` : mutated);
    }),
    { numRuns },
  );
}

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
    nearCanonical(same, 5000);
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

/**
 * The fast path's contract, written the slow way: the canonical UTC forms with every field in range,
 * nothing else. A fast path that declined one of these would still agree with Date.parse through
 * parseInstant (and cost the speed it exists for); one that accepted anything else could not.
 */
const CANONICAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z$/;
function isCanonical(s: string): boolean {
  const m = CANONICAL.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, ...number[]];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1];
  return (
    monthDays !== undefined && day! >= 1 && day! <= monthDays && hour! <= 23 && minute! <= 59 && second! <= 59
  );
}

/** Accepts exactly the canonical forms, with Date.parse's value; declines (undefined) everything else. */
const keepsContract = (s: string) => {
  const got = parseCanonicalUtc(s);
  if (isCanonical(s)) expect(got, s).toBe(Date.parse(s));
  else expect(got, s).toBeUndefined();
};

describe('parseCanonicalUtc: the fast path accepts exactly the canonical UTC forms', () => {
  it('accepts both precisions and answers what Date.parse answers', () => {
    expect(parseCanonicalUtc('2024-12-01T05:00:00.000Z')).toBe(Date.parse('2024-12-01T05:00:00.000Z'));
    expect(parseCanonicalUtc('2024-12-01T05:00:00Z')).toBe(Date.parse('2024-12-01T05:00:00Z'));
    expect(parseCanonicalUtc('9999-12-31T23:59:59.999Z')).toBe(253_402_300_799_999);
    expect(parseCanonicalUtc('0000-01-01T00:00:00.000Z')).toBe(Date.parse('0000-01-01T00:00:00.000Z'));
  });

  it('accepts every instant from year 0 to 9999, with and without milliseconds', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (d) => {
          const iso = d.toISOString();
          expect(parseCanonicalUtc(iso), iso).toBe(d.getTime());
          keepsContract(`${iso.slice(0, 19)}Z`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts every digit in every field position that keeps it in range', () => {
    for (const base of ['2024-02-29T23:59:59.999Z', '2023-12-31T00:00:00.000Z', '1999-09-09T09:09:09.909Z']) {
      for (const s of [base, `${base.slice(0, 19)}Z`]) {
        for (let at = 0; at < s.length; at++) {
          for (const c of '0123456789') keepsContract(s.slice(0, at) + c + s.slice(at + 1));
        }
      }
    }
  });

  it('declines every other character in any position: separators, neighbours of digits, letters', () => {
    for (const base of ['2024-02-29T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '1999-10-10T10:10:10.101Z']) {
      for (const s of [base, `${base.slice(0, 19)}Z`]) {
        for (let at = 0; at < s.length; at++) {
          for (const c of '/:;-.TZ zA+,') keepsContract(s.slice(0, at) + c + s.slice(at + 1));
        }
      }
    }
  });

  it('declines out-of-range fields: month 0 and 13, day 0 and past the month, 24:00, minute and second 60', () => {
    for (const year of ['1600', '1700', '1900', '2000', '2023', '2024', '2100', '0004', '0000']) {
      for (const [month, day] of [
        ['01', '31'],
        ['01', '32'],
        ['02', '28'],
        ['02', '29'],
        ['02', '30'],
        ['03', '31'],
        ['04', '30'],
        ['04', '31'],
        ['06', '31'],
        ['09', '31'],
        ['11', '31'],
        ['12', '31'],
        ['12', '32'],
        ['01', '00'],
        ['00', '10'],
        ['13', '01'],
      ]) {
        keepsContract(`${year}-${month}-${day}T12:00:00.000Z`);
        keepsContract(`${year}-${month}-${day}T12:00:00Z`);
      }
    }
    for (const t of ['24:00:00', '23:60:00', '23:59:60', '00:00:00', '23:59:59', '30:00:00', '00:99:00'])
      keepsContract(`2024-06-15T${t}Z`);
    expect(parseCanonicalUtc('2024-06-15T24:00:00Z')).toBeUndefined();
    expect(parseCanonicalUtc('2023-02-29T12:00:00.000Z')).toBeUndefined();
  });

  it('declines other shapes: offsets, other precisions, dates alone, one character more or less', () => {
    for (const s of [
      '2024-12-01T10:00:00+05:00',
      '2024-12-01T10:00:00.000+05:00',
      '2024-12-01T10:00:00.5Z',
      '2024-12-01T10:00:00.12Z',
      '2024-12-01T10:00:00.1234Z',
      '2024-12-01T10:00:00.123456Z',
      '2024-12-01T10:00:00.000z',
      '2024-12-01T10:00:00.000',
      '2024-12-01T10:00:00',
      '2024-12-01T10:00Z',
      '2024-12-01 10:00:00.000Z',
      '2024-12-01',
      '+002024-12-01T10:00:00.000Z',
      ' 2024-12-01T10:00:00.000Z',
      '2024-12-01T10:00:00.000Z ',
      '2024-12-01T10:00:00,000Z',
      'Sun, 01 Dec 2024 10:00:00 GMT',
      '',
      'not a date',
      'xxxxxxxxxxxxxxxxxxxxxxxZ',
      'xxxxxxxxxxxxxxxxxxxZ',
    ]) {
      expect(parseCanonicalUtc(s), s).toBeUndefined();
      same(s);
    }
  });

  it('keeps the contract on random strings in and near the canonical shape', () => {
    nearCanonical(keepsContract, 3000);
  });

  it('a date converted right after another is its own, whichever field differs', () => {
    // The fast path remembers the last date it converted: dates a careless key could confuse.
    for (const [a, b] of [
      ['2024-01-05', '2025-01-04'],
      ['2024-01-05', '2024-01-06'],
      ['2024-02-01', '2024-01-02'],
      ['2024-01-01', '2024-02-01'],
      ['2024-01-01', '2025-01-01'],
      ['2024-01-01', '2024-01-01'],
      ['1999-12-31', '2000-01-01'],
    ]) {
      for (const day of [a, b, a])
        expect(parseCanonicalUtc(`${day}T10:00:00.000Z`)).toBe(Date.parse(`${day}T10:00:00.000Z`));
    }
  });
});

describe('digits2: the fast path reads its fields two digits at a time', () => {
  it('is the two digits as a number, and -1 when either is not a digit, even where the sum would look like one', () => {
    expect(digits2('07', 0)).toBe(7);
    expect(digits2('x59', 1)).toBe(59);
    expect(digits2('90', 0)).toBe(90);
    // '/' is one below '0' and ':' one above '9': as digits they would make -5, 15, 9 and 10.
    for (const pair of ['/5', '1:', '1/', ':0', '//', '::', 'a1', '1a', ' 1', '1', ''])
      expect(digits2(pair, 0), JSON.stringify(pair)).toBe(-1);
  });
});
