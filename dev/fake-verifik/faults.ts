/**
 * Fault injection for the fake Verifik API, deterministic per test: standing settings
 * (latency, page-size cap, envelope, ignored parameters, concurrency limit) and a queue of faults matched by
 * request number or predicate, each firing a given number of times.
 */

export type Envelope = 'seed' | 'module';
/** How a page without records is answered: the normal envelope, HTTP 204, or `{ "data": [] }`. */
export type EmptyAs = 'envelope' | '204' | 'empty-array';

export interface FaultSettings {
  /** Delay before every response. */
  latencyMs: number;
  /** Largest page the server serves; a larger `perPage` is cut down and the envelope says so. */
  maxPerPage: number;
  envelope: Envelope;
  emptyAs: EmptyAs;
  /** Parameters to act as if they were not sent (`in_status[]` also covers `in_status` and `in_status[0]`). */
  ignoreParams: string[];
  /**
   * Requests served at once, at most (a rate limit by concurrency): one that arrives while this many
   * are being served is answered 429 at once, without `Retry-After`, and consumes no queued fault.
   */
  maxConcurrent: number;
}

export type FaultOptions = Partial<FaultSettings>;

export const DEFAULT_SETTINGS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  maxPerPage: 1000,
  envelope: 'seed',
  emptyAs: 'envelope',
  ignoreParams: [],
  maxConcurrent: Number.POSITIVE_INFINITY,
});

export type Fault =
  /** Answer with this status instead; `retryAfter` in seconds, as an HTTP date, or verbatim. */
  | { kind: 'status'; status: number; retryAfter?: number | Date | string; body?: unknown }
  /** Destroy the socket without answering. */
  | { kind: 'reset' }
  /**
   * Send the start of the real answer, then stop: `reset` (default) destroys the socket mid-body,
   * `clean` ends the response properly with a Content-Length that matches the cut body.
   */
  | { kind: 'truncate'; fraction?: number; mode?: 'reset' | 'clean' }
  /** Answer 200 (or `status`) with this body verbatim. */
  | { kind: 'malformed'; body: string; status?: number; contentType?: string }
  /** Wait this long before answering normally; Infinity waits until the client gives up or the server closes. */
  | { kind: 'hang'; ms: number }
  /** Insert `count` fresh records (in `at`, default the dataset window) before serving: drift mid-read. */
  | { kind: 'insert'; count: number; at?: { start: Date; end: Date } };

/** What a fault predicate sees of a request. `query` is as sent, before `ignoreParams`. */
export interface FaultRequest {
  /** 1-based number of the request on this server. */
  n: number;
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface PushOptions {
  /** How often the fault fires (default 1; Infinity for always). */
  times?: number;
  /** Fire only on the request with this number. */
  onRequest?: number;
  when?: (req: FaultRequest) => boolean;
}

interface Rule {
  fault: Fault;
  remaining: number;
  onRequest: number | undefined;
  when: ((req: FaultRequest) => boolean) | undefined;
}

/** Faults chosen for one request: side effects (hang, insert) in queue order, then at most one answer-changing fault. */
export interface FaultPlan {
  effects: Extract<Fault, { kind: 'hang' | 'insert' }>[];
  terminal: Exclude<Fault, { kind: 'hang' | 'insert' }> | null;
}

export class FaultController {
  private current: FaultSettings;
  private rules: Rule[] = [];

  constructor(private readonly initial: FaultOptions = {}) {
    this.current = FaultController.validate({ ...DEFAULT_SETTINGS, ...initial });
  }

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }

  /** Changes standing settings for the requests that follow. */
  set(patch: FaultOptions): this {
    this.current = FaultController.validate({ ...this.current, ...patch });
    return this;
  }

  push(fault: Fault, opts: PushOptions = {}): this {
    const times = opts.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`times must be at least 1, got ${times}.`);
    this.rules.push({ fault, remaining: times, onRequest: opts.onRequest, when: opts.when });
    return this;
  }

  /** Drops queued faults and restores the settings the server started with. */
  clear(): this {
    this.rules = [];
    this.current = FaultController.validate({ ...DEFAULT_SETTINGS, ...this.initial });
    return this;
  }

  /** Queued faults that have not fired their last time yet. */
  get pending(): number {
    return this.rules.length;
  }

  /** Consumes the faults that apply to this request. */
  take(req: FaultRequest): FaultPlan {
    const plan: FaultPlan = { effects: [], terminal: null };
    for (const rule of this.rules) {
      if (rule.onRequest !== undefined && rule.onRequest !== req.n) continue;
      if (rule.when && !rule.when(req)) continue;
      const f = rule.fault;
      if (f.kind === 'hang' || f.kind === 'insert') plan.effects.push(f);
      else if (plan.terminal === null) plan.terminal = f;
      else continue;
      rule.remaining--;
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return plan;
  }

  private static validate(s: FaultSettings): FaultSettings {
    if (!Number.isInteger(s.maxPerPage) || s.maxPerPage < 1) {
      throw new RangeError(`maxPerPage must be a positive integer, got ${s.maxPerPage}.`);
    }
    if (!(s.latencyMs >= 0)) throw new RangeError(`latencyMs must be ≥ 0, got ${s.latencyMs}.`);
    if (
      !(
        s.maxConcurrent === Number.POSITIVE_INFINITY ||
        (Number.isInteger(s.maxConcurrent) && s.maxConcurrent >= 1)
      )
    ) {
      throw new RangeError(`maxConcurrent must be a whole number ≥ 1 or Infinity, got ${s.maxConcurrent}.`);
    }
    return { ...s, ignoreParams: [...s.ignoreParams] };
  }
}
