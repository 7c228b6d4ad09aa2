/**
 * The API's 400s echo what was wrong, never all of it: a value at most 60 characters and "…",
 * a field's problems a few times, unknown names ten times. A 5 MB value gets a small answer.
 */
import { describe, expect, it } from 'vitest';
import { validationError } from '../../functions/api/http.js';
import { ECHO_LIMIT, echo, parseListQuery, parseReportRequest } from '../../functions/api/input.js';

const ctx = { allowedDomains: ['ops.example'], now: new Date('2024-12-02T11:00:00Z') };
const HUGE = 5 * 1024 * 1024;

function answer(body: unknown) {
  const parsed = parseReportRequest(body, ctx);
  if (parsed.ok) throw new Error('expected a refusal');
  const res = validationError(parsed.errors);
  return { errors: parsed.errors, bytes: Buffer.byteLength(String(res.body)) };
}

describe('echo', () => {
  it('keeps short values, cuts long ones at 60 characters (whole code points) and marks the cut', () => {
    expect(echo('Mars/Olympus')).toBe('"Mars/Olympus"');
    expect(echo('x'.repeat(ECHO_LIMIT))).toBe(`"${'x'.repeat(60)}"`);
    expect(echo('x'.repeat(61))).toBe(`"${'x'.repeat(60)}…"`);
    expect(echo('😀'.repeat(100))).toBe(`"${'😀'.repeat(60)}…"`);
  });
});

describe('a 5 MB value is not echoed back', () => {
  it('timeZone', () => {
    const { errors, bytes } = answer({ date: '2024-12-01', timeZone: `Mars/${'x'.repeat(HUGE)}` });
    expect(errors).toEqual([
      {
        field: 'timeZone',
        message: `unknown time zone "Mars/${'x'.repeat(55)}…": use an IANA name such as "America/Bogota"`,
      },
    ]);
    expect(bytes).toBeLessThan(1024);
  });

  it('date, from and to', () => {
    const long = `2024-12-01${'9'.repeat(HUGE)}`;
    const { errors, bytes } = answer({ from: long, to: long, timeZone: 'UTC' });
    expect(errors.map((e) => e.field)).toEqual(['from', 'to']);
    expect(errors[0]?.message).toBe(`"2024-12-01${'9'.repeat(50)}…" is not a date: use YYYY-MM-DD`);
    expect(bytes).toBeLessThan(1024);
    expect(answer({ date: long, timeZone: 'UTC' }).bytes).toBeLessThan(1024);
  });

  it('an unknown field name, and a million of them', () => {
    const one = answer({ timeZone: 'UTC', ['k'.repeat(HUGE)]: 1 });
    expect(one.errors).toEqual([{ field: `${'k'.repeat(60)}…`, message: 'unknown field' }]);
    const many = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`field${i}`, i]));
    const all = answer({ timeZone: 'UTC', ...many });
    expect(all.errors).toHaveLength(11);
    expect(all.errors.at(-1)).toEqual({ field: 'body', message: 'and 99990 more: unknown field' });
    expect(all.bytes).toBeLessThan(2048);
  });

  it('a recipient outside the allowed domains', () => {
    const address = `${'a'.repeat(HUGE)}@evil.example`;
    const { errors, bytes } = answer({ timeZone: 'UTC', notify: [address] });
    expect(errors).toEqual([
      { field: 'notify', message: `not in an allowed recipient domain: ${'a'.repeat(60)}…` },
    ]);
    expect(bytes).toBeLessThan(1024);
  });

  it('an array of bad values: a few problems and how many more', () => {
    const { errors, bytes } = answer({ timeZone: 'UTC', statuses: Array.from({ length: 20 }, () => 'a b') });
    expect(errors.map((e) => e.field)).toEqual([
      'statuses.0',
      'statuses.1',
      'statuses.2',
      'statuses.3',
      'statuses.4',
      'statuses',
    ]);
    expect(errors.at(-1)?.message).toBe('and 15 more problems like these');
    expect(bytes).toBeLessThan(2048);
    // Too many values is one problem, whatever they are.
    const many = answer({ timeZone: 'UTC', statuses: Array.from({ length: 200_000 }, () => 'a b') });
    expect(many.errors).toEqual([{ field: 'statuses', message: 'at most 20 status values' }]);
  });

  it('the list query: date and unknown parameters', () => {
    const parsed = parseListQuery({ date: 'd'.repeat(HUGE), ['p'.repeat(HUGE)]: 'x' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Buffer.byteLength(String(validationError(parsed.errors).body))).toBeLessThan(1024);
    expect(parsed.errors.map((e) => e.field)).toEqual([`${'p'.repeat(60)}…`, 'date']);
  });
});
