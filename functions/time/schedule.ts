/** When a daily schedule last fired, in its own zone: how the sweeper notices a day nobody ran. */
import { TZDate } from '@date-fns/tz';
import { type Cadence, isoWeekday, type Period, periodFor } from './period.js';
import { nextDay, previousDay, today } from './window.js';
import { assertTimeZone } from './zone.js';

export interface DailySchedule {
  hour: number;
  minute: number;
  timeZone: string;
}

/**
 * The most recent instant at or before `now` when a daily `hour:minute` schedule in its zone
 * fired, and the day that run reports on (the day before, in that zone). On a day whose
 * `hour:minute` does not exist (a spring-forward gap) it is the instant the zone's clock maps it to.
 */
export function lastDailyFire(schedule: DailySchedule, now: Date): { at: Date; reportDay: string } {
  // Stryker disable next-line CallExpression: today() on the next line asserts the zone too, with the same error, before the zone is used
  assertTimeZone(schedule.timeZone);
  let day = today(schedule.timeZone, now);
  // Stryker disable next-line EqualityOperator,UpdateOperator: today's or yesterday's fire is always at or before now, so the loop returns in its first two turns
  for (let i = 0; i < 2; i++) {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const at = new Date(new TZDate(y, m - 1, d, schedule.hour, schedule.minute, schedule.timeZone).getTime());
    if (at.getTime() <= now.getTime()) return { at, reportDay: previousDay(day) };
    day = previousDay(day);
  }
  // Unreachable: yesterday's fire is always before now.
  // Stryker disable next-line CallExpression: unreachable (see the loop above); it stops a bug from looping
  throw new Error(
    // Stryker disable next-line StringLiteral: unreachable (see the loop above); it stops a bug from looping
    `no fire of ${schedule.hour}:${schedule.minute} ${schedule.timeZone} before ${now.toISOString()}`,
  );
}

/** Longer than any day (25 h on a fall-back day), shorter than two (≥ 46 h even on a spring-forward one). */
const BEYOND_NEXT_FIRE_MS = 26 * 3600_000;

/** Whether a cadence's schedule fires on a calendar day (the Scheduler's cron per cadence). */
function firesOn(cadence: Cadence, day: string): boolean {
  switch (cadence.kind) {
    case 'daily':
      return true;
    case 'weekdays':
      return isoWeekday(day) <= 5;
    case 'weekly':
      return isoWeekday(day) === cadence.weekday;
    case 'monthly':
      return Number(day.slice(8, 10)) === cadence.day;
  }
}

/**
 * The first fire after `now` of a definition's schedule, whatever its cadence, and the period
 * that run reports on: the daily fire after the last one is the last fire as seen 26 hours after
 * it, whatever the zone's clock did meanwhile; days its cadence does not fire on are passed over.
 */
export function nextFire(cadence: Cadence, schedule: DailySchedule, now: Date): { at: Date; period: Period } {
  let fire = lastDailyFire(schedule, now);
  // A month has at most 31 days: the monthly fire is within 32 daily steps.
  // Stryker disable next-line EqualityOperator,UpdateOperator: every cadence fires within 32 daily steps (a month at most), so the loop returns before its bound
  for (let i = 0; i < 32; i++) {
    fire = lastDailyFire(schedule, new Date(fire.at.getTime() + BEYOND_NEXT_FIRE_MS));
    const fireDay = nextDay(fire.reportDay);
    if (firesOn(cadence, fireDay)) return { at: fire.at, period: periodFor(cadence, fireDay) };
  }
  // Stryker disable next-line StringLiteral,CallExpression: unreachable (see the loop above); it stops a bug from looping
  throw new Error(`no fire of the ${cadence.kind} schedule within 32 days of ${now.toISOString()}`);
}
