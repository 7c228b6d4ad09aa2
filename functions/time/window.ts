/**
 * Report windows: a calendar day (or an inclusive range of days) in an IANA zone, as the
 * half-open instant interval [start, end). Days on daylight-saving changes are 23 or 25 hours.
 */
import { TZDate } from '@date-fns/tz';
import { ReportsError } from '../errors/kinds.js';
import { assertTimeZone } from './zone.js';

export interface ReportWindow {
  /** First instant of the first day, inclusive. */
  start: Date;
  /** First instant after the last day, exclusive. */
  end: Date;
  timeZone: string;
  /** First and last calendar day, inclusive (YYYY-MM-DD). */
  from: string;
  to: string;
}

export class InvalidDateError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidDateError';
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Ranges longer than this are refused: a report is a day-to-quarter view, not an export tool. */
export const MAX_RANGE_DAYS = 93;

/**
 * The first day a report may cover. Verifik's biometric validations are far younger; a day before
 * this is a typo (0050 for 2050, 1924 for 2024), refused with its own message instead of a read of
 * an empty past.
 */
export const EARLIEST_REPORT_DAY = '2000-01-01';

/** Midnight UTC of a calendar day, for every year (Date.UTC reads years 0–99 as 1900–1999). */
function utcMidnight(y: number, m: number, d: number): Date {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return t;
}

/** Validates a YYYY-MM-DD calendar day and returns its parts. */
export function parseDay(day: string): { y: number; m: number; d: number } {
  const match = DAY_RE.exec(day);
  if (!match) throw new InvalidDateError(`"${day}" is not a date: use YYYY-MM-DD, for example 2024-12-01.`);
  const y = Number(match[1]);
  const m = Number(match[2]);
  const d = Number(match[3]);
  if (m < 1 || m > 12) throw new InvalidDateError(`"${day}" is not a calendar day (there is no month ${m}).`);
  const probe = utcMidnight(y, m, d);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a day past its month's end (or day 0) moves both the month and the date, so each check alone refuses it; together they say what a calendar day is
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) {
    throw new InvalidDateError(`"${day}" is not a calendar day (month ${m} has no day ${d}).`);
  }
  return { y, m, d };
}

function startOfDay(day: string, timeZone: string): Date {
  const { y, m, d } = parseDay(day);
  // TZDate resolves midnight that falls in a DST gap (e.g. America/Santiago) to the first valid instant.
  return new Date(new TZDate(y, m - 1, d, timeZone).getTime());
}

/** `day` (YYYY-MM-DD) moved by `days` calendar days, on the proleptic Gregorian calendar. */
export function addDays(day: string, days: number): string {
  const { y, m, d } = parseDay(day);
  return utcMidnight(y, m, d + days)
    .toISOString()
    .slice(0, 10);
}

export const nextDay = (day: string): string => addDays(day, 1);
export const previousDay = (day: string): string => addDays(day, -1);

/** Inclusive number of days from `from` to `to`. */
export function daysBetween(from: string, to: string): number {
  const a = parseDay(from);
  const b = parseDay(to);
  return (
    Math.round((utcMidnight(b.y, b.m, b.d).getTime() - utcMidnight(a.y, a.m, a.d).getTime()) / 86_400_000) + 1
  );
}

export function reportWindow(from: string, to: string, timeZone: string): ReportWindow {
  assertTimeZone(timeZone);
  const days = daysBetween(from, to);
  if (days < 1) throw new InvalidDateError(`The range ends (${to}) before it starts (${from}).`);
  if (days > MAX_RANGE_DAYS) {
    throw new InvalidDateError(
      `The range ${from}..${to} is ${days} days; at most ${MAX_RANGE_DAYS} are allowed.`,
    );
  }
  return { start: startOfDay(from, timeZone), end: startOfDay(nextDay(to), timeZone), timeZone, from, to };
}

export function dayWindow(day: string, timeZone: string): ReportWindow {
  return reportWindow(day, day, timeZone);
}

/** Today's calendar day in `timeZone` at instant `now`. */
export function today(timeZone: string, now: Date = new Date()): string {
  assertTimeZone(timeZone);
  const t = new TZDate(now.getTime(), timeZone);
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
}

/** Yesterday's calendar day in `timeZone`: what a daily report run at `now` reports on. */
export function yesterday(timeZone: string, now: Date = new Date()): string {
  return previousDay(today(timeZone, now));
}

/** Why a report cannot start on `day` because it is before EARLIEST_REPORT_DAY, or null. */
export function tooEarlyDayProblem(day: string): string | null {
  if (day >= EARLIEST_REPORT_DAY) return null;
  return `${day} is before ${EARLIEST_REPORT_DAY}, older than any Verifik validation: give a day from ${EARLIEST_REPORT_DAY} on`;
}

/**
 * Why a report cannot cover `day` in `timeZone` at `now`, or null when it can: a report covers
 * whole days, so the day must have ended there (a day that has not would be reported as complete
 * with only its first hours in it). One line that names the day and the zone.
 */
export function unfinishedDayProblem(day: string, timeZone: string, now: Date): string | null {
  const current = today(timeZone, now);
  if (day > current) return `${day} is in the future in ${timeZone} (today there is ${current})`;
  if (day === current) {
    return `${day} has not ended yet in ${timeZone}: reports cover whole days, the latest is ${previousDay(current)}`;
  }
  return null;
}
