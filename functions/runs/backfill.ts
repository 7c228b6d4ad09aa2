/**
 * Backfilling a definition over a range of days, and pausing or resuming it. A backfill does not
 * run reports itself: it starts the scheduled function per day (asynchronously, like the
 * schedule), so every day goes through the same claim, retries, sweeper and delivery log. At most
 * BACKFILL_WIDTH days of a definition run at once: the first start now, the rest wait in a queue
 * that the sweeper drains as runs finish (startQueuedBackfills), so Verifik is never flooded.
 *
 * Days already delivered (`sent`) or finished without mail (`done`) are skipped unless forced;
 * a forced day claims `<day>~<request key>`, so the same forced request twice still sends once.
 */
import {
  countLiveRuns,
  dequeueDay,
  enqueueDay,
  getDefinitionState,
  getRun,
  listOpenRuns,
  type QueuedDay,
  queuedDays,
  setPaused,
} from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import { addDays, daysBetween, MAX_RANGE_DAYS } from '../time/window.js';
import type { RunDeps } from './deps.js';
import { logEntry } from './log.js';
import { claimDay, findDefinition, type ScheduledInput } from './schedule-input.js';

export class InvalidBackfillError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidBackfillError';
}

export interface BackfillInput {
  definition: string;
  from: string;
  to: string;
  force?: boolean;
  /** The request's idempotency key: what a forced day's claim carries. */
  requestKey: string;
}

/**
 * Runs of one definition a backfill keeps going at once. Each reads Verifik with its own
 * concurrency (8 requests by default), so 2 runs stay within what one report day already asks of it.
 */
export const BACKFILL_WIDTH = 2;

export interface BackfillDay {
  day: string;
  action: 'started' | 'queued' | 'skipped';
  reason?: string;
}

export async function backfill(
  deps: RunDeps & { redo(input: ScheduledInput): Promise<void> },
  input: BackfillInput,
): Promise<BackfillDay[]> {
  const def = findDefinition(deps, input.definition);
  const days = daysBetween(input.from, input.to);
  if (days < 1)
    throw new InvalidBackfillError(`The range ends (${input.to}) before it starts (${input.from}).`);
  if (days > MAX_RANGE_DAYS) {
    throw new InvalidBackfillError(`The range is ${days} days; a backfill takes at most ${MAX_RANGE_DAYS}.`);
  }
  const out: BackfillDay[] = [];
  let free =
    BACKFILL_WIDTH -
    countLiveRuns(await listOpenRuns(deps.doc, deps.config.STATE_TABLE), def.name, deps.now());
  for (let i = 0; i < days; i++) {
    const day = addDays(input.from, i);
    const run = await getRun(deps.doc, deps.config.STATE_TABLE, def.name, day);
    if (!input.force && run && (run.status === 'sent' || run.status === 'done')) {
      out.push({ day, action: 'skipped', reason: `already ${run.status}` });
      continue;
    }
    const force = input.force ? input.requestKey : undefined;
    if (free <= 0) {
      await enqueueDay(
        deps.doc,
        deps.config.STATE_TABLE,
        { definition: def.name, day, ...(force ? { force } : {}) },
        deps.now(),
      );
      out.push({ day, action: 'queued', reason: `at most ${BACKFILL_WIDTH} days run at once` });
      continue;
    }
    free -= 1;
    await deps.redo({ definition: def.name, day, ...(force ? { force } : {}) });
    // Into the log of the claim the run will hold (a forced day's is day~key).
    await logEntry(
      deps,
      { definition: def.name, day: claimDay(day, force) },
      { type: 'redo', detail: `backfill request ${input.requestKey}${input.force ? ' (forced)' : ''}` },
    );
    out.push({ day, action: 'started' });
  }
  return out;
}

/**
 * Starts queued backfill days while fewer than BACKFILL_WIDTH runs of their definition are live
 * (the sweeper calls it every few minutes). Returns the days it started.
 */
export async function startQueuedBackfills(
  deps: RunDeps & { redo(input: ScheduledInput): Promise<void> },
): Promise<QueuedDay[]> {
  const started: QueuedDay[] = [];
  const table = deps.config.STATE_TABLE;
  // One read of the open runs for every definition (they only change through what this starts).
  const open = await listOpenRuns(deps.doc, table);
  for (const def of deps.config.REPORT_DEFINITIONS) {
    // A paused definition's queued days wait for its resume (started now, they would only skip).
    if ((await getDefinitionState(deps.doc, table, def.name)).paused) continue;
    const free = BACKFILL_WIDTH - countLiveRuns(open, def.name, deps.now());
    if (free <= 0) continue;
    for (const q of await queuedDays(deps.doc, table, def.name, free)) {
      if (!(await dequeueDay(deps.doc, table, q))) continue;
      await deps.redo({ definition: q.definition, day: q.day, ...(q.force ? { force: q.force } : {}) });
      started.push(q);
    }
  }
  return started;
}

/** Pauses or resumes a definition: its schedule still fires, and the run skips (logged) while paused. */
export async function setDefinitionPaused(
  deps: Pick<RunDeps, 'doc' | 'config' | 'now'>,
  input: { definition: string; paused: boolean; by?: string },
): Promise<{ definition: string; paused: boolean }> {
  const def = findDefinition(deps, input.definition);
  await setPaused(deps.doc, deps.config.STATE_TABLE, {
    name: def.name,
    paused: input.paused,
    now: deps.now(),
    ...(input.by ? { by: input.by } : {}),
  });
  return { definition: def.name, paused: input.paused };
}
