/**
 * An HTTP proxy on 127.0.0.1 in front of moto that can fail requests the way a network does:
 * pass them through, refuse them with an AWS-shaped error, reset the connection before they
 * arrive, or forward them and then drop the connection before the answer reaches the client
 * (the service did the work; the caller never hears). `plan` decides per request.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyAction =
  | { kind: 'pass' }
  /** The request never reaches the service. */
  | { kind: 'reset-before' }
  /** The service handles it; its answer is lost. */
  | { kind: 'drop-after' }
  /** An answer from "the service" without asking it: status, AWS error type, message. */
  | { kind: 'refuse'; status: number; errorType: string; message: string; xml?: boolean };

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface FaultProxy {
  url: string;
  /** Requests seen, with what was done to them. */
  readonly log: { method: string; path: string; action: ProxyAction['kind'] }[];
  plan: (req: ProxiedRequest) => ProxyAction;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = {
    url: '',
    log: [],
    plan: () => ({ kind: 'pass' }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
      const action = proxy.plan(seen);
      proxy.log.push({ method: seen.method, path: seen.path, action: action.kind });
      if (action.kind === 'reset-before') {
        req.socket.destroy();
        return;
      }
      if (action.kind === 'refuse') {
        const body = action.xml
          ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${action.errorType}</Code><Message>${action.message}</Message></Error>`
          : JSON.stringify({ message: action.message });
        res.writeHead(action.status, {
          'content-type': action.xml ? 'application/xml' : 'application/json',
          'x-amzn-errortype': action.errorType,
          'x-amzn-requestid': 'fault-proxy',
        });
        res.end(body);
        return;
      }
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: seen.method,
          path: seen.path,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (action.kind === 'drop-after') {
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      forwarded.on('error', () => req.socket.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
