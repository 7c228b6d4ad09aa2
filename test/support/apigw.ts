/**
 * A stand-in for API Gateway HTTP APIs (payload format 2.0): a real HTTP server on 127.0.0.1
 * that turns each request into an `APIGatewayProxyEventV2`, calls the Lambda handler
 * in-process, and writes its result back the way API Gateway does. Tests then call the API over
 * real HTTP, redirects and all.
 *
 * Like an API with a `$default` route, every request reaches the handler (so the handler's own
 * 404/405 answers are what the tests see); when a request matches one of `routes`, the event
 * carries that route's `routeKey` and `pathParameters`, as API Gateway would.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface RouteSpec {
  method: string;
  /** API Gateway syntax: `/reports/{id}/files/{name}`, `{proxy+}` for greedy. */
  path: string;
}

export interface ApiGatewayStandIn {
  /** e.g. `http://127.0.0.1:40123` */
  url: string;
  /** Every event the handler received, for assertions. */
  events: APIGatewayProxyEventV2[];
  close(): Promise<void>;
}

const TEXTUAL = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;

function matchRoute(
  routes: readonly RouteSpec[],
  method: string,
  path: string,
): { routeKey: string; pathParameters?: Record<string, string> } {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i] as string;
      const s = segments[i];
      const greedy = /^\{(.+)\+\}$/.exec(p);
      if (greedy?.[1]) {
        params[greedy[1]] = segments.slice(i).map(decodeURIComponent).join('/');
        i = segments.length;
        break;
      }
      if (s === undefined) ok = false;
      else if (/^\{.+\}$/.test(p)) params[p.slice(1, -1)] = decodeURIComponent(s);
      else if (p !== s) ok = false;
    }
    if (ok && (pattern.some((p) => p.endsWith('+}')) || pattern.length === segments.length)) {
      return {
        routeKey: `${route.method} ${route.path}`,
        ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
      };
    }
  }
  return { routeKey: '$default' };
}

function toEvent(req: IncomingMessage, body: Buffer, routes: readonly RouteSpec[]): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const method = (req.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (!value) continue;
    if (name === 'cookie') cookies.push(...value.flatMap((v) => v.split(/;\s*/)));
    else headers[name.toLowerCase()] = value.join(',');
  }
  // API Gateway is reached over TLS; the stand-in is not, and says so the way a proxy would.
  headers['x-forwarded-proto'] = 'http';
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const route = matchRoute(routes, method, url.pathname);
  const contentType = headers['content-type'] ?? '';
  const textual = body.length === 0 || TEXTUAL.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'standin',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'standin',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !textual,
  };
}

/** A Lambda context for calling a handler in-process (names and limits are only for logs). */
export function fakeLambdaContext(functionName = 'reports-api'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stand-in',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  // Payload 2.0: a bare string or object (no statusCode) means 200 with a JSON body.
  if (
    typeof result === 'string' ||
    typeof result !== 'object' ||
    result === null ||
    !('statusCode' in result)
  ) {
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? '' : result.body;
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(bytes);
}

export async function startApiGateway(opts: {
  handler: ApiHandler;
  routes?: readonly RouteSpec[];
}): Promise<ApiGatewayStandIn> {
  const events: APIGatewayProxyEventV2[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = toEvent(req, Buffer.concat(chunks), opts.routes ?? []);
      events.push(event);
      opts.handler(event, fakeLambdaContext()).then(
        (result) => writeResult(res, result),
        () => {
          // What API Gateway answers when the integration fails.
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"message":"Internal Server Error"}');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
