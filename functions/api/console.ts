/**
 * The console's routes (`/console/...`): who is asking (the JWT authorizer's claims), whether
 * their group allows the route (console-access.ts), whether an admin action comes from an
 * account with MFA, and then the API's own route for the path without the prefix. One check for
 * every route, before any route code runs.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  allows,
  CONSOLE_FIGURES_ROUTE,
  CONSOLE_HEALTH_ROUTE,
  CONSOLE_PREFIX,
  CONSOLE_ROUTES,
  type ConsoleRoute,
  consoleUserOf,
  refusal,
} from './console-access.js';
import type { ApiDeps } from './deps.js';
import { type HttpResult, json } from './http.js';
import { createRouter } from './router.js';
import { consoleHealth } from './routes/console-health.js';
import { getReportFigures } from './routes/report-figures.js';

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

/** The event as the API's own route expects it: the path without `/console`. */
function unprefixed(event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 {
  const rawPath = event.rawPath.slice(CONSOLE_PREFIX.length) || '/';
  return {
    ...event,
    rawPath,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, path: rawPath } },
  };
}

const forbidden = (message: string) => json(403, { error: 'Forbidden', message });

export function createConsoleApi(
  getDeps: () => ApiDeps,
  inner: (event: APIGatewayProxyEventV2) => Promise<HttpResult>,
): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  const guarded = async (
    route: ConsoleRoute,
    event: APIGatewayProxyEventV2,
    params: Record<string, string>,
  ): Promise<HttpResult> => {
    // consoleUserOf is known to succeed here: checked before routing.
    const user = consoleUserOf(event)!;
    if (!allows(user, route.needs)) return forbidden(refusal(user, route));
    if (route.needs === 'admins') {
      // Cognito cannot require MFA for one group only, so the pool makes it optional and this
      // check makes it required for admin actions: with MFA optional, Cognito challenges every
      // sign-in of a user who has TOTP enabled (device remembering is off), so an account with
      // TOTP enabled has only sessions that passed it. Asked of Cognito (AdminGetUser) on each
      // admin action, so disabling MFA takes effect at once.
      const deps = getDeps();
      const mfa = deps.mfaEnabled ? await deps.mfaEnabled(user.username) : false;
      if (!mfa)
        return forbidden(
          'Admin actions need multi-factor sign-in: set up an authenticator app under "Security" in the console, sign out and sign in again with its code.',
        );
    }
    // The console's own two routes; everything else is the API's route of the same path.
    if (route.path === CONSOLE_HEALTH_ROUTE.path) return consoleHealth(getDeps());
    if (route.path === CONSOLE_FIGURES_ROUTE.path) return getReportFigures(getDeps(), params.id);
    return inner(event);
  };
  const route = createRouter(
    CONSOLE_ROUTES.map((r) => ({
      method: r.method,
      path: r.path,
      handler: (e, m) => guarded(r, e, m.params),
    })),
  );
  return async (event) => {
    if (!consoleUserOf(event))
      return json(401, { error: 'Unauthorized', message: 'Your session has ended. Sign in again.' });
    return route(unprefixed(event));
  };
}
