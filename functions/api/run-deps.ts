/**
 * The run protocol's ports (runs/deps.ts) from the API's: a re-send and a backfill go through the
 * same claims, mail path and delivery log as the runs, but the API never reads Verifik.
 */
import { randomUUID } from 'node:crypto';
import { ReportsError } from '../errors/kinds.js';
import type { RunDeps } from '../runs/deps.js';
import type { ApiDeps } from './deps.js';

/** The API was deployed without a port a route needs (answered 503 with this message). */
export class ApiPortMissingError extends ReportsError {
  override readonly kind = 'config';
  override name = 'ApiPortMissingError';
}

export function runDepsOf(deps: ApiDeps): RunDeps {
  return {
    config: deps.config,
    s3: deps.s3,
    doc: deps.doc,
    secrets: deps.secrets,
    logger: deps.logger,
    now: deps.now,
    newRunId: deps.newRunId ?? (() => randomUUID()),
    get ses(): RunDeps['ses'] {
      if (!deps.ses) throw new ApiPortMissingError('This API function was not given an SES client.');
      return deps.ses;
    },
    verifik: () => {
      throw new ApiPortMissingError('The reports API never reads Verifik: it re-sends stored files only.');
    },
  };
}
