import { describe, expect, it } from 'vitest';
import { looksTruncated, readListBody } from '../../functions/verifik/envelope.js';

const record = (id: string, extra: object = {}) => ({
  _id: id,
  status: 'validated',
  createdAt: '2024-12-01T10:00:00.000Z',
  client: { _id: 'c1', name: 'Client' },
  project: 'p1',
  ...extra,
});

describe('readListBody', () => {
  it('reads the seed envelope', () => {
    const body = JSON.stringify({
      success: true,
      data: [record('a'), record('b')],
      pagination: { page: 2, perPage: 2, total: 5, pages: 3 },
    });
    const v = readListBody(200, body, 2);
    expect(v).toMatchObject({
      ok: true,
      page: { page: 2, perPage: 2, total: 5, pages: 3, envelope: 'seed' },
    });
    if (v.ok) expect(v.page.records.map((r) => r._id)).toEqual(['a', 'b']);
  });

  it('reads the backend module envelope', () => {
    const body = JSON.stringify({ data: { docs: [record('a')], total: 1, limit: 20, page: 1, pages: 1 } });
    expect(readListBody(200, body, 1)).toMatchObject({
      ok: true,
      page: { page: 1, perPage: 20, total: 1, pages: 1, envelope: 'module' },
    });
  });

  it('reads 204 and {data: []} as an empty page', () => {
    expect(readListBody(204, '', 3)).toMatchObject({
      ok: true,
      page: { records: [], total: 0, page: 3, envelope: 'empty' },
    });
    expect(readListBody(200, '{"data":[]}', 1)).toMatchObject({ ok: true, page: { records: [], total: 0 } });
  });

  it('keeps unknown statuses and types (the sets are open)', () => {
    const body = JSON.stringify({
      data: {
        docs: [record('a', { status: 'archived', type: 'brand-new' })],
        total: 1,
        limit: 1,
        page: 1,
        pages: 1,
      },
    });
    const v = readListBody(200, body, 1);
    expect(v.ok && v.page.records[0]?.status).toBe('archived');
  });

  it('calls a body cut inside a value truncated (retryable)', () => {
    const full = JSON.stringify({
      success: true,
      data: [record('a')],
      pagination: { page: 1, perPage: 1, total: 1, pages: 1 },
    });
    for (const cut of [1, 10, full.length - 1]) {
      expect(readListBody(200, full.slice(0, cut), 1)).toMatchObject({ ok: false, kind: 'truncated' });
    }
    expect(readListBody(200, '', 1)).toMatchObject({ ok: false, kind: 'truncated' });
  });

  it('calls complete non-JSON or a wrong shape malformed, naming what came', () => {
    expect(readListBody(200, '<html>oops</html>', 1)).toMatchObject({ ok: false, kind: 'malformed' });
    const wrong = readListBody(200, '{"items":[],"count":0}', 1);
    expect(wrong).toMatchObject({ ok: false, kind: 'malformed' });
    expect(!wrong.ok && wrong.kind === 'malformed' && wrong.problem).toMatch(/keys \[items, count\]/);
    expect(readListBody(200, '[1,2]', 1)).toMatchObject({ ok: false, kind: 'malformed' });
  });

  it('names the invalid record and field', () => {
    const body = JSON.stringify({
      success: true,
      data: [record('a'), record('b', { createdAt: 'yesterday' })],
      pagination: { page: 1, perPage: 2, total: 2, pages: 1 },
    });
    const v = readListBody(200, body, 1);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.kind === 'malformed' && v.problem).toMatch(/record 1 \(_id "b"\).*createdAt/);
  });

  it('refuses an error body sent with a success status', () => {
    expect(readListBody(200, '{"success":false,"error":"x","code":"Y"}', 1)).toMatchObject({
      ok: false,
      kind: 'malformed',
    });
  });
});

describe('looksTruncated', () => {
  it.each([
    ['{"a":1', true],
    ['{"a":"x\\"', true],
    ['[[', true],
    ['', true],
    ['{"a":1}', false],
    ['<html>', false],
    ['{"a": nope}', false],
    ['{"a":"}"}', false],
  ])('%j → %s', (text, expected) => expect(looksTruncated(text)).toBe(expected));
});

describe('readListBody: what each verdict says', () => {
  const seed = (data: unknown[]) =>
    JSON.stringify({ success: true, data, pagination: { page: 1, perPage: 2, total: 2, pages: 1 } });

  it('a cut body says how much arrived; a complete non-JSON one quotes the parser', () => {
    expect(readListBody(200, '{"data":[', 1)).toEqual({
      ok: false,
      kind: 'truncated',
      detail: 'the body ends inside a JSON value after 9 characters',
    });
    const v = readListBody(200, '<html>oops</html>', 1);
    expect(!v.ok && v.kind === 'malformed' && v.problem).toMatch(
      /^the body is not JSON \(Unexpected token .+\)$/,
    );
  });

  it('names the shape that came instead of an envelope', () => {
    const problem = (text: string) => {
      const v = readListBody(200, text, 1);
      return !v.ok && v.kind === 'malformed' ? v.problem : null;
    };
    const expected =
      'expected {success, data: [...], pagination} or {data: {docs, total, limit, page, pages}}, got ';
    expect(problem('null')).toBe(`${expected}a JSON null`);
    expect(problem('42')).toBe(`${expected}a JSON number`);
    expect(problem('"x"')).toBe(`${expected}a JSON string`);
    expect(problem('[1,2]')).toBe(`${expected}a JSON array`);
    expect(problem('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}')).toBe(
      `${expected}an object with keys [a, b, c, d, e, f, g, h]`,
    );
    expect(problem('{"success":false,"error":"x"}')).toBe('an error body arrived with a success status');
    expect(problem('{"success":true}')).toBe(`${expected}an object with keys [success]`);
  });

  it('an invalid record is named by its index, its _id when it has one, and the field', () => {
    const problem = (data: unknown[]) => {
      const v = readListBody(200, seed(data), 1);
      return !v.ok && v.kind === 'malformed' ? v.problem : null;
    };
    expect(problem([record('a'), { ...record('b'), status: '' }])).toMatch(
      /^record 1 \(_id "b"\) is not a biometric validation: status: /,
    );
    expect(problem([{ status: 'x', createdAt: '2024-12-01T10:00:00Z' }])).toMatch(
      /^record 0 is not a biometric validation: _id: /,
    );
    expect(problem([7])).toMatch(/^record 0 is not a biometric validation: \(the record\): /);
    expect(problem([record('a', { biometricData: { livenessScore: 'high' } })])).toMatch(
      /^record 0 \(_id "a"\) is not a biometric validation: biometricData\.livenessScore: /,
    );
  });

  it('valid records are used as they came, not copied by the schema (which would drop unknown keys)', () => {
    const v = readListBody(200, seed([record('a', { extra: 1 }), record('b')]), 1);
    expect(v.ok && v.page.records[0]).toHaveProperty('extra', 1);
    expect(v).toMatchObject({
      ok: true,
      page: { page: 1, perPage: 2, total: 2, pages: 1, envelope: 'seed' },
    });
    expect(v.ok && v.page.records.map((r) => r._id)).toEqual(['a', 'b']);
  });

  it('an empty page takes the requested page number', () => {
    expect(readListBody(204, '', 7)).toEqual({
      ok: true,
      page: { records: [], page: 7, perPage: null, total: 0, pages: 0, envelope: 'empty' },
    });
    expect(readListBody(200, '{"data":[]}', 3)).toMatchObject({
      ok: true,
      page: { page: 3, envelope: 'empty' },
    });
  });
});

describe('looksTruncated: strings and escapes', () => {
  it.each([
    ['   ', true],
    ['"abc', true],
    ['"a\\\\"', false],
    ['{"a":"\\\\"}', false],
    ['{"a":[1,2]', true],
    ['{"a":[1,2]}', false],
    ['}', false],
    // An escaped quote does not end the string: the brace after it is text.
    ['{"a":"x\\"}', true],
  ])('%j → %s', (text, expected) => expect(looksTruncated(text)).toBe(expected));
});
