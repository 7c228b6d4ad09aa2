/**
 * One error taxonomy for every layer. Each error class the project throws says what kind of
 * failure it is; the CLI's exit code (cli/exit-codes.ts), the API's HTTP status (api/http.ts)
 * and the owners' failure mail (delivery/mail/failure-reason.ts) are all read off that kind,
 * never off a class name, so renaming a class cannot silently turn it into "unexpected error".
 *
 * Dependency-free, like contract.ts: the lowest layer, importable from anywhere.
 */

export const ERROR_KINDS = [
  /** The request is wrong: flags, a date, a zone, a query. The person asking can fix it. */
  'usage',
  /** The deployment or environment is wrong: definitions, variables, recipients outside the allowlist. */
  'config',
  /** Verifik refused the token. */
  'auth',
  /** Verifik refused the query itself (4xx other than auth): not transient. */
  'upstream-refused',
  /** Verifik unavailable, rate-limited or too slow after every retry: usually transient. */
  'upstream-unavailable',
  /** Verifik answered with data the report cannot trust (malformed, or a read that does not add up). */
  'upstream-data',
  /** A secret or an AWS resource could not be read (missing, empty, not allowed). */
  'access',
  /** Rendering or storing the report files failed. */
  'output',
  /** SES refused the mail, or its answer never came (then the send is settled, never repeated blindly). */
  'mail',
  /** A chat or webhook destination (Slack, Teams, a webhook) refused the message or never took it. */
  'destination',
  /** Someone else changed the state first (a claim taken, a report already there). */
  'conflict',
  /** What was asked for does not exist (any more). */
  'not-found',
  /** A bug or a broken invariant of ours: nobody outside can fix it by changing input. */
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Anything that is not one of ours (a TypeError, a raw SDK error): never quoted, only named. */
export type FailureKind = ErrorKind | 'unexpected';

const KINDS: ReadonlySet<string> = new Set(ERROR_KINDS);
/** Marks our errors across copies of this module (two bundles, a worker thread's realm). */
const BRAND = Symbol.for('verifik-reports.error');

export abstract class ReportsError extends Error {
  abstract readonly kind: ErrorKind;
  /**
   * Whether the message is wholly ours and may be quoted (scrubbed) to owners. false for errors
   * whose message embeds text a server sent, which could hold a record.
   */
  readonly quotable: boolean = true;
  readonly [BRAND] = true;
}

/** The kind of any thrown value; `unexpected` for everything that is not one of ours. */
export function kindOf(err: unknown): FailureKind {
  if (err instanceof ReportsError) return err.kind;
  if (typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true) {
    const kind = (err as { kind?: unknown }).kind;
    if (typeof kind === 'string' && KINDS.has(kind)) return kind as ErrorKind;
  }
  return 'unexpected';
}

/** Whether the error's own message may be quoted (scrubbed) to people outside the logs. */
export function isQuotable(err: unknown): boolean {
  return kindOf(err) !== 'unexpected' && (err as { quotable?: unknown }).quotable !== false;
}
