/**
 * A fake of Verifik's `GET /v2/biometric-validations` on loopback, with the backend module's
 * semantics (strict bounds, default `-createdAt`, unknown parameters ignored, populates or ids,
 * 401/400/404 bodies) and per-test fault injection. Plain `node:http`: it must serve a million
 * records at 1,000 a page quickly.
 *
 * Tokens: a static one that never expires (as before), plus JWTs the fake issues with an `exp`
 * (`issueToken`, and the renewal `GET /v2/auth/session?origin=refresh&expiresIn=N`), refused
 * with 401 once the fake's clock (`now`, injectable) passes their `exp`.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIST_PATH } from '../../functions/verifik/client.js';
import { type BiometricValidation, refId } from '../../functions/verifik/schema.js';
import { SESSION_PATH } from '../../functions/verifik/token.js';
import { type Fault, FaultController, type FaultOptions, type FaultSettings } from './faults.js';
import type { Dataset } from './generator.js';
import { JwtSigner } from './jwt.js';
import { type ListQuery, parseListQuery, QueryError, withoutParams } from './query.js';
import { SelectionCache, selectedIndex } from './selection.js';

/** What the fake counts as one of Verifik's months (`expiresIn` of a renewal counts months). */
export const FAKE_MONTH_SECONDS = 30 * 86_400;

export interface FakeVerifikOptions {
  dataset: Dataset;
  /**
   * A static bearer token the server accepts and that never expires; default `test-token`. The
   * JWTs the fake issues (`issueToken`, renewals) are accepted as well, until their `exp`.
   */
  token?: string;
  /** The fake's clock for issuing and expiring JWTs (default: the wall clock); tests simulate days with it. */
  now?: () => Date;
  /** HS256 key the fake signs its JWTs with (default: random per server). */
  jwtKey?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  faults?: FaultOptions;
}

export interface RequestRecord {
  /** 1-based request number on this server (what `onRequest` faults match). */
  n: number;
  method: string;
  path: string;
  /** The query as sent, decoded. */
  query: URLSearchParams;
  /** The raw request target (path and query string exactly as on the wire). */
  rawUrl: string;
  /** Status answered; 0 while pending or when the socket was destroyed without an answer. */
  status: number;
  at: Date;
  /** Kinds of the faults applied to this request. */
  faults: Fault['kind'][];
}

/** A JWT the fake issued. */
export interface IssuedToken {
  token: string;
  issuedAt: Date;
  expiresAt: Date;
  /** `issue`: handed out by `issueToken`; `refresh`: answered by the renewal endpoint. */
  via: 'issue' | 'refresh';
}

export interface FakeVerifik {
  /** Base URL, e.g. http://127.0.0.1:PORT (the client appends /v2/biometric-validations). */
  url: string;
  /** The static token (never expires). */
  token: string;
  dataset: Dataset;
  /** A JWT the server accepts until `lifetimeSeconds` after its clock's now (default 30 days). */
  issueToken(lifetimeSeconds?: number): string;
  /** Every JWT issued so far, oldest first (tokens are test values, not secrets). */
  readonly issued: readonly IssuedToken[];
  faults: FaultController;
  requests: RequestRecord[];
  /**
   * The most requests the server had open at once, each counted from its arrival until its response
   * finished or its client went away, those refused for `maxConcurrent` included: the concurrency
   * the client used, not what the server let through.
   */
  readonly peakConcurrent: number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

/** What the real stack answers for a status nobody asked a body for: gateways speak HTML. */
function defaultStatusBody(status: number): Answer {
  if (status === 502 || status === 504) {
    const text = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
    return {
      status,
      headers: { 'content-type': 'text/html' },
      body: `<html><body><h1>${text}</h1></body></html>`,
    };
  }
  const codes: Record<number, [string, string]> = {
    401: ['UNAUTHORIZED', 'Invalid or expired token'],
    403: ['FORBIDDEN', 'You do not have access to this resource'],
    408: ['RequestTimeout', 'Request timed out'],
    429: ['TooManyRequests', 'Rate limit exceeded, slow down'],
    500: ['InternalServerError', 'Something went wrong'],
    503: ['ServiceUnavailable', 'Service temporarily unavailable'],
  };
  const [code, message] = codes[status] ?? ['Error', `HTTP ${status}`];
  return json(status, { code, message });
}

function retryAfterHeader(v: number | Date | string): string {
  if (v instanceof Date) return v.toUTCString();
  return String(v);
}

/** Replaces populated objects by their ids unless the request asked to populate them. */
function shape(r: BiometricValidation, populate: ListQuery['populate']): BiometricValidation {
  if (populate.client && populate.project) return r;
  const out = { ...r };
  if (!populate.client && r.client != null) out.client = refId(r.client);
  if (!populate.project && r.project != null) out.project = refId(r.project);
  return out;
}

const UNAUTHORIZED = { code: 'UNAUTHORIZED', message: 'Missing or invalid bearer token' };
const EXPIRED = { code: 'UNAUTHORIZED', message: 'jwt expired' };
const INVALID_PARAMETERS = { success: false, error: 'Invalid query parameters', code: 'INVALID_PARAMETERS' };

class FakeVerifikServer {
  readonly requests: RequestRecord[] = [];
  readonly issued: IssuedToken[] = [];
  private readonly jwt: JwtSigner;
  readonly faults: FaultController;
  private readonly selections: SelectionCache;
  private readonly closing = new AbortController();
  private counter = 0;
  /** Requests open now (arrived, response not finished), refused ones included. */
  private open = 0;
  /** Requests being served now: what `maxConcurrent` limits. */
  private serving = 0;
  peakConcurrent = 0;

  constructor(
    readonly dataset: Dataset,
    readonly token: string,
    faults: FaultOptions | undefined,
    readonly now: () => Date,
    jwtKey: string | undefined,
  ) {
    this.faults = new FaultController(faults);
    this.selections = new SelectionCache(dataset);
    this.jwt = new JwtSigner(jwtKey);
  }

  /** Signs a JWT valid for `lifetimeSeconds` from the fake's now. */
  issue(lifetimeSeconds: number, via: IssuedToken['via']): string {
    const issuedAt = this.now();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const exp = iat + Math.max(1, Math.floor(lifetimeSeconds));
    const token = this.jwt.sign({ sub: 'fake-client', iat, exp, jti: randomUUID() });
    this.issued.push({ token, issuedAt, expiresAt: new Date(exp * 1000), via });
    return token;
  }

  /** null when the request carries a token the fake accepts now, else the 401 to answer. */
  private authorize(req: IncomingMessage): Answer | null {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (bearer === undefined) return json(401, UNAUTHORIZED);
    if (bearer === this.token) return null;
    const claims = this.jwt.verify(bearer);
    if (!claims) return json(401, UNAUTHORIZED);
    // Valid while now < exp, as JWT libraries check it.
    if (this.now().getTime() >= claims.exp * 1000) return json(401, EXPIRED);
    return null;
  }

  /** `GET /v2/auth/session?origin=refresh&expiresIn=<months>`: a new token for a still-valid one. */
  private session(req: IncomingMessage, url: URL): Answer {
    if (req.method !== 'GET') {
      return json(405, {
        code: 'MethodNotAllowed',
        message: `${req.method} is not allowed on ${SESSION_PATH}`,
      });
    }
    const denied = this.authorize(req);
    if (denied) return denied;
    if (url.searchParams.get('origin') !== 'refresh') return json(400, INVALID_PARAMETERS);
    const raw = url.searchParams.get('expiresIn');
    const months = raw === null ? 1 : Number(raw);
    if (!Number.isSafeInteger(months) || months < 1) return json(400, INVALID_PARAMETERS);
    return json(200, {
      accessToken: this.issue(months * FAKE_MONTH_SECONDS, 'refresh'),
      tokenType: 'bearer',
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = ++this.counter;
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://fake.invalid');
    const method = req.method ?? 'GET';
    const rec: RequestRecord = {
      n,
      method,
      path: url.pathname,
      query: url.searchParams,
      rawUrl,
      status: 0,
      at: this.now(),
      faults: [],
    };
    this.requests.push(rec);
    // A client that gives up (timeout, abort) ends any wait on its behalf.
    const gone = new AbortController();
    // 'close' comes once, after the response was sent or when the client went away first.
    this.open++;
    this.peakConcurrent = Math.max(this.peakConcurrent, this.open);
    res.on('close', () => {
      this.open--;
      gone.abort();
    });
    res.on('error', () => {});
    const signal = AbortSignal.any([gone.signal, this.closing.signal]);

    const settings = this.faults.settings;
    if (this.serving >= settings.maxConcurrent) {
      // Refused before anything else (latency, faults): a rate limiter answers at the door.
      rec.status = 429;
      this.send(res, defaultStatusBody(429));
      return;
    }
    this.serving++;
    res.on('close', () => this.serving--);
    const plan = this.faults.take({ n, method, path: url.pathname, query: url.searchParams });
    if (!(await this.wait(settings.latencyMs, signal))) return;
    for (const effect of plan.effects) {
      rec.faults.push(effect.kind);
      if (effect.kind === 'hang') {
        if (!(await this.wait(effect.ms, signal))) return;
      } else {
        const at = effect.at ?? { start: this.dataset.start, end: this.dataset.end };
        this.dataset.insert(this.dataset.generate(effect.count, at.start, at.end));
      }
    }
    const terminal = plan.terminal;
    if (terminal) rec.faults.push(terminal.kind);
    if (terminal?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    let answer: Answer;
    if (terminal?.kind === 'status') {
      answer =
        terminal.body === undefined
          ? defaultStatusBody(terminal.status)
          : typeof terminal.body === 'string'
            ? { status: terminal.status, headers: { 'content-type': JSON_TYPE }, body: terminal.body }
            : json(terminal.status, terminal.body);
      if (terminal.retryAfter !== undefined)
        answer.headers['retry-after'] = retryAfterHeader(terminal.retryAfter);
    } else if (terminal?.kind === 'malformed') {
      answer = {
        status: terminal.status ?? 200,
        headers: { 'content-type': terminal.contentType ?? JSON_TYPE },
        body: terminal.body,
      };
    } else {
      answer = this.answer(req, url, settings);
    }
    rec.status = answer.status;
    if (terminal?.kind === 'truncate')
      this.sendTruncated(res, answer, terminal.fraction ?? 0.5, terminal.mode);
    else this.send(res, answer);
  }

  /** Resolves true after `ms`, false if the client left or the server is closing first. */
  private async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (ms <= 0) return true;
    try {
      if (Number.isFinite(ms)) await sleep(ms, undefined, { signal });
      else await once(signal, 'abort');
      return !signal.aborted;
    } catch {
      return false;
    }
  }

  private answer(req: IncomingMessage, url: URL, settings: Readonly<FaultSettings>): Answer {
    if (url.pathname === SESSION_PATH) return this.session(req, url);
    if (url.pathname !== LIST_PATH) {
      return json(404, { code: 'NotFound', message: `${url.pathname} does not exist` });
    }
    if (req.method !== 'GET') {
      return json(405, { code: 'MethodNotAllowed', message: `${req.method} is not allowed on ${LIST_PATH}` });
    }
    const denied = this.authorize(req);
    if (denied) return denied;
    let q: ListQuery;
    try {
      q = parseListQuery(withoutParams(url.searchParams, settings.ignoreParams));
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      return json(400, INVALID_PARAMETERS);
    }
    return this.page(q, settings);
  }

  private page(q: ListQuery, settings: Readonly<FaultSettings>): Answer {
    const sel = this.selections.select(q);
    const total = sel.to - sel.from;
    // Unpaginated requests (no page, no offset) return everything in the module; here at most one capped page.
    const perPage = q.paginated ? Math.min(q.perPage, settings.maxPerPage) : settings.maxPerPage;
    const page = q.offset === null ? q.page : Math.floor(q.offset / perPage) + 1;
    const skip = q.offset ?? (q.paginated ? (q.page - 1) * perPage : 0);
    const count = Math.max(0, Math.min(perPage, total - skip));
    const docs: BiometricValidation[] = new Array(count);
    for (let k = 0; k < count; k++) {
      const rank = skip + k;
      const i = selectedIndex(sel, q.sort === 'asc' ? rank : total - 1 - rank);
      docs[k] = shape(this.dataset.record(i), q.populate);
    }
    if (count === 0 && settings.emptyAs === '204') return { status: 204, headers: {}, body: null };
    if (count === 0 && settings.emptyAs === 'empty-array') return json(200, { data: [] });
    const pages = Math.ceil(total / perPage);
    if (settings.envelope === 'module')
      return json(200, { data: { docs, total, limit: perPage, page, pages } });
    return json(200, { success: true, data: docs, pagination: { page, perPage, total, pages } });
  }

  private send(res: ServerResponse, a: Answer): void {
    if (res.destroyed) return;
    if (a.body === null) {
      res.writeHead(a.status, a.headers);
      res.end();
      return;
    }
    // Encode once: the length comes for free and the socket write does not encode again.
    const bytes = Buffer.from(a.body);
    res.writeHead(a.status, { ...a.headers, 'content-length': String(bytes.length) });
    res.end(bytes);
  }

  private sendTruncated(
    res: ServerResponse,
    a: Answer,
    fraction: number,
    mode: 'reset' | 'clean' = 'reset',
  ): void {
    if (res.destroyed) return;
    const bytes = Buffer.from(a.body ?? '');
    const cut = bytes.subarray(0, Math.max(1, Math.floor(bytes.length * Math.min(1, Math.max(0, fraction)))));
    if (mode === 'clean') {
      res.writeHead(a.status, { ...a.headers, 'content-length': String(cut.length) });
      res.end(cut);
      return;
    }
    // Promise the whole body, deliver part of it, then drop the connection.
    res.writeHead(a.status, { ...a.headers, 'content-length': String(bytes.length) });
    res.write(cut, () => res.socket?.destroy());
  }

  close(): void {
    this.closing.abort();
  }
}

export async function startFakeVerifik(opts: FakeVerifikOptions): Promise<FakeVerifik> {
  const token = opts.token ?? 'test-token';
  const fake = new FakeVerifikServer(
    opts.dataset,
    token,
    opts.faults,
    opts.now ?? (() => new Date()),
    opts.jwtKey,
  );
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    fake.handle(req, res).catch((err: unknown) => {
      // A bug in the fake must be loud in tests, not a hung request.
      console.error('fake-verifik: request failed', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': JSON_TYPE });
        res.end(JSON.stringify({ code: 'InternalServerError', message: String(err) }));
      } else res.destroy();
    });
  });
  server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    token,
    dataset: opts.dataset,
    issueToken: (lifetimeSeconds = FAKE_MONTH_SECONDS) => fake.issue(lifetimeSeconds, 'issue'),
    issued: fake.issued,
    faults: fake.faults,
    requests: fake.requests,
    get peakConcurrent() {
      return fake.peakConcurrent;
    },
    async close() {
      fake.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
