/**
 * Backing off together: the slices of a fanned-out report read from one Verifik account, whose
 * rate limit is the account's, not a slice's. Each slice holds a fixed share of the report's
 * concurrency (the plan's `concurrencyPerSlice`), so together they never exceed the definition's
 * budget. Left alone, each would also run its own AIMD (adaptive-limit.ts) inside that share: a
 * 429 seen by one slice then says nothing to the others, which keep their level and draw the next
 * 429s themselves, and every slice probes upwards on its own, so the report as a whole keeps
 * knocking at the limit.
 *
 * Here the slices run one AIMD between them, held on a small board they share (one DynamoDB item
 * per report on AWS, delivery/state/backoff-board.ts; memory in one process): its `level` is the
 * requests in flight each running slice may use, between 1 and the share.
 * - A slice's 429 halves the board's level once per burst (a compare-and-set on the board's
 *   epoch: the slices refused in the same burst all saw the same epoch, and only the first write
 *   wins) and posts the pause the server asked for (`Retry-After`, or the retry policy's wait).
 * - A slice that has proved the level (2 × level successes of its own at it, more near a level
 *   that drew a 429, as adaptive-limit.ts does) raises it by one, by the same compare-and-set.
 * - Every slice reads the board at most once per `pollMs`, in the background, never on a
 *   request's path, and follows its level and pause. A slice's own 429 lowers its own level at
 *   once, before the board answers.
 * Per-slice rather than report-wide units, so no slice needs to know how many others run: the
 * levels are coarse (a share of 4 moves 4, 2, 1, 2, 3, 4), the price of needing no slice count.
 *
 * Coordination is best effort: a board that fails is counted and ignored (the slice goes on at the
 * level it has and still halves on its own 429s), because a report must never fail for it. Its
 * cost — one small read per slice per `pollMs`, one write per burst or proof — is measured by
 * `npm run bench -- --only backoff`.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

/** The report's one AIMD, as the board holds it. */
export interface BoardState {
  /** Bumped at every change: the compare-and-set's version. 0: never written. */
  epoch: number;
  /** Requests in flight each running slice may use now. */
  level: number;
  /** Until when (epoch ms) every slice holds its next requests. */
  pauseUntil: number;
  /** The level that drew the last 429 (approached with `caution`), null once passed. */
  ceiling: number | null;
  /** How many times the usual evidence the steps up to `ceiling` need (1–16). */
  caution: number;
  /** The level last proven (the one a raise started from), 0 for none since the last 429. */
  held: number;
}

/** Where a report's slices share their AIMD: DynamoDB on AWS, memory in one process. */
export interface BackoffBoard {
  /** The board as last written, or null if nobody has written it yet. */
  read(): Promise<BoardState | null>;
  /** Writes `next` only if the board is still at `epoch` (0: never written); whether it did. */
  swap(epoch: number, next: BoardState): Promise<boolean>;
}

const MAX_CAUTION = 16;

/** The board before any slice wrote it: every slice at its full share. */
export function freshBoard(share: number): BoardState {
  return { epoch: 0, level: share, pauseUntil: 0, ceiling: null, caution: 1, held: 0 };
}

/**
 * After a 429 at `s`: back to the level proven just before, if this one was a probe above it
 * (the limit did not move, the probe found it); otherwise half the level, at least 1 (the limit
 * came down, or nothing is proven). The later pause, and more caution near the level refused.
 * Stepping back rather than halving matters more here than in one read: every slice follows the
 * board, so a halving costs the whole report half its throughput until it is proven back.
 */
export function afterRateLimit(s: BoardState, pauseUntil: number): BoardState {
  // `held` is only ever the level a raise started from (one below), or 0 after a 429.
  const probe = s.held > 0;
  return {
    epoch: s.epoch + 1,
    level: probe ? s.held : Math.max(1, Math.floor(s.level / 2)),
    held: 0,
    pauseUntil: Math.max(s.pauseUntil, pauseUntil),
    // At 1 the level cannot be what is too high; the next one up is the one to approach with care.
    ceiling: Math.max(s.level, 2),
    caution: Math.min(MAX_CAUTION, s.caution * 2),
  };
}

/** After the level at `s` held: one more, up to `share`; past the ceiling, caution is dropped. */
export function afterProof(s: BoardState, share: number): BoardState | null {
  if (s.level >= share) return null;
  const level = s.level + 1;
  // No ceiling (null) is never passed; caution is 1 whenever there is none.
  const passed = level > (s.ceiling ?? Number.POSITIVE_INFINITY);
  return {
    epoch: s.epoch + 1,
    level,
    held: s.level,
    pauseUntil: s.pauseUntil,
    ceiling: passed ? null : s.ceiling,
    caution: passed ? 1 : s.caution,
  };
}

/** Successes a slice needs at the board's level before raising it (adaptive-limit.ts's rule). */
export function proofNeeded(s: BoardState): number {
  const nearCeiling = s.level + 1 >= (s.ceiling ?? Number.POSITIVE_INFINITY);
  return 2 * s.level * (nearCeiling ? s.caution : 1);
}

/** What a read asks of the coordination (reader.ts); `CoordinatedBackoff` is the one implementation. */
export interface SharedBackoff {
  /**
   * Before each page request: waits out a posted pause, and answers the level (requests in
   * flight) this read may use now.
   */
  beforeRequest(signal?: AbortSignal): Promise<number>;
  /** This read saw a 429 and lowered its own level; `pauseMs` is the wait the retry chose. */
  throttled(pauseMs: number): void;
  /** A request of this read succeeded without a 429. */
  succeeded(): void;
  readonly stats: SharedBackoffStats;
}

export interface SharedBackoffStats {
  /** Board writes this read attempted (a 429 burst, or a proven level). */
  writes: number;
  /** Of those, lost to another slice's write at the same epoch (its level applies). */
  lost: number;
  /** Board reads. */
  polls: number;
  /** Times this read lowered its level because the board said so (another slice's 429). */
  followed: number;
  /** Milliseconds this read's requests waited for a posted pause. */
  pausedMs: number;
  /** Board requests that failed (ignored). */
  boardErrors: number;
}

export interface CoordinatedBackoffOptions {
  /** The slice's fixed share of the report's concurrency: the most the level ever allows. */
  share: number;
  /** How often the board is read at most (default 1,000 ms). */
  pollMs?: number;
  /** The longest pause honoured, whatever was posted (default 30 s): a bad clock cannot stall a slice. */
  maxPauseMs?: number;
  /**
   * A pause ends for each request at a random moment in the `spreadMs` after it (default 500 ms):
   * slices that all woke at the same instant would refill the server at once and draw the next
   * 429 together (measured: slices out of retries under `Retry-After`).
   */
  spreadMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

const DEFAULT_POLL_MS = 1_000;
const DEFAULT_SPREAD_MS = 500;
const DEFAULT_MAX_PAUSE_MS = 30_000;

export class CoordinatedBackoff implements SharedBackoff {
  readonly stats: SharedBackoffStats = {
    writes: 0,
    lost: 0,
    polls: 0,
    followed: 0,
    pausedMs: 0,
    boardErrors: 0,
  };
  readonly #board: BackoffBoard;
  readonly #share: number;
  readonly #pollMs: number;
  readonly #maxPauseMs: number;
  readonly #spreadMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  /** The board as this slice last knew it (read, or written by itself). */
  #state: BoardState;
  /** Successes of this slice at `#state`'s epoch. */
  #successes = 0;
  /** When `#state` was taken on (its level proven only a while later). */
  #adoptedAt: number;
  #lastPoll = Number.NEGATIVE_INFINITY;
  /** Settles when every board request started so far has (they never reject: see `#write`, `#poll`). */
  #idle: Promise<unknown> = Promise.resolve();
  #polling = false;

  constructor(board: BackoffBoard, options: CoordinatedBackoffOptions) {
    if (!Number.isInteger(options.share) || options.share < 1) {
      throw new RangeError(`The share must be a whole number ≥ 1, got ${options.share}.`);
    }
    this.#board = board;
    this.#share = options.share;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#maxPauseMs = options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    this.#spreadMs = options.spreadMs ?? DEFAULT_SPREAD_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined));
    this.#state = freshBoard(this.#share);
    this.#adoptedAt = this.#now();
  }

  /** The level this slice follows now. */
  get level(): number {
    return this.#state.level;
  }

  async beforeRequest(signal?: AbortSignal): Promise<number> {
    if (!this.#polling && this.#now() - this.#lastPoll >= this.#pollMs) {
      this.#lastPoll = this.#now();
      this.#polling = true;
      this.#track(this.#poll().finally(() => (this.#polling = false)));
    }
    const left = Math.min(this.#state.pauseUntil - this.#now(), this.#maxPauseMs);
    if (left > 0) {
      const wait = left + this.#random() * this.#spreadMs;
      this.stats.pausedMs += wait;
      await this.#sleep(wait, signal);
    }
    return this.#state.level;
  }

  throttled(pauseMs: number): void {
    const pause = Math.max(0, Math.min(pauseMs, this.#maxPauseMs));
    this.#write(afterRateLimit(this.#state, this.#now() + pause));
  }

  succeeded(): void {
    this.#successes++;
    if (this.#successes < proofNeeded(this.#state)) return;
    // A level is proven only once every slice has had the time to follow it (a poll period, and
    // one more for a read's lag): before that, this slice's successes say nothing of the others'.
    if (this.#now() - this.#adoptedAt < 2 * this.#pollMs) return;
    const next = afterProof(this.#state, this.#share);
    if (next) this.#write(next);
  }

  /** Waits for the board requests under way (tests; a read never waits for them). */
  async settled(): Promise<void> {
    await this.#idle;
  }

  /** Adopts `next` at once (this slice acts on its own evidence) and offers it to the others. */
  #write(next: BoardState): void {
    const seen = this.#state.epoch;
    this.#adopt(next);
    this.stats.writes++;
    this.#track(
      this.#board.swap(seen, next).then(
        (won) => {
          // Lost: another slice wrote first at the same epoch; the next read brings its state.
          if (!won) this.stats.lost++;
        },
        () => {
          this.stats.boardErrors++;
        },
      ),
    );
  }

  async #poll(): Promise<void> {
    let read: BoardState | null;
    try {
      read = await this.#board.read();
    } catch {
      this.stats.boardErrors++;
      return;
    }
    this.stats.polls++;
    // A read older than what this slice wrote since is not news; never go back to it.
    if (read === null || read.epoch < this.#state.epoch) return;
    // What this slice wrote and won: adopting it again would restart the count towards a raise.
    if (read.epoch === this.#state.epoch && read.level === this.#state.level) return;
    if (read.level < this.#state.level) this.stats.followed++;
    this.#adopt({ ...read, level: Math.min(read.level, this.#share) });
  }

  #adopt(next: BoardState): void {
    this.#state = { ...next, pauseUntil: Math.max(this.#state.pauseUntil, next.pauseUntil) };
    this.#successes = 0;
    this.#adoptedAt = this.#now();
  }

  #track(p: Promise<unknown>): void {
    this.#idle = Promise.all([this.#idle, p]);
  }
}

/** One process's board: the slices a local driver runs side by side share it. */
export class MemoryBackoffBoard implements BackoffBoard {
  #state: BoardState | null = null;
  async read(): Promise<BoardState | null> {
    return this.#state ? { ...this.#state } : null;
  }
  async swap(epoch: number, next: BoardState): Promise<boolean> {
    if ((this.#state?.epoch ?? 0) !== epoch) return false;
    this.#state = { ...next };
    return true;
  }
}
