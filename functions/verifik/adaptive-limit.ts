/**
 * A concurrency limit that backs off when the server says "too many requests" (HTTP 429) and creeps
 * back up while it does not: additive increase, multiplicative decrease (AIMD), as TCP does.
 *
 * Verifik's rate limits are undocumented, so no fixed concurrency is known to be safe. A read that
 * keeps its full concurrency while the server refuses requests only spends its retry budget faster;
 * halving on a 429 gets under the limit in a few steps, and the slow increase finds the level the
 * server currently allows again when the pressure was temporary.
 *
 * Two parts: `AimdState` decides (pure, no timers, no I/O: unit-tested by calling its methods), and
 * `AdaptiveLimiter` applies its decisions to a `p-limit` queue, whose `concurrency` can be changed
 * while requests are queued. Lowering it never cancels a request already running: the running ones
 * finish (their retries included) and fewer start after them.
 */
import pLimit, { type LimitFunction } from 'p-limit';

export interface AimdOptions {
  /** The configured concurrency: where the limit starts, and the most it ever allows. */
  max: number;
  /**
   * Successful requests needed at a level before trying one more. Default 2 × the level: each of
   * the requests running at that level has succeeded about twice, so the level is proven to hold,
   * and the increase stays slower the higher the level (fewer 429s per request at high levels).
   * Going back up to a level that drew a 429 takes more (see `caution`).
   */
  increaseAfter?: (current: number) => number;
  /** Cap of the caution factor (default 16; 1 turns caution off). */
  maxCaution?: number;
}

/**
 * Handed to each request when it starts. `epoch` is the limiter's generation at that moment, which
 * tells whether the request's outcome says anything about the *current* level.
 */
export interface AimdTicket {
  readonly epoch: number;
  /** Set once the request has seen a 429; its eventual success then proves nothing about the level. */
  throttled: boolean;
}

const defaultIncreaseAfter = (current: number) => 2 * current;
const DEFAULT_MAX_CAUTION = 16;

export class AimdState {
  readonly max: number;
  private level: number;
  private low: number;
  private drops = 0;
  private rises = 0;
  /** Bumped at every change of level (and at a 429 at the floor): the current generation. */
  private epoch = 0;
  /** The generation the last decrease started; a 429 from a request started before it is stale. */
  private decreasedAt = 0;
  /** Successes in the current generation from requests that never saw a 429. */
  private successes = 0;
  /**
   * The level that drew the last decrease (`ceiling`), and how many times the usual evidence the
   * steps up to it and just past it need (`caution`). A 429 costs far more than a success gains
   * (the refused request waits a backoff of hundreds of milliseconds, holding up the pages ordered
   * after it), so probing a level that already failed must get rarer: `caution` doubles at every
   * decrease (up to `maxCaution`) and goes back to 1 once the level has held long enough to go past
   * the ceiling. Against a limit that does not move, the read then settles just below it after a
   * few 429s instead of drawing one every few rounds; after a passing burst it recovers, only slower.
   */
  private ceiling = Number.POSITIVE_INFINITY;
  private caution = 1;
  private readonly maxCaution: number;
  private readonly increaseAfter: (current: number) => number;

  constructor(options: AimdOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError(`The concurrency maximum must be a whole number ≥ 1, got ${options.max}.`);
    }
    this.max = options.max;
    this.level = options.max;
    this.low = options.max;
    this.increaseAfter = options.increaseAfter ?? defaultIncreaseAfter;
    this.maxCaution = options.maxCaution ?? DEFAULT_MAX_CAUTION;
    if (!(this.maxCaution >= 1)) throw new RangeError(`maxCaution must be ≥ 1, got ${this.maxCaution}.`);
  }

  /** Requests allowed in flight now. */
  get current(): number {
    return this.level;
  }

  /** The lowest level reached so far (the maximum while never throttled). */
  get lowest(): number {
    return this.low;
  }

  /** How many times the level went down. */
  get decreases(): number {
    return this.drops;
  }

  /** How many times the level went up. */
  get increases(): number {
    return this.rises;
  }

  /** Call when a request starts (takes its slot), not when it is queued. */
  start(): AimdTicket {
    return { epoch: this.epoch, throttled: false };
  }

  /**
   * Whether a 429 for `ticket` would be news: its request started at or after the last decrease.
   * The first 429 of a burst is; the rest of the burst, and the retries of a refused request, are not.
   */
  isFresh(ticket: AimdTicket): boolean {
    return ticket.epoch >= this.decreasedAt;
  }

  /**
   * A 429 for the request holding `ticket`. Halves the level (floor 1) once per generation: the
   * requests that started before the last decrease were sent at the old, higher level, so their
   * 429s (typically the rest of the same burst, or their own retries) are already answered by it.
   * Only a request started at the lowered level can show that the lowered level is still too high.
   * Returns whether the level went down.
   */
  rateLimited(ticket: AimdTicket): boolean {
    ticket.throttled = true;
    if (!this.isFresh(ticket)) return false;
    const next = Math.max(1, Math.floor(this.level / 2));
    // At the floor a 429 still starts a new generation: it restarts the count towards an increase.
    this.epoch++;
    this.decreasedAt = this.epoch;
    this.successes = 0;
    this.caution = Math.min(this.maxCaution, this.caution * 2);
    // At the floor the level cannot be what is too high; the next one up is the one to approach with care.
    this.ceiling = Math.max(this.level, 2);
    if (next === this.level) return false;
    this.level = next;
    this.low = Math.min(this.low, next);
    this.drops++;
    return true;
  }

  /**
   * Sets the level from outside, clamped to 1…max: the level the slices of one report share
   * (verifik/read/shared-backoff.ts). A lower level starts a generation as a decrease does, so a
   * 429 of a request started before it is stale. Returns whether the level changed.
   */
  follow(level: number): boolean {
    const next = Math.max(1, Math.min(this.max, Math.floor(level)));
    if (next === this.level) return false;
    this.epoch++;
    this.successes = 0;
    if (next < this.level) {
      this.decreasedAt = this.epoch;
      this.drops++;
      this.low = Math.min(this.low, next);
    } else {
      this.rises++;
    }
    this.level = next;
    return true;
  }

  /**
   * The request holding `ticket` succeeded. Only requests started at the current level and never
   * throttled count towards one more: a success at an older level, or one that needed a retry after
   * a 429, says nothing about whether this level is safe. Returns whether the level went up.
   */
  succeeded(ticket: AimdTicket): boolean {
    if (ticket.throttled || ticket.epoch !== this.epoch || this.level >= this.max) return false;
    this.successes++;
    const factor = this.level + 1 >= this.ceiling ? this.caution : 1;
    if (this.successes < this.increaseAfter(this.level) * factor) return false;
    this.level++;
    this.rises++;
    this.epoch++;
    this.successes = 0;
    if (this.level > this.ceiling) {
      // The level that failed has now held: whatever refused it has passed.
      this.ceiling = Number.POSITIVE_INFINITY;
      this.caution = 1;
    }
    return true;
  }
}

/** A `p-limit` queue whose concurrency follows an `AimdState`. */
export class AdaptiveLimiter {
  private readonly state: AimdState;
  private readonly limit: LimitFunction;

  constructor(options: AimdOptions) {
    this.state = new AimdState(options);
    this.limit = pLimit(this.state.current);
  }

  /**
   * Runs `task` when a slot is free, with the ticket to pass to `rateLimited` on a 429. A task that
   * resolves counts as a success; one that rejects counts as nothing (a non-429 failure is not a
   * signal about load; a final 429 must be reported by the caller, who knows what it was).
   */
  run<T>(task: (ticket: AimdTicket) => Promise<T>): Promise<T> {
    return this.limit(async () => {
      const ticket = this.state.start();
      const result = await task(ticket);
      if (this.state.succeeded(ticket)) this.apply();
      return result;
    });
  }

  /**
   * Reports a 429 seen by the request holding `ticket` (safe to call for each of its retries).
   * Returns whether the level went down: once per burst, which is what a shared backoff posts.
   */
  rateLimited(ticket: AimdTicket): boolean {
    if (!this.state.rateLimited(ticket)) return false;
    this.apply();
    return true;
  }

  /** See `AimdState.isFresh`. */
  isFresh(ticket: AimdTicket): boolean {
    return this.state.isFresh(ticket);
  }

  /** Sets the level from outside (a shared backoff's board; see `AimdState.follow`). */
  follow(level: number): void {
    if (this.state.follow(level)) this.apply();
  }

  get current(): number {
    return this.state.current;
  }

  get lowest(): number {
    return this.state.lowest;
  }

  get decreases(): number {
    return this.state.decreases;
  }

  get increases(): number {
    return this.state.increases;
  }

  /** Requests running now; may exceed `current` for a while after a decrease. */
  get activeCount(): number {
    return this.limit.activeCount;
  }

  get pendingCount(): number {
    return this.limit.pendingCount;
  }

  private apply(): void {
    this.limit.concurrency = this.state.current;
  }
}
