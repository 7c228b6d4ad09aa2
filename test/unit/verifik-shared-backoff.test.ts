/**
 * One AIMD for the slices of a report (verifik/read/shared-backoff.ts), without timers or servers:
 * the pure transitions, then readers on the in-process board with a hand-driven clock.
 */
import { describe, expect, it } from 'vitest';
import {
  afterProof,
  afterRateLimit,
  type BackoffBoard,
  type BoardState,
  CoordinatedBackoff,
  freshBoard,
  MemoryBackoffBoard,
  proofNeeded,
} from '../../functions/verifik/read/shared-backoff.js';

const at = (over: Partial<BoardState>): BoardState => ({ ...freshBoard(8), ...over });

describe('the shared AIMD, as transitions', () => {
  it('a 429 halves the level (at least 1), keeps the later pause, and doubles caution near it', () => {
    expect(afterRateLimit(at({ epoch: 3, level: 8, pauseUntil: 500 }), 200)).toEqual({
      epoch: 4,
      level: 4,
      pauseUntil: 500,
      ceiling: 8,
      caution: 2,
      held: 0,
    });
    expect(afterRateLimit(at({ level: 5, pauseUntil: 100 }), 900)).toMatchObject({
      level: 2,
      pauseUntil: 900,
    });
    // At 1 the next level up is the one to approach with care.
    expect(afterRateLimit(at({ level: 1 }), 0)).toMatchObject({ level: 1, ceiling: 2 });
    expect(afterRateLimit(at({ caution: 16 }), 0).caution).toBe(16);
  });

  it('a refused probe steps back to the level just proven instead of halving', () => {
    const probe = afterProof(at({ level: 6, ceiling: 8 }), 8);
    expect(probe).toMatchObject({ level: 7, held: 6 });
    expect(afterRateLimit(probe as BoardState, 0)).toMatchObject({ level: 6, held: 0, ceiling: 7 });
    // Refused again at the proven level: the limit came down, so halve.
    expect(afterRateLimit(at({ level: 6, held: 0 }), 0).level).toBe(3);
  });

  it('a proof raises by one up to the share; passing the ceiling drops the caution', () => {
    expect(afterProof(at({ level: 8 }), 8)).toBeNull();
    expect(afterProof(at({ epoch: 2, level: 3, ceiling: 8, caution: 4 }), 8)).toEqual({
      epoch: 3,
      level: 4,
      pauseUntil: 0,
      ceiling: 8,
      caution: 4,
      held: 3,
    });
    expect(afterProof(at({ level: 4, ceiling: 4, caution: 8 }), 8)).toMatchObject({
      level: 5,
      ceiling: null,
      caution: 1,
    });
  });

  it('reaching the ceiling keeps its caution; only passing it drops the caution', () => {
    expect(afterProof(at({ level: 3, ceiling: 4, caution: 8 }), 8)).toMatchObject({
      level: 4,
      ceiling: 4,
      caution: 8,
    });
  });

  it('a proof takes 2 × level successes, times the caution for the steps up to the ceiling', () => {
    expect(proofNeeded(at({ level: 3 }))).toBe(6);
    expect(proofNeeded(at({ level: 3, ceiling: 6, caution: 4 }))).toBe(6);
    expect(proofNeeded(at({ level: 5, ceiling: 6, caution: 4 }))).toBe(40);
    expect(proofNeeded(at({ level: 6, ceiling: 6, caution: 4 }))).toBe(48);
  });
});

function clock() {
  const c = { t: 1_000_000, slept: [] as number[] };
  return {
    c,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
}

/** Two slices of one report with a share of 4, on one board, reading it every 100 ms. */
function pair() {
  const board = new MemoryBackoffBoard();
  const k = clock();
  const opts = { share: 4, pollMs: 100, now: k.now, sleep: k.sleep, random: () => 0 };
  return { board, k, a: new CoordinatedBackoff(board, opts), b: new CoordinatedBackoff(board, opts) };
}

describe('CoordinatedBackoff', () => {
  it("one slice's 429 halves the other's level and pauses it for what was asked", async () => {
    const { board, k, a, b } = pair();
    expect(await b.beforeRequest()).toBe(4);
    a.throttled(500);
    await a.settled();
    // A acts on its own 429 at once; the board has it for B.
    expect(a.level).toBe(2);
    expect(await board.read()).toMatchObject({ epoch: 1, level: 2, pauseUntil: 1_000_500 });
    k.c.t += 100;
    // B's read runs beside its request: the news applies from the next request on.
    expect(await b.beforeRequest()).toBe(4);
    await b.settled();
    expect(await b.beforeRequest()).toBe(2);
    // Posted at t0 for 500 ms, read 100 ms later: 400 ms left.
    expect(k.c.slept).toEqual([400]);
    expect(b.stats).toMatchObject({ followed: 1, writes: 0, pausedMs: 400, boardErrors: 0 });
    expect(a.stats).toMatchObject({ writes: 1, lost: 0 });
  });

  it('slices refused in the same burst halve the level once: the later writes lose', async () => {
    const { board, a, b } = pair();
    a.throttled(0);
    b.throttled(0);
    await Promise.all([a.settled(), b.settled()]);
    expect(await board.read()).toMatchObject({ epoch: 1, level: 2 });
    expect(a.stats.lost + b.stats.lost).toBe(1);
  });

  it('raises the level for everyone once proven, and not before the others could follow it', async () => {
    const { board, k, a, b } = pair();
    a.throttled(0);
    await a.settled();
    expect(a.level).toBe(2);
    // 2 × 2 successes, but within two poll periods of the change: the others may not follow yet.
    for (let i = 0; i < 4; i++) a.succeeded();
    await a.settled();
    expect((await board.read())?.level).toBe(2);
    k.c.t += 200;
    a.succeeded();
    await a.settled();
    expect(await board.read()).toMatchObject({ epoch: 2, level: 3, held: 2 });
    await b.beforeRequest();
    await b.settled();
    expect(await b.beforeRequest()).toBe(3);
    // B read the board once, after both changes: from its 4 to the board's 3, one step down.
    expect(b.stats.followed).toBe(1);
    expect(b.stats.polls).toBe(1);
  });

  it('never goes back to an older board state, and never above its share', async () => {
    const board = new MemoryBackoffBoard();
    const k = clock();
    await board.swap(0, { ...freshBoard(16), epoch: 5, level: 16 });
    const r = new CoordinatedBackoff(board, {
      share: 4,
      pollMs: 100,
      now: k.now,
      sleep: k.sleep,
      random: () => 0,
    });
    await r.beforeRequest();
    await r.settled();
    expect(await r.beforeRequest()).toBe(4);
    r.throttled(0);
    await r.settled();
    expect(r.level).toBe(2);
    // A read that lags behind this slice's own write is not adopted.
    const stale: BackoffBoard = {
      read: async () => ({ ...freshBoard(4), epoch: 1 }),
      swap: async () => true,
    };
    const s = new CoordinatedBackoff(stale, { share: 4, pollMs: 100, now: k.now, sleep: k.sleep });
    s.throttled(0);
    s.throttled(0);
    await s.beforeRequest();
    await s.settled();
    expect(s.level).toBe(1);
  });

  it('ends a pause at a random moment within the spread, so slices do not all restart at once', async () => {
    const board = new MemoryBackoffBoard();
    const k = clock();
    await board.swap(0, { ...freshBoard(4), epoch: 1, pauseUntil: k.now() + 400 });
    const woke: number[] = [];
    for (const random of [0, 0.5, 0.999]) {
      k.c.slept = [];
      const r = new CoordinatedBackoff(board, {
        share: 4,
        now: k.now,
        sleep: k.sleep,
        spreadMs: 300,
        random: () => random,
      });
      const start = k.c.t;
      await r.beforeRequest();
      await r.settled();
      await r.beforeRequest();
      woke.push(k.c.t - start);
      k.c.t = start;
    }
    expect(woke[0]).toBe(400);
    expect(woke[1]).toBe(550);
    expect(woke[2]).toBeCloseTo(400 + 0.999 * 300, 6);
  });

  it('reads the board at most once per poll period', async () => {
    const { k, a } = pair();
    for (let i = 0; i < 10; i++) {
      await a.beforeRequest();
      await a.settled();
      k.c.t += 30;
    }
    // t = 0, 30, …, 270: reads at 0, 120 (the first ≥ 100 after 0), 240.
    expect(a.stats.polls).toBe(3);
  });

  it('caps a pause at maxPauseMs, whatever a board says', async () => {
    const board = new MemoryBackoffBoard();
    const k = clock();
    await board.swap(0, { ...freshBoard(4), epoch: 1, pauseUntil: k.now() + 3_600_000 });
    const r = new CoordinatedBackoff(board, {
      share: 4,
      now: k.now,
      sleep: k.sleep,
      maxPauseMs: 2_000,
      random: () => 0,
    });
    await r.beforeRequest();
    await r.settled();
    await r.beforeRequest();
    expect(k.c.slept).toEqual([2_000]);
  });

  it('a failing board is counted and ignored: the slice goes on at the level it has', async () => {
    const broken: BackoffBoard = {
      read: () => Promise.reject(new Error('throttled by DynamoDB')),
      swap: () => Promise.reject(new Error('throttled by DynamoDB')),
    };
    const k = clock();
    const r = new CoordinatedBackoff(broken, { share: 4, now: k.now, sleep: k.sleep });
    expect(await r.beforeRequest()).toBe(4);
    await r.settled();
    r.throttled(100);
    await r.settled();
    expect(r.level).toBe(2);
    expect(r.stats).toMatchObject({ boardErrors: 2, polls: 0, writes: 1, followed: 0 });
  });

  it('refuses a share that is not a whole number ≥ 1', () => {
    expect(() => new CoordinatedBackoff(new MemoryBackoffBoard(), { share: 0 })).toThrow(/share/);
    expect(() => new CoordinatedBackoff(new MemoryBackoffBoard(), { share: 1.5 })).toThrow(/share/);
    expect(new CoordinatedBackoff(new MemoryBackoffBoard(), { share: 1 }).level).toBe(1);
  });

  it('raises only after exactly the proof, counted once the others could follow', async () => {
    const { board, k, a } = pair();
    a.throttled(0);
    await a.settled();
    // 150 ms after the change: within two poll periods, so even ample successes raise nothing.
    k.c.t += 150;
    for (let i = 0; i < 10; i++) a.succeeded();
    await a.settled();
    expect(a.level).toBe(2);
    // Past the two periods the count goes on: 4 (2 × level 2) were needed, and 10 are there.
    k.c.t += 100;
    a.succeeded();
    await a.settled();
    expect((await board.read())?.level).toBe(3);
    // At level 3, next to the ceiling of 4 that drew the 429 (caution 2): 2 × 3 × 2 = 12.
    k.c.t += 200;
    for (let i = 0; i < 11; i++) a.succeeded();
    expect(a.level).toBe(3);
    a.succeeded();
    expect(a.level).toBe(4);
  });

  it('at its full share a slice has nothing to raise', async () => {
    const { board, k, a } = pair();
    k.c.t += 1_000;
    for (let i = 0; i < 20; i++) a.succeeded();
    await a.settled();
    expect(a.level).toBe(4);
    expect(a.stats.writes).toBe(0);
    expect(await board.read()).toBeNull();
  });

  it('reading back its own winning write does not restart its count towards a raise', async () => {
    const { k, a } = pair();
    a.throttled(0);
    await a.settled();
    k.c.t += 200;
    for (let i = 0; i < 3; i++) a.succeeded();
    // The read brings back exactly what A wrote.
    await a.beforeRequest();
    await a.settled();
    a.succeeded();
    expect(a.level).toBe(3);
  });

  it('a write lost at the same epoch gives way to the winner on the next read', async () => {
    const { board, k, b } = pair();
    await board.swap(0, { ...freshBoard(4), epoch: 1, level: 3 });
    // B never read the board: its halving is computed from epoch 0 and loses.
    b.throttled(0);
    await b.settled();
    expect(b.level).toBe(2);
    expect(b.stats.lost).toBe(1);
    k.c.t += 100;
    await b.beforeRequest();
    await b.settled();
    expect(b.level).toBe(3);
    // Taking the winner's higher level is not following a 429.
    expect(b.stats.followed).toBe(0);
  });

  it('counts as followed only a lower level, not a raise nor the same level at a new epoch', async () => {
    const { board, k, b } = pair();
    await board.swap(0, { ...freshBoard(4), epoch: 1, level: 2 });
    await b.beforeRequest();
    await b.settled();
    expect([b.level, b.stats.followed]).toEqual([2, 1]);
    for (const [epoch, level] of [
      [2, 3],
      [3, 2],
      [4, 2],
    ] as const) {
      await board.swap(epoch - 1, { ...freshBoard(4), epoch, level });
      k.c.t += 100;
      await b.beforeRequest();
      await b.settled();
      expect(b.level).toBe(level);
    }
    // 4 → 2 and 3 → 2 were steps down; 2 → 3 and 2 → 2 were not.
    expect(b.stats.followed).toBe(2);
  });

  it('starts no second read while one is under way', async () => {
    let reads = 0;
    let release!: () => void;
    const slow: BackoffBoard = {
      read: () => {
        reads++;
        return new Promise((resolve) => {
          release = () => resolve(null);
        });
      },
      swap: async () => true,
    };
    const k = clock();
    const r = new CoordinatedBackoff(slow, { share: 4, pollMs: 100, now: k.now, sleep: k.sleep });
    await r.beforeRequest();
    k.c.t += 500;
    await r.beforeRequest();
    expect(reads).toBe(1);
    release();
    await r.settled();
    await r.beforeRequest();
    expect(reads).toBe(2);
  });

  it('settled() waits for the board requests under way, however slow', async () => {
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 20));
    const slow: BackoffBoard = {
      read: () => later({ ...freshBoard(4), epoch: 3, level: 1 }),
      swap: () => later(false),
    };
    const r = new CoordinatedBackoff(slow, { share: 4 });
    await r.beforeRequest();
    r.throttled(0);
    await r.settled();
    expect(r.stats).toMatchObject({ polls: 1, lost: 1 });
    expect(r.level).toBe(1);
  });

  it('does not wait when the pause ends at this very instant', async () => {
    const board = new MemoryBackoffBoard();
    const k = clock();
    await board.swap(0, { ...freshBoard(4), epoch: 1, pauseUntil: k.now() });
    const r = new CoordinatedBackoff(board, { share: 4, now: k.now, sleep: k.sleep, random: () => 0.5 });
    await r.beforeRequest();
    await r.settled();
    await r.beforeRequest();
    expect(k.c.slept).toEqual([]);
  });

  it('waits on real timers by default, and an aborted read stops waiting', async () => {
    const board = new MemoryBackoffBoard();
    await board.swap(0, { ...freshBoard(4), epoch: 1, pauseUntil: Date.now() + 40 });
    const r = new CoordinatedBackoff(board, { share: 4, spreadMs: 0 });
    await r.beforeRequest();
    await r.settled();
    const started = performance.now();
    await r.beforeRequest();
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
    await board.swap(1, { ...freshBoard(4), epoch: 2, pauseUntil: Date.now() + 10_000 });
    const s = new CoordinatedBackoff(board, { share: 4, spreadMs: 0 });
    await s.beforeRequest();
    await s.settled();
    await expect(s.beforeRequest(AbortSignal.abort())).rejects.toThrow(/abort/i);
  });
});

describe('MemoryBackoffBoard', () => {
  it('writes only at the epoch it holds', async () => {
    const board = new MemoryBackoffBoard();
    expect(await board.read()).toBeNull();
    expect(await board.swap(0, at({ epoch: 1, level: 4 }))).toBe(true);
    expect(await board.swap(0, at({ epoch: 1, level: 2 }))).toBe(false);
    expect(await board.swap(1, at({ epoch: 2, level: 3 }))).toBe(true);
    expect(await board.read()).toMatchObject({ epoch: 2, level: 3 });
  });
});
