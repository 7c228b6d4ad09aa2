/**
 * Randomized: over many seeds, filters, page sizes, concurrency, server quirks and fault
 * schedules, the ids read equal exactly the ids the generator says are in the window — same
 * order, none lost, none twice.
 *
 * Records inserted during the read (drift): the read must either equal the oracle computed
 * *after* the inserts, or fail with IncompleteReadError. Equal-to-the-oracle-before is not
 * accepted, because every insert here is triggered by one of the reader's own requests, whose
 * response shows the grown total: a reader that saw the growth and still returned the old set
 * would be silently short. Failing is accepted because a record inserted into pages already read
 * cannot be placed in an ordered stream that has moved past it; the reader must say so.
 * One refinement: a partitioned read ends with a round of total checks, and an insert triggered by
 * one of those (after every page was served) is after the read: then the oracle is the state before.
 *
 * Server quirks drawn per case: envelope, empty-page form, page cap, and up to two ignored
 * parameters among in_status[], where<_createdAt, where>_createdAt, where_type, where_status, sort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, FaultOptions } from '../../dev/fake-verifik/faults.js';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords, type RecordFilter } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { IncompleteReadError } from '../../functions/verifik/errors.js';
import { readWindow } from '../../functions/verifik/read/index.js';

/** `PAGINATE_RANDOM_CASES=500 npx vitest run test/integration/paginate-random.test.ts` for a longer soak. */
const CASES = Number(process.env.PAGINATE_RANDOM_CASES ?? 36);
const FIRST_SEED = Number(process.env.PAGINATE_RANDOM_FIRST_SEED ?? 1);
const TOKEN = 'random-token';
const DAY = 86_400_000;
const STATUSES = ['new', 'sent', 'pending', 'validated', 'completed', 'failed', 'expired'];
const TYPES = ['validation', 'login', 'onboarding', 'oneTimeLink', 'liveness'];
const ZONES = ['America/Bogota', 'UTC', 'Europe/Berlin', 'America/Santiago', 'Asia/Kolkata'];

/** mulberry32: a small seeded PRNG so every case is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    chance: (p: number) => next() < p,
    subset: <T>(xs: readonly T[], n: number): T[] => [...xs].sort(() => next() - 0.5).slice(0, n),
  };
}

interface Case {
  seed: number;
  describe: string;
  run: () => Promise<void>;
}

let fake: FakeVerifik | null = null;
const outcomes = { exact: 0, driftExact: 0, driftFailed: 0 };

afterAll(async () => {
  await fake?.close();
});

function buildCase(seed: number): Case {
  const r = rng(seed * 7919 + 13);
  const zone = r.pick(ZONES);
  const day = `2024-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`;
  const window = dayWindow(day, zone);
  const count = r.int(300, 3_500);
  const statuses = r.chance(0.5) ? r.subset(STATUSES, r.int(1, 4)) : undefined;
  const type = r.chance(0.25) ? r.pick(TYPES) : undefined;
  const perPage = r.pick([7, 20, 50, 100, 250, 500, 1000]);
  const concurrency = r.int(1, 6);
  const partitionByStatus = statuses !== undefined && statuses.length > 1 && r.chance(0.5);
  const settings: FaultOptions = {
    envelope: r.chance(0.3) ? 'module' : 'seed',
    emptyAs: r.pick(['envelope', '204', 'empty-array'] as const),
    maxPerPage: r.chance(0.3) ? r.int(5, 300) : 1000,
    ignoreParams: r.subset(
      ['in_status[]', 'where<_createdAt', 'where>_createdAt', 'where_type', 'where_status', 'sort'],
      r.int(0, 2),
    ),
  };
  const faults: { fault: Fault; onRequest: number }[] = [];
  for (let i = r.int(0, 4); i > 0; i--) {
    const fault = r.pick<Fault>([
      { kind: 'status', status: r.pick([500, 502, 503, 504, 408]) },
      { kind: 'status', status: 429, retryAfter: 0 },
      { kind: 'reset' },
      { kind: 'truncate', fraction: r.next(), mode: r.chance(0.5) ? 'reset' : 'clean' },
    ]);
    faults.push({ fault, onRequest: r.int(1, 12) });
  }
  const drift = r.chance(0.3);
  if (drift) {
    // Inserts anywhere in the window, or only in its last hours (the realistic "today" case).
    const tail = r.chance(0.5);
    const at = tail
      ? { start: new Date(window.end.getTime() - 3_600_000), end: window.end }
      : { start: window.start, end: window.end };
    faults.push({ fault: { kind: 'insert', count: r.int(1, 60), at }, onRequest: r.int(1, 6) });
  }
  const label = [
    `seed ${seed}`,
    `${day} ${zone}`,
    `${count} records`,
    statuses ? `statuses ${statuses.join('+')}${partitionByStatus ? ' (partitioned)' : ''}` : 'all statuses',
    type ? `type ${type}` : '',
    `perPage ${perPage} (cap ${settings.maxPerPage})`,
    `concurrency ${concurrency}`,
    `${settings.envelope}`,
    settings.ignoreParams?.length ? `ignores ${settings.ignoreParams.join(',')}` : '',
    faults.map((f) => `${f.fault.kind}@${f.onRequest}`).join(' '),
  ]
    .filter(Boolean)
    .join(', ');

  return {
    seed,
    describe: label,
    run: async () => {
      const ds: Dataset = createDataset({
        seed,
        count,
        start: new Date(window.start.getTime() - DAY / 2),
        end: new Date(window.end.getTime() + DAY / 2),
        clients: r.int(1, 5),
      });
      await fake?.close();
      fake = await startFakeVerifik({ dataset: ds, token: TOKEN, faults: settings });
      for (const f of faults) fake.faults.push(f.fault, { onRequest: f.onRequest });
      const clientId = r.chance(0.2) ? ds.clients[0]?._id : undefined;
      const filter: RecordFilter = { start: window.start, end: window.end };
      if (statuses) filter.statuses = statuses;
      if (type) filter.type = type;
      if (clientId) filter.client = clientId;

      const client = createVerifikClient({
        baseUrl: fake.url,
        token: TOKEN,
        timeoutMs: 5_000,
        retry: { attempts: 8, baseDelayMs: 1, maxDelayMs: 4, budgetMs: 20_000 },
      });
      const read = readWindow(client, {
        window,
        perPage,
        concurrency,
        partitionByStatus,
        ...(statuses ? { statuses } : {}),
        ...(type ? { type } : {}),
        ...(clientId ? { client: clientId } : {}),
      });
      const before = expectedRecords(ds, filter);
      const got: { id: string; at: number }[] = [];
      let error: unknown = null;
      try {
        for await (const rec of read.records) got.push({ id: rec._id, at: Date.parse(rec.createdAt) });
      } catch (e) {
        error = e;
      }
      const ids = got.map((g) => g.id);
      let expected = expectedRecords(ds, filter).map((x) => x._id);
      // A partitioned read is the state when its last page was served; its closing total checks
      // are later requests. An insert those trigger is after the read, so the oracle is the
      // state before it.
      const lastPageRequest = Math.max(
        ...fake.requests.filter((q) => q.query.get('perPage') !== '1').map((q) => q.n),
      );
      const afterRead = fake.requests.some((q) => q.faults.includes('insert') && q.n > lastPageRequest);
      if (partitionByStatus && afterRead) expected = before.map((x) => x._id);
      const context = `${label}; read ${ids.length}, expected ${expected.length}`;
      expect(new Set(ids).size, `no record twice (${context})`).toBe(ids.length);

      if (error !== null) {
        expect(drift, `only a drifting read may fail (${context}): ${String(error)}`).toBe(true);
        expect(error, context).toBeInstanceOf(IncompleteReadError);
        const allowed = new Set(expected);
        expect(
          ids.filter((id) => !allowed.has(id)),
          `nothing outside the window (${context})`,
        ).toEqual([]);
        outcomes.driftFailed++;
        return;
      }
      if (partitionByStatus) {
        // Merged partitions agree with the oracle up to the order of records sharing a millisecond.
        for (let i = 1; i < got.length; i++)
          expect((got[i - 1] as { at: number }).at <= (got[i] as { at: number }).at, context).toBe(true);
        expect([...ids].sort(), context).toEqual([...expected].sort());
      } else {
        expect(ids, context).toEqual(expected);
      }
      const d = await read.diagnostics;
      expect(d.records, context).toBe(expected.length);
      if (drift) outcomes.driftExact++;
      else outcomes.exact++;
    },
  };
}

describe('paginate: randomized against the oracle', () => {
  const cases = Array.from({ length: CASES }, (_, i) => buildCase(FIRST_SEED + i));
  beforeAll(() => {
    outcomes.exact = outcomes.driftExact = outcomes.driftFailed = 0;
  });
  for (const c of cases) it(c.describe, c.run);

  it('exercised both outcomes of drift and many exact reads', () => {
    console.log(`paginate-random outcomes: ${JSON.stringify(outcomes)}`);
    expect(outcomes.exact).toBeGreaterThan(CASES / 2);
    expect(outcomes.driftExact + outcomes.driftFailed).toBeGreaterThan(3);
    expect(outcomes.driftExact).toBeGreaterThan(0);
  });
});
