/**
 * Where reports live in the bucket. Writer and readers both derive keys here, so a report is
 * found where it was written; names that could escape their level are refused, not escaped.
 */
import { DEFINITION_NAME, REPORT_ID, REPORTS_PREFIX } from '../../contract.js';
import { ReportsError } from '../../errors/kinds.js';
import { parseDay } from '../../time/window.js';

/**
 * A name that is not key-safe, or the sink used out of order (open/commit after abort, commit
 * with a failed file, reserved names). It lives with the key layout, the lowest layer that throws it.
 */
export class S3SinkStateError extends ReportsError {
  override readonly kind = 'output';
  override name = 'S3SinkStateError';
}

function normalisePrefix(prefix: string): string {
  if (prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** `reports/<definition>/<yyyy>/<mm>/<dd>/`: where one definition's reports of one day live. */
export function dayKeyPrefix({
  prefix = REPORTS_PREFIX,
  definition,
  day,
}: {
  prefix?: string;
  definition: string;
  day: string;
}): string {
  if (!DEFINITION_NAME.test(definition))
    throw new S3SinkStateError(`definition name ${JSON.stringify(definition)} is not key-safe`);
  parseDay(day);
  const [yyyy, mm, dd] = day.split('-');
  return `${normalisePrefix(prefix)}${definition}/${yyyy}/${mm}/${dd}/`;
}

/** `reports/<definition>/<yyyy>/<mm>/<dd>/<report id>/`, dated by the report window's first day. */
export function reportKeyPrefix(input: {
  prefix?: string;
  definition: string;
  day: string;
  reportId: string;
}): string {
  if (!REPORT_ID.test(input.reportId)) {
    throw new S3SinkStateError(`report id ${JSON.stringify(input.reportId)} is not key-safe`);
  }
  return `${dayKeyPrefix(input)}${input.reportId}/`;
}
