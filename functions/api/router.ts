/**
 * The reports API's router: dispatch on `requestContext.http.method` and `rawPath`, 404 when no
 * route has the path, 405 with `Allow` when routes have the path but not the method.
 *
 * Hand-written on purpose, not @middy/http-router: that router throws a 404 for a known path with
 * the wrong method (no 405, no `Allow` header), and its docs say routes may need the stage
 * prefixed to their paths; ours answers 405 with `Allow`, matches `rawPath` against the same
 * route table the stack declares (contract.ts API_ROUTES), and turns a path segment that does not
 * percent-decode into a 404 rather than an exception.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HttpResult, methodNotAllowed, notFound } from './http.js';

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
    // The path is the caller's text: echo a bounded part of it, never megabytes back.
    const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
    return notFound(`No route for ${method} ${shown}.`);
  };
}
