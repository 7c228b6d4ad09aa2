/**
 * Starting a Step Functions execution once per name: StartExecution is idempotent for the same
 * name and input, and a name already used with another input (a duplicate delivery after the
 * input changed) is taken as "already started" rather than a failure.
 */
import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/** A valid execution name (≤ 80 of [A-Za-z0-9_-]) for any id, unique per id. */
export function executionName(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '-');
  if (safe.length <= 80 && safe === id) return safe;
  return `${safe.slice(0, 67)}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

export async function startExecutionOnce(
  sfn: SFNClient,
  stateMachineArn: string,
  id: string,
  input: unknown,
): Promise<void> {
  try {
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: executionName(id), input: JSON.stringify(input) }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionAlreadyExists') return;
    throw err;
  }
}
