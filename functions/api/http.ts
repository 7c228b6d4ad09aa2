/**
 * Small HTTP helpers for API Gateway HTTP API (payload 2.0) handlers: a route table with real
 * 404/405 answers, and response shapes that never carry a stack trace.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { escapeHtml } from '../util/html-escape.js';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface FieldError {
  field: string;
  message: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function validationError(fields: FieldError[]): HttpResult {
  return json(400, { error: 'ValidationError', message: 'The request has invalid fields.', fields });
}

export function notFound(message = 'No such resource.'): HttpResult {
  return json(404, { error: 'NotFound', message });
}

export function methodNotAllowed(allowed: readonly string[]): HttpResult {
  return json(
    405,
    { error: 'MethodNotAllowed', message: `Use ${allowed.join(' or ')} on this path.` },
    { allow: allowed.join(', ') },
  );
}

export function internalError(requestId: string | undefined): HttpResult {
  return json(500, {
    error: 'InternalError',
    message: `Something went wrong on our side${requestId ? ` (request ${requestId})` : ''}. Try again later.`,
  });
}

const esc = escapeHtml;

/** A small human page for people who clicked a link in a mail (they get HTML, not JSON or S3 XML). */
export function htmlPage(statusCode: number, title: string, message: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'referrer-policy': 'no-referrer',
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:Helvetica,Arial,sans-serif;max-width:40em;margin:3em auto;color:#1f2933"><h1 style="font-size:1.4em">${esc(title)}</h1><p>${esc(message)}</p></body></html>`,
  };
}

export function redirect(location: string): HttpResult {
  return {
    statusCode: 302,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: '',
  };
}

export interface RouteMatch {
  params: Record<string, string>;
}

export type RouteHandler = (event: APIGatewayProxyEventV2, match: RouteMatch) => Promise<HttpResult>;

export interface Route {
  method: 'GET' | 'POST';
  /** `/reports/{id}/files/{name}`: each `{param}` matches one non-empty path segment. */
  path: string;
  handler: RouteHandler;
}

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)\}$/.exec(segment);
      if (m?.[1]) {
        names.push(m[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${pattern}/?$`), names };
}

/**
 * Dispatches on `requestContext.http.method` and `rawPath`: 404 when no route has the path,
 * 405 with `Allow` when routes have the path but not the method.
 */
export function createRouter(
  routes: readonly Route[],
): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  const compiled = routes.map((r) => ({ ...r, ...compile(r.path) }));
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const allowed: string[] = [];
    for (const route of compiled) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      let decodable = true;
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1] ?? '');
        } catch {
          decodable = false;
        }
      });
      if (!decodable) return notFound();
      return route.handler(event, { params });
    }
    if (allowed.length > 0) {
      // HEAD is not routed; OPTIONS would be answered by API Gateway's CORS if configured.
      return methodNotAllowed([...new Set(allowed)]);
    }
    return notFound(`No route for ${method} ${path}.`);
  };
}

/** The JSON body of an event (base64 or not); undefined when absent, an error when not JSON. */
export function readJsonBody(event: APIGatewayProxyEventV2): { ok: true; value: unknown } | { ok: false } {
  if (event.body === undefined || event.body === '') return { ok: true, value: undefined };
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * Public base URL of this API as the caller reached it (`https://<domain>[/<stage>]`). API
 * Gateway is always TLS; `x-forwarded-proto` lets a local stand-in say it is plain HTTP.
 */
export function baseUrlOf(event: APIGatewayProxyEventV2): string {
  const proto = event.headers?.['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  const stage = event.requestContext.stage;
  const stagePath = stage && stage !== '$default' ? `/${stage}` : '';
  return `${proto}://${event.requestContext.domainName}${stagePath}`;
}
