/**
 * The day-window paginator against the fake Verifik over real HTTP: every rule of the read,
 * checked against the generator's oracle (`expectedRecords`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords, type RecordFilter } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { IncompleteReadError, VerifikAuthError } from '../../functions/verifik/errors.js';
import {
  type ReadDiagnostics,
  type ReadWindowOptions,
  readWindow,
} from '../../functions/verifik/read/index.js';

const TOKEN = 'paginate-test-token';
const window = dayWindow('2024-12-01', 'America/Bogota');
const DAY = 86_400_000;

const fakes: FakeVerifik[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

/** A dataset spanning the day before and after the window, so out-of-window records exist. */
function dataset(seed: number, count: number): Dataset {
  return createDataset({
    seed,
    count,
    start: new Date(window.start.getTime() - DAY),
    end: new Date(window.end.getTime() + DAY),
  });
}

async function serve(ds: Dataset, faults: Parameters<typeof startFakeVerifik>[0]['faults'] = {}) {
  const fake = await startFakeVerifik({ dataset: ds, token: TOKEN, faults });
  fakes.push(fake);
  return fake;
}

function clientFor(fake: FakeVerifik) {
  return createVerifikClient({
    baseUrl: fake.url,
    token: TOKEN,
    timeoutMs: 5_000,
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 10_000 },
  });
}

async function readAll(fake: FakeVerifik, opts: Omit<ReadWindowOptions, 'window'> = {}) {
  const read = readWindow(clientFor(fake), { window, ...opts });
  const ids: string[] = [];
  for await (const r of read.records) ids.push(r._id);
  return { ids, diagnostics: await read.diagnostics };
}

const oracle = (ds: Dataset, f: Omit<RecordFilter, 'start' | 'end'> = {}) =>
  expectedRecords(ds, { start: window.start, end: window.end, ...f }).map((r) => r._id);

describe('readWindow', () => {
  let shared: Dataset;
  beforeAll(() => {
    shared = dataset(21, 6_000);
  });
  afterAll(() => {});

  it('reads exactly the window, in order, with page 1 alone and the rest concurrently', async () => {
    const fake = await serve(shared);
    const { ids, diagnostics } = await readAll(fake, { perPage: 300, concurrency: 3 });
    const expected = oracle(shared);
    expect(expected.length).toBeGreaterThan(1000);
    expect(ids).toEqual(expected);
    expect(diagnostics).toMatchObject<Partial<ReadDiagnostics>>({
      records: expected.length,
      serverTotal: expected.length,
      pages: Math.ceil(expected.length / 300),
      perPageRequested: 300,
      perPageServed: 300,
      duplicatesDropped: 0,
      outOfWindowDropped: 0,
      filterMismatchDropped: 0,
      partitions: 1,
      retries: 0,
    });
    // The query of every request, as the fake received it.
    for (const req of fake.requests) {
      expect(req.query.get('sort')).toBe('createdAt');
      expect(req.query.get('where>_createdAt')).toBe(new Date(window.start.getTime() - 1).toISOString());
      expect(req.query.get('where<_createdAt')).toBe(window.end.toISOString());
      expect(req.query.getAll('populates[]')).toEqual(['client', 'project']);
      expect(req.query.get('perPage')).toBe('300');
    }
    expect(fake.requests.map((r) => Number(r.query.get('page'))).sort((a, b) => a - b)).toEqual(
      Array.from({ length: diagnostics.pages }, (_, i) => i + 1),
    );
    expect(fake.requests[0]?.query.get('page')).toBe('1');
  });

  it('serves the same records a page at a time through batches, and either view only once', async () => {
    const fake = await serve(shared);
    const read = readWindow(clientFor(fake), { window, perPage: 300, concurrency: 3 });
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const batch of read.batches) {
      sizes.push(batch.length);
      for (const r of batch) ids.push(r._id);
    }
    const expected = oracle(shared);
    expect(ids).toEqual(expected);
    expect(sizes.every((n) => n > 0 && n <= 300)).toBe(true);
    expect((await read.diagnostics).records).toBe(expected.length);
    expect(() => read.records[Symbol.asyncIterator]()).toThrow(/iterated once/);
  });

  it('sends statuses as in_status[] and type/client as where_ filters', async () => {
    const fake = await serve(shared);
    const clientId = shared.clients[0]?._id ?? '';
    const { ids } = await readAll(fake, {
      statuses: ['validated', 'failed'],
      type: 'login',
      client: clientId,
    });
    expect(ids).toEqual(
      oracle(shared, { statuses: ['validated', 'failed'], type: 'login', client: clientId }),
    );
    const q = fake.requests[0]?.query;
    expect(q?.getAll('in_status[]')).toEqual(['validated', 'failed']);
    expect(q?.get('where_type')).toBe('login');
    expect(q?.get('where_client')).toBe(clientId);
  });

  it('a server page cap below perPage leaves no gaps', async () => {
    const fake = await serve(shared, { maxPerPage: 70 });
    const { ids, diagnostics } = await readAll(fake, { perPage: 500 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.perPageServed).toBe(70);
    expect(diagnostics.pages).toBe(Math.ceil(ids.length / 70));
  });

  it('an ignored in_status[] still gives exactly the right records (checked client-side)', async () => {
    const fake = await serve(shared, { ignoreParams: ['in_status[]'] });
    const statuses = ['expired', 'pending'];
    const { ids, diagnostics } = await readAll(fake, { statuses });
    const expected = oracle(shared, { statuses });
    expect(ids).toEqual(expected);
    expect(diagnostics.filterMismatchDropped).toBe(oracle(shared).length - expected.length);
  });

  it('an ignored where<_createdAt still gives exactly the right records, and stops early', async () => {
    const fake = await serve(shared, { ignoreParams: ['where<_createdAt'] });
    const { ids, diagnostics } = await readAll(fake, { perPage: 200, concurrency: 2 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.stoppedEarly).toBe(1);
    expect(diagnostics.outOfWindowDropped).toBeGreaterThan(0);
    // It did not read the whole following day.
    const afterEnd = shared.size - expectedRecords(shared, { end: window.end }).length;
    expect(diagnostics.outOfWindowDropped).toBeLessThan(afterEnd);
  });

  it('an ignored where>_createdAt still gives exactly the right records', async () => {
    const fake = await serve(shared, { ignoreParams: ['where>_createdAt'] });
    const { ids, diagnostics } = await readAll(fake, { perPage: 400 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.outOfWindowDropped).toBe(expectedRecords(shared, { end: window.start }).length);
  });

  it('an ignored sort (newest first) is read from the last page back: same records, ascending', async () => {
    const fake = await serve(shared, { ignoreParams: ['sort'] });
    const { ids, diagnostics } = await readAll(fake, { perPage: 300, concurrency: 3 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.reversedPartitions).toBe(1);
  });

  it('an ignored sort and an ignored where>_createdAt still stop early at the window start', async () => {
    const fake = await serve(shared, { ignoreParams: ['sort', 'where>_createdAt'] });
    const { ids, diagnostics } = await readAll(fake, { perPage: 250 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.reversedPartitions).toBe(1);
    // Reading oldest-first from the last page, the records before the window come first and are dropped.
    expect(diagnostics.outOfWindowDropped).toBe(expectedRecords(shared, { end: window.start }).length);
  });

  it('the module envelope reads the same', async () => {
    const fake = await serve(shared, { envelope: 'module' });
    const { ids } = await readAll(fake, { perPage: 250 });
    expect(ids).toEqual(oracle(shared));
  });

  it('an empty day reads as empty, whatever the empty answer looks like', async () => {
    for (const emptyAs of ['envelope', '204', 'empty-array'] as const) {
      const ds = createDataset({
        seed: 1,
        count: 50,
        start: new Date(window.end.getTime() + DAY),
        end: new Date(window.end.getTime() + 2 * DAY),
      });
      const fake = await serve(ds, { emptyAs });
      const { ids, diagnostics } = await readAll(fake);
      expect(ids).toEqual([]);
      expect(diagnostics.serverTotal).toBe(0);
    }
  });

  it('partitions by status: fetched side by side, merged by createdAt, nothing lost or doubled', async () => {
    const fake = await serve(shared);
    const statuses = ['validated', 'failed', 'completed'];
    const read = readWindow(clientFor(fake), {
      window,
      statuses,
      partitionByStatus: true,
      perPage: 150,
      concurrency: 4,
    });
    const got: { id: string; at: number }[] = [];
    for await (const r of read.records) got.push({ id: r._id, at: Date.parse(r.createdAt) });
    const d = await read.diagnostics;
    expect(d.partitions).toBe(3);
    const expected = oracle(shared, { statuses });
    expect([...got.map((g) => g.id)].sort()).toEqual([...expected].sort());
    for (let i = 1; i < got.length; i++) expect(got[i - 1]?.at ?? 0).toBeLessThanOrEqual(got[i]?.at ?? 0);
    const sent = new Set(fake.requests.map((r) => r.query.get('where_status')));
    expect(sent).toEqual(new Set(statuses));
  });

  it('retries inside the read are counted, and the read still completes', async () => {
    const fake = await serve(shared);
    fake.faults
      .push({ kind: 'status', status: 503 }, { onRequest: 2 })
      .push({ kind: 'reset' }, { onRequest: 4 })
      .push({ kind: 'truncate', fraction: 0.3 }, { onRequest: 6 })
      .push({ kind: 'status', status: 429, retryAfter: 0 }, { onRequest: 8 });
    const { ids, diagnostics } = await readAll(fake, { perPage: 200 });
    expect(ids).toEqual(oracle(shared));
    expect(diagnostics.retries).toBe(4);
    expect(diagnostics.requests).toBe(diagnostics.pages + 4);
  });

  it('reports progress per page', async () => {
    const fake = await serve(shared);
    const seen: number[] = [];
    const read = readWindow(clientFor(fake), {
      window,
      perPage: 1000,
      onProgress: (p) => seen.push(p.records),
    });
    let n = 0;
    for await (const _ of read.records) n++;
    expect(seen.at(-1)).toBe(n);
    expect(seen.length).toBe(Math.ceil(n / 1000));
  });
});

describe('records inserted during the read', () => {
  it('inserted into the part not read yet: the read equals the oracle after the inserts', async () => {
    const ds = dataset(33, 3_000);
    const fake = await serve(ds);
    // After page 2, insert 150 records into the last hours of the window (pages not read yet).
    const late = { start: new Date(window.end.getTime() - 2 * 3_600_000), end: window.end };
    fake.faults.push({ kind: 'insert', count: 150, at: late }, { onRequest: 3 });
    const { ids, diagnostics } = await readAll(fake, { perPage: 100, concurrency: 1 });
    expect(ids).toEqual(oracle(ds));
    expect(diagnostics.totalDrift).toBe(150);
    expect(diagnostics.stoppedEarly).toBe(0);
  });

  it('inserted where pages were already read: the shift is de-duplicated, and the read fails loudly', async () => {
    const ds = dataset(34, 3_000);
    const fake = await serve(ds);
    const early = { start: window.start, end: new Date(window.start.getTime() + 3_600_000 * 8) };
    fake.faults.push({ kind: 'insert', count: 40, at: early }, { onRequest: 6 });
    const read = readWindow(clientFor(fake), { window, perPage: 100, concurrency: 1 });
    const ids: string[] = [];
    const err = await (async () => {
      try {
        for await (const r of read.records) ids.push(r._id);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect(String(err)).toMatch(/received \d+ distinct records but the server reports \d+.*grew/);
    await expect(read.diagnostics).rejects.toBeInstanceOf(IncompleteReadError);
    expect(new Set(ids).size).toBe(ids.length);
    expect(read.snapshot().duplicatesDropped).toBe(40);
  });
});

describe('reads that cannot be proven complete', () => {
  it('a short page in the middle throws IncompleteReadError at the end of the stream', async () => {
    const ds = dataset(8, 1_500);
    const fake = await serve(ds);
    const all = expectedRecords(ds, { start: window.start, end: window.end });
    const body = JSON.stringify({
      success: true,
      data: all.slice(100, 180),
      pagination: { page: 2, perPage: 100, total: all.length, pages: Math.ceil(all.length / 100) },
    });
    fake.faults.push({ kind: 'malformed', body }, { when: (r) => r.query.get('page') === '2' });
    const read = readWindow(clientFor(fake), { window, perPage: 100 });
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of read.records) n++;
      })(),
    ).rejects.toThrow(/page\(s\) 2 held fewer than 100 records/);
    expect(n).toBe(all.length - 20);
  });

  it('a total that shrinks during the read is refused', async () => {
    const ds = dataset(9, 1_500);
    const fake = await serve(ds);
    const all = expectedRecords(ds, { start: window.start, end: window.end });
    const body = JSON.stringify({
      success: true,
      data: all.slice(100, 200),
      pagination: { page: 2, perPage: 100, total: all.length - 5, pages: Math.ceil(all.length / 100) },
    });
    fake.faults.push({ kind: 'malformed', body }, { when: (r) => r.query.get('page') === '2' });
    const read = readWindow(clientFor(fake), { window, perPage: 100 });
    await expect(
      (async () => {
        for await (const _ of read.records);
      })(),
    ).rejects.toThrow(/total fell from/);
  });

  it('an error mid-read reaches the consumer (never a silently short stream)', async () => {
    const ds = dataset(10, 1_500);
    const fake = await serve(ds);
    fake.faults.push({ kind: 'status', status: 401 }, { onRequest: 3 });
    const read = readWindow(clientFor(fake), { window, perPage: 100, concurrency: 2 });
    await expect(
      (async () => {
        for await (const _ of read.records);
      })(),
    ).rejects.toBeInstanceOf(VerifikAuthError);
    await expect(read.diagnostics).rejects.toBeInstanceOf(VerifikAuthError);
  });

  it('an abort signal ends the read with its reason', async () => {
    const ds = dataset(13, 2_000);
    const fake = await serve(ds, { latencyMs: 5 });
    const ctl = new AbortController();
    const read = readWindow(clientFor(fake), { window, perPage: 50, concurrency: 2, signal: ctl.signal });
    let n = 0;
    const run = (async () => {
      for await (const _ of read.records) if (++n === 100) ctl.abort(new Error('report cancelled'));
    })();
    await expect(run).rejects.toThrow('report cancelled');
    await expect(read.diagnostics).rejects.toThrow('report cancelled');
    expect(n).toBeLessThan(ds.size);
  });

  it('a consumer that stops early gets no diagnostics, and the look-ahead is abandoned', async () => {
    const ds = dataset(12, 3_000);
    const fake = await serve(ds, { latencyMs: 5 });
    const read = readWindow(clientFor(fake), { window, perPage: 50, concurrency: 4 });
    let n = 0;
    for await (const _ of read.records) if (++n === 120) break;
    await expect(read.diagnostics).rejects.toThrow(/stopped reading before the end/);
    expect(fake.requests.length).toBeLessThan(12);
  });
});
