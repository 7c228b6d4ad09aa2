/**
 * Turns whatever stopped a run into a reason an owner can act on, with no personal data.
 *
 * Errors are classified by name (our typed errors from verifik/errors.ts, time/, config.ts,
 * delivery/) rather than by instanceof, so a copy of a class from another bundle still maps.
 * Messages of our own typed errors describe the request, not the records, but they are scrubbed
 * anyway (addresses, IPs, long digit runs, record ids, bearer tokens) as a second line of
 * defence; errors we do not know are never quoted, only named: their text could be anything,
 * including a raw server body.
 */
import type { FailureReason } from './render.js';

const MAX_DETAIL = 400;

interface Rule {
  names: string[];
  title: string;
  action: string;
  /**
   * true: quote the (scrubbed) message — only for errors whose whole message we write ourselves.
   * false: say only what the structured fields say (status, code), because the message embeds
   * text the server sent (an error message, or the start of a body that may hold a record).
   */
  quote: boolean;
}

/** HTTP status and server error code of a Verifik error, without the server's text. */
function structured(err: unknown): string {
  const e = err as { status?: unknown; code?: unknown };
  const parts: string[] = [];
  if (typeof e.status === 'number') parts.push(`HTTP ${e.status}`);
  if (typeof e.code === 'string' && /^[A-Za-z_]{1,40}$/.test(e.code)) parts.push(e.code);
  return parts.join(' ');
}

const RULES: Rule[] = [
  {
    names: ['VerifikAuthError'],
    title: 'Verifik rejected the API token',
    action:
      'Renew the Verifik token (tokens last about 30 days), store it in the Verifik token secret in Secrets Manager, and check that its account can list biometric validations; the next retry or run picks it up.',
    quote: false,
  },
  {
    names: ['VerifikBadRequestError'],
    title: 'Verifik refused the report query',
    action:
      "Check the definition's statuses, types and clients; if they look right, the API may have changed.",
    quote: false,
  },
  {
    names: ['VerifikUnavailableError', 'VerifikRateLimitedError', 'VerifikTimeoutError'],
    title: 'Verifik was unavailable',
    action:
      'Usually temporary: the scheduler retries. If it keeps failing, check Verifik status and the network path.',
    quote: true,
  },
  {
    names: ['VerifikMalformedResponseError'],
    title: 'Verifik returned data the report cannot trust',
    action:
      'The run was stopped rather than send a wrong report. Retry later; if it persists, the API response format may have changed.',
    quote: false,
  },
  {
    names: ['IncompleteReadError'],
    title: 'Verifik returned data the report cannot trust',
    action:
      'The run was stopped rather than send an incomplete report. Retry later; if it persists, report it to Verifik.',
    quote: true,
  },
  {
    names: ['InvalidDateError', 'InvalidTimeZoneError'],
    title: 'The report window is invalid',
    action: "Fix the day passed to the schedule or the definition's time zone.",
    quote: true,
  },
  {
    names: ['ConfigError', 'UnknownDefinitionError', 'DisallowedRecipientsError', 'TooManyRecipientsError'],
    title: 'The deployment configuration is invalid',
    action: 'Fix the report definitions or function environment in the deployment and deploy again.',
    quote: true,
  },
  {
    names: [
      'SecretError',
      'SecretNotFoundError',
      'SecretNotSetError',
      'SecretFormatError',
      'LinkKeyError',
      'ResourceNotFoundException',
      'AccessDeniedException',
    ],
    title: 'A secret or AWS resource could not be read',
    action: 'Check that the secrets exist, have a value, and that the function may read them.',
    quote: true,
  },
  {
    names: [
      'RenderStalledError',
      'RenderFailedError',
      'WriterStateError',
      'S3UploadError',
      'S3SinkStateError',
      'SinkAbortedError',
      'AttachmentMismatchError',
    ],
    title: 'Writing the report files failed',
    action: 'Retry the run; if it repeats, check the function memory and the S3 bucket permissions.',
    quote: true,
  },
];

/** Removes anything that could identify a person or leak a credential. */
export function scrub(message: string): string {
  return message
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
    .replace(/\beyJ[A-Za-z0-9._-]{10,}/g, '[token]')
    .replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[address]')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]')
    .replace(/\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b/gi, '[ip]')
    .replace(/\b[0-9a-f]{24}\b/gi, '[id]')
    .replace(/\+?\d[\d\s-]{5,}\d/g, '[number]')
    .replace(/[\r\n]+/g, ' ')
    .slice(0, MAX_DETAIL);
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name || err.constructor.name || 'Error';
  return typeof err;
}

export function describeFailure(err: unknown, reportId: string): FailureReason {
  const name = errorName(err);
  const rule = RULES.find((r) => r.names.includes(name));
  if (rule) {
    const message = rule.quote && err instanceof Error ? scrub(err.message) : scrub(structured(err));
    return {
      title: rule.title,
      detail: message ? `${name}: ${message}` : name,
      action: rule.action,
    };
  }
  return {
    title: 'An unexpected error stopped the run',
    detail: `${name} (details are in the function's logs under run ${reportId})`,
    action:
      'Look up the run id in the logs; the scheduler retries, and an alarm fires if the retries fail too.',
  };
}
