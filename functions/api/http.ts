/**
 * HTTP shapes for API Gateway HTTP API (payload 2.0): JSON and HTML answers that never carry a
 * stack trace, the status an error's kind maps to, and what a request says about itself.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FailureKind, kindOf } from '../errors/kinds.js';
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

/**
 * What an error that escaped a route answers, by its kind: a failure the caller caused or can
 * retry says so; everything else is our 500 (the 5xx alarm's business) with the request id.
 */
const STATUS_BY_KIND: Record<FailureKind, number> = {
  usage: 400,
  'not-found': 404,
  conflict: 409,
  'upstream-unavailable': 503,
  config: 500,
  auth: 500,
  'upstream-refused': 500,
  'upstream-data': 500,
  access: 500,
  output: 500,
  mail: 500,
  destination: 500,
  internal: 500,
  unexpected: 500,
};

export function statusFor(err: unknown): number {
  return STATUS_BY_KIND[kindOf(err)];
}

export function errorResponse(err: unknown, requestId: string | undefined): HttpResult {
  const status = statusFor(err);
  if (status === 404)
    return notFound('This report or file no longer exists (reports are kept for a limited time).');
  if (status === 409)
    return json(409, { error: 'Conflict', message: 'The report changed meanwhile. Try again.' });
  if (status === 503) {
    return json(503, {
      error: 'ServiceUnavailable',
      message: 'A service the API needs is unavailable. Try again in a minute.',
    });
  }
  // 400s are answered by the routes with the fields at fault; one that escapes is still ours.
  return internalError(requestId);
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
