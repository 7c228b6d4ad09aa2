/**
 * Time-zone arithmetic for report windows and for rendering instants in the report's zone.
 * `@date-fns/tz` does the zone rules; the per-UTC-hour offset cache below exists because a
 * report renders millions of timestamps and a zone's offset changes rarely (a few times a year),
 * so one lookup per UTC hour replaces one per record (an hour in which it changes is not cached).
 */
import { tzOffset } from '@date-fns/tz';
import { ReportsError } from '../errors/kinds.js';

export class InvalidTimeZoneError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidTimeZoneError';
  constructor(readonly timeZone: string) {
    super(
      `Unknown time zone "${timeZone}": use an IANA name such as "UTC", "America/Bogota" or "Europe/Madrid".`,
    );
  }
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  // A range, not next-line: the catch clause has no line of its own for a next-line comment.
  // Stryker disable BlockStatement,ObjectLiteral: a second check: tzOffset() below answers NaN for a zone Intl does not know
  try {
    // The constructor is the runtime's own check; it throws RangeError for unknown zones.
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return false;
  }
  // Stryker restore BlockStatement,ObjectLiteral
  return !Number.isNaN(tzOffset(timeZone, new Date(0)));
}

/** Throws InvalidTimeZoneError unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): string {
  if (!isTimeZone(timeZone)) throw new InvalidTimeZoneError(timeZone);
  return timeZone;
}

const HOUR = 3_600_000;

/** Offset lookups for one zone, memoised per UTC hour. */
export class ZoneClock {
  /** Offset for every instant of a UTC hour, or null when the offset changes inside that hour. */
  private readonly cache = new Map<number, number | null>();
  constructor(readonly timeZone: string) {
    assertTimeZone(timeZone);
  }

  /** Minutes to add to UTC to get local wall time at `ms`. */
  offsetMinutes(ms: number): number {
    const hour = Math.floor(ms / HOUR);
    let offset = this.cache.get(hour);
    if (offset === undefined) {
      // Most zones change on the hour, but some do not (Australia/Lord_Howe at :30, historic
      // zones at odd minutes): an hour whose two ends disagree is never cached.
      const first = tzOffset(this.timeZone, new Date(hour * HOUR));
      const last = tzOffset(this.timeZone, new Date(hour * HOUR + HOUR - 1));
      offset = first === last ? first : null;
      // Stryker disable next-line ConditionalExpression,EqualityOperator,CallExpression: a bound on memory; clearing the cache changes the speed, never an offset
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(hour, offset);
    }
    return offset ?? tzOffset(this.timeZone, new Date(ms));
  }

  /** Local wall-clock time as if it were UTC (for Excel cells, which have no zone). */
  wallClockMs(ms: number): number {
    return ms + this.offsetMinutes(ms) * 60_000;
  }

  /** Hour of day (0–23) in this zone. */
  hourOf(ms: number): number {
    return new Date(this.wallClockMs(ms)).getUTCHours();
  }

  /** Calendar day (YYYY-MM-DD) in this zone. */
  dayOf(ms: number): string {
    return new Date(this.wallClockMs(ms)).toISOString().slice(0, 10);
  }

  /** ISO 8601 with this zone's offset, millisecond precision: 2024-01-15T05:30:00.000-05:00. */
  iso(ms: number): string {
    const offset = this.offsetMinutes(ms);
    const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${local}${sign}${hh}:${mm}`;
  }
}
