/**
 * A local chat/webhook receiver on 127.0.0.1 for the destination tests: records every request
 * (method, headers, raw body) and answers as planned, one action per request in order, then
 * `ok`: a status (500, 429 with Retry-After, 400 with a Slack-like error token), a connection
 * reset before any answer, or a slow answer. With `signingKey` it verifies the signed webhook
 * exactly as the README tells receivers to (HMAC over "<timestamp>.<raw body>", constant-time
 * compare, 5-minute tolerance) and drops repeats of an Idempotency-Key it already took.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverAction =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** The socket is destroyed before any answer: the client sees a connection reset. */
  | { kind: 'reset' }
  /** Answers 200 after `ms` (longer than the client's timeout: a timeout). */
  | { kind: 'slow'; ms: number };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver did with it. */
  answered: ReceiverAction['kind'];
  /** With a signing key: whether the signature checked out. */
  signatureValid?: boolean;
  /** With a signing key: a repeat of an Idempotency-Key already taken (answered 200, not processed). */
  duplicate?: boolean;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests processed once per Idempotency-Key (signed webhooks only). */
  processed: ReceivedRequest[];
  plan(...actions: ReceiverAction[]): void;
  reset(): void;
  close(): Promise<void>;
}

/** The README's verification, verbatim in spirit: what a receiver of our webhook runs. */
export function verifySignature(
  signingKey: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers['x-signature-timestamp']);
  const given = String(headers['x-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = `sha256=${createHmac('sha256', signingKey).update(`${timestamp}.${rawBody}`).digest('hex')}`;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startReceiver(
  opts: { signingKey?: string; nowSeconds?: () => number } = {},
): Promise<Receiver> {
  let queue: ReceiverAction[] = [];
  const requests: ReceivedRequest[] = [];
  const processed: ReceivedRequest[] = [];
  const seenKeys = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = queue.shift() ?? { kind: 'ok' };
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered: action.kind,
      };
      requests.push(record);
      if (action.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (action.kind === 'status') {
        res.writeHead(action.status, { 'content-type': 'text/plain', ...action.headers });
        res.end(action.body ?? 'error');
        return;
      }
      const answer = () => {
        if (opts.signingKey) {
          const now = opts.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
          record.signatureValid = verifySignature(opts.signingKey, req.headers, record.body, now);
          if (!record.signatureValid) {
            res.writeHead(401).end('bad_signature');
            return;
          }
          const key = String(req.headers['idempotency-key'] ?? '');
          record.duplicate = seenKeys.has(key);
          if (!record.duplicate) {
            seenKeys.add(key);
            processed.push(record);
          }
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (action.kind === 'slow') {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) answer();
        }, action.ms);
        timers.add(t);
      } else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/T000/B000/s3cr3t-path`,
    requests,
    processed,
    plan(...actions) {
      queue.push(...actions);
    },
    reset() {
      queue = [];
      requests.length = 0;
      processed.length = 0;
      seenKeys.clear();
    },
    close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
