/**
 * How the CLI presents a failure: one message that says what to do, and an exit code read off
 * the error's kind (errors/kinds.ts), the same taxonomy the API's statuses and the failure mails use.
 */
import { type FailureKind, kindOf, ReportsError } from '../errors/kinds.js';

/** The environment lacks something a flag needs (e.g. MAIL_FROM for --mail-to). */
export class CliConfigError extends ReportsError {
  override readonly kind = 'config';
  override name = 'CliConfigError';
}

/**
 * 5: the report is complete and stored, but its mail (`--mail-to`) was not sent. 130 and 143:
 * stopped by SIGINT or SIGTERM (128 + the signal's number, as shells report it), nothing written.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  upstream: 4,
  mailNotSent: 5,
  sigint: 130,
  sigterm: 143,
} as const;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export const EXIT_BY_SIGNAL: Record<StopSignal, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };

/**
 * The run was stopped by a signal: the reason its abort signal carries into the read and the sink.
 * Kind `usage`: the person running the command stopped it; the exit code is the signal's, not the kind's.
 */
export class CliInterruptedError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'CliInterruptedError';
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
  }
}

/**
 * 2: what the person running the command can fix by changing flags or environment (a query
 * Verifik refuses included: it names the filter). 3: the token. 4: Verifik unavailable, rate
 * limited or sending data the report cannot trust. 1: everything else.
 */
const EXIT_BY_KIND: Record<FailureKind, number> = {
  usage: EXIT.usage,
  config: EXIT.usage,
  'upstream-refused': EXIT.usage,
  auth: EXIT.auth,
  'upstream-unavailable': EXIT.upstream,
  'upstream-data': EXIT.upstream,
  access: EXIT.failure,
  output: EXIT.failure,
  mail: EXIT.failure,
  destination: EXIT.failure,
  conflict: EXIT.failure,
  'not-found': EXIT.failure,
  internal: EXIT.failure,
  unexpected: EXIT.failure,
};

export function exitCodeFor(err: unknown): number {
  return EXIT_BY_KIND[kindOf(err)];
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
