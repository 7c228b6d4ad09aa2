/**
 * The summaries of a definition's (or a scope's) previous periods, newest first: the baseline a
 * `sendIf` condition compares with ("more than twice the median of the last 7 periods").
 *
 * Each period's report is stored under its first day, so one listing per period finds it; a
 * period without a complete report (a gap, a failure) is simply missing from the history, and
 * the condition says how many periods it had.
 */
import { SUMMARY_FILE } from '../contract.js';
import { findPreviousManifest } from '../delivery/sink/index.js';
import { readPreviousSummary, type Summary } from '../report/summary.js';
import { type Cadence, type Period, previousPeriod } from '../time/period.js';
import { addDays } from '../time/window.js';
import type { RunDeps } from './deps.js';
import { fileKey, readStoredFile } from './files.js';

export async function periodHistory(
  deps: RunDeps,
  input: {
    name: string;
    cadence: Cadence;
    period: Pick<Period, 'from'>;
    periods: number;
    excludeReportId?: string;
  },
): Promise<Summary[]> {
  const out: Summary[] = [];
  let period: Pick<Period, 'from'> = input.period;
  for (let i = 0; i < input.periods; i++) {
    period = previousPeriod(input.cadence, period);
    const summary = await storedSummary(deps, input.name, period.from, input.excludeReportId);
    if (summary) out.push(summary);
  }
  return out;
}

/** The summary of the newest complete report stored under `day`, or null (none, or unreadable). */
async function storedSummary(
  deps: RunDeps,
  name: string,
  day: string,
  excludeReportId: string | undefined,
): Promise<Summary | null> {
  const bucket = deps.config.REPORTS_BUCKET;
  try {
    // findPreviousManifest looks from the day before `day`: start it the day after to look at `day` alone.
    const found = await findPreviousManifest({
      s3: deps.s3,
      bucket,
      prefix: deps.config.REPORTS_PREFIX,
      definition: name,
      day: addDays(day, 1),
      maxDaysBack: 1,
      ...(excludeReportId ? { excludeReportId } : {}),
    });
    if (!found) return null;
    const text = (await readStoredFile(deps.s3, bucket, fileKey(found.key, SUMMARY_FILE))).toString('utf8');
    const read = readPreviousSummary(text);
    return read.ok ? read.summary : null;
  } catch (err) {
    deps.logger.warn('a previous period is unreadable; the baseline goes without it', {
      definition: name,
      day,
      error: (err as Error).name,
    });
    return null;
  }
}
