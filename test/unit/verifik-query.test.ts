import { describe, expect, it } from 'vitest';
import { InvalidQueryError, toQueryString, toSearchParams } from '../../functions/verifik/query.js';

describe('toQueryString: the exact wire form of each parameter', () => {
  const cases: [string, Parameters<typeof toQueryString>[0], string][] = [
    ['page', { page: 3 }, 'page=3'],
    ['perPage', { perPage: 500 }, 'perPage=500'],
    ['offset', { offset: 40 }, 'offset=40'],
    ['populates[] repeated', { populates: ['client', 'project'] }, 'populates[]=client&populates[]=project'],
    ['where_client', { client: '507f1f77bcf86cd799439013' }, 'where_client=507f1f77bcf86cd799439013'],
    ['where_status', { status: 'validated' }, 'where_status=validated'],
    ['where_type', { type: 'login' }, 'where_type=login'],
    [
      'where_livenessSession',
      { livenessSession: '674de8df21c72be3cc42b8a7' },
      'where_livenessSession=674de8df21c72be3cc42b8a7',
    ],
    [
      'in_status[] repeated',
      { statusIn: ['validated', 'failed'] },
      'in_status[]=validated&in_status[]=failed',
    ],
    [
      'where>_createdAt as an ISO instant',
      { createdAfter: new Date('2024-12-01T04:59:59.999Z') },
      'where%3E_createdAt=2024-12-01T04:59:59.999Z',
    ],
    [
      'where<_createdAt as an ISO instant',
      { createdBefore: new Date('2024-12-02T05:00:00.000Z') },
      'where%3C_createdAt=2024-12-02T05:00:00.000Z',
    ],
    ['sort ascending', { sort: 'createdAt' }, 'sort=createdAt'],
    ['sort descending', { sort: '-createdAt' }, 'sort=-createdAt'],
  ];
  it.each(cases)('%s', (_name, query, wire) => {
    expect(toQueryString(query)).toBe(wire);
  });

  it('encodes values that need it and keeps a fixed parameter order', () => {
    const q = toQueryString({
      sort: 'createdAt',
      statusIn: ['a b', 'c&d'],
      page: 1,
      perPage: 10,
      populates: ['client'],
      type: 'x=y',
    });
    expect(q).toBe(
      'page=1&perPage=10&populates[]=client&where_type=x%3Dy&in_status[]=a%20b&in_status[]=c%26d&sort=createdAt',
    );
  });

  it('decodes to the same parameters the server reads', () => {
    const p = toSearchParams({
      statusIn: ['new', 'sent'],
      createdAfter: new Date(0),
      populates: ['client', 'project'],
    });
    expect(p.getAll('in_status[]')).toEqual(['new', 'sent']);
    expect(p.getAll('populates[]')).toEqual(['client', 'project']);
    expect(p.get('where>_createdAt')).toBe('1970-01-01T00:00:00.000Z');
  });

  it('omits what is not set', () => {
    expect(toQueryString({})).toBe('');
    expect(toQueryString({ statusIn: [] })).toBe('');
  });

  it.each([
    ['page 0', { page: 0 }, /page/],
    ['fractional perPage', { perPage: 2.5 }, /perPage/],
    ['negative offset', { offset: -1 }, /offset/],
    ['invalid date', { createdAfter: new Date('nope') }, /createdAfter/],
    ['unknown populate', { populates: ['secrets'] }, /populates/],
    ['unknown sort', { sort: 'name' }, /sort/],
    ['empty status', { status: '' }, /status/],
  ])('refuses %s with a message naming the field', (_n, query, field) => {
    expect(() => toQueryString(query as never)).toThrow(InvalidQueryError);
    expect(() => toQueryString(query as never)).toThrow(field);
  });

  it('refuses unknown fields instead of silently dropping them', () => {
    expect(() => toQueryString({ where_status: 'x' } as never)).toThrow(InvalidQueryError);
    expect(() => toQueryString({ where_status: 'x' } as never)).toThrow(
      'The Verifik list query is invalid (query: Unrecognized key: "where_status"); fix the caller that built it.',
    );
  });
});

describe('toQueryString: the edges', () => {
  it.each([
    ['page 1', { page: 1 }, 'page=1'],
    ['perPage 1', { perPage: 1 }, 'perPage=1'],
    ['offset 0', { offset: 0 }, 'offset=0'],
    [
      'every populate',
      { populates: ['client', 'project', 'projectFlow', 'livenessSession'] },
      'populates[]=client&populates[]=project&populates[]=projectFlow&populates[]=livenessSession',
    ],
    ['brackets and colons stay literal in values', { client: 'a[b]:c' }, 'where_client=a[b]:c'],
  ])('accepts %s', (_n, query, wire) => {
    expect(toQueryString(query as never)).toBe(wire);
  });

  it.each([
    ['an empty client', { client: '' }],
    ['an empty type', { type: '' }],
    ['an empty liveness session', { livenessSession: '' }],
    ['an empty status in the list', { statusIn: ['a', ''] }],
    ['an invalid createdBefore', { createdBefore: new Date(Number.NaN) }],
    ['fractional page', { page: 1.5 }],
    ['perPage 0', { perPage: 0 }],
    ['fractional offset', { offset: 0.5 }],
  ])('refuses %s', (_n, query) => {
    expect(() => toQueryString(query as never)).toThrow(InvalidQueryError);
  });

  it('says the query is invalid, what is wrong, and who should fix it; a usage error', () => {
    let caught: unknown;
    try {
      toQueryString({ page: 0 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ kind: 'usage', name: 'InvalidQueryError' });
    expect((caught as Error).message).toMatch(
      /^The Verifik list query is invalid \(.*page.*\); fix the caller that built it\.$/,
    );
  });
});
