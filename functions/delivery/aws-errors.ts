/**
 * What the delivery modules read from an AWS SDK error: its code, to tell expected answers (no
 * such key, condition failed, secret not found) from failures, and a one-line description. SDK
 * messages name the resource and the reason, never a secret value, so they are safe to quote.
 */

/** The error's code: S3's `Code` when the SDK has no class for it, else the error's `name`. */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { Code, name } = err as { Code?: unknown; name?: unknown };
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

/** `<code>: <message>` for an error, its text for anything else thrown. */
export function describeAwsError(err: unknown): string {
  if (err instanceof Error) return `${awsErrorCode(err) ?? err.name}: ${err.message}`;
  return String(err);
}
