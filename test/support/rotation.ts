/**
 * Secrets Manager's side of a rotation, in-process: moto cannot invoke a Lambda here (no
 * Docker), so tests call the rotation function's handler with the four steps in order, as
 * Secrets Manager does, under one new ClientRequestToken. Secrets Manager also labels that
 * version AWSPENDING (without a value) before the first step; moto cannot create a version
 * without a value, so createSecret creates it (runs/token-rotation.ts allows for that).
 */
import { randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROTATION_STEPS, type RotationStep } from '../../functions/runs/token-rotation.js';

export type RotationInvoke = (event: {
  SecretId: string;
  ClientRequestToken: string;
  Step: RotationStep;
}) => Promise<unknown>;

/** Runs createSecret → setSecret → testSecret → finishSecret; rejects at the first failing step. */
export async function rotateLikeSecretsManager(
  invoke: RotationInvoke,
  secretId: string,
  clientRequestToken: string = randomUUID(),
): Promise<{ version: string; outcomes: unknown[] }> {
  const outcomes: unknown[] = [];
  for (const Step of ROTATION_STEPS) {
    outcomes.push(await invoke({ SecretId: secretId, ClientRequestToken: clientRequestToken, Step }));
  }
  return { version: clientRequestToken, outcomes };
}

/**
 * moto 5.2 keeps answering a GetSecretValue without VersionId/VersionStage with the version that
 * was current before an UpdateSecretVersionStage moved AWSCURRENT (its "default version" is not
 * moved along); Secrets Manager answers with AWSCURRENT. This middleware asks for AWSCURRENT
 * explicitly in that case, which is what Secrets Manager does by default, so code that reads
 * "the secret" (delivery/secrets.ts) sees a finished rotation as it would in AWS.
 */
export function readAwsCurrentByDefault(sm: SecretsManagerClient): SecretsManagerClient {
  sm.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { VersionId?: string; VersionStage?: string };
      if (context.commandName === 'GetSecretValueCommand' && !input.VersionId && !input.VersionStage) {
        input.VersionStage = 'AWSCURRENT';
      }
      return next(args);
    },
    { step: 'initialize', name: 'readAwsCurrentByDefault' },
  );
  return sm;
}
