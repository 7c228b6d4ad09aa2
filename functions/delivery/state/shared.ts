/**
 * What the run claims and the report records share: one table, conditional status moves, and
 * items that expire on their own (TTL attribute `expiresAt`, in Unix seconds).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ReportsError } from '../../errors/kinds.js';
import { awsErrorCode } from '../aws-errors.js';

const DAY_SECONDS = 24 * 60 * 60;

export class StateConflictError extends ReportsError {
  override readonly kind = 'conflict';
  override name = 'StateConflictError';
}

export const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The TTL value of an item that should disappear `days` after `from`. */
export function expiresAfter(from: Date, days: number): number {
  return epochSeconds(from) + days * DAY_SECONDS;
}

export function isConditionFailure(err: unknown): err is ConditionalCheckFailedException {
  return (
    err instanceof ConditionalCheckFailedException || awsErrorCode(err) === 'ConditionalCheckFailedException'
  );
}

/**
 * The expression parts of a conditional status move shared by runs and reports:
 * `SET #status = :to, #updatedAt = :iso, <each defined field>` and `#status IN (<from>)`.
 */
export function statusMove(
  to: string,
  from: readonly string[],
  now: Date,
  fields: Record<string, unknown>,
): { set: string; statusIn: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':to': to, ':iso': now.toISOString() };
  const sets = ['#status = :to', '#updatedAt = :iso'];
  for (const [i, [attr, value]] of Object.entries(fields).entries()) {
    if (value === undefined) continue;
    names[`#a${i}`] = attr;
    values[`:a${i}`] = value;
    sets.push(`#a${i} = :a${i}`);
  }
  from.forEach((s, i) => {
    values[`:from${i}`] = s;
  });
  const statusIn = `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`;
  return { set: `SET ${sets.join(', ')}`, statusIn, names, values };
}

/** Sends a conditional write: true when it applied, false when its condition did not hold. */
export async function applied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
