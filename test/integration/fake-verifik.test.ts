/**
 * The fake Verifik API over real HTTP on loopback, observed with plain `fetch`: every
 * parameter's wire form, the backend's semantics, both envelopes, and every fault kind.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords, type RecordFilter } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { LIST_PATH } from '../../functions/verifik/client.js';
import {
  type BiometricValidation,
  ErrorBody,
  ModuleEnvelope,
  SeedEnvelope,
} from '../../functions/verifik/schema.js';

const start = new Date('2024-12-01T05:00:00.000Z');
const end = new Date('2024-12-02T05:00:00.000Z');
const INVALID = { success: false, error: 'Invalid query parameters', code: 'INVALID_PARAMETERS' };

let fake: FakeVerifik;

beforeAll(async () => {
  fake = await startFakeVerifik({ dataset: createDataset({ seed: 11, count: 3_000, start, end }) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.faults.clear();
});

/** GET the list with a raw query string (exactly as it goes on the wire). */
function get(
  query = '',
  init: RequestInit & { token?: string | null } = {},
  server = fake,
): Promise<Response> {
  const token = init.token === undefined ? server.token : init.token;
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  return fetch(`${server.url}${LIST_PATH}${query ? `?${query}` : ''}`, { ...init, headers });
}

interface SeedBody {
  success: true;
  data: BiometricValidation[];
  pagination: { page: number; perPage: number; total: number; pages: number };
}

async function list(query: string, server = fake): Promise<SeedBody> {
  const res = await get(query, {}, server);
  expect(res.status).toBe(200);
  const body = (await res.json()) as SeedBody;
  SeedEnvelope.parse(body);
  return body;
}

/** Reads every page ascending and returns the ids. */
async function readAll(filterQuery: string, perPage = 500): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const body = await list(`${filterQuery}&sort=createdAt&perPage=${perPage}&page=${page}`);
    ids.push(...body.data.map((r) => r._id));
    if (page >= body.pagination.pages) return ids;
  }
}

const expectedIds = (f: RecordFilter) => expectedRecords(fake.dataset, f).map((r) => r._id);
const enc = encodeURIComponent;

describe('fake Verifik: routing and auth', () => {
  it('answers 401 UNAUTHORIZED without a token or with a wrong one', async () => {
    for (const token of [null, 'wrong']) {
      const res = await get('page=1', { token });
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body).toMatchObject({ code: 'UNAUTHORIZED' });
      ErrorBody.parse(body);
    }
  });

  it('answers 404 NotFound for other paths', async () => {
    const res = await fetch(`${fake.url}/v2/other`, { headers: { authorization: `Bearer ${fake.token}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NotFound' });
  });

  it('logs each request with its number, raw wire form and status', async () => {
    const before = fake.requests.length;
    await get('page=1&in_status[]=failed&in_status%5B%5D=new&where%3E_createdAt=2024-12-01');
    const rec = fake.requests[before]!;
    expect(rec.n).toBe(before + 1);
    expect(rec.rawUrl).toBe(
      `${LIST_PATH}?page=1&in_status[]=failed&in_status%5B%5D=new&where%3E_createdAt=2024-12-01`,
    );
    expect(rec.query.getAll('in_status[]')).toEqual(['failed', 'new']);
    expect(rec.query.get('where>_createdAt')).toBe('2024-12-01');
    expect(rec.status).toBe(200);
  });
});

describe('fake Verifik: paging', () => {
  it('defaults to 20 a page, sorted by -createdAt (newest first)', async () => {
    const body = await list('page=1');
    expect(body.pagination).toEqual({ page: 1, perPage: 20, total: 3_000, pages: 150 });
    const ds = fake.dataset;
    expect(body.data[0]!._id).toBe(ds.record(ds.size - 1)._id);
    const times = body.data.map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('sorts ascending with sort=createdAt and pages through everything exactly once', async () => {
    const ids = await readAll('where_type=login', 250);
    expect(ids).toEqual(expectedIds({ type: 'login' }));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('pages descending in exactly the reverse order', async () => {
    const a = await list('sort=-createdAt&perPage=1000&page=1');
    const b = await list('sort=-createdAt&perPage=1000&page=3');
    const all = expectedIds({});
    expect(a.data.map((r) => r._id)).toEqual(all.slice(2_000).reverse());
    expect(b.data.map((r) => r._id)).toEqual(all.slice(0, 1_000).reverse());
  });

  it('caps perPage at the server maximum and reports the size actually used', async () => {
    const capped = await list('page=1&perPage=5000');
    expect(capped.data).toHaveLength(1_000);
    expect(capped.pagination).toMatchObject({ perPage: 1_000, pages: 3 });
    fake.faults.set({ maxPerPage: 7 });
    const small = await list('page=2&perPage=100&sort=createdAt');
    expect(small.data).toHaveLength(7);
    expect(small.pagination).toEqual({ page: 2, perPage: 7, total: 3_000, pages: 429 });
    expect(small.data.map((r) => r._id)).toEqual(expectedIds({}).slice(7, 14));
  });

  it('uses offset only without page, and reports the page it falls on', async () => {
    const all = expectedIds({});
    const byOffset = await list('offset=25&perPage=10&sort=createdAt');
    expect(byOffset.data.map((r) => r._id)).toEqual(all.slice(25, 35));
    expect(byOffset.pagination.page).toBe(3);
    const pageWins = await list('page=2&offset=999&perPage=10&sort=createdAt');
    expect(pageWins.data.map((r) => r._id)).toEqual(all.slice(10, 20));
  });

  it('does not paginate without page or offset: one capped page, perPage reports the cap', async () => {
    fake.faults.set({ maxPerPage: 50 });
    const body = await list('perPage=5&sort=createdAt');
    expect(body.data).toHaveLength(50);
    expect(body.pagination).toMatchObject({ page: 1, perPage: 50, total: 3_000 });
  });

  it('answers an empty page past the end with an empty data array and the real total', async () => {
    const body = await list('page=99&perPage=1000');
    expect(body.data).toEqual([]);
    expect(body.pagination).toEqual({ page: 99, perPage: 1_000, total: 3_000, pages: 3 });
  });
});

describe('fake Verifik: filters', () => {
  it('filters by where_status, where_type, where_client, where_project', async () => {
    const client = fake.dataset.clients[1]!._id;
    const project = fake.dataset.projects[0]!._id;
    expect(await readAll('where_status=failed')).toEqual(expectedIds({ statuses: ['failed'] }));
    expect(await readAll(`where_client=${client}`)).toEqual(expectedIds({ client }));
    expect(await readAll(`where_project=${project}&where_type=validation`)).toEqual(
      expectedIds({ project, type: 'validation' }),
    );
  });

  it('reads in_status[] repeated, in_status without brackets, and indexed in_status[0]', async () => {
    const want = expectedIds({ statuses: ['failed', 'expired'] });
    expect(want.length).toBeGreaterThan(100);
    expect(await readAll('in_status[]=failed&in_status[]=expired')).toEqual(want);
    expect(await readAll('in_status%5B%5D=failed&in_status%5B%5D=expired')).toEqual(want);
    expect(await readAll('in_status=failed&in_status=expired')).toEqual(want);
    expect(await readAll('in_status[0]=failed&in_status[1]=expired')).toEqual(want);
    // where_status and in_status[] both apply.
    expect(await readAll('where_status=failed&in_status[]=failed&in_status[]=new')).toEqual(
      expectedIds({ statuses: ['failed'] }),
    );
    expect((await list('page=1&where_status=failed&in_status[]=new')).pagination.total).toBe(0);
  });

  it('filters by where_livenessSession', async () => {
    const withSession = [...fake.dataset].find((r) => typeof r.livenessSession === 'string')!;
    const body = await list(`page=1&where_livenessSession=${withSession.livenessSession}`);
    expect(body.data.map((r) => r._id)).toEqual([withSession._id]);
  });

  it('reads where>_ and where<_ as strict, where>=_ and where<=_ as inclusive', async () => {
    const ds = fake.dataset;
    const i = 1_234;
    const t = new Date(ds.createdAtMs(i)).toISOString();
    const lo = ds.createdAtMs(i);
    const gt = await list(`page=1&perPage=1000&sort=createdAt&where>_createdAt=${t}`);
    expect(gt.data.length).toBeGreaterThan(0);
    expect(gt.data.every((r) => Date.parse(r.createdAt) > lo)).toBe(true);
    expect(gt.pagination.total).toBe(expectedIds({ start: new Date(lo + 1) }).length);
    const gte = await list(`page=1&sort=createdAt&${enc('where>=_createdAt')}=${t}`);
    expect(Date.parse(gte.data[0]!.createdAt)).toBe(lo);
    const lt = await list(`page=1&where<_createdAt=${t}`);
    expect(lt.data.length).toBeGreaterThan(0);
    expect(lt.data.every((r) => Date.parse(r.createdAt) < lo)).toBe(true);
    expect(lt.pagination.total).toBe(expectedIds({ end: new Date(lo) }).length);
    const lte = await list(`page=1&${enc('where<=_createdAt')}=${t}`);
    expect(lte.pagination.total).toBe(expectedIds({ end: new Date(lo + 1) }).length);
    // Unencoded, "where>=_createdAt=X" is the parameter "where>" with value "_createdAt=X": ignored.
    expect((await list(`page=1&where>=_createdAt=${t}`)).pagination.total).toBe(3_000);
  });

  it('merges two bounds into one range, encoded or not', async () => {
    const from = new Date('2024-12-01T15:00:00.000Z');
    const to = new Date('2024-12-01T16:00:00.000Z');
    const want = expectedIds({ start: new Date(from.getTime() + 1), end: to });
    expect(
      await readAll(`where>_createdAt=${from.toISOString()}&where<_createdAt=${to.toISOString()}`),
    ).toEqual(want);
    expect(
      await readAll(
        `${enc('where>_createdAt')}=${enc(from.toISOString())}&${enc('where<_createdAt')}=${enc(to.toISOString())}`,
      ),
    ).toEqual(want);
  });

  it('reads a 10-character date as midnight UTC and an offset date only when its + is encoded', async () => {
    const day = await list('page=1&where<_createdAt=2024-12-01');
    expect(day.pagination.total).toBe(expectedIds({ end: new Date('2024-12-01T00:00:00Z') }).length);
    const encoded = await list(`page=1&where<_createdAt=${enc('2024-12-01T10:00:00.000+00:00')}`);
    expect(encoded.pagination.total).toBe(expectedIds({ end: new Date('2024-12-01T10:00:00Z') }).length);
    // A raw "+" is a space in a query string: the date no longer parses.
    const raw = await get('page=1&where<_createdAt=2024-12-01T10:00:00.000+00:00');
    expect(raw.status).toBe(400);
  });

  it('ignores unknown parameters and unknown fields', async () => {
    const plain = await list('page=1&perPage=50&sort=createdAt');
    const noisy = await list(
      'page=1&perPage=50&sort=createdAt&foo=bar&where_color=red&wherenot_status=failed&x[]=1',
    );
    expect(noisy).toEqual(plain);
  });

  it('answers 400 INVALID_PARAMETERS in the seed shape for malformed values', async () => {
    for (const q of [
      'page=0',
      'page=abc',
      'page=1.5',
      'perPage=0',
      'perPage=-5',
      'offset=-1',
      'page=1&page=2',
      'where>_createdAt=2024-12',
      'where>_createdAt=not-a-date-at-all',
      'where%3C%3D_createdAt=',
      'sort=name',
    ]) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      expect(await res.json()).toEqual(INVALID);
    }
  });
});

describe('fake Verifik: populates and envelopes', () => {
  it('returns id strings by default and objects for populates[]=client / project', async () => {
    const plain = await list('page=1&perPage=5');
    expect(plain.data).toHaveLength(5);
    expect(plain.data.every((r) => typeof r.client === 'string' && typeof r.project === 'string')).toBe(true);
    const client = await list('page=1&perPage=5&populates[]=client&populates[]=nonsense');
    expect(client.data).toHaveLength(5);
    for (const r of client.data) {
      expect(Object.keys(r.client as object).sort()).toEqual(['_id', 'email', 'name']);
      expect(typeof r.project).toBe('string');
    }
    const both = await list('page=1&perPage=5&populates[]=client&populates[]=project');
    expect(both.data).toHaveLength(5);
    for (const r of both.data) {
      expect(Object.keys(r.project as object).sort()).toEqual(['_id', 'description', 'name']);
      expect((r.client as { _id: string })._id).toBe(
        plain.data.find((p) => p._id === r._id)?.client as string | undefined,
      );
    }
    const noBrackets = await list('page=1&perPage=5&populates=project');
    expect(noBrackets.data).toHaveLength(5);
    expect(noBrackets.data.every((r) => typeof r.project === 'object')).toBe(true);
  });

  it('speaks the module envelope when asked', async () => {
    fake.faults.set({ envelope: 'module', maxPerPage: 30 });
    const res = await get('page=2&perPage=50&sort=createdAt');
    const body = ModuleEnvelope.parse(await res.json());
    expect(body.data).toMatchObject({ total: 3_000, limit: 30, page: 2, pages: 100 });
    expect(body.data.docs.map((r) => (r as BiometricValidation)._id)).toEqual(expectedIds({}).slice(30, 60));
  });

  it('answers empty results as 204 or { data: [] } when configured', async () => {
    fake.faults.set({ emptyAs: '204' });
    const none = await get('page=1&where_status=nope');
    expect(none.status).toBe(204);
    expect(await none.text()).toBe('');
    fake.faults.set({ emptyAs: 'empty-array' });
    const past = await get('page=500');
    expect(await past.json()).toEqual({ data: [] });
    // Non-empty pages keep the normal envelope.
    expect((await list('page=1')).data).toHaveLength(20);
  });

  it('can ignore a filter it was sent, like a server that does not know it', async () => {
    fake.faults.set({ ignoreParams: ['in_status[]'] });
    const body = await list('page=1&perPage=1000&in_status[]=failed');
    expect(body.pagination.total).toBe(3_000);
    expect(body.data.some((r) => r.status !== 'failed')).toBe(true);
    fake.faults.set({ ignoreParams: ['where<_createdAt'] });
    expect((await list('page=1&where<_createdAt=2024-12-01T06:00:00Z')).pagination.total).toBe(3_000);
  });
});

describe('fake Verifik: faults', () => {
  it('answers 429 with Retry-After in seconds or as an HTTP date, then recovers', async () => {
    const later = new Date('2030-01-01T00:00:00Z');
    fake.faults.push({ kind: 'status', status: 429, retryAfter: 2 });
    fake.faults.push({ kind: 'status', status: 429, retryAfter: later });
    const a = await get('page=1');
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('2');
    expect(await a.json()).toMatchObject({ code: 'TooManyRequests' });
    const b = await get('page=1');
    expect(b.headers.get('retry-after')).toBe(later.toUTCString());
    expect((await get('page=1')).status).toBe(200);
    expect(fake.faults.pending).toBe(0);
  });

  it('answers 5xx and 408 with the body shapes a real stack would', async () => {
    fake.faults.push({ kind: 'status', status: 502 });
    fake.faults.push({ kind: 'status', status: 500, body: { code: 'InternalServerError', message: 'boom' } });
    fake.faults.push({ kind: 'status', status: 408 });
    const gateway = await get('page=1');
    expect(gateway.status).toBe(502);
    expect(gateway.headers.get('content-type')).toContain('text/html');
    const internal = await get('page=1');
    expect(await internal.json()).toEqual({ code: 'InternalServerError', message: 'boom' });
    expect((await get('page=1')).status).toBe(408);
  });

  it('fires by request number, by predicate, and a set number of times', async () => {
    const next = fake.requests.length + 1;
    fake.faults.push({ kind: 'status', status: 503 }, { onRequest: next + 1 });
    fake.faults.push({ kind: 'status', status: 500 }, { times: 2, when: (r) => r.query.get('page') === '3' });
    expect((await get('page=1')).status).toBe(200);
    expect((await get('page=1')).status).toBe(503);
    expect((await get('page=3')).status).toBe(500);
    expect((await get('page=2')).status).toBe(200);
    expect((await get('page=3')).status).toBe(500);
    expect((await get('page=3')).status).toBe(200);
    expect(fake.requests.at(-4)?.faults).toEqual(['status']);
  });

  it('resets the connection without answering', async () => {
    fake.faults.push({ kind: 'reset' });
    await expect(get('page=1')).rejects.toThrow(TypeError);
    expect(fake.requests.at(-1)).toMatchObject({ status: 0, faults: ['reset'] });
    expect((await get('page=1')).status).toBe(200);
  });

  it('truncates the body mid-stream, or cleanly with a short Content-Length', async () => {
    fake.faults.push({ kind: 'truncate' });
    const cut = await get('page=1&perPage=100');
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();

    fake.faults.push({ kind: 'truncate', mode: 'clean', fraction: 0.3 });
    const clean = await get('page=1&perPage=100');
    const text = await clean.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    const full = await (await get('page=1&perPage=100')).text();
    expect(full.startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(full.length * 0.35);
  });

  it('serves a malformed body verbatim', async () => {
    fake.faults.push({ kind: 'malformed', body: '{"data": 5}' });
    const res = await get('page=1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"data": 5}');
  });

  it('hangs until the client gives up, or for a while and then answers', async () => {
    fake.faults.push({ kind: 'hang', ms: Number.POSITIVE_INFINITY });
    await expect(get('page=1', { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    fake.faults.push({ kind: 'hang', ms: 30 });
    fake.faults.set({ latencyMs: 5 });
    const res = await get('page=1');
    expect(res.status).toBe(200);
    expect(fake.requests.at(-1)?.faults).toEqual(['hang']);
  });

  it('inserts records into the window before serving (drift mid-read), combined with another fault', async () => {
    const own = await startFakeVerifik({
      dataset: createDataset({ seed: 3, count: 200, start, end }),
      token: 't2',
    });
    try {
      const first = await list('page=1&perPage=10&sort=createdAt', own);
      expect(first.pagination.total).toBe(200);
      const at = { start: new Date('2024-12-01T05:00:00Z'), end: new Date('2024-12-01T05:00:01Z') };
      own.faults.push({ kind: 'insert', count: 5, at });
      own.faults.push({ kind: 'status', status: 500 });
      expect((await get('page=1', {}, own)).status).toBe(500);
      const second = await list('page=1&perPage=10&sort=createdAt', own);
      expect(second.pagination.total).toBe(205);
      // The new records sort first: every old record moved back by five places.
      expect(second.data.slice(5).map((r) => r._id)).toEqual(first.data.slice(0, 5).map((r) => r._id));
      expect(own.requests.at(-2)?.faults).toEqual(['insert', 'status']);
    } finally {
      await own.close();
    }
  });

  it('closes while a request hangs: the hung request fails, close resolves', async () => {
    const own = await startFakeVerifik({ dataset: createDataset({ seed: 4, count: 10, start, end }) });
    own.faults.push({ kind: 'hang', ms: Number.POSITIVE_INFINITY });
    const pending = get('page=1', {}, own);
    while (own.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await own.close();
    await expect(pending).rejects.toThrow();
  });

  it('clear() drops queued faults and restores the starting settings', async () => {
    fake.faults.set({ maxPerPage: 3, envelope: 'module' });
    fake.faults.push({ kind: 'status', status: 500 }, { times: Number.POSITIVE_INFINITY });
    fake.faults.clear();
    expect(fake.faults.pending).toBe(0);
    expect((await list('page=1&perPage=100')).pagination.perPage).toBe(100);
  });
});
