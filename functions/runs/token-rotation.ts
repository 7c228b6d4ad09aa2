/**
 * Renewing the Verifik token as a Secrets Manager rotation. Secrets Manager drives the four
 * steps of its rotation contract, each an invocation `{ SecretId, ClientRequestToken, Step }`;
 * the new version is identified by `ClientRequestToken` throughout:
 *
 * - `createSecret`: renew AWSCURRENT at Verifik (`GET /v2/auth/session?origin=refresh`) and put
 *   the new token as that version, labelled AWSPENDING. Idempotent: a version that already
 *   holds a value is kept (Secrets Manager may call a step again).
 * - `setSecret`: nothing to do; Verifik issued the token, there is no other system to tell.
 * - `testSecret`: list one validation with the AWSPENDING token.
 * - `finishSecret`: move AWSCURRENT to the new version (the old one becomes AWSPREVIOUS) and drop
 *   AWSPENDING. Report runs read AWSCURRENT (within their cache's few minutes); the old token
 *   keeps working until its own `exp`, since renewing does not revoke it.
 *
 * Any failure throws: Secrets Manager records the rotation as failed (the next one resumes the
 * unfinished version), and the function's Errors alarm sees it. Tokens never reach a log or an error message.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { awsErrorCode, describeAwsError } from '../delivery/aws-errors.js';
import { SecretError, SecretNotFoundError, SecretNotSetError } from '../delivery/secrets.js';
import { ReportsError } from '../errors/kinds.js';
import { describeIssues } from '../util/zod-issues.js';
import type { VerifikClient } from '../verifik/client.js';
import { daysUntil, type RefreshedToken, readTokenExpiry } from '../verifik/token.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export const RotationEvent = z.object({
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  Step: z.enum(ROTATION_STEPS),
});
export type RotationEvent = z.infer<typeof RotationEvent>;

export type RotationOutcome = {
  step: RotationStep;
  status: 'created' | 'exists' | 'noop' | 'tested' | 'skipped' | 'finished' | 'already-current';
  /** The new token's expiry, when known (createSecret, testSecret). */
  expiresAt?: string;
};

export interface TokenRotationDeps {
  sm: SecretsManagerClient;
  /** Renews a still-valid token at Verifik (verifik/token.ts `refreshToken`, bound to the base URL). */
  refresh(token: string): Promise<RefreshedToken>;
  /** A Verifik list client with this token (testSecret lists one validation). */
  verifik(token: string): VerifikClient;
  logger: Logger;
  now(): Date;
}

export class InvalidRotationEventError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidRotationEventError';
}

/** The secret's versions are not in a state this step can work from. */
export class RotationStateError extends ReportsError {
  override readonly kind = 'conflict';
  override name = 'RotationStateError';
}

/** The renewed token failed its test. */
export class RotationTestError extends ReportsError {
  override readonly kind = 'auth';
  override name = 'RotationTestError';
}

export function parseRotationEvent(event: unknown): RotationEvent {
  const parsed = RotationEvent.safeParse(event);
  if (!parsed.success) {
    throw new InvalidRotationEventError(
      `Invalid rotation event (${describeIssues(parsed.error, 'event')}). Expected Secrets Manager's ` +
        '{ "SecretId", "ClientRequestToken", "Step": "createSecret" | "setSecret" | "testSecret" | "finishSecret" }.',
    );
  }
  return parsed.data;
}

/** What the secret holds before the operator puts the first token (infra's placeholder, or nothing). */
function isPlaceholder(value: string): boolean {
  return /^(replace[-_ ]?me)?$/i.test(value.trim());
}

/**
 * The AWSCURRENT token, asked for by its label as AWS's rotation templates do. A placeholder or
 * an empty value is refused with the command that puts the token (SecretNotSetError, kind `access`).
 */
export async function readCurrentToken(sm: SecretsManagerClient, secretId: string): Promise<string> {
  let value: string | undefined;
  try {
    const res = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
    value = res.SecretString?.trim();
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') {
      throw new SecretNotFoundError(
        `secret ${secretId} does not exist or has no AWSCURRENT value`,
        secretId,
        {
          cause: err,
        },
      );
    }
    throw new SecretError(`cannot read secret ${secretId}: ${describeAwsError(err)}`, secretId, {
      cause: err,
    });
  }
  if (value === undefined || isPlaceholder(value)) {
    throw new SecretNotSetError(
      `secret ${secretId} holds no Verifik token yet: put one with aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string "$VERIFIK_TOKEN"`,
      secretId,
    );
  }
  return value;
}

/** A version's value, or null when that version has none (yet). */
async function readVersion(
  sm: SecretsManagerClient,
  secretId: string,
  versionId: string,
  stage: string,
): Promise<string | null> {
  try {
    const res = await sm.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: stage }),
    );
    return res.SecretString?.trim() ?? null;
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') return null;
    throw err;
  }
}

function currentVersionOf(meta: DescribeSecretCommandOutput): string | undefined {
  return Object.entries(meta.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
}

const iso = (d: Date | null) => (d ? { expiresAt: d.toISOString() } : {});

/**
 * One step of a rotation. Like AWS's rotation templates, every step first checks that the
 * version it was given is the one being rotated: already AWSCURRENT means the rotation is done
 * (nothing to do), otherwise it must be AWSPENDING. Secrets Manager creates that version, with
 * no value, before `createSecret`; a caller that drives the steps itself (a test) may leave it
 * out, and `createSecret` then creates it.
 */
export async function rotateToken(deps: TokenRotationDeps, event: RotationEvent): Promise<RotationOutcome> {
  const { sm, logger } = deps;
  const { SecretId: secretId, ClientRequestToken: version, Step: step } = event;
  const meta = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = meta.VersionIdsToStages?.[version];
  if (stages?.includes('AWSCURRENT')) {
    logger.info('rotation step: the version is already AWSCURRENT', { step, version });
    return { step, status: 'already-current' };
  }
  if (stages ? !stages.includes('AWSPENDING') : step !== 'createSecret') {
    throw new RotationStateError(
      `Secret ${secretId}: version ${version} is not AWSPENDING (${stages ? `stages: ${stages.join(', ') || 'none'}` : 'no such version'}), ` +
        `so ${step} has nothing to work on. Start a new rotation: aws secretsmanager rotate-secret --secret-id ${secretId}`,
    );
  }

  switch (step) {
    case 'createSecret': {
      // A placeholder is refused with the put-secret-value command to run.
      const current = await readCurrentToken(sm, secretId);
      const existing = await readVersion(sm, secretId, version, 'AWSPENDING');
      if (existing !== null) {
        logger.info('rotation: the pending version already holds a token', { version });
        return { step, status: 'exists', ...iso(readTokenExpiry(existing)) };
      }
      const oldExpiry = readTokenExpiry(current);
      const renewed = await deps.refresh(current);
      await sm.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: version,
          SecretString: renewed.token,
          VersionStages: ['AWSPENDING'],
        }),
      );
      logger.info('rotation: Verifik renewed the token; stored as AWSPENDING', {
        version,
        previousExpiresAt: oldExpiry?.toISOString() ?? 'unknown',
        expiresAt: renewed.expiresAt?.toISOString() ?? 'unknown (not a JWT)',
      });
      return { step, status: 'created', ...iso(renewed.expiresAt) };
    }
    case 'setSecret':
      // Verifik issued the token: there is no downstream system to configure.
      return { step, status: 'noop' };
    case 'testSecret': {
      const pending = await readVersion(sm, secretId, version, 'AWSPENDING');
      if (pending === null) {
        throw new RotationStateError(
          `Secret ${secretId}: the AWSPENDING version ${version} holds no token; createSecret did not complete. ` +
            `Start a new rotation: aws secretsmanager rotate-secret --secret-id ${secretId}`,
        );
      }
      if (isPlaceholder(pending)) {
        // Secrets Manager's configuration test (a rotation schedule added with RotateImmediately
        // false copies AWSCURRENT) before the operator has put the first token: nothing to test yet.
        logger.warn(
          'rotation test: the secret still holds the placeholder; nothing to test until a token is put',
          {
            version,
          },
        );
        return { step, status: 'skipped' };
      }
      const expiresAt = readTokenExpiry(pending);
      if (expiresAt && daysUntil(expiresAt, deps.now()) <= 0) {
        throw new RotationTestError(
          `Secret ${secretId}: the renewed token (version ${version}) expired at ${expiresAt.toISOString()}; it was not made current. ` +
            'Verifik may have ignored the requested lifetime; renew the token by hand and put it with put-secret-value.',
        );
      }
      // Throws VerifikAuthError when Verifik does not accept the token.
      await deps.verifik(pending).listPage({ page: 1, perPage: 1 });
      logger.info('rotation test: Verifik accepted the renewed token', {
        version,
        expiresAt: expiresAt?.toISOString() ?? 'unknown (not a JWT)',
      });
      return { step, status: 'tested', ...iso(expiresAt) };
    }
    case 'finishSecret': {
      const current = currentVersionOf(meta);
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: version,
          ...(current ? { RemoveFromVersionId: current } : {}),
        }),
      );
      // Rotation ends with AWSPENDING on no version (or on the current one); dropping it here
      // leaves the next rotation a clean start.
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSPENDING',
          RemoveFromVersionId: version,
        }),
      );
      logger.info('rotation finished: the renewed token is AWSCURRENT', { version, previous: current });
      return { step, status: 'finished' };
    }
  }
}
