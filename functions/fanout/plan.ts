/**
 * Whether a report fans out, and into which slices: pure arithmetic on the per-day totals that the
 * first page of each day's query reports (`estimate.ts` fetches them).
 *
 * A slice is a run of whole calendar days of the report's zone, so its window has the same
 * half-open [start of first day, start of the day after its last) semantics as a report's own
 * window, DST days included (their starts come from `dayWindow`). Consecutive slices share an
 * edge instant: a record at that instant belongs to the later slice only, as it would to the later
 * day. A day that alone exceeds a slice's budget is cut into equal *instant* spans (never wall-clock
 * hours, which a DST change makes 23 or 25), again half-open and edge to edge.
 */
import { addDays, daysBetween, dayWindow, type ReportWindow } from '../time/window.js';

export interface DayTotal {
  day: string;
  /** Validations the API reports for the day under the report's filters. */
  total: number;
}

/** The cost model a plan is made with; the defaults are this system's measured figures. */
export interface PlanModel {
  /** Seconds a Lambda may spend; a run planned above `safety` of it fans out. */
  lambdaSeconds: number;
  /** Share of `lambdaSeconds` a run (the single one or a slice) is planned to use. */
  safety: number;
  /** Records a page holds. */
  perPage: number;
  /** Seconds a page takes to arrive (Verifik's latency; 0.2 s measured as realistic). */
  secondsPerPage: number;
  /** Verifik requests in flight that the whole report may use (the definition's concurrency). */
  concurrency: number;
  /**
   * Rows a Lambda renders a second into both files: 1M rows take ~14 s on this machine; a Lambda's
   * vCPUs are slower and the render thread competes with parsing, so the model assumes 25k/s.
   */
  rowsPerSecond: number;
  /** Excel's data rows per sheet: a slice never needs more sheets than its share of rows. */
  maxRowsPerSlice: number;
  /** Slices run at once at most (the Map's MaxConcurrency). */
  maxParallelSlices: number;
}

export const DEFAULT_PLAN_MODEL: PlanModel = {
  lambdaSeconds: 900,
  safety: 0.5,
  perPage: 500,
  secondsPerPage: 0.2,
  concurrency: 8,
  rowsPerSecond: 25_000,
  maxRowsPerSlice: 1_048_575,
  maxParallelSlices: 16,
};

export interface Slice {
  /** 0-based, in time order: the order the slices' parts are assembled in. */
  index: number;
  startMs: number;
  endMs: number;
  /** First and last calendar day the slice touches (the same day for a cut day). */
  from: string;
  to: string;
  /** Records the plan expects (from the day totals; a cut day's share is an even split). */
  estimate: number;
}

export interface Plan {
  fanOut: boolean;
  total: number;
  /** Seconds one Lambda is modelled to need for the whole report. */
  singleRunSeconds: number;
  slices: Slice[];
  /** Verifik requests in flight each slice may use: the report's budget over the slices running at once. */
  concurrencyPerSlice: number;
  /** Slices run at once (the Map's MaxConcurrency). */
  parallelSlices: number;
}

/** Seconds a run of `rows` records is modelled to take with `concurrency` requests in flight. */
export function modelSeconds(rows: number, concurrency: number, m: PlanModel): number {
  const pages = Math.ceil(rows / m.perPage);
  // Read plus render, as if they did not overlap: the render thread does overlap them, but the
  // issue's own arithmetic (a 9.3M quarter: 465 s of reading, rendering "about as long again")
  // is the conservative one, and the safety share covers the rest.
  return (pages / Math.max(1, concurrency)) * m.secondsPerPage + rows / m.rowsPerSecond;
}

/**
 * The plan for a window from its per-day totals (one entry per day of the window, in order).
 * Fans out only when one Lambda is modelled past its safe share; then the slices are sized so
 * each is modelled within the same share at its concurrency share.
 */
export function planSlices(
  window: ReportWindow,
  days: readonly DayTotal[],
  model: Partial<PlanModel> = {},
): Plan {
  const m = { ...DEFAULT_PLAN_MODEL, ...model };
  const expectedDays = daysBetween(window.from, window.to);
  if (days.length !== expectedDays || days[0]?.day !== window.from || days.at(-1)?.day !== window.to) {
    throw new RangeError(`planSlices needs one total per day from ${window.from} to ${window.to}`);
  }
  days.forEach((d, i) => {
    if (d.day !== addDays(window.from, i))
      throw new RangeError(`day ${i} of the plan is ${d.day}, not in order`);
    if (!Number.isInteger(d.total) || d.total < 0) throw new RangeError(`day ${d.day} has no valid total`);
  });
  const total = days.reduce((n, d) => n + d.total, 0);
  const budget = m.lambdaSeconds * m.safety;
  const singleRunSeconds = modelSeconds(total, m.concurrency, m);
  const whole: Slice = {
    index: 0,
    startMs: window.start.getTime(),
    endMs: window.end.getTime(),
    from: window.from,
    to: window.to,
    estimate: total,
  };
  if (singleRunSeconds <= budget) {
    return {
      fanOut: false,
      total,
      singleRunSeconds,
      slices: [whole],
      concurrencyPerSlice: m.concurrency,
      parallelSlices: 1,
    };
  }

  // Rows a slice may hold: within its time budget at its concurrency share, and within a sheet.
  // The share depends on how many run at once, which depends on the slice size: settle it by
  // trying the widest parallelism first (more slices, each smaller).
  const parallel = Math.max(1, Math.min(m.maxParallelSlices, m.concurrency));
  const perSlice = Math.max(1, Math.floor(m.concurrency / parallel));
  let rowsCap = m.maxRowsPerSlice;
  while (rowsCap > m.perPage && modelSeconds(rowsCap, perSlice, m) > budget)
    rowsCap = Math.floor(rowsCap * 0.9);

  const slices: Slice[] = [];
  let open: { from: string; to: string; startMs: number; endMs: number; estimate: number } | null = null;
  const close = () => {
    if (open) slices.push({ index: slices.length, ...open });
    open = null;
  };
  for (const d of days) {
    const w = dayWindow(d.day, window.timeZone);
    if (d.total > rowsCap) {
      close();
      for (const piece of cutDay(d, w, rowsCap)) slices.push({ index: slices.length, ...piece });
      continue;
    }
    if (open && open.estimate + d.total > rowsCap) close();
    if (open) {
      open.to = d.day;
      open.endMs = w.end.getTime();
      open.estimate += d.total;
    } else {
      open = {
        from: d.day,
        to: d.day,
        startMs: w.start.getTime(),
        endMs: w.end.getTime(),
        estimate: d.total,
      };
    }
  }
  close();
  const parallelSlices = Math.min(parallel, slices.length);
  return {
    fanOut: true,
    total,
    singleRunSeconds,
    slices,
    concurrencyPerSlice: Math.max(1, Math.floor(m.concurrency / parallelSlices)),
    parallelSlices,
  };
}

/** A day too big for one slice, as `ceil(total / cap)` equal instant spans, edge to edge. */
function cutDay(d: DayTotal, w: ReportWindow, cap: number) {
  const n = Math.ceil(d.total / cap);
  const start = w.start.getTime();
  const span = w.end.getTime() - start;
  return Array.from({ length: n }, (_, i) => {
    const a = start + Math.floor((span * i) / n);
    const b = i === n - 1 ? w.end.getTime() : start + Math.floor((span * (i + 1)) / n);
    const estimate = Math.floor((d.total * (i + 1)) / n) - Math.floor((d.total * i) / n);
    return { from: d.day, to: d.day, startMs: a, endMs: b, estimate };
  });
}

/** A slice's window for the reader (the zone and days of the report; the slice's instants). */
export function sliceWindow(window: ReportWindow, slice: Slice): ReportWindow {
  return {
    start: new Date(slice.startMs),
    end: new Date(slice.endMs),
    timeZone: window.timeZone,
    from: slice.from,
    to: slice.to,
  };
}
