/**
 * The ky client against the fake Verifik over real HTTP on loopback: wire form, both envelopes,
 * every error class, and the retry rules (waits observed through an injected sleep, never timed).
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import {
  createVerifikClient,
  type RetryInfo,
  type VerifikClientOptions,
} from '../../functions/verifik/client.js';
import {
  VerifikAuthError,
  VerifikBadRequestError,
  VerifikError,
  VerifikMalformedResponseError,
  VerifikRateLimitedError,
  VerifikTimeoutError,
  VerifikUnavailableError,
} from '../../functions/verifik/errors.js';
import type { ListQuery } from '../../functions/verifik/query.js';

const TOKEN = 'eyJTOKEN.SeCrEt-7f3a9c.do-not-leak';
const start = new Date('2024-12-01T05:00:00.000Z');
const end = new Date('2024-12-02T05:00:00.000Z');
const Q: ListQuery = { page: 1, perPage: 50, sort: 'createdAt', populates: ['client', 'project'] };

let fake: FakeVerifik;

beforeAll(async () => {
  fake = await startFakeVerifik({
    dataset: createDataset({ seed: 5, count: 400, start, end }),
    token: TOKEN,
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.faults.clear();
  fake.requests.length = 0;
});

/** A client whose waits are recorded instead of slept, so retry tests are fast and exact. */
function client(overrides: Partial<VerifikClientOptions> = {}) {
  const waits: number[] = [];
  const retries: RetryInfo[] = [];
  const c = createVerifikClient({
    baseUrl: fake.url,
    token: TOKEN,
    timeoutMs: 2_000,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, budgetMs: 30_000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    onRetry: (info) => retries.push(info),
    random: () => 0.5,
    ...overrides,
  });
  return { c, waits, retries };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`non-Error thrown: ${String(error)}`);
  }
  throw new Error('expected the call to fail');
}

/** The token must not be reachable from anything an error exposes. */
function expectNoToken(err: Error) {
  const views = [
    String(err),
    err.stack ?? '',
    JSON.stringify(err),
    inspect(err, { depth: 20, showHidden: true }),
  ];
  for (let c: unknown = err.cause; c; c = (c as Error).cause)
    views.push(inspect(c, { depth: 20, showHidden: true }));
  for (const v of views) expect(v).not.toContain(TOKEN);
  for (const v of views) expect(v).not.toContain('SeCrEt');
}

describe('requests on the wire', () => {
  it('sends every parameter in its documented form, the token only in the Authorization header', async () => {
    const { c } = client();
    await c.listPage({
      page: 2,
      perPage: 25,
      populates: ['client', 'project'],
      client: 'c1',
      type: 'login',
      livenessSession: 's1',
      statusIn: ['validated', 'failed'],
      createdAfter: new Date(start.getTime() - 1),
      createdBefore: end,
      sort: 'createdAt',
    });
    const req = fake.requests.at(-1);
    expect(req?.path).toBe('/v2/biometric-validations');
    expect(req?.rawUrl).toBe(
      '/v2/biometric-validations?page=2&perPage=25&populates[]=client&populates[]=project&where_client=c1' +
        '&where_type=login&where_livenessSession=s1&in_status[]=validated&in_status[]=failed' +
        '&where%3E_createdAt=2024-12-01T04:59:59.999Z&where%3C_createdAt=2024-12-02T05:00:00.000Z&sort=createdAt',
    );
    expect(req?.query.getAll('in_status[]')).toEqual(['validated', 'failed']);
    expect(req?.rawUrl).not.toContain(TOKEN);
  });

  it('reads the seed envelope into a Page with validated records', async () => {
    const { c } = client();
    const page = await c.listPage(Q);
    expect(page).toMatchObject({ page: 1, perPage: 50, total: 400, pages: 8, envelope: 'seed' });
    expect(page.records).toHaveLength(50);
    expect(page.records[0]?._id).toBe(fake.dataset.record(0)._id);
  });

  it('reads the module envelope', async () => {
    fake.faults.set({ envelope: 'module' });
    const page = await client().c.listPage({ ...Q, page: 8 });
    expect(page).toMatchObject({ page: 8, perPage: 50, total: 400, pages: 8, envelope: 'module' });
    expect(page.records.at(-1)?._id).toBe(fake.dataset.record(399)._id);
  });

  it.each(['204', 'empty-array'] as const)('reads an empty result sent as %s', async (emptyAs) => {
    fake.faults.set({ emptyAs });
    const page = await client().c.listPage({ ...Q, page: 99 });
    expect(page.records).toEqual([]);
    expect(page.total).toBe(0);
  });
});

describe('errors that are not retried', () => {
  it('401 → VerifikAuthError telling to renew VERIFIK_TOKEN, without the token', async () => {
    const c = createVerifikClient({ baseUrl: fake.url, token: `${TOKEN}-wrong` });
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikAuthError);
    expect(err.message).toMatch(/HTTP 401 UNAUTHORIZED/);
    expect(err.message).toMatch(/VERIFIK_TOKEN/);
    expect(err.message).toMatch(/[Rr]enew/);
    expect(fake.requests).toHaveLength(1);
    expectNoToken(err);
  });

  it('403 → VerifikAuthError', async () => {
    fake.faults.push({ kind: 'status', status: 403 });
    const err = await failure(client().c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikAuthError);
    expect((err as VerifikAuthError).status).toBe(403);
    expect(err.message).toMatch(/FORBIDDEN/);
  });

  it('400 INVALID_PARAMETERS → VerifikBadRequestError with the server code and message', async () => {
    fake.faults.push({
      kind: 'status',
      status: 400,
      body: { success: false, error: 'Invalid query parameters', code: 'INVALID_PARAMETERS' },
    });
    const { c, retries } = client();
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikBadRequestError);
    expect((err as VerifikBadRequestError).code).toBe('INVALID_PARAMETERS');
    expect((err as VerifikBadRequestError).serverMessage).toBe('Invalid query parameters');
    expect(err.message).toContain('Invalid query parameters');
    expect(retries).toEqual([]);
  });

  it('404 in the module error shape → VerifikBadRequestError with its code', async () => {
    fake.faults.push({ kind: 'status', status: 404, body: { code: 'NotFound', message: 'no such route' } });
    const err = await failure(client().c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikBadRequestError);
    expect(err.message).toContain('NotFound: no such route');
  });

  it('a malformed 200 → VerifikMalformedResponseError naming URL, status and an excerpt; not retried', async () => {
    const body = `{"results": [${'"x",'.repeat(200)}"y"], "token": "${TOKEN}"}`;
    fake.faults.push({ kind: 'malformed', body }, { times: 5 });
    const { c, retries } = client();
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikMalformedResponseError);
    expect(err.message).toContain(`${fake.url}/v2/biometric-validations?page=1&perPage=50`);
    expect(err.message).toContain('HTTP 200');
    expect(err.message).toMatch(/keys \[results, token\]/);
    const shown = (err as VerifikMalformedResponseError).excerpt;
    expect(shown.length).toBeLessThanOrEqual(200);
    expect(shown.startsWith('{"results": ["x",')).toBe(true);
    expect(retries).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expectNoToken(err);
  });

  it('complete non-JSON (an HTML page with 200) is malformed, with the token redacted from the excerpt', async () => {
    fake.faults.push({ kind: 'malformed', body: `<html>Bearer ${TOKEN}</html>`, contentType: 'text/html' });
    const err = await failure(client().c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikMalformedResponseError);
    expect(err.message).toMatch(/not JSON/);
    expect(err.message).toContain('[redacted]');
    expectNoToken(err);
  });

  it('a record that breaks the schema is malformed and named', async () => {
    const body = JSON.stringify({
      success: true,
      data: [{ _id: 'r1', status: 'validated', createdAt: 'not a date' }],
      pagination: { page: 1, perPage: 50, total: 1, pages: 1 },
    });
    fake.faults.push({ kind: 'malformed', body });
    const err = await failure(client().c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikMalformedResponseError);
    expect(err.message).toMatch(/record 0 \(_id "r1"\).*createdAt/);
  });
});

describe('retries', () => {
  it('429 with Retry-After seconds: waits exactly that long, then succeeds', async () => {
    fake.faults.push({ kind: 'status', status: 429, retryAfter: 3 });
    const { c, waits, retries } = client();
    const page = await c.listPage(Q);
    expect(page.records).toHaveLength(50);
    expect(waits).toEqual([3000]);
    expect(retries).toMatchObject([{ attempt: 1, delayMs: 3000, fromRetryAfter: true, status: 429 }]);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('429 with an HTTP-date Retry-After is honoured as well (beyond maxDelayMs, within the budget)', async () => {
    // The client's clock is pinned, so the date means exactly 5 s from "now".
    const clock = Date.parse('2030-01-01T00:00:00Z');
    fake.faults.push({ kind: 'status', status: 429, retryAfter: new Date(clock + 5_000) });
    const { c, waits } = client({ now: () => clock });
    await c.listPage(Q);
    expect(waits).toEqual([5000]);
  });

  it('429 whose Retry-After exceeds the remaining budget fails at once with VerifikRateLimitedError', async () => {
    fake.faults.push({ kind: 'status', status: 429, retryAfter: 600 });
    const { c, waits } = client();
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikRateLimitedError);
    expect((err as VerifikRateLimitedError).retryAfterMs).toBe(600_000);
    expect(err.message).toMatch(/asked to wait 600\.0 s/);
    expect(waits).toEqual([]);
    expectNoToken(err);
  });

  it('5xx then success, with growing jittered backoff', async () => {
    fake.faults
      .push({ kind: 'status', status: 503 })
      .push({ kind: 'status', status: 500 })
      .push({ kind: 'status', status: 502 });
    const { c, waits, retries } = client();
    const page = await c.listPage(Q);
    expect(page.total).toBe(400);
    // random() = 0.5 → 3/4 of the step: 100, 200, 400 ms steps.
    expect(waits).toEqual([75, 150, 300]);
    expect(retries.map((r) => r.status)).toEqual([503, 500, 502]);
    expect(fake.requests.map((r) => r.status)).toEqual([503, 500, 502, 200]);
  });

  it('408 is retried', async () => {
    fake.faults.push({ kind: 'status', status: 408 });
    const { c, retries } = client();
    await c.listPage(Q);
    expect(retries.map((r) => r.status)).toEqual([408]);
  });

  it('5xx on every attempt → VerifikUnavailableError saying how many attempts over how long', async () => {
    fake.faults.push({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY });
    const { c } = client();
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikUnavailableError);
    expect((err as VerifikUnavailableError).attempts).toBe(4);
    expect(err.message).toMatch(
      /failed 4 time\(s\) over [\d.]+ s \(no attempts left\); last failure: HTTP 503/,
    );
    expect(fake.requests).toHaveLength(4);
    expectNoToken(err);
  });

  it('a time budget shorter than the backoff stops before the attempts run out', async () => {
    fake.faults.push({ kind: 'status', status: 500 }, { times: Number.POSITIVE_INFINITY });
    let clock = 0;
    const { c } = client({
      retry: { attempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000, budgetMs: 5_000 },
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikUnavailableError);
    // Waits 750 + 1500 ms fit in 5 s; the next (3000) would not.
    expect((err as VerifikUnavailableError).attempts).toBe(3);
    expect(err.message).toMatch(/exceed the 5\.0 s time budget/);
  });

  it('a connection reset before any answer is retried', async () => {
    fake.faults.push({ kind: 'reset' });
    const { c, retries } = client();
    const page = await c.listPage(Q);
    expect(page.records).toHaveLength(50);
    expect(retries[0]?.reason).toMatch(/network error/);
  });

  it.each(['reset', 'clean'] as const)('a body truncated mid-transfer (%s) is retried', async (mode) => {
    fake.faults.push({ kind: 'truncate', fraction: 0.4, mode });
    const { c, retries } = client();
    const page = await c.listPage(Q);
    expect(page.records).toHaveLength(50);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.reason).toMatch(/cut off/);
  });

  it('a body truncated on every attempt ends as VerifikUnavailableError', async () => {
    fake.faults.push({ kind: 'truncate', fraction: 0.5, mode: 'clean' }, { times: Number.POSITIVE_INFINITY });
    const err = await failure(client().c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikUnavailableError);
    expect(err.message).toMatch(/cut off/);
    expectNoToken(err);
  });

  it('a request that hangs times out and is retried', async () => {
    fake.faults.push({ kind: 'hang', ms: 10_000 });
    const { c, retries } = client({ timeoutMs: 200 });
    const page = await c.listPage(Q);
    expect(page.records).toHaveLength(50);
    expect(retries[0]?.reason).toMatch(/no answer within 200 ms/);
  });

  it('hanging on every attempt → VerifikTimeoutError', async () => {
    fake.faults.push({ kind: 'hang', ms: 10_000 }, { times: Number.POSITIVE_INFINITY });
    const { c } = client({
      timeoutMs: 100,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 10_000 },
    });
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikTimeoutError);
    expect(err.message).toMatch(/within 0\.1 s on 2 attempt/);
    expectNoToken(err);
  });

  it('a refused connection (nothing listening) ends as VerifikUnavailableError', async () => {
    const c = createVerifikClient({
      baseUrl: 'http://127.0.0.1:9',
      token: TOKEN,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 1_000 },
    });
    const err = await failure(c.listPage(Q));
    expect(err).toBeInstanceOf(VerifikUnavailableError);
    expect(err.message).toMatch(/network error/);
    expectNoToken(err);
  });

  it('an abort signal stops the request and its retries', async () => {
    fake.faults.push({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY });
    const ctl = new AbortController();
    const { c } = client({
      sleep: async () => {
        ctl.abort(new Error('user cancelled'));
      },
    });
    const err = await failure(c.listPage(Q, { signal: ctl.signal }));
    expect(err.message).toBe('user cancelled');
    expect(err).not.toBeInstanceOf(VerifikError);
  });
});
