/** How the CLI presents a failure: one message that says what to do, and an exit code by kind. */
import { ZodError } from 'zod';
import {
  DisallowedRecipientsError,
  NoRecipientsError,
  TooManyRecipientsError,
} from '../delivery/mail/send.js';
import { InvalidDateError } from '../time/window.js';
import { InvalidTimeZoneError } from '../time/zone.js';
import { VerifikAuthError, VerifikBadRequestError, VerifikError } from '../verifik/errors.js';

/** The environment lacks something a flag needs (e.g. MAIL_FROM for --mail-to). */
export class CliConfigError extends Error {
  override name = 'CliConfigError';
}

export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, upstream: 4 } as const;

/** Failures the person running the command can fix by changing flags or environment. */
const USAGE_ERRORS = [
  InvalidDateError,
  InvalidTimeZoneError,
  ZodError,
  CliConfigError,
  DisallowedRecipientsError,
  NoRecipientsError,
  TooManyRecipientsError,
  VerifikBadRequestError,
];

export function exitCodeFor(err: unknown): number {
  if (USAGE_ERRORS.some((kind) => err instanceof kind)) return EXIT.usage;
  if (err instanceof VerifikAuthError) return EXIT.auth;
  // Every other Verifik failure (unavailable, rate limited, malformed, incomplete read) is upstream.
  if (err instanceof VerifikError) return EXIT.upstream;
  return EXIT.failure;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
