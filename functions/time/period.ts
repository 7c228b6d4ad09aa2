/**
 * Report periods: the whole calendar days a cadence's run reports on. Pure calendar arithmetic on
 * YYYY-MM-DD days; the instants come from reportWindow(from, to, zone), so a period that contains
 * a daylight-saving change has its true length in hours (October 2024 in Madrid is 745 hours).
 */
import { addDays, daysBetween, parseDay, previousDay } from './window.js';

/** A definition's cadence (validated by settings/definitions.ts); ISO weekdays, 1 Monday … 7 Sunday. */
export type Cadence =
  | { kind: 'daily' }
  | { kind: 'weekly'; weekday: number; weekStart: number }
  | { kind: 'monthly'; day: number }
  | { kind: 'weekdays'; monday: 'covers-weekend' | 'skips-weekend' };

export interface Period {
  /** First and last calendar day, inclusive. */
  from: string;
  to: string;
  /** A readable name: the day (daily, weekdays), `2024-W43` (weekly), `2024-10` (monthly). */
  key: string;
}

/** ISO weekday of a calendar day: 1 Monday … 7 Sunday. */
export function isoWeekday(day: string): number {
  const { y, m, d } = parseDay(day);
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return ((t.getUTCDay() + 6) % 7) + 1;
}

/** ISO 8601 week of a day, as `YYYY-Www`. */
function isoWeek(day: string): string {
  const thursday = addDays(day, 4 - isoWeekday(day));
  const year = thursday.slice(0, 4);
  const week = Math.floor((daysBetween(`${year}-01-01`, thursday) - 1) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function single(day: string): Period {
  return { from: day, to: day, key: day };
}

/**
 * The period of `cadence` that contains `day`. Every day belongs to exactly one period, so a
 * period's first day names it (the claim key of a scheduled run). Under `skips-weekend` a
 * weekend day is a period of its own: no schedule reports it, but a backfill may ask for it.
 */
export function periodContaining(cadence: Cadence, day: string): Period {
  switch (cadence.kind) {
    case 'daily':
      return single(day);
    case 'weekly': {
      const from = addDays(day, -((isoWeekday(day) - cadence.weekStart + 7) % 7));
      const to = addDays(from, 6);
      return { from, to, key: cadence.weekStart === 1 ? isoWeek(from) : `${from}..${to}` };
    }
    case 'monthly': {
      const { y, m } = parseDay(day);
      const month = `${day.slice(0, 7)}`;
      const next =
        m === 12
          ? `${String(y + 1).padStart(4, '0')}-01-01`
          : `${month.slice(0, 5)}${String(m + 1).padStart(2, '0')}-01`;
      return { from: `${month}-01`, to: previousDay(next), key: month };
    }
    case 'weekdays': {
      const dow = isoWeekday(day);
      if (cadence.monday === 'skips-weekend' || dow < 5) return single(day);
      const from = addDays(day, 5 - dow);
      return { from, to: addDays(from, 2), key: from };
    }
  }
}

/** The last whole period of `cadence` that ended before `runDay`: what a run on `runDay` reports. */
export function periodFor(cadence: Cadence, runDay: string): Period {
  let last = previousDay(runDay);
  // Stryker disable next-line ConditionalExpression: only a weekdays cadence has `monday` (the kind test narrows the type), so `true && monday === 'skips-weekend'` decides alike; the mark also hides the killed whole-condition mutants of this line
  if (cadence.kind === 'weekdays' && cadence.monday === 'skips-weekend') {
    while (isoWeekday(last) > 5) last = previousDay(last);
  }
  const p = periodContaining(cadence, last);
  return p.to === last ? p : periodContaining(cadence, previousDay(p.from));
}

/** The period of the same cadence before `period`: what its deltas compare with. */
export function previousPeriod(cadence: Cadence, period: Pick<Period, 'from'>): Period {
  return periodFor(cadence, period.from);
}
