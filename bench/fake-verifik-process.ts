/**
 * The fake Verifik in its own process for the benchmark, so that the reader's RSS and CPU are
 * measured alone. Prints one JSON line `{url, token, start, end}` when listening; exits when its
 * stdin closes (the parent died or is done) or on SIGTERM.
 *
 *   tsx bench/fake-verifik-process.ts --count 100000 --latency-ms 20 [--prerender 500,20] [--seed 1]
 *     [--max-concurrent 16 [--retry-after 1]]
 *
 * `--max-concurrent` is the account's rate limit as the fake models it: a request that arrives
 * while that many are being served is answered 429 at once, without `Retry-After` unless
 * `--retry-after` gives its seconds.
 *
 * `--prerender` renders, before listening, every page the benchmark's readers will ask for (the
 * whole window, ascending, client and project populated, at those page sizes) and answers them
 * from memory after the latency. The benchmark runs on a 2-core machine where the fake's own
 * rendering (≈3–8 ms a 500-record page) would otherwise compete with the reader for CPU and make
 * the server, not the reader, the bottleneck. The bodies are exactly what the fake would send
 * (same dataset, same envelope); any other request is passed on to the real fake.
 */
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createDataset, type Dataset } from '../dev/fake-verifik/generator.js';
import { startFakeVerifik } from '../dev/fake-verifik/server.js';
import { dayWindow } from '../functions/time/window.js';
import { LIST_PATH } from '../functions/verifik/client.js';
import { toSearchParams } from '../functions/verifik/query.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    'latency-ms': { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    day: { type: 'string', default: '2024-12-01' },
    tz: { type: 'string', default: 'America/Bogota' },
    prerender: { type: 'string', default: '' },
    clients: { type: 'string' },
    'projects-per-client': { type: 'string' },
    /** A window of instants instead of `--day` (ISO 8601): the scale bench serves one slice each. */
    start: { type: 'string' },
    end: { type: 'string' },
    'max-concurrent': { type: 'string' },
    'retry-after': { type: 'string' },
  },
});
const maxConcurrent = values['max-concurrent'] ? Number(values['max-concurrent']) : Number.POSITIVE_INFINITY;
let serving = 0;
/** The fake's own 429 answer (server.ts), for the pre-rendered pages. */
const TOO_MANY = Buffer.from(
  JSON.stringify({ code: 'TooManyRequests', message: 'Rate limit exceeded, slow down' }),
);
const latencyMs = Number(values['latency-ms']);
const window =
  values.start && values.end
    ? { start: new Date(values.start), end: new Date(values.end) }
    : dayWindow(values.day, values.tz);
const dataset = createDataset({
  seed: Number(values.seed),
  count: Number(values.count),
  start: window.start,
  end: window.end,
  ...(values.clients ? { clients: Number(values.clients) } : {}),
  ...(values['projects-per-client'] ? { projectsPerClient: Number(values['projects-per-client']) } : {}),
});
const fake = await startFakeVerifik({
  dataset,
  token: 'bench-token',
  faults: { latencyMs, ...(values['max-concurrent'] ? { maxConcurrent } : {}) },
});

/** The query the readers send for the whole window at `perPage`, minus `page`, in a canonical order. */
function windowKey(perPage: number): string {
  const q = toSearchParams({
    perPage,
    populates: ['client', 'project'],
    sort: 'createdAt',
    createdAfter: new Date(window.start.getTime() - 1),
    createdBefore: window.end,
  });
  q.sort();
  return q.toString();
}

function render(ds: Dataset, perPage: number): Buffer[] {
  const total = ds.size;
  const pages = Math.ceil(total / perPage);
  const bodies: Buffer[] = [];
  for (let p = 1; p <= pages; p++) {
    const data = [];
    for (let i = (p - 1) * perPage; i < Math.min(total, p * perPage); i++) data.push(ds.record(i));
    bodies.push(
      Buffer.from(JSON.stringify({ success: true, data, pagination: { page: p, perPage, total, pages } })),
    );
  }
  return bodies;
}

const rendered = new Map<string, Buffer[]>();
for (const size of values.prerender.split(',').filter(Boolean).map(Number)) {
  rendered.set(windowKey(size), render(dataset, size));
}

const upstream = new URL(fake.url);
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://bench.invalid');
  const page = Number(url.searchParams.get('page'));
  const rest = new URLSearchParams(url.searchParams);
  rest.delete('page');
  rest.sort();
  const pages = url.pathname === LIST_PATH ? rendered.get(rest.toString()) : undefined;
  const body = pages?.[page - 1];
  if (body && req.headers.authorization === `Bearer ${fake.token}`) {
    if (serving >= maxConcurrent) {
      res.writeHead(429, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': TOO_MANY.length,
        ...(values['retry-after'] ? { 'retry-after': values['retry-after'] } : {}),
      });
      res.end(TOO_MANY);
      return;
    }
    serving++;
    try {
      await sleep(latencyMs);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
      });
      res.end(body);
    } finally {
      serving--;
    }
    return;
  }
  const proxied = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  proxied.on('error', () => res.destroy());
  req.pipe(proxied);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

process.stdout.write(
  `${JSON.stringify({
    url: `http://127.0.0.1:${port}`,
    token: fake.token,
    start: window.start.toISOString(),
    end: window.end.toISOString(),
  })}\n`,
);
const shutdown = () => {
  server.closeAllConnections();
  server.close();
  fake.close().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.once('SIGTERM', shutdown);
