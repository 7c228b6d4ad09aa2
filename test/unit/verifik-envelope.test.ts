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
