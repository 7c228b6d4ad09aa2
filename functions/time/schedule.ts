/** When a daily schedule last fired, in its own zone: how the sweeper notices a day nobody ran. */
import { TZDate } from '@date-fns/tz';
import { previousDay, today } from './window.js';
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
  assertTimeZone(schedule.timeZone);
  let day = today(schedule.timeZone, now);
  for (let i = 0; i < 2; i++) {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const at = new Date(new TZDate(y, m - 1, d, schedule.hour, schedule.minute, schedule.timeZone).getTime());
    if (at.getTime() <= now.getTime()) return { at, reportDay: previousDay(day) };
    day = previousDay(day);
  }
  // Unreachable: yesterday's fire is always before now.
  throw new Error(
    `no fire of ${schedule.hour}:${schedule.minute} ${schedule.timeZone} before ${now.toISOString()}`,
  );
}
