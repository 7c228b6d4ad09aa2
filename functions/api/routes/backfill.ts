/**
 * `POST /definitions/{name}/backfill` + `Idempotency-Key`, body `{ from, to, force? }` → 202
 * `{ definition, days: [{ day, action: 'started' | 'skipped', reason? }] }`. Each day not yet
 * delivered starts the scheduled function (asynchronously, like its schedule), so it goes through
 * the day's claim: a day started twice still sends once. `force` reports delivered days again,
 * each under `<day>~<key>`, so the same forced request twice still sends once per day.
 * 404 unknown definition; 400 a bad range or a day not finished in the definition's zone.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { backfill, InvalidBackfillError } from '../../runs/backfill.js';
import { type ScheduledInput, UnknownDefinitionError } from '../../runs/schedule-input.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResult, json, notFound, readJsonBody, validationError } from '../http.js';
import { parseBackfillRequest, parseDefinitionName, parseIdempotencyKey } from '../input.js';
import { runDepsOf } from '../run-deps.js';

export async function postBackfill(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  name: string | undefined,
): Promise<HttpResult> {
  const def = parseDefinitionName(name, deps.config.REPORT_DEFINITIONS);
  if (!def.ok) return notFound(def.message);
  const definition = deps.config.REPORT_DEFINITIONS.find((d) => d.name === def.value);
  const key = parseIdempotencyKey(event.headers);
  const body = readJsonBody(event);
  const parsed = body.ok
    ? parseBackfillRequest(body.value, {
        timeZone: definition?.schedule.timeZone ?? 'UTC',
        now: deps.now(),
      })
    : ({ ok: false, errors: [{ field: 'body', message: 'not valid JSON' }] } as const);
  if (!key.ok || !parsed.ok) {
    return validationError([...(key.ok ? [] : key.errors), ...(parsed.ok ? [] : parsed.errors)]);
  }
  const start = deps.startScheduledRun;
  if (!start) {
    return json(503, {
      error: 'ServiceUnavailable',
      message:
        'This API cannot start scheduled runs: SCHEDULED_FUNCTION_NAME is not set for it. Redeploy the stack.',
    });
  }
  const { from, to, force } = parsed.value;
  try {
    const days = await backfill(
      // Object.assign, not a spread: runDepsOf's `ses` is a getter that refuses when absent.
      Object.assign(runDepsOf(deps), { redo: (input: ScheduledInput) => start(input) }),
      { definition: def.value, from, to, force, requestKey: key.value },
    );
    deps.logger.info('backfill', {
      definition: def.value,
      from,
      to,
      force,
      started: days.filter((d) => d.action === 'started').length,
    });
    return json(202, { definition: def.value, from, to, force, idempotencyKey: key.value, days });
  } catch (err) {
    // The definition was checked above; a config change between the two reads is still a 404.
    if (err instanceof UnknownDefinitionError) return notFound(err.message);
    if (err instanceof InvalidBackfillError) return validationError([{ field: 'to', message: err.message }]);
    throw err;
  }
}
