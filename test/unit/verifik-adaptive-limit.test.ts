/**
 * The AIMD concurrency limit: its decisions through the pure state (no timers), and the p-limit
 * queue following them through the limiter with hand-resolved tasks.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, AimdState, type AimdTicket } from '../../functions/verifik/adaptive-limit.js';

/** Starts `n` requests at the current generation. */
const startMany = (s: AimdState, n: number): AimdTicket[] => Array.from({ length: n }, () => s.start());

/** Succeeds fresh requests one at a time until the level rises; returns how many it took. */
function succeedUntilIncrease(s: AimdState, limit = 1_000): number {
  for (let i = 1; i <= limit; i++) if (s.succeeded(s.start())) return i;
  throw new Error(`no increase after ${limit} successes`);
}

describe('AimdState', () => {
  it('starts at the maximum, with nothing lowered', () => {
    const s = new AimdState({ max: 8 });
    expect([s.current, s.lowest, s.decreases, s.increases]).toEqual([8, 8, 0, 0]);
  });

  it('rejects a maximum that is not a whole number ≥ 1', () => {
    expect(() => new AimdState({ max: 0 })).toThrow(RangeError);
    expect(() => new AimdState({ max: 2.5 })).toThrow(/whole number ≥ 1, got 2.5/);
  });

  it('halves once for a burst of 429s from requests started at the same level', () => {
    const s = new AimdState({ max: 8 });
    const burst = startMany(s, 8);
    expect(burst.map((t) => s.rateLimited(t))).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(s.current).toBe(4);
    expect(s.decreases).toBe(1);
    // The same requests' retries being refused again change nothing either.
    for (const t of burst) expect(s.rateLimited(t)).toBe(false);
    expect(s.current).toBe(4);
  });

  it('halves again for a 429 from a request started after the decrease', () => {
    const s = new AimdState({ max: 8 });
    const old = s.start();
    s.rateLimited(s.start());
    const fresh = s.start();
    expect(s.rateLimited(old)).toBe(false);
    expect(s.rateLimited(fresh)).toBe(true);
    expect([s.current, s.lowest, s.decreases]).toEqual([2, 2, 2]);
  });

  it('rounds odd levels down and stops at 1', () => {
    const s = new AimdState({ max: 7 });
    const levels: number[] = [];
    for (let i = 0; i < 5; i++) {
      s.rateLimited(s.start());
      levels.push(s.current);
    }
    expect(levels).toEqual([3, 1, 1, 1, 1]);
    // Only real drops are counted.
    expect(s.decreases).toBe(2);
    expect(s.lowest).toBe(1);
  });

  it('rises by one after 2 × level clean successes at the current level, up to the maximum and no further', () => {
    const s = new AimdState({ max: 4, maxCaution: 1 });
    s.rateLimited(s.start()); // 2
    s.rateLimited(s.start()); // 1
    expect(s.current).toBe(1);
    expect(succeedUntilIncrease(s)).toBe(2);
    expect(s.current).toBe(2);
    expect(succeedUntilIncrease(s)).toBe(4);
    expect(succeedUntilIncrease(s)).toBe(6);
    expect(s.current).toBe(4);
    expect(s.increases).toBe(3);
    for (let i = 0; i < 100; i++) expect(s.succeeded(s.start())).toBe(false);
    expect(s.current).toBe(4);
    // The lowest level reached is remembered after recovery.
    expect(s.lowest).toBe(1);
    expect(s.decreases).toBe(2);
  });

  it('counts towards an increase only requests started at the current level that never saw a 429', () => {
    const s = new AimdState({ max: 4, increaseAfter: () => 2 });
    const beforeDecrease = startMany(s, 3);
    const throttled = s.start();
    s.rateLimited(s.start()); // 2
    s.rateLimited(throttled); // stale: no further decrease, but the ticket is marked
    expect(s.current).toBe(2);
    // Successes from before the decrease or after a 429 prove nothing about level 2.
    for (const t of beforeDecrease) expect(s.succeeded(t)).toBe(false);
    expect(s.succeeded(throttled)).toBe(false);
    expect(s.current).toBe(2);
    expect(s.succeeded(s.start())).toBe(false);
    expect(s.succeeded(s.start())).toBe(true);
    expect(s.current).toBe(3);
  });

  it('a 429 restarts the count towards an increase', () => {
    const s = new AimdState({ max: 2, increaseAfter: () => 3, maxCaution: 1 });
    s.rateLimited(s.start()); // 1
    s.succeeded(s.start());
    s.succeeded(s.start());
    s.rateLimited(s.start()); // at the floor: no drop, but a new generation
    expect(s.current).toBe(1);
    expect(s.succeeded(s.start())).toBe(false);
    expect(s.succeeded(s.start())).toBe(false);
    expect(s.succeeded(s.start())).toBe(true);
    expect(s.current).toBe(2);
  });

  it('climbs back to a level that drew a 429 (and just past it) more slowly, then at normal speed', () => {
    const s = new AimdState({ max: 8 });
    s.rateLimited(s.start()); // 8 → 4: caution 2 for 8
    s.rateLimited(s.start()); // 4 → 2: caution 4 for 4
    expect(s.current).toBe(2);
    expect(succeedUntilIncrease(s)).toBe(4); // → 3, below the ceiling: 2 × 2
    expect(succeedUntilIncrease(s)).toBe(4 * 6); // → 4, the ceiling: 4 × (2 × 3)
    expect(succeedUntilIncrease(s)).toBe(4 * 8); // → 5, past it: 4 held
    expect(succeedUntilIncrease(s)).toBe(10); // → 6, caution cleared
    expect(s.current).toBe(6);
  });

  it('doubles its caution at each decrease, up to maxCaution', () => {
    const s = new AimdState({ max: 2, maxCaution: 4 });
    const needed: number[] = [];
    for (let i = 0; i < 4; i++) {
      s.rateLimited(s.start()); // 2 → 1
      needed.push(succeedUntilIncrease(s)); // 1 → 2, the ceiling
    }
    expect(needed).toEqual([2 * 2, 2 * 4, 2 * 4, 2 * 4]);
    expect(() => new AimdState({ max: 2, maxCaution: 0.5 })).toThrow(/maxCaution must be ≥ 1/);
  });

  it('a 429 from a request started before an increase (but after the last decrease) halves the raised level', () => {
    const s = new AimdState({ max: 8, increaseAfter: () => 1 });
    s.rateLimited(s.start()); // 4
    const atFour = s.start();
    expect(s.succeeded(s.start())).toBe(true); // 5
    expect(s.rateLimited(atFour)).toBe(true);
    expect(s.current).toBe(2);
  });

  it('follows a level set from outside (a shared backoff), clamped to 1…max', () => {
    const s = new AimdState({ max: 8 });
    const before = s.start();
    expect(s.follow(8)).toBe(false);
    expect(s.follow(3)).toBe(true);
    expect([s.current, s.lowest, s.decreases]).toEqual([3, 3, 1]);
    // A lower level is a decrease: a 429 of a request started before it is stale.
    expect(s.isFresh(before)).toBe(false);
    expect(s.isFresh(s.start())).toBe(true);
    expect(s.rateLimited(before)).toBe(false);
    expect(s.current).toBe(3);
    expect(s.follow(20)).toBe(true);
    expect([s.current, s.increases]).toEqual([8, 1]);
    expect(s.follow(0)).toBe(true);
    expect(s.current).toBe(1);
    // A request started at the followed level still halves it on its own 429.
    expect(s.follow(6)).toBe(true);
    expect(s.rateLimited(s.start())).toBe(true);
    expect(s.current).toBe(3);
  });
});

/** A task that finishes when the test says so. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('AdaptiveLimiter', () => {
  it('runs at most the current level at once and lets fewer start after a 429', async () => {
    const limiter = new AdaptiveLimiter({ max: 4 });
    const tasks = Array.from({ length: 8 }, () => deferred<number>());
    const tickets: AimdTicket[] = [];
    const results = tasks.map((d, i) =>
      limiter.run((ticket) => {
        tickets[i] = ticket;
        return d.promise;
      }),
    );
    for (const r of results) r.catch(() => {}); // awaited at the end
    await tick();
    expect(limiter.activeCount).toBe(4);
    expect(limiter.pendingCount).toBe(4);

    limiter.rateLimited(tickets[0] as AimdTicket);
    expect(limiter.current).toBe(2);
    // Running requests are not cancelled; none starts until fewer than 2 run.
    for (const i of [0, 1]) tasks[i]?.resolve(i);
    await tick();
    expect(limiter.activeCount).toBe(2);
    expect(tickets.length).toBe(4);
    tasks[2]?.reject(new Error('failed'));
    await tick();
    expect(limiter.activeCount).toBe(2);
    expect(tickets.length).toBe(5);

    for (let i = 3; i < 8; i++) {
      tasks[i]?.resolve(i);
      await tick();
    }
    await expect(results[2]).rejects.toThrow('failed');
    expect(await Promise.all(results.filter((_, i) => i !== 2))).toEqual([0, 1, 3, 4, 5, 6, 7]);
    expect([limiter.lowest, limiter.decreases]).toEqual([2, 1]);
  });

  it('climbs back to the maximum as tasks succeed', async () => {
    const limiter = new AdaptiveLimiter({ max: 3, increaseAfter: () => 1 });
    let first: AimdTicket | undefined;
    await limiter.run(async (t) => {
      first = t;
    });
    limiter.rateLimited(first as AimdTicket);
    expect(limiter.current).toBe(1);
    let peak = 0;
    let running = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await tick();
          running--;
        }),
      ),
    );
    expect(limiter.current).toBe(3);
    expect(limiter.increases).toBe(2);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});
