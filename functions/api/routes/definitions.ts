/**
 * `GET /definitions` → each definition's schedule, recipients (a count), whether it is paused, its
 * next run, its `sendIf` and its scopes (names and recipient counts). `POST /definitions/{name}/pause` and `/resume` → 200 `{ definition, paused }`:
 * idempotent by nature (pausing a paused definition changes nothing but who and when). A paused
 * definition's schedule still fires; the run skips, and says so in the day's delivery log.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getDefinitionState } from '../../delivery/state/index.js';
import { setDefinitionPaused } from '../../runs/backfill.js';
import { effectiveSendIf } from '../../settings/definitions.js';
import { nextFire } from '../../time/schedule.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResult, json, notFound } from '../http.js';
import { parseDefinitionName } from '../input.js';

export async function listDefinitions(deps: ApiDeps): Promise<HttpResult> {
  const now = deps.now();
  const definitions = await Promise.all(
    deps.config.REPORT_DEFINITIONS.map(async (def) => {
      const state = await getDefinitionState(deps.doc, deps.config.STATE_TABLE, def.name);
      const next = nextFire(def.cadence, def.schedule, now);
      return {
        name: def.name,
        schedule: { hour: def.schedule.hour, minute: def.schedule.minute, timeZone: def.schedule.timeZone },
        recipients: def.recipients.length,
        paused: state.paused,
        ...(state.updatedAt ? { pausedOrResumedAt: state.updatedAt } : {}),
        ...(state.by ? { by: state.by } : {}),
        // While paused the schedule still fires at this instant, and the run skips.
        nextRun: {
          at: next.at.toISOString(),
          reportsOn:
            next.period.from === next.period.to ? next.period.from : `${next.period.from}..${next.period.to}`,
        },
        cadence: def.cadence.kind,
        // The condition as configured: a word, or the rule (figures and bounds, no addresses).
        sendIf: effectiveSendIf(def),
        ...(def.splitBy
          ? {
              splitBy: {
                by: def.splitBy.by,
                overall: def.splitBy.overall,
                scopes: def.splitBy.scopes.map((s) => ({ name: s.name, recipients: s.recipients.length })),
              },
            }
          : {}),
      };
    }),
  );
  return json(200, { definitions });
}

/** The caller as IAM authorized it (API Gateway's `requestContext.authorizer.iam`), if known. */
function callerOf(event: APIGatewayProxyEventV2): string | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } }).authorizer?.iam;
  return typeof iam?.userArn === 'string' && iam.userArn ? iam.userArn : undefined;
}

export async function setPausedRoute(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  name: string | undefined,
  paused: boolean,
): Promise<HttpResult> {
  const def = parseDefinitionName(name, deps.config.REPORT_DEFINITIONS);
  if (!def.ok) return notFound(def.message);
  const by = callerOf(event);
  const result = await setDefinitionPaused(deps, {
    definition: def.value,
    paused,
    by: by ? `api ${by}` : 'api',
  });
  deps.logger.info(paused ? 'definition paused' : 'definition resumed', { definition: def.value });
  return json(200, result);
}
