/**
 * The real ports of a report run (scheduled or on-demand worker), built once per cold start from
 * the validated configuration. Overrides replace any part, so tests hand in moto's clients and
 * the fake Verifik. Only the clients a run uses are imported here, so a run's bundle carries no
 * Lambda client (the API's ports, in api-deps.ts, carry no Verifik client).
 */
import { randomUUID } from 'node:crypto';
import { dynamoDocClient, s3Client, sesClient } from '../delivery/aws-clients.js';
import type { RunDeps } from '../runs/deps.js';
import { createVerifikClient } from '../verifik/client.js';
import { commonDeps } from './common-deps.js';

export function createRunDeps(
  role: 'scheduled-report' | 'report-worker' | 'sweeper' | 'ses-events',
  overrides: Partial<RunDeps> & { env?: Record<string, string | undefined> } = {},
): RunDeps {
  const { config, logger, secrets } = commonDeps(role, overrides);
  return {
    config,
    logger,
    secrets,
    s3: overrides.s3 ?? s3Client(),
    ses: overrides.ses ?? sesClient(),
    doc: overrides.doc ?? dynamoDocClient(),
    verifik:
      overrides.verifik ?? ((token) => createVerifikClient({ baseUrl: config.VERIFIK_BASE_URL, token })),
    now: overrides.now ?? (() => new Date()),
    newRunId: overrides.newRunId ?? (() => randomUUID()),
  };
}
