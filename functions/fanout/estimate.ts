/**
 * The per-day totals a plan is made from: one request of one record per day (and per status
 * partition), reading only the `total` of the first page. For 93 days that is 93 small requests,
 * a few seconds at the definition's concurrency, against the hours the report itself reads.
 */
import pLimit from 'p-limit';
import { addDays, daysBetween, dayWindow, type ReportWindow } from '../time/window.js';
import type { VerifikClient } from '../verifik/client.js';
import { IncompleteReadError } from '../verifik/errors.js';
import { planPartitions, type WindowSelection } from '../verifik/read/partitions.js';
import type { DayTotal } from './plan.js';

export interface EstimateOptions {
  window: ReportWindow;
  statuses?: readonly string[];
  type?: string;
  client?: string;
  concurrency: number;
  signal?: AbortSignal;
}

export async function dayTotals(verifik: VerifikClient, opts: EstimateOptions): Promise<DayTotal[]> {
  const n = daysBetween(opts.window.from, opts.window.to);
  const limit = pLimit(Math.max(1, opts.concurrency));
  const days = Array.from({ length: n }, (_, i) => addDays(opts.window.from, i));
  return Promise.all(
    days.map(async (day) => {
      const selection: WindowSelection = {
        window: dayWindow(day, opts.window.timeZone),
        ...(opts.statuses ? { statuses: opts.statuses } : {}),
        ...(opts.type !== undefined ? { type: opts.type } : {}),
        ...(opts.client !== undefined ? { client: opts.client } : {}),
      };
      let total = 0;
      for (const p of planPartitions(selection, 1)) {
        const page = await limit(() => verifik.listPage(p.query, opts.signal ? { signal: opts.signal } : {}));
        if (page.total === null) {
          throw new IncompleteReadError(
            `Verifik gave no total for ${day}: a long report cannot be planned without one.`,
          );
        }
        total += page.total;
      }
      return { day, total };
    }),
  );
}
