/**
 * `GET /console/health` → the console's health strip: how old the Verifik token is (and so about
 * how long it has left) and the reports that failed in the last days.
 *
 * The token's expiry is estimated from the secret's metadata (DescribeSecret: when it was last
 * changed or rotated, when the next rotation is due) rather than read from the token itself: the
 * API function never needs the token, and reading it only to decode `exp` would widen what an
 * internet-facing function holds. A renewal gives a token of TOKEN_LIFETIME_DAYS, so "changed
 * N days ago" is "about 30 − N days left"; the daily token watch (token-watch.ts) still reads the
 * real `exp` and alerts the owners.
 */
import { listReportsByDate } from '../../delivery/state/index.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResult, json } from '../http.js';

/** What a Verifik login or renewal gives, in days (about a month). */
export const TOKEN_LIFETIME_DAYS = 30;
/** How many report days back the strip looks for failures (UTC days, today included). */
export const FAILURE_LOOKBACK_DAYS = 3;
const MAX_FAILURES = 10;
const DAY_MS = 86_400_000;

export async function consoleHealth(deps: ApiDeps): Promise<HttpResult> {
  const now = deps.now();
  const days = Array.from({ length: FAILURE_LOOKBACK_DAYS }, (_, i) =>
    new Date(now.getTime() - i * DAY_MS).toISOString().slice(0, 10),
  );
  const [token, ...lists] = await Promise.all([
    deps.verifikTokenState ? deps.verifikTokenState().catch(() => undefined) : undefined,
    ...days.map((d) => listReportsByDate(deps.doc, deps.config.STATE_TABLE, d, { limit: 200 })),
  ]);
  const failures = lists
    .flat()
    .filter((r) => r.status === 'failed')
    .sort((a, b) => (b.updatedAt ?? b.createdAt).localeCompare(a.updatedAt ?? a.createdAt))
    .slice(0, MAX_FAILURES)
    .map((r) => ({
      id: r.id,
      date: r.date,
      definition: typeof r.request.definition === 'string' ? r.request.definition : 'on-demand',
      at: r.updatedAt ?? r.createdAt,
      ...(r.error ? { error: r.error } : {}),
    }));
  const renewedAt = token?.lastRotatedAt ?? token?.lastChangedAt;
  return json(200, {
    checkedAt: now.toISOString(),
    verifikToken: token
      ? {
          ...(renewedAt ? { renewedAt: renewedAt.toISOString() } : {}),
          ...(renewedAt
            ? {
                daysLeftAbout: Math.floor(
                  TOKEN_LIFETIME_DAYS - (now.getTime() - renewedAt.getTime()) / DAY_MS,
                ),
              }
            : {}),
          ...(token.nextRotationAt ? { nextRenewalAt: token.nextRotationAt.toISOString() } : {}),
          renewalEnabled: token.rotationEnabled,
        }
      : null,
    failures,
    failureWindowDays: FAILURE_LOOKBACK_DAYS,
  });
}
