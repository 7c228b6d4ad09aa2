/**
 * The console's server-side rule: every `/console/...` route checks the caller's Cognito group
 * (and MFA for admin actions) before any route code runs; refusals are sentences.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createConsoleApi, isConsolePath } from '../../functions/api/console.js';
import { CONSOLE_ROUTES, groupsOf } from '../../functions/api/console-access.js';
import type { ApiDeps } from '../../functions/api/deps.js';
import { API_ROUTES } from '../../functions/contract.js';

function event(method: string, path: string, claims?: Record<string, unknown>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

const access = (groups: string, username = 'ana') => ({
  token_use: 'access',
  username,
  'cognito:groups': groups,
});

function api(mfa: Record<string, boolean> = {}) {
  const seen: string[] = [];
  const deps = { mfaEnabled: async (u: string) => mfa[u] === true } as unknown as ApiDeps;
  const handler = createConsoleApi(
    () => deps,
    async (e) => {
      seen.push(`${e.requestContext.http.method} ${e.rawPath}`);
      return { statusCode: 200, body: '{}' };
    },
  );
  return { handler, seen };
}

const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? '{}') as { message: string };

describe('console access', () => {
  it('reads cognito:groups as API Gateway flattens it, and as an array; unknown names grant nothing', () => {
    expect(groupsOf('[admins viewers]')).toEqual(['viewers', 'admins']);
    expect(groupsOf(['requesters', 'root'])).toEqual(['requesters']);
    expect(groupsOf('[]')).toEqual([]);
    expect(groupsOf(undefined)).toEqual([]);
  });

  it('covers every IAM route but the signed download link', () => {
    const covered = new Set(CONSOLE_ROUTES.map((r) => `${r.method} ${r.path}`));
    const missing = Object.values(API_ROUTES)
      .filter((r) => r !== API_ROUTES.download)
      .filter((r) => !covered.has(`${r.method} ${r.path}`));
    expect(missing).toEqual([]);
    expect(isConsolePath('/console/reports')).toBe(true);
    expect(isConsolePath('/consoles')).toBe(false);
  });

  it('without claims, or with an id token: 401, and no route runs', async () => {
    const { handler, seen } = api();
    expect((await handler(event('GET', '/console/reports'))).statusCode).toBe(401);
    const id = { token_use: 'id', 'cognito:username': 'ana', 'cognito:groups': '[admins]' };
    expect((await handler(event('GET', '/console/reports', id))).statusCode).toBe(401);
    expect(seen).toEqual([]);
  });

  it('a viewer reads reports but cannot ask for one or re-send: 403 with a sentence', async () => {
    const { handler, seen } = api();
    expect((await handler(event('GET', '/console/reports/r-1', access('[viewers]')))).statusCode).toBe(200);
    const ask = await handler(event('POST', '/console/reports', access('[viewers]')));
    expect(ask.statusCode).toBe(403);
    expect(bodyOf(ask).message).toBe(
      'Your account is in viewers, so you cannot ask for reports: ask an admin to add you to the requesters group.',
    );
    const resend = await handler(event('POST', '/console/reports/r-1/resend', access('[viewers]')));
    expect(resend.statusCode).toBe(403);
    expect(bodyOf(resend).message).toContain('cannot re-send reports');
    expect(seen).toEqual(['GET /reports/r-1']);
  });

  it('no group at all: even reading is refused', async () => {
    const { handler } = api();
    expect((await handler(event('GET', '/console/definitions', access('[]')))).statusCode).toBe(403);
  });

  it('a requester asks for reports; admin actions need the admins group and MFA', async () => {
    const { handler, seen } = api({ root: true });
    expect((await handler(event('POST', '/console/reports', access('[requesters]')))).statusCode).toBe(200);
    expect(
      (await handler(event('POST', '/console/definitions/d/pause', access('[requesters]')))).statusCode,
    ).toBe(403);
    const noMfa = await handler(event('POST', '/console/definitions/d/pause', access('[admins]', 'ana')));
    expect(noMfa.statusCode).toBe(403);
    expect(bodyOf(noMfa).message).toContain('multi-factor');
    expect(
      (await handler(event('POST', '/console/definitions/d/pause', access('[admins]', 'root')))).statusCode,
    ).toBe(200);
    expect(seen).toEqual(['POST /reports', 'POST /definitions/d/pause']);
  });

  it('unknown console paths are 404 and wrong methods 405, after the session check', async () => {
    const { handler } = api();
    expect((await handler(event('GET', '/console/nothing', access('[admins]')))).statusCode).toBe(404);
    expect((await handler(event('DELETE', '/console/reports', access('[admins]')))).statusCode).toBe(405);
  });
});
