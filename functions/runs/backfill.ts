/**
 * Backfilling a definition over a range of days, and pausing or resuming it. A backfill does not
 * run reports itself: it starts the scheduled function once per day (asynchronously, like the
 * schedule), so every day goes through the same claim, retries, sweeper and delivery log, and
 * the scheduled function's reserved concurrency bounds how many read Verifik at once.
 *
 * Days already delivered (`sent`) or finished without mail (`done`) are skipped unless forced;
 * a forced day claims `<day>~<request key>`, so the same forced request twice still sends once.
 */
import { getRun, setPaused } from '../delivery/state/index.js';
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

export interface BackfillDay {
  day: string;
  action: 'started' | 'skipped';
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
  for (let i = 0; i < days; i++) {
    const day = addDays(input.from, i);
    const run = await getRun(deps.doc, deps.config.STATE_TABLE, def.name, day);
    if (!input.force && run && (run.status === 'sent' || run.status === 'done')) {
      out.push({ day, action: 'skipped', reason: `already ${run.status}` });
      continue;
    }
    await deps.redo({ definition: def.name, day, ...(input.force ? { force: input.requestKey } : {}) });
    await logEntry(
      deps,
      { definition: def.name, day },
      { type: 'redo', detail: `backfill request ${input.requestKey}${input.force ? ' (forced)' : ''}` },
    );
    out.push({ day, action: 'started' });
  }
  return out;
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
