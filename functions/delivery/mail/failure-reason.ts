/**
 * Turns whatever stopped a run into a reason an owner can act on, with no personal data.
 *
 * The reason is read off the error's kind (errors/kinds.ts), never off its class name, so a
 * renamed class keeps its reason. AWS SDK errors are not ours: the two that mean "a resource
 * could not be read" are recognised by their SDK code. Messages of our own errors describe the
 * request, not the records, but they are scrubbed anyway (addresses, IPs, long digit runs,
 * record ids, bearer tokens) as a second line of defence; errors that embed server text say only
 * their status and code, and errors we do not know are never quoted, only named: their text
 * could be anything, including a raw server body.
 */
import { type FailureKind, isQuotable, kindOf } from '../../errors/kinds.js';
import { awsErrorCode } from '../aws-errors.js';
import type { FailureReason } from './failure-mail.js';

const MAX_DETAIL = 400;

/** HTTP status and server error code of a Verifik error, without the server's text. */
function structured(err: unknown): string {
  const e = err as { status?: unknown; code?: unknown };
  const parts: string[] = [];
  if (typeof e.status === 'number') parts.push(`HTTP ${e.status}`);
  if (typeof e.code === 'string' && /^[A-Za-z_]{1,40}$/.test(e.code)) parts.push(e.code);
  return parts.join(' ');
}

type Reason = Pick<FailureReason, 'title' | 'action'>;

const UNEXPECTED: Reason = {
  title: 'An unexpected error stopped the run',
  action:
    'Look up the run id in the logs; the scheduler retries, and an alarm fires if the retries fail too.',
};

const REASONS: Record<FailureKind, Reason> = {
  auth: {
    title: 'Verifik rejected the API token',
    action:
      'Renew the Verifik token (tokens last about 30 days), store it in the Verifik token secret in Secrets Manager, and check that its account can list biometric validations; the next retry or run picks it up.',
  },
  'upstream-refused': {
    title: 'Verifik refused the report query',
    action:
      "Check the definition's statuses, types and clients; if they look right, the API may have changed.",
  },
  'upstream-unavailable': {
    title: 'Verifik was unavailable',
    action:
      'Usually temporary: the scheduler retries. If it keeps failing, check Verifik status and the network path.',
  },
  'upstream-data': {
    title: 'Verifik returned data the report cannot trust',
    action:
      'The run was stopped rather than send an incomplete or wrong report. Retry later; if it persists, the API response format may have changed: report it to Verifik.',
  },
  usage: {
    title: 'The report request is invalid',
    action: "Fix the day passed to the schedule, or the definition's time zone or filters.",
  },
  config: {
    title: 'The deployment configuration is invalid',
    action: 'Fix the report definitions or function environment in the deployment and deploy again.',
  },
  access: {
    title: 'A secret or AWS resource could not be read',
    action: 'Check that the secrets exist, have a value, and that the function may read them.',
  },
  output: {
    title: 'Writing the report files failed',
    action: 'Retry the run; if it repeats, check the function memory and the S3 bucket permissions.',
  },
  mail: {
    title: 'SES did not take the report mail',
    action:
      'Check the SES identity, the sandbox limits and the recipients. A refused mail is retried with the run; a mail whose answer was lost is never sent twice: the delivery log says whether SES took it.',
  },
  destination: {
    title: 'A chat or webhook destination did not take the report',
    action:
      "Check the destination's secret (the webhook URL, and for a signed webhook its signing key) and that the channel or receiver still exists; the mail and the other destinations were not affected. The next period is posted as usual.",
  },
  conflict: UNEXPECTED,
  'not-found': UNEXPECTED,
  internal: UNEXPECTED,
  unexpected: UNEXPECTED,
};

/** SDK codes that mean the function could not read a resource it needs (a table, a secret, a key). */
const ACCESS_CODES = new Set(['ResourceNotFoundException', 'AccessDeniedException']);

function failureKind(err: unknown): { kind: FailureKind; quote: boolean } {
  const kind = kindOf(err);
  if (kind === 'unexpected' && ACCESS_CODES.has(awsErrorCode(err) ?? '')) {
    // SDK messages name the resource and the reason, never a secret value.
    return { kind: 'access', quote: true };
  }
  return { kind, quote: isQuotable(err) };
}

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
  const { kind, quote } = failureKind(err);
  const reason = REASONS[kind];
  if (reason === UNEXPECTED) {
    return {
      ...reason,
      detail: `${name} (details are in the function's logs under run ${reportId})`,
    };
  }
  const message = quote && err instanceof Error ? scrub(err.message) : scrub(structured(err));
  return { ...reason, detail: message ? `${name}: ${message}` : name };
}
