/**
 * Slices of one report back off together (verifik/read/shared-backoff.ts): the DynamoDB board on
 * moto, and two real reads over HTTP, one refused with 429 and one never refused, where the one
 * never refused still lowers its level and pauses because the other posted its burst.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { createDynamoDocClient } from '../../functions/delivery/aws-clients.js';
import { DynamoBackoffBoard } from '../../functions/delivery/state/backoff-board.js';
import { dayWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { readWindow } from '../../functions/verifik/read/index.js';
import {
  afterProof,
  afterRateLimit,
  type BackoffBoard,
  type BoardState,
  CoordinatedBackoff,
  freshBoard,
  MemoryBackoffBoard,
} from '../../functions/verifik/read/shared-backoff.js';
import { type Moto, startMoto } from '../support/moto.js';

const TABLE = 'backoff-state';
const TOKEN = 'shared-backoff-token';
const window = dayWindow('2024-12-01', 'UTC');

let moto: Moto;
let doc: DynamoDBDocumentClient;
const fakes: FakeVerifik[] = [];

beforeAll(async () => {
  moto = await startMoto();
  await moto.createStateTable(TABLE);
  doc = createDynamoDocClient(moto.clientConfig);
});
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  doc?.destroy();
  await moto?.stop();
});

describe('DynamoBackoffBoard', () => {
  it('a compare-and-set on the epoch: nobody wrote it yet, then only at the epoch it holds', async () => {
    const board = new DynamoBackoffBoard(doc, TABLE, 'r-board');
    expect(await board.read()).toBeNull();
    const halved = afterRateLimit(freshBoard(8), 5_000);
    expect(await board.swap(0, halved)).toBe(true);
    // A second slice refused in the same burst saw epoch 0 too: it loses, the level is halved once.
    expect(await board.swap(0, afterRateLimit(freshBoard(8), 9_000))).toBe(false);
    expect(await board.read()).toEqual(halved);
    const raised = afterProof(halved, 8);
    expect(raised).not.toBeNull();
    expect(await board.swap(1, raised as BoardState)).toBe(true);
    expect(await board.read()).toEqual(raised);
    expect(await new DynamoBackoffBoard(doc, TABLE, 'r-other').read()).toBeNull();
  });
});

describe('two slices of one report', () => {
  let ds: Dataset;
  let expected: string[];
  beforeAll(() => {
    ds = createDataset({ seed: 71, count: 3_000, start: window.start, end: window.end });
    expected = expectedRecords(ds, { start: window.start, end: window.end }).map((r) => r._id);
  });

  /** Reads the whole window from `fake` at 4 in flight, sharing `board` (or alone when null). */
  async function read(fake: FakeVerifik, board: BackoffBoard | null) {
    const client = createVerifikClient({
      baseUrl: fake.url,
      token: TOKEN,
      retry: { attempts: 6, baseDelayMs: 20, maxDelayMs: 50, budgetMs: 20_000 },
    });
    const shared = board ? new CoordinatedBackoff(board, { share: 4, pollMs: 10 }) : undefined;
    const r = readWindow(client, {
      window,
      perPage: 50,
      concurrency: 4,
      ...(shared ? { sharedBackoff: shared } : {}),
    });
    const ids: string[] = [];
    for await (const rec of r.records) ids.push(rec._id);
    return { ids, diagnostics: await r.diagnostics, stats: shared?.stats };
  }

  /** A refuses its 3rd request with 429 and `Retry-After: 1`; B never refuses one. */
  async function servers() {
    const a = await startFakeVerifik({ dataset: ds, token: TOKEN, faults: { latencyMs: 10 } });
    const b = await startFakeVerifik({ dataset: ds, token: TOKEN, faults: { latencyMs: 10 } });
    fakes.push(a, b);
    a.faults.push({ kind: 'status', status: 429, retryAfter: 1 }, { onRequest: 3 });
    return { a, b };
  }

  for (const [name, makeBoard] of [
    ['in one process (the local driver)', () => new MemoryBackoffBoard()],
    ['through DynamoDB (Step Functions slices)', () => new DynamoBackoffBoard(doc, TABLE, `r-${Date.now()}`)],
  ] as const) {
    it(`back off together ${name}: the slice never refused lowers its level and waits`, async () => {
      const { a, b } = await servers();
      const board = makeBoard();
      const [ra, rb] = await Promise.all([read(a, board), read(b, board)]);
      expect(ra.ids).toEqual(expected);
      expect(rb.ids).toEqual(expected);
      expect(a.requests.filter((r) => r.status === 429)).toHaveLength(1);
      expect(b.requests.filter((r) => r.status === 429)).toHaveLength(0);
      expect(ra.stats?.writes).toBeGreaterThanOrEqual(1);
      expect(ra.diagnostics.lowestConcurrency).toBe(2);
      // B saw no 429 of its own, yet halved its level and held its requests for A's Retry-After.
      expect(rb.diagnostics.rateLimited).toBe(0);
      expect(rb.stats?.followed).toBeGreaterThanOrEqual(1);
      // Lower than its share of 4: 2, or 3 when A proved 2 and raised it before B's requests woke.
      expect(rb.diagnostics.lowestConcurrency).toBeLessThan(4);
      expect(rb.stats?.pausedMs).toBeGreaterThan(500);
      expect(rb.stats?.boardErrors).toBe(0);
      // The pause shows on B's server: a gap of most of a second between two requests.
      const starts = b.requests.map((r) => r.at.getTime()).sort((x, y) => x - y);
      const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? t));
      expect(Math.max(...gaps)).toBeGreaterThan(500);
    });
  }

  it('alone, the slice never refused keeps its level and never waits', async () => {
    const { a, b } = await servers();
    const [ra, rb] = await Promise.all([read(a, null), read(b, null)]);
    expect(ra.diagnostics.lowestConcurrency).toBe(2);
    expect(rb.ids).toEqual(expected);
    expect(rb.diagnostics.lowestConcurrency).toBe(4);
    const starts = b.requests.map((r) => r.at.getTime()).sort((x, y) => x - y);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? t));
    expect(Math.max(...gaps)).toBeLessThan(500);
  });
});
