/**
 * The paginated read against a fake Verifik that refuses requests beyond a concurrency limit with
 * 429: the read lowers its concurrency, still delivers every record exactly once, and says so in
 * its diagnostics. Also the fake's `maxConcurrent` setting itself, observed with plain `fetch`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient, LIST_PATH, type RetryInfo } from '../../functions/verifik/client.js';
import { type ReadWindowOptions, readWindow } from '../../functions/verifik/read/index.js';
import { ErrorBody } from '../../functions/verifik/schema.js';

const TOKEN = 'rate-limit-test-token';
const window = dayWindow('2024-12-01', 'America/Bogota');
const DAY = 86_400_000;
const ATTEMPTS = 10;

const fakes: FakeVerifik[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function serve(ds: Dataset, faults: Parameters<typeof startFakeVerifik>[0]['faults'] = {}) {
  const fake = await startFakeVerifik({ dataset: ds, token: TOKEN, faults });
  fakes.push(fake);
  return fake;
}

/** Reads the window; `retries` collects every retry the client scheduled. */
async function readAll(fake: FakeVerifik, opts: Omit<ReadWindowOptions, 'window'>) {
  const retries: RetryInfo[] = [];
  const client = createVerifikClient({
    baseUrl: fake.url,
    token: TOKEN,
    timeoutMs: 5_000,
    // Short waits keep the test fast; the limiter, not the backoff, is what is under test.
    retry: { attempts: ATTEMPTS, baseDelayMs: 2, maxDelayMs: 10, budgetMs: 20_000 },
    onRetry: (info) => retries.push(info),
  });
  const read = readWindow(client, { window, ...opts });
  const ids: string[] = [];
  for await (const r of read.records) ids.push(r._id);
  return { ids, diagnostics: await read.diagnostics, retries };
}

describe('readWindow under a concurrency rate limit', () => {
  let ds: Dataset;
  let expected: string[];
  beforeAll(() => {
    // Spanning the day before and after, so that ~3,000 of the records fall in the window.
    ds = createDataset({
      seed: 33,
      count: 9_000,
      start: new Date(window.start.getTime() - DAY),
      end: new Date(window.end.getTime() + DAY),
    });
    expected = expectedRecords(ds, { start: window.start, end: window.end }).map((r) => r._id);
  });

  it('halves its concurrency on 429s and still reads every record exactly once', async () => {
    const fake = await serve(ds, { maxConcurrent: 3, latencyMs: 3 });
    const { ids, diagnostics, retries } = await readAll(fake, { perPage: 100, concurrency: 8 });
    expect(expected.length).toBeGreaterThan(2_000);
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);

    const refused = fake.requests.filter((r) => r.status === 429).length;
    expect(diagnostics.rateLimited).toBeGreaterThan(0);
    expect(diagnostics.rateLimited).toBe(refused);
    expect(diagnostics.lowestConcurrency).toBeLessThanOrEqual(4);
    expect(diagnostics.lowestConcurrency).toBeGreaterThanOrEqual(1);
    // Every retry was for a 429, and none came near the last attempt.
    expect(retries.every((r) => r.status === 429)).toBe(true);
    expect(diagnostics.retries).toBe(retries.length);
    expect(Math.max(...retries.map((r) => r.attempt))).toBeLessThan(ATTEMPTS);
    expect(diagnostics.requests).toBe(fake.requests.length);
    expect(diagnostics.pages).toBe(Math.ceil(expected.length / 100));
    // Lowering the limit never lets the read exceed what it was configured with.
    expect(fake.peakConcurrent).toBeLessThanOrEqual(8);
  });

  it('keeps its configured concurrency when nothing is refused', async () => {
    const fake = await serve(ds, { latencyMs: 3 });
    const { ids, diagnostics } = await readAll(fake, { perPage: 100, concurrency: 8 });
    expect(ids).toEqual(expected);
    expect(diagnostics.rateLimited).toBe(0);
    expect(diagnostics.retries).toBe(0);
    expect(diagnostics.lowestConcurrency).toBe(8);
    expect(fake.peakConcurrent).toBeLessThanOrEqual(8);
    expect(fake.peakConcurrent).toBeGreaterThan(1);
  });

  it('shares the lowered limit between status partitions and merges them completely', async () => {
    const statuses = ['validated', 'failed', 'pending'];
    const fake = await serve(ds, { maxConcurrent: 2, latencyMs: 2 });
    const { ids, diagnostics } = await readAll(fake, {
      perPage: 100,
      concurrency: 8,
      statuses,
      partitionByStatus: true,
    });
    const want = expectedRecords(ds, { start: window.start, end: window.end, statuses }).map((r) => r._id);
    expect(want.length).toBeGreaterThan(500);
    expect(ids).toEqual(want);
    expect(diagnostics.partitions).toBe(3);
    expect(diagnostics.rateLimited).toBeGreaterThan(0);
    expect(diagnostics.lowestConcurrency).toBeLessThanOrEqual(2);
  });
});

describe('fake Verifik maxConcurrent', () => {
  let ds: Dataset;
  beforeAll(() => {
    ds = createDataset({ seed: 5, count: 500, start: window.start, end: window.end });
  });

  const get = (fake: FakeVerifik, page: number) =>
    fetch(`${fake.url}${LIST_PATH}?page=${page}&perPage=10`, {
      headers: { authorization: `Bearer ${fake.token}` },
    });

  it('answers 429 to requests beyond the limit and serves the rest', async () => {
    const fake = await serve(ds, { maxConcurrent: 2, latencyMs: 100 });
    const responses = await Promise.all([1, 2, 3, 4, 5].map((p) => get(fake, p)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    const refused = responses.find((r) => r.status === 429);
    expect(refused?.headers.get('retry-after')).toBeNull();
    expect(ErrorBody.safeParse(await refused?.json()).success).toBe(true);
    await Promise.all(responses.map((r) => (r.bodyUsed ? undefined : r.body?.cancel())));
    // The two served and at least the refused one arriving; the refused may close before others arrive.
    expect(fake.peakConcurrent).toBeGreaterThanOrEqual(3);
    expect(fake.peakConcurrent).toBeLessThanOrEqual(5);
    // Served requests free their places once answered.
    const again = await Promise.all([1, 2].map((p) => get(fake, p)));
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(3);
  });

  it('frees the place of a client that goes away before the answer', async () => {
    const fake = await serve(ds, { maxConcurrent: 1, latencyMs: 5_000 });
    const gone = new AbortController();
    const first = fetch(`${fake.url}${LIST_PATH}?page=1`, {
      headers: { authorization: `Bearer ${fake.token}` },
      signal: gone.signal,
    }).catch((e: unknown) => e);
    await expect.poll(() => fake.requests.length).toBe(1);
    expect((await get(fake, 2)).status).toBe(429);
    gone.abort();
    await first;
    fake.faults.set({ latencyMs: 0 });
    await expect.poll(async () => (await get(fake, 3)).status).toBe(200);
  });

  it('accepts Infinity or a whole number ≥ 1 only', async () => {
    const fake = await serve(ds);
    expect(fake.faults.settings.maxConcurrent).toBe(Number.POSITIVE_INFINITY);
    expect(() => fake.faults.set({ maxConcurrent: 0 })).toThrow(/maxConcurrent must be a whole number ≥ 1/);
    expect(() => fake.faults.set({ maxConcurrent: 1.5 })).toThrow(RangeError);
    expect(fake.faults.set({ maxConcurrent: 4 }).settings.maxConcurrent).toBe(4);
  });
});
