/** How the CLI presents a failure: one message that says what to do, and an exit code by kind. */
import { ZodError } from 'zod';
import { InvalidDateError } from './time/window.js';
import { InvalidTimeZoneError } from './time/zone.js';
import {
  IncompleteReadError,
  VerifikAuthError,
  VerifikBadRequestError,
  VerifikError,
  VerifikMalformedResponseError,
} from './verifik/errors.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, upstream: 4 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof InvalidDateError || err instanceof InvalidTimeZoneError || err instanceof ZodError)
    return EXIT.usage;
  if (err instanceof VerifikAuthError) return EXIT.auth;
  if (err instanceof VerifikBadRequestError) return EXIT.usage;
  if (
    err instanceof VerifikError ||
    err instanceof IncompleteReadError ||
    err instanceof VerifikMalformedResponseError
  )
    return EXIT.upstream;
  return EXIT.failure;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
