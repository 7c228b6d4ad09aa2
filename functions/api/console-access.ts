/**
 * Who may do what in the reports console: the route → group table and the check, on the server,
 * for every console request (the page hiding a button is a courtesy, this is the rule).
 *
 * The console's routes are the API's own under `/console` (CONSOLE_PREFIX): API Gateway serves
 * them with a Cognito JWT authorizer, which proves the token (signature, issuer, audience,
 * expiry) and hands its claims to the function; the function then reads `cognito:groups` and
 * refuses, with a sentence, what the groups do not allow. Machine callers keep the IAM routes.
 *
 * Groups are ranked: admins can do everything requesters can, requesters everything viewers can,
 * so a person needs to be in one group only.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { API_ROUTES } from '../contract.js';

/** Every console path starts with this; the rest is the API route it stands for. */
export const CONSOLE_PREFIX = '/console';

export const CONSOLE_GROUPS = ['viewers', 'requesters', 'admins'] as const;
export type ConsoleGroup = (typeof CONSOLE_GROUPS)[number];
const RANK: Record<ConsoleGroup, number> = { viewers: 1, requesters: 2, admins: 3 };

export interface ConsoleRoute {
  method: 'GET' | 'POST';
  /** The path after CONSOLE_PREFIX, in the router's `{param}` syntax. */
  path: string;
  needs: ConsoleGroup;
  /** What the route does, for the refusal: "You cannot <action>". */
  action: string;
}

/** The console health strip: not an IAM route (machine callers have CloudWatch). */
export const CONSOLE_HEALTH_ROUTE = { method: 'GET', path: '/health' } as const;

/** A report's full figures (per hour, breakdowns) for its page: the record keeps only the headline. */
export const CONSOLE_FIGURES_ROUTE = { method: 'GET', path: '/reports/{id}/summary' } as const;

export const CONSOLE_ROUTES: readonly ConsoleRoute[] = [
  { ...API_ROUTES.listReports, needs: 'viewers', action: 'see reports' },
  { ...API_ROUTES.reportStatus, needs: 'viewers', action: 'see reports' },
  { ...API_ROUTES.listDefinitions, needs: 'viewers', action: 'see definitions' },
  { ...CONSOLE_FIGURES_ROUTE, needs: 'viewers', action: 'see reports' },
  { ...CONSOLE_HEALTH_ROUTE, needs: 'viewers', action: 'see the health of the reports' },
  { ...API_ROUTES.createReport, needs: 'requesters', action: 'ask for reports' },
  { ...API_ROUTES.resendReport, needs: 'admins', action: 're-send reports' },
  { ...API_ROUTES.backfill, needs: 'admins', action: 'backfill definitions' },
  { ...API_ROUTES.pauseDefinition, needs: 'admins', action: 'pause definitions' },
  { ...API_ROUTES.resumeDefinition, needs: 'admins', action: 'resume definitions' },
];

export interface ConsoleUser {
  /** The access token's `username` (Cognito's user name, what AdminGetUser takes). */
  username: string;
  groups: ConsoleGroup[];
}

/**
 * `cognito:groups` as API Gateway's JWT authorizer passes it: HTTP APIs flatten an array claim
 * into the string `[admins viewers]`; a local stand-in or a future format may pass the array.
 * Unknown group names are ignored (they grant nothing).
 */
export function groupsOf(claim: unknown): ConsoleGroup[] {
  let names: string[] = [];
  if (Array.isArray(claim)) names = claim.filter((g): g is string => typeof g === 'string');
  else if (typeof claim === 'string')
    names = claim
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .filter(Boolean);
  return CONSOLE_GROUPS.filter((g) => names.includes(g));
}

/** The signed-in person, from the JWT authorizer's claims; undefined when there are none. */
export function consoleUserOf(event: APIGatewayProxyEventV2): ConsoleUser | undefined {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
    .authorizer?.jwt?.claims;
  if (!claims) return undefined;
  // Defence in depth: the authorizer is configured for access tokens, and only those name the user
  // the same way everywhere (an id token has `cognito:username` and an `aud` instead).
  if (claims.token_use !== 'access' || typeof claims.username !== 'string' || !claims.username)
    return undefined;
  return { username: claims.username, groups: groupsOf(claims['cognito:groups']) };
}

export function rankOf(user: ConsoleUser): number {
  return Math.max(0, ...user.groups.map((g) => RANK[g]));
}

export function allows(user: ConsoleUser, needs: ConsoleGroup): boolean {
  return rankOf(user) >= RANK[needs];
}

/** The refusal as a sentence that says what to do. */
export function refusal(user: ConsoleUser, route: ConsoleRoute): string {
  const has =
    user.groups.length > 0 ? `Your account is in ${user.groups.join(', ')}` : 'Your account is in no group';
  return `${has}, so you cannot ${route.action}: ask an admin to add you to the ${route.needs} group.`;
}
