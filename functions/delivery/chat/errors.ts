/**
 * Failures of a chat or webhook post. Messages name the destination and what to do, never its
 * URL or key (both are credentials), and carry no ky error as `cause`: those reference the
 * Request, whose URL is the secret.
 */
import { type ErrorKind, ReportsError } from '../../errors/kinds.js';

export type DestinationKindName = 'slack' | 'teams' | 'webhook';

const LABEL: Record<DestinationKindName, string> = {
  slack: 'Slack',
  teams: 'Teams',
  webhook: 'Webhook',
};

export function destinationLabel(kind: DestinationKindName, name: string): string {
  return `${LABEL[kind]} destination "${name}"`;
}

export class DestinationError extends ReportsError {
  override readonly kind: ErrorKind = 'destination';
  override name = 'DestinationError';
  constructor(
    message: string,
    readonly destination: string,
    readonly destinationKind: DestinationKindName,
  ) {
    super(message);
  }
}

/**
 * A 4xx other than 429 (and 408): the receiver says the request is wrong (a revoked or mistyped
 * webhook, a payload it refuses). Not retried: the same request would be refused again.
 */
export class DestinationRefusedError extends DestinationError {
  override name = 'DestinationRefusedError';
  readonly status: number;
  /** A short error token the receiver answered with (Slack's `no_service`, `invalid_payload`…). */
  readonly code: string | null;
  constructor(opts: { destination: string; kind: DestinationKindName; status: number; code: string | null }) {
    super(
      `${destinationLabel(opts.kind, opts.destination)} refused the message (HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''}); ` +
        'check the URL in its secret (a revoked or mistyped webhook answers 403/404) and the receiver. Not retried.',
      opts.destination,
      opts.kind,
    );
    this.status = opts.status;
    this.code = opts.code;
  }
}

/** 5xx, 429, a timeout or a network failure on every attempt, or the total wait ran out. */
export class DestinationUnavailableError extends DestinationError {
  override name = 'DestinationUnavailableError';
  readonly attempts: number;
  /** The last answer's status, or null when none came (timeout, connection failure). */
  readonly status: number | null;
  constructor(opts: {
    destination: string;
    kind: DestinationKindName;
    attempts: number;
    status: number | null;
    what: string;
  }) {
    super(
      `${destinationLabel(opts.kind, opts.destination)} did not take the message after ${opts.attempts} attempt${opts.attempts === 1 ? '' : 's'} (${opts.what}).`,
      opts.destination,
      opts.kind,
    );
    this.attempts = opts.attempts;
    this.status = opts.status;
  }
}

/** The secret's value is not a usable destination (not a URL, not https, no signing key). */
export class DestinationSecretError extends ReportsError {
  override readonly kind = 'config';
  override name = 'DestinationSecretError';
}
